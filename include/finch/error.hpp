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
/// Named by finch's naming rule: the type PascalCase, the enumerators
/// camelCase. finch 0.1 called it `finch::error`, with snake_case
/// enumerators (`invalid_json` ...); those names remain, deprecated, for one
/// release. `finch::Error` is what `onError` receives: a code and a message.
enum class ErrorCode {
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

    /// @deprecated The former name of `invalidJson`, kept for one release.
    invalid_json [[deprecated("renamed finch::ErrorCode::invalidJson")]] = invalidJson,
    /// @deprecated The former name of `notAnObject`, kept for one release.
    not_an_object [[deprecated("renamed finch::ErrorCode::notAnObject")]] = notAnObject,
    /// @deprecated The former name of `invalidPath`, kept for one release.
    invalid_path [[deprecated("renamed finch::ErrorCode::invalidPath")]] = invalidPath,
    /// @deprecated The former name of `unknownPath`, kept for one release.
    unknown_path [[deprecated("renamed finch::ErrorCode::unknownPath")]] = unknownPath,
    /// @deprecated The former name of `binaryFrame`, kept for one release.
    binary_frame [[deprecated("renamed finch::ErrorCode::binaryFrame")]] = binaryFrame,
    /// @deprecated The former name of `handlerException`, kept for one release.
    handler_exception [[deprecated("renamed finch::ErrorCode::handlerException")]] = handlerException,
    /// @deprecated The former name of `queueOverflow`, kept for one release.
    queue_overflow [[deprecated("renamed finch::ErrorCode::queueOverflow")]] = queueOverflow,
    /// @deprecated The former name of `messagesDropped`, kept for one release.
    messages_dropped [[deprecated("renamed finch::ErrorCode::messagesDropped")]] = messagesDropped,
    /// @deprecated The former name of `invalidId`, kept for one release.
    invalid_id [[deprecated("renamed finch::ErrorCode::invalidId")]] = invalidId,
    /// @deprecated The former name of `replyTimeout`, kept for one release.
    reply_timeout [[deprecated("renamed finch::ErrorCode::replyTimeout")]] = replyTimeout,
    /// @deprecated The former name of `connectionClosed`, kept for one release.
    connection_closed [[deprecated("renamed finch::ErrorCode::connectionClosed")]] = connectionClosed,
};

/// @deprecated The former name of `ErrorCode`, kept for one release.
using error [[deprecated("renamed finch::ErrorCode")]] = ErrorCode;

namespace detail {

class ErrorCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "finch"; }

    std::string message(int value) const override
    {
        switch (static_cast<ErrorCode>(value)) {
        case ErrorCode::invalidJson:
            return "message is not valid JSON";
        case ErrorCode::notAnObject:
            return "message is not a JSON object";
        case ErrorCode::invalidPath:
            return "message has no string \"path\"";
        case ErrorCode::unknownPath:
            return "no route for this path";
        case ErrorCode::binaryFrame:
            return "binary frames are not supported";
        case ErrorCode::handlerException:
            return "handler threw an exception";
        case ErrorCode::queueOverflow:
            return "outgoing queue full; connection closed";
        case ErrorCode::messagesDropped:
            return "outgoing queue full; oldest messages dropped";
        case ErrorCode::invalidId:
            return "message has an invalid \"id\" or \"replyTo\"";
        case ErrorCode::forbidden:
            return "the route's guard refused the message";
        case ErrorCode::replyTimeout:
            return "no reply within the timeout";
        case ErrorCode::connectionClosed:
            return "the connection ended before the reply";
        case ErrorCode::reservedBits:
            return "frame has reserved bits set";
        case ErrorCode::unmaskedFrame:
            return "client frame is not masked";
        case ErrorCode::unknownOpcode:
            return "frame has an unknown opcode";
        case ErrorCode::unexpectedContinuation:
            return "continuation frame without a message to continue";
        case ErrorCode::unfinishedMessage:
            return "new message before the fragmented one ended";
        case ErrorCode::fragmentedControlFrame:
            return "control frame is fragmented";
        case ErrorCode::controlFrameTooLong:
            return "control frame payload is longer than 125 bytes";
        case ErrorCode::nonMinimalLength:
            return "payload length is not in its minimal encoding";
        case ErrorCode::lengthOutOfRange:
            return "payload length has its most significant bit set";
        case ErrorCode::messageTooBig:
            return "message is larger than maxMessageSize";
        case ErrorCode::invalidUtf8:
            return "text message is not UTF-8";
        case ErrorCode::invalidClosePayload:
            return "close frame payload of one byte";
        case ErrorCode::invalidCloseCode:
            return "close frame has a code that may not be sent";
        case ErrorCode::invalidCloseReason:
            return "close reason is not UTF-8";
        case ErrorCode::incomingMemoryFull:
            return "incoming messages hold maxIncomingBytes across connections";
        case ErrorCode::managerStopped:
            return "the manager has been stopped";
        case ErrorCode::invalidCompressedData:
            return "compressed message does not inflate";
        }
        return "unknown finch error";
    }
};

}  // namespace detail

/// The category of `finch::ErrorCode` values. One instance per program, so codes
/// compare equal across translation units.
inline const boost::system::error_category& errorCategory() noexcept
{
    static const detail::ErrorCategory category;
    return category;
}

/// Makes `finch::ErrorCode` usable wherever a `boost::system::error_code` is expected.
inline boost::system::error_code make_error_code(ErrorCode value) noexcept
{
    return {static_cast<int>(value), errorCategory()};
}

/// The HTTP-like status that finch puts in the error envelope for `value`.
constexpr int statusOf(ErrorCode value) noexcept
{
    switch (value) {
    case ErrorCode::invalidJson:
    case ErrorCode::notAnObject:
    case ErrorCode::invalidPath:
    case ErrorCode::invalidId:
        return 400;
    case ErrorCode::forbidden:
        return 403;
    case ErrorCode::unknownPath:
        return 404;
    case ErrorCode::binaryFrame:
        return 415;
    case ErrorCode::handlerException:
        return 500;
    case ErrorCode::queueOverflow:
    case ErrorCode::messagesDropped:
    case ErrorCode::connectionClosed:
        return 503;
    case ErrorCode::replyTimeout:
        return 504;
    case ErrorCode::messageTooBig:
        return 413;
    case ErrorCode::incomingMemoryFull:
    case ErrorCode::managerStopped:
        return 503;
    // Listed, not a default: a new error without a status is a warning.
    case ErrorCode::reservedBits:
    case ErrorCode::unmaskedFrame:
    case ErrorCode::unknownOpcode:
    case ErrorCode::unexpectedContinuation:
    case ErrorCode::unfinishedMessage:
    case ErrorCode::fragmentedControlFrame:
    case ErrorCode::controlFrameTooLong:
    case ErrorCode::nonMinimalLength:
    case ErrorCode::lengthOutOfRange:
    case ErrorCode::invalidUtf8:
    case ErrorCode::invalidClosePayload:
    case ErrorCode::invalidCloseCode:
    case ErrorCode::invalidCloseReason:
    case ErrorCode::invalidCompressedData:
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
constexpr unsigned short closeCodeOf(ErrorCode value) noexcept
{
    switch (value) {
    case ErrorCode::reservedBits:
    case ErrorCode::unmaskedFrame:
    case ErrorCode::unknownOpcode:
    case ErrorCode::unexpectedContinuation:
    case ErrorCode::unfinishedMessage:
    case ErrorCode::fragmentedControlFrame:
    case ErrorCode::controlFrameTooLong:
    case ErrorCode::nonMinimalLength:
    case ErrorCode::lengthOutOfRange:
    case ErrorCode::invalidClosePayload:
    case ErrorCode::invalidCloseCode:
        return 1002;
    case ErrorCode::invalidUtf8:
    case ErrorCode::invalidCloseReason:
    case ErrorCode::invalidCompressedData:
        return 1007;
    case ErrorCode::messageTooBig:
        return 1009;
    case ErrorCode::incomingMemoryFull:
    case ErrorCode::queueOverflow:
        return 1013;
    default:
        return 0;
    }
}

/// What `SocketEvent::onError` receives.
///
/// `code` is either a `finch::ErrorCode` (compare with `code == finch::ErrorCode::invalidJson`)
/// or the network error that ended the connection (Asio's or Beast's category).
/// `message` is a human-readable detail: the exception's `what()` for
/// `handlerException`, the parser's complaint for `invalidJson`, or
/// `code.message()` otherwise.
struct Error {
    /// What went wrong: a `finch::ErrorCode`, or the network's error.
    boost::system::error_code code;
    /// A human-readable detail (see above).
    std::string message;
};

}  // namespace finch

namespace boost::system {
template <>
struct is_error_code_enum<finch::ErrorCode> : std::true_type {
};
}  // namespace boost::system

#endif
