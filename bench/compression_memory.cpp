// compression_memory: what finch's permessage-deflate weighs in memory,
// counted exactly and without a network, for the compression section of
// docs/benchmarks.md (bench/run.py runs it):
//
// - the zlib state of one thread: a deflater per server window size in use
//   and one inflater, each made by the first message the thread compresses
//   or inflates and kept for the thread's life, whatever the number of
//   connections;
// - that later messages add nothing to it (the state is reset, not remade);
// - what a connection keeps between messages when its client keeps its
//   compression context (PerMessageDeflate::clientContextTakeover): the
//   client's last window, 512 bytes or 32 KiB.
//
//   compression_memory [--payload B]
//
// Prints one JSON object on one line. Bytes are the heap in use as glibc
// counts it (mallinfo2: every arena, mmapped chunks included), taken around
// finch's codec on this thread, with every message made and every output
// buffer reserved beforehand so that only the codec's own allocations are
// counted (glibc counts a small block freed into its per-thread cache as in
// use, so even a temporary string would show).

#include <finch/permessage_deflate.hpp>

#include <nlohmann/json.hpp>

#include <malloc.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::int64_t heapInUse()
{
    const struct mallinfo2 info = mallinfo2();
    return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

// About `bytes` of JSON records, each different: what an application sends.
std::string jsonMessage(std::size_t bytes, std::uint64_t seed)
{
    std::string out = "[";
    std::uint64_t state = seed | 1;
    const auto next = [&state](std::uint64_t bound) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state % bound;
    };
    static constexpr std::string_view statuses[] = {"online", "away", "busy", "offline"};
    while (out.size() < bytes) {
        if (out.size() > 1)
            out += ',';
        out += R"({"id":)" + std::to_string(100000 + next(900000)) + R"(,"status":")" + std::string(statuses[next(4)]) +
            R"(","score":)" + std::to_string(next(100000)) + R"(,"updated":)" +
            std::to_string(1733500000 + next(100000)) + '}';
    }
    return out + ']';
}

}  // namespace

int main(int argc, char** argv)
{
    std::size_t payload = 4096;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        unsigned long value = 0;
        if (flag == "--payload" && i + 1 < argc) {
            const std::string_view text = argv[++i];
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec == std::errc() && end == text.data() + text.size() && value >= 64 && value <= (1u << 20)) {
                payload = value;
                continue;
            }
        }
        std::cerr << "usage: compression_memory [--payload B]   (64 to 1048576 bytes)\n";
        return 2;
    }

    finch::PerMessageDeflate settings;
    const auto codec = finch::permessageDeflate(settings);
    std::vector<std::string> messages;
    for (std::uint64_t i = 0; i < 200; ++i)
        messages.push_back(jsonMessage(payload, i + 1));
    const std::string& message = messages.front();
    std::string compressed;
    std::string inflated;
    compressed.reserve(4 * payload + 65536);
    inflated.reserve(4 * payload + 65536);
    nlohmann::json r;
    r["payload"] = message.size();
    r["level"] = settings.level;
    r["mem_level"] = settings.memLevel;

    // The deflater of the largest window, made by the thread's first message.
    std::int64_t before = heapInUse();
    bool ok = codec->compress(message, 15, compressed);
    r["deflater_15_bytes"] = heapInUse() - before;
    r["compressed_bytes"] = compressed.size();
    // Later messages reuse it.
    before = heapInUse();
    for (std::size_t i = 1; i < 101 && ok; ++i) {
        compressed.clear();
        ok = codec->compress(messages[i], 15, compressed);
    }
    r["deflater_15_growth_after_100_messages_bytes"] = heapInUse() - before;

    // A client that asked for the smallest window gets a deflater of its own.
    std::string small;
    small.reserve(4 * payload + 65536);
    before = heapInUse();
    ok = ok && codec->compress(message, 9, small);
    r["deflater_9_bytes"] = heapInUse() - before;

    // The inflater, made by the thread's first compressed message in.
    compressed.clear();
    ok = ok && codec->compress(message, 15, compressed);
    before = heapInUse();
    ok = ok && codec->inflate(compressed, 0, inflated, nullptr, 15) == finch::InflateResult::ok && inflated == message;
    r["inflater_bytes"] = heapInUse() - before;
    before = heapInUse();
    for (int i = 0; i < 100 && ok; ++i) {
        inflated.clear();
        ok = codec->inflate(compressed, 0, inflated, nullptr, 15) == finch::InflateResult::ok;
    }
    r["inflater_growth_after_100_messages_bytes"] = heapInUse() - before;

    // With clientContextTakeover, what a connection keeps: the client's last
    // window, after enough messages to fill it. finch's codec is called as the
    // connection calls it; the messages are compressed each on its own here,
    // which a client keeping its context may also do.
    for (const int bits : {9, 15}) {
        std::string window;
        for (std::size_t i = 100; i < messages.size() && ok; ++i) {
            compressed.clear();
            inflated.clear();
            ok = codec->compress(messages[i], bits, compressed) &&
                codec->inflate(compressed, 0, inflated, &window, bits) == finch::InflateResult::ok;
        }
        r["takeover_window_" + std::to_string(bits) + "_bytes"] = window.size();
        r["takeover_window_" + std::to_string(bits) + "_capacity_bytes"] = window.capacity();
    }
    r["ok"] = ok;
    std::cout << r.dump() << std::endl;
    return ok ? 0 : 1;
}
