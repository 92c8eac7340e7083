#ifndef FINCH_IMPL_SOCKET_HPP
#define FINCH_IMPL_SOCKET_HPP

#include <finch/socket.hpp>

#include <finch/detail/connection.hpp>

namespace finch {

template <class Stream>
const std::string& BasicSocket<Stream>::id() const noexcept
{
    return connection_->id();
}

template <class Stream>
const Request& BasicSocket<Stream>::request() const noexcept
{
    return connection_->request();
}

template <class Stream>
const std::string& BasicSocket<Stream>::userId() const noexcept
{
    return connection_->userId();
}

template <class Stream>
bool BasicSocket<Stream>::send(const nlohmann::json& data, std::string_view path, int status) const
{
    return connection_->send(data, path, status);
}

template <class Stream>
bool BasicSocket<Stream>::close(close_code code, std::string_view reason) const
{
    return connection_->close(code, reason);
}

template <class Stream>
bool BasicSocket<Stream>::isOpen() const noexcept
{
    return connection_->isOpen();
}

template <class Stream>
std::size_t BasicSocket<Stream>::bufferedAmount() const
{
    return connection_->bufferedAmount();
}

}  // namespace finch

#endif
