#ifndef FINCH_DETAIL_SESSION_DISPATCH_HPP
#define FINCH_DETAIL_SESSION_DISPATCH_HPP

#include <finch/detail/manager/route_table.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace finch::detail {

// Where one incoming message goes: the event whose onMessage runs, or why
// none does, or (decoded.replyTo set) the server's pending request it answers.
// Kept apart from the connection so that the whole path from bytes to handler
// can be fuzzed without a socket.
//
// decoded.id is the request's id whenever the frame parsed as an object with
// a valid one, refused or not: every answer to it, error envelopes included,
// carries it back.
template <class Event>
struct Dispatch {
    DecodedMessage decoded;
    // Keeps a route alive while its handler runs, even if it is replaced meanwhile.
    std::shared_ptr<const Event> route;
    // The event to run; null when the message is refused, and for a reply.
    const Event* handler = nullptr;
    // Why the message is refused, when `handler` is null; none for a reply.
    ErrorCode failure{};
    std::string detail;

    // The request's path when it is known, for the error envelope.
    std::string_view path() const noexcept { return decoded.route; }
};

// Decodes `payload`, a message in `encoding`, and picks its handler: the
// route for its path when that route has an onMessage, else the root's
// onMessage, else none (unknown path). A reply to the server is never routed.
template <class Event>
Dispatch<Event> dispatchMessage(const EnvelopeFormat& format, Encoding encoding, std::string_view payload,
    const RouteTable<Event>& routes, const Event& root)
{
    Dispatch<Event> result;
    result.decoded = decodeEnvelope(format, encoding, payload);
    if (result.decoded.error) {
        result.failure = static_cast<ErrorCode>(result.decoded.error.value());
        result.detail = std::move(result.decoded.detail);
        return result;
    }
    if (result.decoded.replyTo)
        return result;
    result.route = routes.find(result.decoded.route);
    if (result.route && result.route->onMessage)
        result.handler = result.route.get();
    else if (root.onMessage)
        result.handler = &root;
    else {
        result.failure = ErrorCode::unknownPath;
        result.detail = "no route for path \"" + result.decoded.route + "\"";
    }
    return result;
}

// dispatchMessage for a JSON text frame.
template <class Event>
Dispatch<Event> dispatchText(
    const EnvelopeFormat& format, std::string_view text, const RouteTable<Event>& routes, const Event& root)
{
    return dispatchMessage(format, Encoding::json, text, routes, root);
}

}  // namespace finch::detail

#endif
