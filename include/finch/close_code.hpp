#ifndef FINCH_CLOSE_CODE_HPP
#define FINCH_CLOSE_CODE_HPP

#include <cstdint>

namespace finch {

/// The status code of a WebSocket close frame (RFC 6455 7.4), for
/// `Socket::close` and `SocketManager::closeClient`.
///
/// The enumerators name the codes a server may send. Any other code a
/// server may send is written as a value: `finch::CloseCode{4000}`; the
/// application's own codes are 4000-4999 (3000-3999 are registered with
/// IANA for libraries and frameworks). A code that must never be sent (1004,
/// 1005, 1006, 1015 and the unassigned ones) makes `close` return false and
/// send nothing.
///
/// What a browser's `CloseEvent.code` shows is this number.
enum class CloseCode : std::uint16_t {
    /// 1000: the purpose of the connection has been fulfilled.
    normal = 1000,
    /// 1001: the server is going down (finch's `stop()` and `close()` send it).
    goingAway = 1001,
    /// 1002: the peer broke the protocol.
    protocolError = 1002,
    /// 1003: a kind of data the endpoint cannot accept (text or binary).
    unsupportedData = 1003,
    /// 1007: data inconsistent with its type, such as text that is not UTF-8.
    invalidPayload = 1007,
    /// 1008: a message broke the application's policy. A client should not
    /// come back as it was (finch's JavaScript client does not reconnect).
    policyViolation = 1008,
    /// 1009: a message too big to process (finch's `maxMessageSize`).
    messageTooBig = 1009,
    /// 1011: the server met a condition it did not expect.
    internalError = 1011,
    /// 1012: the service is restarting; a client may reconnect.
    serviceRestart = 1012,
    /// 1013: try again later (finch's `OverflowPolicy::closeConnection`).
    tryAgainLater = 1013,
};

}  // namespace finch

#endif
