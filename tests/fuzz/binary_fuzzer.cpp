#include <finch/detail/session/dispatch.hpp>

#include <finch/detail/manager/route_table.hpp>
#include <finch/envelope.hpp>
#include <finch/error.hpp>

#include <nlohmann/json.hpp>

#include "../support/json_shape.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

// libFuzzer target for a binary envelope (Options::encodings): the first
// byte picks MessagePack (even) or CBOR (odd), the rest is the frame. It goes
// through dispatchMessage as a connection's does, and:
// - nothing throws, nothing recurses past maxMessageDepth (ASan sees the stack);
// - a refusal is one of the envelope errors, with a message;
// - finch's bounded reader agrees with nlohmann's own reader on what is valid
//   and on the value (nlohmann's is only run where finch's stayed within
//   the depth limit, so that it cannot overflow the stack either);
// - an accepted message, answered in the same encoding as a connection would
//   (appendBinaryEnvelope), reads back with the same data.
//
// A broken invariant traps, which libFuzzer reports as a crash with the input.

namespace {

using finch::Encoding;
using nlohmann::json;

struct BinaryFuzzEvent {
    std::function<void()> onMessage;
};

[[noreturn]] void broken(const char* what)
{
    std::fprintf(stderr, "binary_fuzzer: %s\n", what);
    __builtin_trap();
}

const finch::detail::RouteTable<BinaryFuzzEvent>& noRoutes()
{
    static const finch::detail::RouteTable<BinaryFuzzEvent> table;
    return table;
}

// Discarded when nlohmann refuses the input. Even without exceptions its DOM
// builder throws for a declared length past max_size(), which finch's reader
// catches and refuses as invalid: the same verdict.
json readWithNlohmann(Encoding encoding, std::string_view bytes)
{
    try {
        return encoding == Encoding::cbor ? json::from_cbor(bytes, true, false, json::cbor_tag_handler_t::ignore)
                                          : json::from_msgpack(bytes, true, false);
    } catch (const json::out_of_range&) {
        return json(json::value_t::discarded);
    }
}

// Equal as encoded bytes: NaN, which a float may hold, is not equal to itself.
bool sameValue(Encoding encoding, const json& one, const json& other)
{
    return encoding == Encoding::cbor ? json::to_cbor(one) == json::to_cbor(other)
                                      : json::to_msgpack(one) == json::to_msgpack(other);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const Encoding encoding = (data[0] & 1) != 0 ? Encoding::cbor : Encoding::msgpack;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    static const BinaryFuzzEvent root{[] {}};

    finch::detail::Dispatch<BinaryFuzzEvent> target;
    try {
        target = finch::detail::dispatchMessage(finch::detail::finchFormat(), encoding, bytes, noRoutes(), root);
    } catch (...) {
        broken("dispatchMessage threw");
    }
    const bool tooDeep =
        target.failure == finch::ErrorCode::invalidJson && target.detail.find("deeper") != std::string::npos;
    if (!tooDeep) {
        const json theirs = readWithNlohmann(encoding, bytes);
        const bool theyRead = !theirs.is_discarded();
        const bool weRead = target.failure != finch::ErrorCode::invalidJson;
        if (theyRead != weRead)
            broken("finch and nlohmann disagree on whether the input is valid");
        if (weRead && !target.decoded.message.is_null() && !sameValue(encoding, target.decoded.message, theirs))
            broken("finch and nlohmann read different values");
    }
    if (!target.handler && target.decoded.replyTo && target.failure == finch::ErrorCode{})
        return 0;  // an answer to a request of the server
    if (!target.handler) {
        switch (target.failure) {
        case finch::ErrorCode::invalidJson:
        case finch::ErrorCode::notAnObject:
        case finch::ErrorCode::invalidPath:
        case finch::ErrorCode::invalidId:
            if (target.detail.empty())
                broken("a refusal without a message");
            return 0;
        default:
            broken("an unexpected refusal");
        }
    }
    const json& message = target.decoded.message;
    if (finch::test::depthOf(message) > finch::maxMessageDepth)
        broken("a message deeper than the limit was accepted");
    const json& payload = message.contains("data") ? message["data"] : message;
    std::string answer;
    finch::detail::appendBinaryEnvelope(answer, encoding, finch::detail::finchFormat(), target.path(), 200, 1, payload,
        target.decoded.id, finch::detail::IdMembers::reply);
    const json back = readWithNlohmann(encoding, answer);
    if (back.is_discarded() || !sameValue(encoding, back["data"], payload) || back["path"] != target.path())
        broken("the answer does not read back");
    return 0;
}
