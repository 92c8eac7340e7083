#ifndef FINCH_IMPL_SOCKET_HPP
#define FINCH_IMPL_SOCKET_HPP

#include <finch/socket.hpp>

#include <finch/detail/session/session.hpp>
#include <finch/detail/session/reply_handler.hpp>

#include <utility>

namespace finch {

template <class Stream, class UserData>
const std::string& BasicSocket<Stream, UserData>::id() const noexcept
{
    return connection_->id();
}

template <class Stream, class UserData>
const Request& BasicSocket<Stream, UserData>::request() const noexcept
{
    return connection_->request();
}

template <class Stream, class UserData>
const std::string& BasicSocket<Stream, UserData>::userId() const noexcept
{
    return connection_->userId();
}

template <class Stream, class UserData>
UserData& BasicSocket<Stream, UserData>::data() const noexcept
{
    return connection_->data();
}

template <class Stream, class UserData>
template <class Call>
bool BasicSocket<Stream, UserData>::post(Call&& call) const
{
    return connection_->runOnStrand(std::forward<Call>(call));
}

template <class Stream, class UserData>
bool BasicSocket<Stream, UserData>::send(const nlohmann::json& data, std::string_view path, int status) const
{
    return connection_->send(data, path, status);
}

template <class Stream, class UserData>
bool BasicSocket<Stream, UserData>::close(close_code code, std::string_view reason) const
{
    return connection_->close(code, reason);
}

template <class Stream, class UserData>
bool BasicSocket<Stream, UserData>::isOpen() const noexcept
{
    return connection_->isOpen();
}

template <class Stream, class UserData>
std::size_t BasicSocket<Stream, UserData>::bufferedAmount() const
{
    return connection_->bufferedAmount();
}

template <class Stream, class UserData>
bool BasicSocket<Stream, UserData>::join(std::string room) const
{
    return connection_->join(std::move(room));
}

template <class Stream, class UserData>
bool BasicSocket<Stream, UserData>::leave(std::string_view room) const
{
    return connection_->leave(room);
}

template <class Stream, class UserData>
std::vector<std::string> BasicSocket<Stream, UserData>::rooms() const
{
    return connection_->rooms();
}

template <class Stream, class UserData>
bool BasicSocket<Stream, UserData>::inRoom(std::string_view room) const
{
    return connection_->inRoom(room);
}

template <class Stream, class UserData>
bool BasicSocket<Stream, UserData>::reply(const nlohmann::json& message, const nlohmann::json& data, int status) const
{
    return connection_->reply(message, data, status);
}

template <class Stream, class UserData>
template <class CompletionToken>
auto BasicSocket<Stream, UserData>::request(
    std::string_view path, const nlohmann::json& data, std::chrono::milliseconds timeout, CompletionToken&& token) const
{
    // Deferred tokens (deferred, use_awaitable) keep decayed copies of these
    // arguments until they launch the operation; immediate ones pass them through.
    return boost::asio::async_initiate<CompletionToken, request_signature>(
        [](auto handler, const std::shared_ptr<detail::Session<Stream, UserData>>& connection,
            const std::string& path, const nlohmann::json& data, std::chrono::milliseconds timeout) {
            auto callback = detail::makeReplyCallback(std::move(handler), connection->executor());
            connection->request(path, data, timeout, std::move(callback));
        },
        token, connection_, std::string(path), data, timeout);
}

}  // namespace finch

#endif
