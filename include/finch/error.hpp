#ifndef FINCH_ERROR_HPP
#define FINCH_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace finch {

/// Errors that finch itself reports, in the `finch` error category.
///
/// Network failures keep their own categories (Asio's, Beast's); these are the
/// mistakes of a client and the failures of a user's handler.
/// - A client's mistake inside a message, a refusal and a handler failure are
///   answered to the client with an error envelope whose status is given by
///   `statusOf()`, and the connection stays open.
/// - A client that breaks the WebSocket protocol (RFC 6455) is closed with
///   the close code that `closeCodeOf()` gives; `onError` reports the reason,
///   then `onDisconnect` runs.
/// - The outgoing-queue errors are reported to `onError` only, the request
///   errors reach the callback of `Socket::request` only, and
///   `managerStopped` is returned by `listen()` only.
///
/// Enumerators follow finch's naming rule (camelCase). The snake_case names
/// of finch 0.1 (`invalid_json` ...) remain, deprecated, for one release.
enum class error {
    /// A text frame that is not valid JSON. Status 400.
    invalidJson = 1,
    /// Valid JSON that is not an object. Status 400.
    notAnObject,
    /// An object without a string `"path"` member. Status 400.
    invalidPath,
    /// No route matched the path and the root event has no `onMessage`. Status 404.
    unknownPath,
    /// A binary frame; finch's envelope is text. Status 415.
    binaryFrame,
    /// A user's handler threw an exception. Status 500.
    handlerException,
    /// The connection's outgoing queue passed `Options::maxQueuedBytes` under
    /// `OverflowPolicy::closeConnection`: it is being closed with 1013. Not
    /// sent to the client (it is not reading); `statusOf` gives 503.
    queueOverflow,
    /// The connection's outgoing queue passed `Options::maxQueuedBytes` under
    /// `OverflowPolicy::dropOldest`: its oldest messages were dropped. The
    /// report's message says how many. Not sent to the client; `statusOf` gives 503.
    messagesDropped,
    /// A message's `"id"` is neither a string nor a number, or its `"replyTo"`
    /// is not a non-negative integer. Status 400.
    invalidId,
    /// A route's guard refused the message; the route did not run. Status 403.
    forbidden,
    /// The client did not answer a `Socket::request` in time. Given to that
    /// request's callback only; `statusOf` gives 504.
    replyTimeout,
    /// The connection ended, or was closing, before the client answered a
    /// `Socket::request`. Given to that request's callback only; `statusOf` gives 503.
    connectionClosed,

    // The client broke RFC 6455: the connection is failed with the close
    // code of closeCodeOf() and reported to onError before onDisconnect.

    /// A frame has a reserved bit (RSV1-3) set, and no extension that would
    /// give it a meaning was negotiated. Close code 1002 (RFC 6455 5.2).
    reservedBits,
    /// A client frame is not masked. Close code 1002 (RFC 6455 5.1).
    unmaskedFrame,
    /// A frame has an opcode that RFC 6455 does not define. Close code 1002.
    unknownOpcode,
    /// A continuation frame came without a fragmented message to continue.
    /// Close code 1002 (RFC 6455 5.4).
    unexpectedContinuation,
    /// A new text or binary message began before the fragmented one ended.
    /// Close code 1002 (RFC 6455 5.4).
    unfinishedMessage,
    /// A control frame (close, ping, pong) is fragmented. Close code 1002 (RFC 6455 5.5).
    fragmentedControlFrame,
    /// A control frame's payload is longer than 125 bytes. Close code 1002 (RFC 6455 5.5).
    controlFrameTooLong,
    /// A payload length is written with more bytes than it needs. Close code
    /// 1002 (RFC 6455 5.2: "the minimal number of bytes MUST be used").
    nonMinimalLength,
    /// A 64-bit payload length has its most significant bit set. Close code 1002 (RFC 6455 5.2).
    lengthOutOfRange,
    /// A message is longer than `Options::maxMessageSize`, found from the
    /// frame's header, before its payload is read. Close code 1009.
    messageTooBig,
    /// A text message is not UTF-8, found at its first bad byte, even inside
    /// a frame or a fragmented message that has not fully arrived. Close code
    /// 1007 (RFC 6455 8.1).
    invalidUtf8,
    /// A close frame's payload is one byte long: a code needs two. Close code
    /// 1002 (RFC 6455 5.5.1).
    invalidClosePayload,
    /// A close frame carries a code that may not be sent (1004, 1005, 1006,
    /// 1015, or one outside 1000-1014 and 3000-4999). Close code 1002 (RFC 6455 7.4).
    invalidCloseCode,
    /// A close frame's reason is not UTF-8. Close code 1007 (RFC 6455 5.5.1).
    invalidCloseReason,
    /// The messages still arriving on all connections together hold
    /// `Options::maxIncomingBytes` already; this connection's next one would
    /// pass it. Close code 1013 (Try Again Later).
    incomingMemoryFull,

    /// `listen()` was called once `stop()` had begun: a stopped manager admits
    /// no connection again, so it opened nothing. Returned by `listen()` only;
    /// `statusOf` gives 503.
    managerStopped,
    /// A compressed message (permessage-deflate, RSV1 set) does not inflate:
    /// its bytes are not DEFLATE data, or refer to history the client was
    /// not allowed to keep. Close code 1007 (RFC 7692 6.2, 8.1 of RFC 6455).
    invalidCompressedData,

    /// Deprecated: the former name of `invalidJson`, kept for one release.
    invalid_json [[deprecated("renamed finch::error::invalidJson")]] = invalidJson,
    /// Deprecated: the former name of `notAnObject`, kept for one release.
    not_an_object [[deprecated("renamed finch::error::notAnObject")]] = notAnObject,
    /// Deprecated: the former name of `invalidPath`, kept for one release.
    invalid_path [[deprecated("renamed finch::error::invalidPath")]] = invalidPath,
    /// Deprecated: the former name of `unknownPath`, kept for one release.
    unknown_path [[deprecated("renamed finch::error::unknownPath")]] = unknownPath,
    /// Deprecated: the former name of `binaryFrame`, kept for one release.
    binary_frame [[deprecated("renamed finch::error::binaryFrame")]] = binaryFrame,
    /// Deprecated: the former name of `handlerException`, kept for one release.
    handler_exception [[deprecated("renamed finch::error::handlerException")]] = handlerException,
    /// Deprecated: the former name of `queueOverflow`, kept for one release.
    queue_overflow [[deprecated("renamed finch::error::queueOverflow")]] = queueOverflow,
    /// Deprecated: the former name of `messagesDropped`, kept for one release.
    messages_dropped [[deprecated("renamed finch::error::messagesDropped")]] = messagesDropped,
    /// Deprecated: the former name of `invalidId`, kept for one release.
    invalid_id [[deprecated("renamed finch::error::invalidId")]] = invalidId,
    /// Deprecated: the former name of `replyTimeout`, kept for one release.
    reply_timeout [[deprecated("renamed finch::error::replyTimeout")]] = replyTimeout,
    /// Deprecated: the former name of `connectionClosed`, kept for one release.
    connection_closed [[deprecated("renamed finch::error::connectionClosed")]] = connectionClosed,
};

namespace detail {

class ErrorCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "finch"; }

    std::string message(int value) const override
    {
        switch (static_cast<error>(value)) {
        case error::invalidJson:
            return "message is not valid JSON";
        case error::notAnObject:
            return "message is not a JSON object";
        case error::invalidPath:
            return "message has no string \"path\"";
        case error::unknownPath:
            return "no route for this path";
        case error::binaryFrame:
            return "binary frames are not supported";
        case error::handlerException:
            return "handler threw an exception";
        case error::queueOverflow:
            return "outgoing queue full; connection closed";
        case error::messagesDropped:
            return "outgoing queue full; oldest messages dropped";
        case error::invalidId:
            return "message has an invalid \"id\" or \"replyTo\"";
        case error::forbidden:
            return "the route's guard refused the message";
        case error::replyTimeout:
            return "no reply within the timeout";
        case error::connectionClosed:
            return "the connection ended before the reply";
        case error::reservedBits:
            return "frame has reserved bits set";
        case error::unmaskedFrame:
            return "client frame is not masked";
        case error::unknownOpcode:
            return "frame has an unknown opcode";
        case error::unexpectedContinuation:
            return "continuation frame without a message to continue";
        case error::unfinishedMessage:
            return "new message before the fragmented one ended";
        case error::fragmentedControlFrame:
            return "control frame is fragmented";
        case error::controlFrameTooLong:
            return "control frame payload is longer than 125 bytes";
        case error::nonMinimalLength:
            return "payload length is not in its minimal encoding";
        case error::lengthOutOfRange:
            return "payload length has its most significant bit set";
        case error::messageTooBig:
            return "message is larger than maxMessageSize";
        case error::invalidUtf8:
            return "text message is not UTF-8";
        case error::invalidClosePayload:
            return "close frame payload of one byte";
        case error::invalidCloseCode:
            return "close frame has a code that may not be sent";
        case error::invalidCloseReason:
            return "close reason is not UTF-8";
        case error::incomingMemoryFull:
            return "incoming messages hold maxIncomingBytes across connections";
        case error::managerStopped:
            return "the manager has been stopped";
        case error::invalidCompressedData:
            return "compressed message does not inflate";
        }
        return "unknown finch error";
    }
};

}  // namespace detail

/// The category of `finch::error` values. One instance per program, so codes
/// compare equal across translation units.
inline const boost::system::error_category& errorCategory() noexcept
{
    static const detail::ErrorCategory category;
    return category;
}

/// Makes `finch::error` usable wherever a `boost::system::error_code` is expected.
inline boost::system::error_code make_error_code(error value) noexcept
{
    return {static_cast<int>(value), errorCategory()};
}

/// The HTTP-like status that finch puts in the error envelope for `value`.
constexpr int statusOf(error value) noexcept
{
    switch (value) {
    case error::invalidJson:
    case error::notAnObject:
    case error::invalidPath:
    case error::invalidId:
        return 400;
    case error::forbidden:
        return 403;
    case error::unknownPath:
        return 404;
    case error::binaryFrame:
        return 415;
    case error::handlerException:
        return 500;
    case error::queueOverflow:
    case error::messagesDropped:
    case error::connectionClosed:
        return 503;
    case error::replyTimeout:
        return 504;
    case error::messageTooBig:
        return 413;
    case error::incomingMemoryFull:
    case error::managerStopped:
        return 503;
    // Listed, not a default: a new error without a status is a warning.
    case error::reservedBits:
    case error::unmaskedFrame:
    case error::unknownOpcode:
    case error::unexpectedContinuation:
    case error::unfinishedMessage:
    case error::fragmentedControlFrame:
    case error::controlFrameTooLong:
    case error::nonMinimalLength:
    case error::lengthOutOfRange:
    case error::invalidUtf8:
    case error::invalidClosePayload:
    case error::invalidCloseCode:
    case error::invalidCloseReason:
    case error::invalidCompressedData:
        return 400;
    }
    return 500;
}

/// The WebSocket close code a connection is failed with for `value`, for the
/// errors that end a connection: 1002 (Protocol Error) for a broken frame,
/// 1007 (Invalid Frame Payload Data) for text that is not UTF-8 and for
/// compressed data that does not inflate, 1009
/// (Message Too Big), 1013 (Try Again Later) for `incomingMemoryFull` and
/// `queueOverflow`; 0 for the errors that do not close the connection.
constexpr unsigned short closeCodeOf(error value) noexcept
{
    switch (value) {
    case error::reservedBits:
    case error::unmaskedFrame:
    case error::unknownOpcode:
    case error::unexpectedContinuation:
    case error::unfinishedMessage:
    case error::fragmentedControlFrame:
    case error::controlFrameTooLong:
    case error::nonMinimalLength:
    case error::lengthOutOfRange:
    case error::invalidClosePayload:
    case error::invalidCloseCode:
        return 1002;
    case error::invalidUtf8:
    case error::invalidCloseReason:
    case error::invalidCompressedData:
        return 1007;
    case error::messageTooBig:
        return 1009;
    case error::incomingMemoryFull:
    case error::queueOverflow:
        return 1013;
    default:
        return 0;
    }
}

/// What `SocketEvent::onError` receives.
///
/// `code` is either a `finch::error` (compare with `code == finch::error::invalidJson`)
/// or the network error that ended the connection (Asio's or Beast's category).
/// `message` is a human-readable detail: the exception's `what()` for
/// `handlerException`, the parser's complaint for `invalidJson`, or
/// `code.message()` otherwise.
struct Error {
    /// What went wrong: a `finch::error`, or the network's error.
    boost::system::error_code code;
    /// A human-readable detail (see above).
    std::string message;
};

}  // namespace finch

namespace boost::system {
template <>
struct is_error_code_enum<finch::error> : std::true_type {
};
}  // namespace boost::system

#endif
