#include <finch/permessage_deflate.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

#include <string>
#include <thread>
#include <vector>

// finch's zlib codec for permessage-deflate: round trips at each window
// size, the bytes RFC 7692 leaves out, the inflated-size limit that stops a
// compression bomb, corrupt input, the client's kept window, and threads
// compressing at once. permessageDeflate()'s settings: permessage_deflate_test.cpp.

namespace {

std::string sampleJson(std::size_t size)
{
    std::string text;
    for (int i = 0; text.size() < size; ++i)
        text += R"({"path":"prices","status":200,"data":{"symbol":"ACME","price":)" + std::to_string(100 + i % 37) +
            "}},";
    text.resize(size);
    return text;
}

// What a client that keeps its context would send: one deflater across
// messages, each ended by a sync flush without its last four bytes.
struct ContextKeepingClient {
    z_stream stream{};
    explicit ContextKeepingClient(int windowBits)
    {
        REQUIRE(deflateInit2(&stream, 6, Z_DEFLATED, -windowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    }
    ~ContextKeepingClient() { deflateEnd(&stream); }
    std::string compress(const std::string& message)
    {
        std::string out(message.size() + 1024, '\0');
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
        stream.avail_in = static_cast<uInt>(message.size());
        stream.next_out = reinterpret_cast<Bytef*>(out.data());
        stream.avail_out = static_cast<uInt>(out.size());
        REQUIRE(deflate(&stream, Z_SYNC_FLUSH) == Z_OK);
        out.resize(out.size() - stream.avail_out - 4);
        return out;
    }
};

}  // namespace

TEST_CASE("messages round-trip at every window size, shorter than they were")
{
    const auto codec = finch::permessageDeflate();
    const std::string message = sampleJson(20000);
    for (int bits = 9; bits <= 15; ++bits) {
        INFO("window bits " << bits);
        std::string compressed;
        REQUIRE(codec->compress(message, bits, compressed));
        CHECK(compressed.size() < message.size() / 3);
        std::string inflated;
        REQUIRE(codec->inflate(compressed, 0, inflated, nullptr, 15) == finch::InflateResult::ok);
        CHECK(inflated == message);
    }
}

TEST_CASE("compressed output leaves out the sync flush's 00 00 ff ff and appends to what is there")
{
    const auto codec = finch::permessageDeflate();
    std::string out = "head";
    REQUIRE(codec->compress("Hello", 15, out));
    REQUIRE(out.size() > 4);
    CHECK(out.compare(0, 4, "head") == 0);
    // RFC 7692 7.2.3.1's own example: "Hello" compressed is f2 48 cd c9 c9 07 00.
    const std::string expected("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    CHECK(out.substr(4) == expected);
    std::string inflated;
    REQUIRE(codec->inflate(expected, 0, inflated, nullptr, 15) == finch::InflateResult::ok);
    CHECK(inflated == "Hello");
}

TEST_CASE("an empty message round-trips")
{
    const auto codec = finch::permessageDeflate();
    std::string compressed;
    REQUIRE(codec->compress("", 15, compressed));
    std::string inflated = "kept";
    REQUIRE(codec->inflate(compressed, 0, inflated, nullptr, 15) == finch::InflateResult::ok);
    CHECK(inflated == "kept");
}

TEST_CASE("the limit counts inflated bytes: exactly the limit passes, one more stops it")
{
    const auto codec = finch::permessageDeflate();
    const std::string message = sampleJson(5000);
    std::string compressed;
    REQUIRE(codec->compress(message, 15, compressed));
    std::string out;
    CHECK(codec->inflate(compressed, message.size(), out, nullptr, 15) == finch::InflateResult::ok);
    CHECK(out == message);
    out = "before";
    CHECK(codec->inflate(compressed, message.size() - 1, out, nullptr, 15) == finch::InflateResult::tooBig);
    CHECK(out == "before");  // nothing of it is left behind
}

TEST_CASE("a compression bomb stops at the limit, without inflating the rest")
{
    const auto codec = finch::permessageDeflate();
    const std::string zeros(64 * 1024 * 1024, '\0');
    std::string bomb;
    REQUIRE(codec->compress(zeros, 15, bomb));
    CHECK(bomb.size() < 100 * 1024);  // 64 MiB in well under 100 KiB
    std::string out;
    CHECK(codec->inflate(bomb, 1024 * 1024, out, nullptr, 15) == finch::InflateResult::tooBig);
    CHECK(out.empty());
    CHECK(out.capacity() <= 4 * 1024 * 1024);  // grown to about the limit, not to 64 MiB
}

TEST_CASE("bytes that are not DEFLATE data are refused")
{
    const auto codec = finch::permessageDeflate();
    std::string out;
    // Block type 3 does not exist (RFC 1951 3.2.3).
    CHECK(codec->inflate(std::string("\xff\xff\xff\xff", 4), 0, out, nullptr, 15) == finch::InflateResult::invalid);
    CHECK(out.empty());
}

TEST_CASE("a client that keeps its context is read with the window the connection keeps")
{
    const auto codec = finch::permessageDeflate();
    ContextKeepingClient client(9);
    std::string window;
    const std::string first = sampleJson(3000);
    const std::string second = sampleJson(3000);  // the same text: it refers back into the first
    const std::string a = client.compress(first);
    const std::string b = client.compress(second);
    std::string out;
    REQUIRE(codec->inflate(a, 0, out, &window, 9) == finch::InflateResult::ok);
    CHECK(out == first);
    CHECK(window.size() == 512);  // only the client's window is kept
    out.clear();
    REQUIRE(codec->inflate(b, 0, out, &window, 9) == finch::InflateResult::ok);
    CHECK(out == second);
    // Without the window, the second message cannot be read.
    std::string lost;
    CHECK(codec->inflate(b, 0, lost, nullptr, 15) != finch::InflateResult::ok);
}

TEST_CASE("threads compress and inflate with one codec at once")
{
    const auto codec = finch::permessageDeflate();
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string message = sampleJson(1000 + static_cast<std::size_t>(t * 100 + i));
                std::string compressed;
                std::string inflated;
                if (!codec->compress(message, 9 + (i + t) % 7, compressed) ||
                    codec->inflate(compressed, 0, inflated, nullptr, 15) != finch::InflateResult::ok ||
                    inflated != message)
                    ++failures[static_cast<std::size_t>(t)];
            }
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(failures == std::vector<int>(4, 0));
}
