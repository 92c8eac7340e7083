#ifndef FINCH_SOCKET_EVENT_HPP
#define FINCH_SOCKET_EVENT_HPP

#include <finch/error.hpp>
#include <finch/message_kind.hpp>
#include <finch/tcp_transport.hpp>
#include <finch/user_data.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace finch {

template <class Transport, class UserData>
class BasicSocket;

/// The callbacks of a route, or of the root: each one is optional.
///
/// An aggregate, so C++20 designated initializers work:
/// @code
/// finch::SocketEvent time{
///     .onMessage = [](finch::Socket& socket, const nlohmann::json&) {
///         socket.send("12:00", "output");
///     },
/// };
/// @endcode
///
/// The root event's `onConnect`, `onDisconnect`, `onJoin` and `onLeave` run
/// for every connection; the `onMessage` of the route whose path matches a
/// message runs for that message, or the root's `onMessage` when no route
/// matches, once that event's `guard`, if any, has let the message through.
///
/// @par Thread Safety
/// Callbacks of one connection never run concurrently with each other; callbacks
/// of different connections may run at the same time on different threads when
/// the io_context runs on several threads. A callback may call any member of the
/// manager and of any `Socket`, including its own, from inside the callback.
/// An exception thrown by a callback is caught and reported through `onError`.
///
/// @tparam Socket the handle type the callbacks receive (`finch::Socket` for
/// `finch::SocketManager`).
template <class Socket>
struct BasicSocketEvent {
    /// A connection completed its upgrade. `countClients()` already counts it.
    std::function<void(Socket&)> onConnect{};

    /// A message arrived whose path this event is routed for. `message` is the
    /// whole decoded envelope: read `message["data"]` for the payload (it may
    /// be absent) and `message["path"]` for the path.
    std::function<void(Socket&, const nlohmann::json& message)> onMessage{};

    /// The connection ended, for whatever reason, exactly once per connection
    /// whose `onConnect` ran. Sending to this socket is a no-op by now; it is
    /// still counted by `countClients()` until this callback returns.
    std::function<void(Socket&)> onDisconnect{};

    /// Something went wrong with this connection: a bad message (a
    /// `finch::ErrorCode` code), a handler that threw, or the network failure that
    /// is about to end the connection. Called on the root event, or on the
    /// route whose handler threw when that route has an `onError` of its own.
    std::function<void(Socket&, const Error&)> onError{};

    /// Root event only: the socket joined `room` (`Socket::join` returned
    /// true). Runs on the connection's strand after the code that called
    /// `join` has returned, in the order of the joins and leaves, and never
    /// after `onDisconnect`. For presence: "alice joined #general". A join
    /// and a leave from another thread may both happen before the strand
    /// gets to run `onJoin`; the `onLeave` then follows it.
    std::function<void(Socket&, const std::string& room)> onJoin{};

    /// Root event only: the socket left `room`, by `Socket::leave` or because
    /// the connection ended. For an ending connection, `onLeave` runs for each
    /// of its rooms (which it is no longer in) just before `onDisconnect`, so
    /// `manager.sendToRoom(room, ...)` from here reaches the members who stay.
    std::function<void(Socket&, const std::string& room)> onLeave{};

    /// Decides whether a message may reach this event's `onMessage`; runs on
    /// the connection's strand just before it. When it returns false, the
    /// client gets an error envelope with status 403 (`finch::ErrorCode::forbidden`,
    /// carrying the request's `"id"` if it had one), the root's `onError` is
    /// told, and `onMessage` does not run. An exception counts as a handler's
    /// (status 500). The root's guard applies to the messages that reach the
    /// root's `onMessage` only, never to routes. Ready-made guards are in
    /// `<finch/guards.hpp>`.
    std::function<bool(Socket&, const nlohmann::json& message)> guard{};
    /// Root event only, with `Options::rawMessages`: a message arrived, as
    /// its bytes, without an envelope (no JSON is decoded, no route is
    /// looked up). `kind` tells text (valid UTF-8, checked) from binary.
    /// `data` is valid until the callback returns: copy what you keep.
    /// Answer with `Socket::sendText` or `Socket::sendBinary`.
    std::function<void(Socket&, std::string_view data, MessageKind kind)> onRawMessage{};
};

/// The callbacks of a route or of the root, for `finch::SocketManager`.
using SocketEvent = BasicSocketEvent<BasicSocket<TcpTransport, NoUserData>>;

/// The callbacks of a route or of the root, for `finch::SocketManagerWith<UserData>`.
template <class UserData>
using SocketEventWith = BasicSocketEvent<BasicSocket<TcpTransport, UserData>>;

}  // namespace finch

// Last: callbacks need the complete socket type, which needs this header.
#include <finch/socket.hpp>

#endif
