#ifndef FINCH_USER_DATA_HPP
#define FINCH_USER_DATA_HPP

namespace finch {

/// The per-connection data of a manager that keeps none: the default of the
/// `UserData` parameter of `BasicSocketManager`, `BasicSocket` and
/// `BasicUpgradeDecision`.
///
/// An application that keeps state per connection (a session, a nickname,
/// permissions) names its own type instead, for example
/// `finch::SocketManagerWith<Session>`; `Socket::data()` then gives each
/// connection its own `Session`, stored inside the connection's object.
/// Such a type must be default-constructible (a connection that no upgrade
/// handler gave data to starts with `UserData{}`) and move-constructible.
struct NoUserData { };

}  // namespace finch

#endif
