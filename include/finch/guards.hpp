#ifndef FINCH_GUARDS_HPP
#define FINCH_GUARDS_HPP

/// @file
/// Ready-made route guards, for `BasicSocketEvent::guard`:
/// @code
/// finch::SocketEvent say;
/// say.guard = finch::requireRoom("staff");
/// say.onMessage = ...;  // runs only for members of "staff"; others get status 403
/// @endcode
/// Each returns a callable that works with the socket of any manager.

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

namespace finch {

/// A guard that lets through the messages of connections that have a user id
/// (given by the upgrade handler or `requestHandle`).
inline auto requireUser()
{
    return [](const auto& socket, const nlohmann::json&) { return !socket.userId().empty(); };
}

/// A guard that lets through the messages of the members of `room`.
inline auto requireRoom(std::string room)
{
    return [room = std::move(room)](const auto& socket, const nlohmann::json&) { return socket.inRoom(room); };
}

/// A guard that lets through the messages of connections whose data satisfies
/// `predicate`, called as `predicate(socket.data())` on the connection's strand
/// (so it may read the data without a lock):
/// @code
/// route.guard = finch::requireData([](const Session& session) { return session.isAdmin; });
/// @endcode
template <class Predicate>
auto requireData(Predicate predicate)
{
    return [predicate = std::move(predicate)](
               const auto& socket, const nlohmann::json&) -> bool { return predicate(socket.data()); };
}

}  // namespace finch

#endif
