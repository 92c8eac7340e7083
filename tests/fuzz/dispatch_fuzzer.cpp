#include <finch/detail/session/dispatch.hpp>

#include <finch/detail/manager/route_table.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>

#include <nlohmann/json.hpp>

#include "../support/json_shape.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// libFuzzer target for everything a connection does with one incoming text
// frame, minus the socket: decode and route choice (dispatchText), then either
// the error envelope of a refusal or a handler that answers with an envelope,
// with and without the recipient's id in front.
//
// Every input runs twice, against a root with and a root without onMessage:
// the root may only change what happens to an unknown path, so the two runs
// check each other, and both halves of the route choice see every input.
//
// A broken invariant traps, which libFuzzer reports as a crash with the input.

namespace {

using nlohmann::json;
using finch::test::depthOf;

// dispatchText needs of an event only an onMessage that tests as a bool and
// can be called. Here the handler returns its answer instead of sending it, and
// the event also says which path and data that answer must carry.
struct FuzzEvent {
    std::function<std::string(std::string_view path, const json& message)> onMessage;
    std::string answerPath;  // empty: the request's path
    std::function<json(const json& data)> answerData;
};

constexpr std::int64_t timestamp = 1764090000123;
// Shaped like finch's ids (32 hex digits), which withClientId relies on.
constexpr std::string_view clientId = "0123456789abcdef0123456789abcdef";

[[noreturn]] void violated(const char* what, std::string_view envelope = {})
{
    std::fprintf(stderr, "dispatch_fuzzer: %s\n", what);
    if (!envelope.empty())
        std::fprintf(stderr, "envelope: %.*s\n", static_cast<int>(envelope.size()), envelope.data());
    __builtin_trap();
}

// A handler's answer, encoded as Socket::send encodes it.
std::string reply(std::string_view path, const json& message)
{
    return finch::encodeEnvelope(path, 200, timestamp, message.value("data", json()));
}

json same(const json& data)
{
    return data;
}

FuzzEvent echoEvent()
{
    return {reply, {}, same};
}

const finch::detail::RouteTable<FuzzEvent>& routes()
{
    static finch::detail::RouteTable<FuzzEvent> table;
    static const bool filled = [] {
        table.set("echo", echoEvent());
        table.set("chat",
            {[](std::string_view, const json& message) {
                 return finch::encodeEnvelope("chat", 200, timestamp, {{"text", message.value("data", json())}});
             },
                "chat",
                [](const json& data) {
                    return json{{"text", data}};
                }});
        // Throws for anything but a string, as a careless application's handler would.
        table.set("length",
            {[](std::string_view path, const json& message) {
                 return finch::encodeEnvelope(path, 200, timestamp, message.at("data").get<std::string>().size());
             },
                {}, [](const json& data) { return json(data.get<std::string>().size()); }});
        // A route without onMessage: its messages go to the root's, if any.
        table.set("silent", {});
        // Paths that the envelope's writer cannot copy as they are.
        table.set("", echoEvent());
        table.set("caf\xc3\xa9 \"quoted\"\n", echoEvent());
        return true;
    }();
    static_cast<void>(filled);
    return table;
}

// The reader refuses what nests too deeply as it parses; it must agree with
// nlohmann's parser: nothing deeper gets through, nothing within is refused.
void checkDepthLimit(std::string_view text, const finch::detail::Dispatch<FuzzEvent>& target)
{
    if (!target.decoded.error) {
        if (depthOf(target.decoded.message) > finch::maxMessageDepth)
            violated("a message nested deeper than maxMessageDepth was accepted");
        return;
    }
    if (target.detail.rfind("the message nests deeper", 0) != 0)
        return;
    const json parsed = json::parse(text.begin(), text.end(), nullptr, false);
    if (!parsed.is_discarded() && depthOf(parsed) <= finch::maxMessageDepth)
        violated("a message within maxMessageDepth was refused as too deep");
}

// Parses an envelope that finch produced and checks its head; its data is
// returned for the caller's own checks.
json checkEnvelope(const std::string& envelope, std::string_view path, int status, bool withClient)
{
    // accept() also rejects text that is not UTF-8, which a browser would
    // answer by failing the whole connection.
    if (!json::accept(envelope))
        violated("an envelope is not valid JSON", envelope);
    const json parsed = json::parse(envelope);
    if (!parsed.is_object())
        violated("an envelope is not an object", envelope);
    if (parsed.size() != (withClient ? 5U : 4U))
        violated("an envelope has the wrong number of members", envelope);
    // The client's path went through the JSON parser, so it is valid UTF-8
    // and must come back unchanged.
    if (!parsed.contains("path") || parsed["path"] != std::string(path))
        violated("an envelope has the wrong path", envelope);
    if (!parsed.contains("status") || parsed["status"] != status)
        violated("an envelope has the wrong status", envelope);
    if (!parsed.contains("timestamp") || parsed["timestamp"] != timestamp)
        violated("an envelope has the wrong timestamp", envelope);
    if (!parsed.contains("data"))
        violated("an envelope has no data", envelope);
    if (withClient && (!parsed.contains("client") || parsed["client"] != clientId))
        violated("an envelope has the wrong client id", envelope);
    return parsed["data"];
}

// An envelope, then the same envelope for a connection with includeClientId.
json checkBothForms(const std::string& envelope, std::string_view path, int status)
{
    json data = checkEnvelope(envelope, path, status, false);
    std::string addressed;
    try {
        addressed = finch::withClientId(envelope, clientId);
    } catch (...) {
        violated("withClientId threw");
    }
    if (checkEnvelope(addressed, path, status, true) != data)
        violated("withClientId changed the data", addressed);
    return data;
}

// The error envelope of a refused message, as the connection's reject() makes it.
void checkRefusal(const finch::detail::Dispatch<FuzzEvent>& target)
{
    std::string envelope;
    try {
        envelope = finch::encodeErrorEnvelope(target.failure, target.detail, timestamp, target.path());
    } catch (...) {
        violated("encodeErrorEnvelope threw");
    }
    const json data = checkBothForms(envelope, "error", finch::statusOf(target.failure));
    if (!data.is_object() || !data.contains("message") || !data["message"].is_string())
        violated("an error envelope has no message", envelope);
    if (data.contains("path") != !target.path().empty())
        violated("an error envelope has a path member when it should not, or none when it should", envelope);
    if (!target.path().empty() && data["path"] != std::string(target.path()))
        violated("an error envelope names the wrong request path", envelope);
}

// A handler's answer, or the 500 envelope when it throws, as the connection's
// guarded() makes it.
void runHandler(const finch::detail::Dispatch<FuzzEvent>& target)
{
    const json& message = target.decoded.message;
    std::string envelope;
    std::string failure;
    try {
        envelope = target.handler->onMessage(target.path(), message);
    } catch (const nlohmann::json::exception& e) {
        failure = e.what();
    } catch (...) {
        violated("a handler threw something other than a json exception");
    }
    if (!failure.empty()) {
        try {
            envelope = finch::encodeErrorEnvelope(finch::ErrorCode::handlerException, failure, timestamp, target.path());
        } catch (...) {
            violated("encodeErrorEnvelope threw");
        }
        checkBothForms(envelope, "error", 500);
        return;
    }
    const FuzzEvent& handler = *target.handler;
    const json data = checkBothForms(envelope, handler.answerPath.empty() ? target.path() : handler.answerPath, 200);
    if (data != handler.answerData(message.value("data", json())))
        violated("a reply's data is not what its handler sent", envelope);
}

finch::detail::Dispatch<FuzzEvent> dispatchOnce(std::string_view text, const FuzzEvent& root)
{
    finch::detail::Dispatch<FuzzEvent> target;
    try {
        target = finch::detail::dispatchText(finch::detail::finchFormat(), text, routes(), root);
    } catch (...) {
        violated("dispatchText threw");
    }
    if (!target.handler) {
        switch (target.failure) {
        case finch::ErrorCode::invalidJson:
        case finch::ErrorCode::notAnObject:
        case finch::ErrorCode::invalidPath:
        case finch::ErrorCode::unknownPath:
            break;
        default:
            violated("a refusal with an unexpected error code");
        }
        if (target.detail.empty())
            violated("a refusal without a detail");
        checkRefusal(target);
    } else {
        if (!target.decoded.message.is_object())
            violated("a handler would receive something that is not an object");
        const auto path = target.decoded.message.find("path");
        if (path == target.decoded.message.end() || !path->is_string() || *path != std::string(target.path()))
            violated("the dispatched path is not the message's path");
        runHandler(target);
    }
    return target;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(bytes), size);
    static const FuzzEvent withRoot = echoEvent();
    static const FuzzEvent withoutRoot{};

    const auto served = dispatchOnce(text, withRoot);
    const auto refused = dispatchOnce(text, withoutRoot);
    checkDepthLimit(text, served);

    // The root only decides the fate of paths that have no handler of their own.
    if (served.decoded.error != refused.decoded.error)
        violated("decoding depends on the root event");
    if (served.decoded.error) {
        if (served.detail != refused.detail || served.failure != refused.failure)
            violated("a malformed message is refused differently depending on the root event");
        return 0;
    }
    if (served.path() != refused.path() || !served.handler)
        violated("a well-formed message was not served by a root with onMessage");
    const auto route = routes().find(served.path());
    const bool routed = route && route->onMessage;
    if (routed != (refused.handler != nullptr) || (routed && served.handler != refused.handler))
        violated("a route's handler was not chosen, or was chosen wrongly");
    if (!routed && (served.handler != &withRoot || refused.failure != finch::ErrorCode::unknownPath))
        violated("a path without a handler did not reach the root, or was not refused as unknown");
    return 0;
}
