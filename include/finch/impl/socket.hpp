#ifndef FINCH_IMPL_SOCKET_HPP
#define FINCH_IMPL_SOCKET_HPP

#include <finch/socket.hpp>

#include <finch/detail/session/reply_handler.hpp>
#include <finch/detail/session/session.hpp>
#include <finch/detail/websocket/close.hpp>

#include <cstdint>

#include <exception>
#include <memory>
#include <utility>

namespace finch {

template <class Transport, class UserData>
const std::string& BasicSocket<Transport, UserData>::id() const noexcept
{
    return connection_->id();
}

template <class Transport, class UserData>
const Request& BasicSocket<Transport, UserData>::request() const noexcept
{
    return connection_->request();
}

template <class Transport, class UserData>
const std::string& BasicSocket<Transport, UserData>::userId() const noexcept
{
    return connection_->userId();
}

template <class Transport, class UserData>
const std::string& BasicSocket<Transport, UserData>::subprotocol() const noexcept
{
    return connection_->subprotocol();
}

template <class Transport, class UserData>
Encoding BasicSocket<Transport, UserData>::encoding() const noexcept
{
    return connection_->encoding();
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::compressed() const noexcept
{
    return connection_->compressed();
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::secure() const noexcept
{
    return connection_->secure();
}

template <class Transport, class UserData>
UserData& BasicSocket<Transport, UserData>::data() const noexcept
{
    return connection_->data();
}

template <class Transport, class UserData>
template <class Call>
bool BasicSocket<Transport, UserData>::post(Call&& call) const
{
    return connection_->runOnStrand(std::forward<Call>(call));
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::send(const nlohmann::json& data, std::string_view path, int status) const
{
    return connection_->send(data, path, status);
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::sendText(std::string_view text) const
{
    return connection_->sendBytes(text, MessageKind::text);
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::sendBinary(std::string_view bytes) const
{
    return connection_->sendBytes(bytes, MessageKind::binary);
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::close(CloseCode code, std::string_view reason) const
{
    const auto value = static_cast<std::uint16_t>(code);
    if (!detail::isValidClose(value, reason))
        return false;
    return connection_->close(value, reason);
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::close(boost::beast::websocket::close_code code, std::string_view reason) const
{
    return close(static_cast<CloseCode>(code), reason);
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::isOpen() const noexcept
{
    return connection_->isOpen();
}

template <class Transport, class UserData>
std::size_t BasicSocket<Transport, UserData>::bufferedAmount() const
{
    return connection_->bufferedAmount();
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::join(std::string room) const
{
    return connection_->join(std::move(room));
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::leave(std::string_view room) const
{
    return connection_->leave(room);
}

template <class Transport, class UserData>
std::vector<std::string> BasicSocket<Transport, UserData>::rooms() const
{
    return connection_->rooms();
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::inRoom(std::string_view room) const
{
    return connection_->inRoom(room);
}

template <class Transport, class UserData>
bool BasicSocket<Transport, UserData>::reply(
    const nlohmann::json& message, const nlohmann::json& data, int status) const
{
    return connection_->reply(message, data, status);
}

template <class Transport, class UserData>
template <class CompletionToken>
auto BasicSocket<Transport, UserData>::request(
    std::string_view path, const nlohmann::json& data, std::chrono::milliseconds timeout, CompletionToken&& token) const
{
    // Deferred tokens (deferred, use_awaitable) keep decayed copies of these
    // arguments until they launch the operation; immediate ones pass them through.
    return boost::asio::async_initiate<CompletionToken, RequestSignature>(
        [](auto handler, const std::shared_ptr<detail::Session<Transport, UserData>>& connection,
            const std::string& path, const nlohmann::json& data, std::chrono::milliseconds timeout) {
            // A handler that threw later, on an executor of its own, is
            // reported as a function given to post() would be: on the strand,
            // to the root's onError, and not at all once the connection has
            // ended. Weak: the callback is kept by the connection.
            auto onThrow = [weak = std::weak_ptr<detail::Session<Transport, UserData>>(connection)](
                               std::exception_ptr thrown) noexcept {
                try {
                    if (const auto alive = weak.lock())
                        alive->runOnStrand([thrown](auto&) { std::rethrow_exception(thrown); });
                } catch (...) {
                    // Not even the report could be queued: nowhere is left to tell.
                }
            };
            auto callback = detail::makeReplyCallback(std::move(handler), connection->executor(), std::move(onThrow));
            connection->request(path, data, timeout, std::move(callback));
        },
        token, connection_, std::string(path), data, timeout);
}

}  // namespace finch

#endif
