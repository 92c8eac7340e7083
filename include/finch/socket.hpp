#ifndef FINCH_SOCKET_HPP
#define FINCH_SOCKET_HPP

#include <finch/http.hpp>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace finch {

namespace detail {
template <class Stream>
class Connection;
}  // namespace detail

/// A handle to one WebSocket connection of a `BasicSocketManager`.
///
/// Small and copyable (one shared pointer). A copy may be kept after the
/// callback that received it returns and used from any thread; it keeps the
/// connection's identity (`id()`, `request()`, `userId()`) readable after the
/// connection has ended, while `send()` and `close()` turn into no-ops that
/// return false.
///
/// @par Thread Safety
/// Every member is safe to call from any thread, concurrently.
template <class Stream>
class BasicSocket {
public:
    /// The close code type of `close()`: `close_code::normal` (1000), `going_away` (1001) ...
    using close_code = boost::beast::websocket::close_code;

    /// The connection's id: 128 random bits from the operating system's
    /// cryptographic generator, as 32 hexadecimal digits. Unique and
    /// unguessable; never taken from the client.
    const std::string& id() const noexcept;

    /// The HTTP request that opened the connection (target and headers).
    const Request& request() const noexcept;

    /// The user this connection belongs to, or empty for none. Set by the
    /// `userId` argument of `requestHandle()`.
    const std::string& userId() const noexcept;

    /// Queues the envelope `{"path", "status", "timestamp", "data"}` for this
    /// connection and returns at once.
    /// @return true if queued; false once the connection is closing or closed.
    bool send(const nlohmann::json& data, std::string_view path = {}, int status = 200) const;

    /// Starts the closing handshake after the messages already queued are
    /// written. `reason` is cut to the 123 bytes the protocol allows.
    /// @return true if this call started the close; false if the connection
    /// was already closing or closed.
    bool close(close_code code = close_code::normal, std::string_view reason = {}) const;

    /// True while the connection is open and not closing.
    bool isOpen() const noexcept;

    /// Bytes queued for this connection that the kernel has not taken yet,
    /// the message being written included; 0 once it has ended. Like a
    /// browser's `WebSocket.bufferedAmount`: a handler that streams to a slow
    /// client can look here and hold back before `Options::maxQueuedBytes`
    /// (and its `OverflowPolicy`) comes into play.
    std::size_t bufferedAmount() const;

    /// Two handles are equal when they refer to the same connection.
    friend bool operator==(const BasicSocket& a, const BasicSocket& b) noexcept
    {
        return a.connection_ == b.connection_;
    }
    friend bool operator!=(const BasicSocket& a, const BasicSocket& b) noexcept { return !(a == b); }

    /// For finch's own use: wraps a connection.
    explicit BasicSocket(std::shared_ptr<detail::Connection<Stream>> connection) noexcept
        : connection_(std::move(connection))
    {
    }

private:
    std::shared_ptr<detail::Connection<Stream>> connection_;
};

/// The socket handle of `finch::SocketManager` (plain TCP).
using Socket = BasicSocket<boost::beast::tcp_stream>;

}  // namespace finch

#include <finch/impl/socket.hpp>

#endif
