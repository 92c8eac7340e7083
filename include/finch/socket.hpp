#ifndef FINCH_SOCKET_HPP
#define FINCH_SOCKET_HPP

#include <finch/close_code.hpp>
#include <finch/encoding.hpp>
#include <finch/http.hpp>
#include <finch/message_kind.hpp>
#include <finch/tcp_transport.hpp>
#include <finch/user_data.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace finch {

namespace detail {
template <class Transport, class UserData>
class Session;
}  // namespace detail

/// A handle to one WebSocket connection of a `BasicSocketManager`.
///
/// Small and copyable (one shared pointer). A copy may be kept after the
/// callback that received it returns and used from any thread; it keeps the
/// connection's identity (`id()`, `request()`, `userId()`, `subprotocol()`,
/// `encoding()`) readable after the connection has ended, while `send()` and
/// `close()` turn into no-ops that return false.
///
/// @par Thread Safety
/// Every member is safe to call from any thread, concurrently, except that the
/// object `data()` returns may only be touched from the connection's own
/// callbacks (see `data()`).
///
/// @tparam Transport what the connection runs over (`finch::TcpTransport`).
/// @tparam UserData the application's data kept with each connection (see `data()`).
template <class Transport, class UserData = NoUserData>
class BasicSocket {
public:
    /// The type of `data()`.
    using UserDataType = UserData;

    /// What `request()` passes to its completion handler: an error (none on
    /// success) and the client's answer.
    using RequestSignature = void(boost::system::error_code, nlohmann::json);

    /// @deprecated The old name of `UserDataType`; removed in the next release.
    using user_data_type [[deprecated("use UserDataType")]] = UserData;

    /// @deprecated The old name of `RequestSignature`; removed in the next release.
    using request_signature [[deprecated("use RequestSignature")]] = RequestSignature;

    /// @deprecated Beast's close code type, which `close()` took before
    /// `finch::CloseCode`; removed in the next release.
    using close_code [[deprecated("use finch::CloseCode")]] = boost::beast::websocket::close_code;

    /// The connection's id: 128 random bits from the operating system's
    /// cryptographic generator, as 32 hexadecimal digits. Unique and
    /// unguessable; never taken from the client.
    const std::string& id() const noexcept;

    /// The HTTP request that opened the connection (target and headers).
    const Request& request() const noexcept;

    /// The user this connection belongs to, or empty for none. Set by the
    /// upgrade handler's `accept(userId)` or the `userId` argument of
    /// `requestHandle()`.
    const std::string& userId() const noexcept;

    /// The subprotocol of this connection (RFC 6455 1.9), as the 101 answer
    /// named it in `Sec-WebSocket-Protocol`: the upgrade handler's choice
    /// (`BasicUpgradeDecision::withSubprotocol`), else the manager's
    /// (`Options::subprotocols`); empty when the connection has none.
    ///
    /// @par Thread Safety
    /// Safe from any thread, from `onConnect` on: it is fixed before the
    /// upgrade and never changes.
    const std::string& subprotocol() const noexcept;

    /// The encoding of this connection's envelopes, in both directions:
    /// `Encoding::msgpack` or `Encoding::cbor` when the connection's
    /// subprotocol is `finch.msgpack` or `finch.cbor` and `Options::encodings`
    /// lists it, else `Encoding::json`. Every send, reply, request, error
    /// envelope and broadcast reaching this connection is written in it.
    ///
    /// @par Thread Safety
    /// Safe from any thread: it is fixed before the upgrade and never changes.
    Encoding encoding() const noexcept;

    /// Whether this connection negotiated permessage-deflate
    /// (`Options::compression`): its messages of the threshold's size and
    /// more then travel compressed, both ways. Handlers see the same
    /// messages either way.
    ///
    /// @par Thread Safety
    /// Safe from any thread: it is fixed before the upgrade and never changes.
    bool compressed() const noexcept;

    /// Whether this connection is TLS (`wss://`): it came through a listener
    /// given a `TlsContext` (`<finch/tls.hpp>`). Always false on a manager of
    /// `finch::TcpTransport`.
    ///
    /// @par Thread Safety
    /// Safe from any thread: it is fixed before the upgrade and never changes.
    bool secure() const noexcept;

    /// The application's data of this connection: what the upgrade handler's
    /// decision (or `requestHandle()`) gave it, else `UserData{}`. It lives
    /// inside the connection's object, as long as any handle to it.
    ///
    /// @par Thread Safety
    /// Not synchronized, by design: touch it only from this connection's
    /// callbacks (`onConnect`, `onMessage`, `guard`, `onJoin`, `onLeave`,
    /// `onError`, `onDisconnect`, the callback of `request()`, and functions
    /// given to `post()`), which run one at a time on the connection's strand,
    /// so they need no lock. Any other thread hands its work to `post()`.
    UserData& data() const noexcept;

    /// Runs `call(socket)` on this connection's strand, where `data()` may be
    /// touched, with `socket` a handle to this connection; for other threads
    /// (a timer, a database callback). Returns at once; `call` runs after the
    /// callback running now, if any, has returned. An exception from `call`
    /// is reported to the root's `onError` like a handler's.
    /// @return true if queued; false once the connection has ended. A queued
    /// `call` is dropped if the connection ends first: it never runs after
    /// `onDisconnect`.
    template <class Call>
    bool post(Call&& call) const;

    /// Queues the envelope `{"path", "status", "timestamp", "data"}` for this
    /// connection and returns at once.
    /// @return true if queued; false once the connection is closing or closed.
    bool send(const nlohmann::json& data, std::string_view path = {}, int status = 200) const;

    /// Sends a text message as it is, without an envelope: for a manager
    /// with `Options::rawMessages`, or to speak another protocol.
    /// @pre `text` is UTF-8 (RFC 6455 requires it of a text message; finch
    /// does not check what the application sends).
    /// @return true if queued; false once the connection is closing or closed.
    bool sendText(std::string_view text) const;

    /// Sends a binary message as it is, without an envelope.
    /// @return true if queued; false once the connection is closing or closed.
    bool sendBinary(std::string_view bytes) const;

    /// Starts the closing handshake after the messages already queued are
    /// written: the close frame carries `code` and `reason`, then finch waits
    /// up to `Options::closeTimeout` for the client's answer.
    ///
    /// `code` must be one a server may send (RFC 6455 7.4): 1000-1003,
    /// 1007-1014 or 3000-4999; never 1004, 1005, 1006, 1015 or another
    /// reserved value. `reason` must be UTF-8 and at most 123 bytes long (a
    /// control frame's payload is at most 125 bytes, two of which are the
    /// code).
    /// @return true if this call started the close; false if the code or the
    /// reason is not allowed (nothing is sent then), or the connection was
    /// already closing or closed.
    bool close(CloseCode code = CloseCode::normal, std::string_view reason = {}) const;

    /// @deprecated `close` with Beast's close code type; use `finch::CloseCode`
    /// (the same numbers). Removed in the next release.
    [[deprecated("use finch::CloseCode")]] bool close(
        boost::beast::websocket::close_code code, std::string_view reason = {}) const;

    /// True while the connection is open and not closing.
    bool isOpen() const noexcept;

    /// Adds this connection to `room` of its manager (created when its first
    /// member joins), for `sendToRoom` and friends. The root's `onJoin` runs
    /// afterwards on the connection's strand. A connection leaves all its
    /// rooms when it ends.
    /// @return true if it joined; false if it was in the room already, or is
    /// closing or closed.
    bool join(std::string room) const;

    /// Takes this connection out of `room` (which disappears with its last
    /// member). The root's `onLeave` runs afterwards on the connection's strand.
    /// @return true if it left; false if it was not in the room.
    bool leave(std::string_view room) const;

    /// The rooms this connection is in, in alphabetical order.
    std::vector<std::string> rooms() const;

    /// Whether this connection is in `room`.
    bool inRoom(std::string_view room) const;

    /// Answers a client's request: sends `data` on the path of `message` (the
    /// request, as the handler received it), and, when the request carried an
    /// `"id"`, that id as `"id"` and `"replyTo"`, so the client can match the
    /// answer to its request. Without an id, this is `send(data, path, status)`.
    /// May be called later and from any thread, with a copy of `message`.
    /// @return true if queued; false once the connection is closing or closed.
    bool reply(const nlohmann::json& message, const nlohmann::json& data, int status = 200) const;

    /// Asks the client for an answer: sends `{"path", "status": 200,
    /// "timestamp", "id": <n>, "data"}` with an id new to this connection, and
    /// completes once, with:
    /// - no error and the client's answer, the whole object it sent back
    ///   (`{"replyTo": <n>, "data": ...}`, with whatever else it put in);
    /// - `finch::ErrorCode::replyTimeout` and null after `timeout`;
    /// - `finch::ErrorCode::connectionClosed` and null if the connection ends
    ///   before the answer (then before `onDisconnect`), or was closing or
    ///   closed already when `request` was called (then soon after).
    ///
    /// `token` is a completion handler `void(boost::system::error_code,
    /// nlohmann::json)` (a lambda taking `const nlohmann::json&` is fine), or
    /// any Asio completion token: `boost::asio::use_future`,
    /// `boost::asio::deferred`, `boost::asio::use_awaitable`. A handler runs on
    /// its associated executor, by default the connection's strand, where
    /// `data()` may be touched.
    ///
    /// An exception from a handler is caught and reported to the root's
    /// `onError` as `finch::ErrorCode::handlerException`, with the exception's
    /// `what()`, on the connection's strand, like one from any callback of the
    /// connection. That holds too for a handler bound to an executor of its
    /// own (`boost::asio::bind_executor`), the manager's io_context included:
    /// the exception never leaves that executor's `run()`. A handler that
    /// runs later, on another io_context say, has its exception reported
    /// later, from the strand, or dropped if the connection has ended by
    /// then. With `use_future` and
    /// `use_awaitable` a failure is thrown as `boost::system::system_error`
    /// into the future or the coroutine, never to `onError`, and so is what
    /// the function given to `use_future(function)` throws.
    template <class CompletionToken>
    auto request(std::string_view path, const nlohmann::json& data, std::chrono::milliseconds timeout,
        CompletionToken&& token) const;

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
    /// Two handles are different when they refer to different connections.
    friend bool operator!=(const BasicSocket& a, const BasicSocket& b) noexcept { return !(a == b); }

    /// For finch's own use: wraps a connection.
    explicit BasicSocket(std::shared_ptr<detail::Session<Transport, UserData>> connection) noexcept
        : connection_(std::move(connection))
    {
    }

private:
    std::shared_ptr<detail::Session<Transport, UserData>> connection_;
};

/// The socket handle of `finch::SocketManager` (plain TCP).
using Socket = BasicSocket<TcpTransport>;

/// The socket handle of `finch::SocketManagerWith<UserData>` (plain TCP).
template <class UserData>
using SocketWith = BasicSocket<TcpTransport, UserData>;

}  // namespace finch

#include <finch/impl/socket.hpp>

#endif
