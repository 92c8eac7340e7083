#ifndef FINCH_ERROR_HPP
#define FINCH_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace finch {

/// Errors that finch itself reports, in the `finch` error category.
///
/// Network failures keep their own categories (Asio's, Beast's); these are the
/// protocol-level mistakes of a client and the failures of a user's handler.
/// The client's mistakes, refusals and handler failures are answered to the
/// client with an error envelope whose status is given by `statusOf()`; the
/// outgoing-queue errors are reported to `onError` only, and the request
/// errors reach the callback of `Socket::request` only.
enum class error {
    /// A text frame that is not valid JSON. Status 400.
    invalid_json = 1,
    /// Valid JSON that is not an object. Status 400.
    not_an_object,
    /// An object without a string `"path"` member. Status 400.
    invalid_path,
    /// No route matched the path and the root event has no `onMessage`. Status 404.
    unknown_path,
    /// A binary frame; finch's envelope is text. Status 415.
    binary_frame,
    /// A user's handler threw an exception. Status 500.
    handler_exception,
    /// The connection's outgoing queue passed `Options::maxQueuedBytes` under
    /// `OverflowPolicy::closeConnection`: it is being closed with 1008. Not
    /// sent to the client (it is not reading); `statusOf` gives 503.
    queue_overflow,
    /// The connection's outgoing queue passed `Options::maxQueuedBytes` under
    /// `OverflowPolicy::dropOldest`: its oldest messages were dropped. The
    /// report's message says how many. Not sent to the client; `statusOf` gives 503.
    messages_dropped,
    /// A message's `"id"` is neither a string nor a number, or its `"replyTo"`
    /// is not a non-negative integer. Status 400.
    invalid_id,
    /// A route's guard refused the message; the route did not run. Status 403.
    forbidden,
    /// The client did not answer a `Socket::request` in time. Given to that
    /// request's callback only; `statusOf` gives 504.
    reply_timeout,
    /// The connection ended, or was closing, before the client answered a
    /// `Socket::request`. Given to that request's callback only; `statusOf` gives 503.
    connection_closed,
};

namespace detail {

class ErrorCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "finch"; }

    std::string message(int value) const override
    {
        switch (static_cast<error>(value)) {
        case error::invalid_json:
            return "message is not valid JSON";
        case error::not_an_object:
            return "message is not a JSON object";
        case error::invalid_path:
            return "message has no string \"path\"";
        case error::unknown_path:
            return "no route for this path";
        case error::binary_frame:
            return "binary frames are not supported";
        case error::handler_exception:
            return "handler threw an exception";
        case error::queue_overflow:
            return "outgoing queue full; connection closed";
        case error::messages_dropped:
            return "outgoing queue full; oldest messages dropped";
        case error::invalid_id:
            return "message has an invalid \"id\" or \"replyTo\"";
        case error::forbidden:
            return "the route's guard refused the message";
        case error::reply_timeout:
            return "no reply within the timeout";
        case error::connection_closed:
            return "the connection ended before the reply";
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
    case error::invalid_json:
    case error::not_an_object:
    case error::invalid_path:
    case error::invalid_id:
        return 400;
    case error::forbidden:
        return 403;
    case error::unknown_path:
        return 404;
    case error::binary_frame:
        return 415;
    case error::handler_exception:
        return 500;
    case error::queue_overflow:
    case error::messages_dropped:
    case error::connection_closed:
        return 503;
    case error::reply_timeout:
        return 504;
    }
    return 500;
}

/// What `SocketEvent::onError` receives.
///
/// `code` is either a `finch::error` (compare with `code == finch::error::invalid_json`)
/// or the network error that ended the connection (Asio's or Beast's category).
/// `message` is a human-readable detail: the exception's `what()` for
/// `handler_exception`, the parser's complaint for `invalid_json`, or
/// `code.message()` otherwise.
struct Error {
    boost::system::error_code code;
    std::string message;
};

}  // namespace finch

namespace boost::system {
template <>
struct is_error_code_enum<finch::error> : std::true_type {
};
}  // namespace boost::system

#endif
