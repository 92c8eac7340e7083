#include <finch/detail/cluster/cluster_message.hpp>
#include <finch/detail/cluster/node_report.hpp>
#include <finch/detail/manager/broadcast_envelope.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

// libFuzzer target for what a node reads from the backplane: anyone who can
// publish on the broker's channels can send a node any bytes. Each input is
// read as a cluster message, as a node report, and as the envelope text of
// a send, framed for every encoding:
// - a message that decodes re-encodes to the same fields;
// - a report that parses survives encoding and parsing again;
// - the JSON frame of a published text carries the text unchanged, and a
//   MessagePack or CBOR frame is made only from a text that is an envelope of
//   the manager's format, holding the same members.
// A broken invariant traps, which libFuzzer reports as a crash with the input.

namespace {

using nlohmann::json;

[[noreturn]] void violated(const char* what, std::string_view input)
{
    std::fprintf(stderr, "cluster_fuzzer: %s\ninput (%zu bytes): %.*s\n", what, input.size(),
        static_cast<int>(input.size()), input.data());
    __builtin_trap();
}

void checkMessage(std::string_view input)
{
    const auto message = finch::detail::decodeClusterMessage(input);
    if (!message)
        return;
    const std::string again =
        finch::detail::encodeClusterMessage(message->kind, message->origin, message->target, message->payload);
    const auto decoded = finch::detail::decodeClusterMessage(again);
    if (!decoded || decoded->kind != message->kind || decoded->origin != message->origin ||
        decoded->target != message->target || decoded->payload != message->payload)
        violated("a decoded message does not survive encoding", input);
}

void checkReport(std::string_view input)
{
    const auto report = finch::detail::parseNodeReport(input);
    if (!report)
        return;
    const auto again = finch::detail::parseNodeReport(finch::detail::encodeNodeReport(*report));
    if (!again || again->clients != report->clients || again->rooms != report->rooms ||
        again->users.size() != report->users.size())
        violated("a parsed report does not survive encoding", input);
}

const finch::Options& options()
{
    static const finch::Options made = [] {
        finch::Options options;
        options.encodings = {finch::Encoding::json, finch::Encoding::msgpack, finch::Encoding::cbor};
        return options;
    }();
    return made;
}

void checkEnvelope(std::string_view input)
{
    finch::detail::BroadcastEnvelope envelope(options(), input);
    const finch::detail::OutFrame* text = envelope.frame(finch::Encoding::json);
    if (!text || text->payload() != input)
        violated("the JSON frame of a published text is not that text", input);
    const json parsed = json::parse(input, nullptr, false);
    for (const auto encoding : {finch::Encoding::msgpack, finch::Encoding::cbor}) {
        const finch::detail::OutFrame* frame = envelope.frame(encoding);
        if (!frame)
            continue;
        if (!parsed.is_object() || !parsed.contains("path"))
            violated("a binary frame from a text that is no envelope", input);
        const std::string_view payload = frame->payload();
        const json decoded = encoding == finch::Encoding::msgpack ? json::from_msgpack(payload, true, false)
                                                                  : json::from_cbor(payload, true, false);
        if (decoded.is_discarded() || decoded.value("path", json()) != parsed["path"] ||
            decoded.value("status", json()) != parsed["status"] ||
            decoded.value("timestamp", json()) != parsed["timestamp"] ||
            decoded.value("data", json()) != parsed.value("data", json()))
            violated("a binary frame does not hold the published envelope's members", input);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    checkMessage(input);
    checkReport(input);
    checkEnvelope(input);
    return 0;
}
