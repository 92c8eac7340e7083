#include <finch/detail/websocket/frame.hpp>

#include <finch/detail/websocket/handshake.hpp>
#include <finch/detail/websocket/sha1.hpp>
#include <finch/detail/websocket/utf8.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

// The WebSocket codec without sockets: frame headers, the client-frame reader
// (masking, fragmentation, control frames, every protocol violation and the
// close code it earns), UTF-8 validation, and the handshake's accept key.

using namespace finch::detail;

namespace {

// A client frame: masked with a fixed key.
std::string clientFrame(Opcode opcode, const std::string& payload, bool fin = true, std::uint8_t extraBits = 0)
{
    std::string frame;
    frame += static_cast<char>((fin ? 0x80 : 0) | extraBits | static_cast<std::uint8_t>(opcode));
    if (payload.size() < 126) {
        frame += static_cast<char>(0x80 | payload.size());
    } else if (payload.size() <= 0xFFFF) {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>(payload.size() >> 8);
        frame += static_cast<char>(payload.size() & 0xFF);
    } else {
        frame += static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i)
            frame += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xFF);
    }
    const unsigned char mask[4] = {0xA1, 0x07, 0x3C, 0xF0};
    for (unsigned char byte : mask)
        frame += static_cast<char>(byte);
    for (std::size_t i = 0; i < payload.size(); ++i)
        frame += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);
    return frame;
}

struct Recorder {
    std::vector<std::string> events;
    bool onMessage(bool text, std::string_view payload)
    {
        events.push_back((text ? "text:" : "binary:") + std::string(payload));
        return true;
    }
    bool onPing(std::string_view payload)
    {
        events.push_back("ping:" + std::string(payload));
        return true;
    }
    bool onPong()
    {
        events.push_back("pong");
        return true;
    }
    bool onClose(std::uint16_t code, std::string_view reason)
    {
        events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
        return false;
    }
};

struct Parsed {
    std::vector<std::string> events;
    std::size_t consumed = 0;
    std::uint16_t failure = 0;
};

Parsed parseAll(std::string bytes, std::size_t maxMessage = 1 << 20)
{
    FrameReader reader(maxMessage);
    Recorder recorder;
    FrameReader::Failure failure;
    Parsed result;
    result.consumed = reader.parse(bytes.data(), bytes.size(), recorder, failure);
    result.events = recorder.events;
    result.failure = failure.closeCode;
    return result;
}

}  // namespace

TEST_CASE("server frame headers use the shortest length encoding", "[unit][frame]")
{
    CHECK(makeFrame(Opcode::text, "hi") == std::string("\x81\x02hi", 4));
    const std::string medium(126, 'm');
    const std::string mediumFrame = makeFrame(Opcode::text, medium);
    CHECK(mediumFrame.substr(0, 4) == std::string("\x81\x7e\x00\x7e", 4));
    CHECK(mediumFrame.size() == 4 + 126);
    const std::string large(70000, 'l');
    const std::string largeFrame = makeFrame(Opcode::binary, large);
    CHECK(largeFrame.substr(0, 10) == std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
    CHECK(makeFrame(Opcode::close, closePayload(1001, "bye")) == std::string("\x88\x05\x03\xe9" "bye", 7));
}

TEST_CASE("the frame reader unmasks messages, answers control frames and keeps partial frames", "[unit][frame]")
{
    SECTION("whole frames of every size class")
    {
        const std::string medium(300, 'm');
        const std::string large(70000, 'l');
        const auto parsed = parseAll(clientFrame(Opcode::text, "hello") + clientFrame(Opcode::binary, medium) +
            clientFrame(Opcode::text, large) + clientFrame(Opcode::text, ""));
        REQUIRE(parsed.events.size() == 4);
        CHECK(parsed.events[0] == "text:hello");
        CHECK(parsed.events[1] == "binary:" + medium);
        CHECK(parsed.events[2] == "text:" + large);
        CHECK(parsed.events[3] == "text:");
        CHECK(parsed.failure == 0);
    }
    SECTION("a fragmented message with a ping in the middle")
    {
        const auto parsed = parseAll(clientFrame(Opcode::text, "he", false) + clientFrame(Opcode::ping, "p") +
            clientFrame(Opcode::continuation, "ll", false) + clientFrame(Opcode::continuation, "o") +
            clientFrame(Opcode::pong, ""));
        CHECK(parsed.events == std::vector<std::string>{"ping:p", "text:hello", "pong"});
    }
    SECTION("a frame cut anywhere waits for the rest")
    {
        const std::string whole = clientFrame(Opcode::text, std::string(200, 'x'));
        for (std::size_t cut = 0; cut < whole.size(); ++cut) {
            const auto parsed = parseAll(whole.substr(0, cut));
            REQUIRE(parsed.consumed == 0);
            REQUIRE(parsed.events.empty());
            REQUIRE(parsed.failure == 0);
        }
    }
    SECTION("a close frame ends parsing")
    {
        const auto parsed = parseAll(clientFrame(Opcode::close, closePayload(1000, "done")) +
            clientFrame(Opcode::text, "after"));
        CHECK(parsed.events == std::vector<std::string>{"close:1000:done"});
        CHECK(parseAll(clientFrame(Opcode::close, "")).events == std::vector<std::string>{"close:1005:"});
    }
}

TEST_CASE("protocol violations get the close code RFC 6455 asks for", "[unit][frame]")
{
    using Case = std::pair<std::string, std::uint16_t>;
    std::string unmasked = clientFrame(Opcode::text, "x");
    unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
    const std::vector<Case> cases = {
        {clientFrame(Opcode::text, "x", true, 0x40), 1002},  // reserved bit
        {unmasked, 1002},
        {clientFrame(static_cast<Opcode>(3), "x"), 1002},  // reserved data opcode
        {clientFrame(static_cast<Opcode>(11), "x"), 1002},  // reserved control opcode
        {clientFrame(Opcode::ping, "x", false), 1002},  // fragmented control frame
        {clientFrame(Opcode::ping, std::string(126, 'x')), 1002},  // control frame too long
        {clientFrame(Opcode::continuation, "x"), 1002},  // continuation of nothing
        {clientFrame(Opcode::text, "a", false) + clientFrame(Opcode::text, "b"), 1002},  // new message inside one
        {clientFrame(Opcode::close, "x"), 1002},  // one-byte close payload
        {clientFrame(Opcode::close, closePayload(1005, "")), 1002},  // a code that must not be sent
        {clientFrame(Opcode::close, closePayload(999, "")), 1002},
        {clientFrame(Opcode::close, closePayload(1000, "\xff")), 1007},
        {clientFrame(Opcode::text, "\xc3\x28"), 1007},  // not UTF-8
        {clientFrame(Opcode::text, "\xe2\x82", false) + clientFrame(Opcode::continuation, "\xff"), 1007},
        {clientFrame(Opcode::text, std::string(101, 'x')), 1009},
        {clientFrame(Opcode::text, std::string(60, 'x'), false) + clientFrame(Opcode::continuation, std::string(60, 'x')),
            1009},
    };
    for (const auto& [bytes, code] : cases) {
        CAPTURE(code);
        CHECK(parseAll(bytes, 100).failure == code);
    }
}

TEST_CASE("an oversized message is refused from its header, before its payload arrives", "[unit][frame]")
{
    const std::string header = clientFrame(Opcode::text, std::string(70000, 'x')).substr(0, 14);
    CHECK(parseAll(header, 65536).failure == 1009);
}

TEST_CASE("UTF-8 validation follows RFC 3629", "[unit][frame]")
{
    CHECK(isValidUtf8(""));
    CHECK(isValidUtf8("plain ASCII, longer than eight bytes"));
    CHECK(isValidUtf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa6"));  // été € 🐦
    CHECK(isValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
    CHECK_FALSE(isValidUtf8("\x80"));  // lone continuation
    CHECK_FALSE(isValidUtf8("\xc0\xaf"));  // overlong
    CHECK_FALSE(isValidUtf8("\xe0\x80\xaf"));  // overlong
    CHECK_FALSE(isValidUtf8("\xed\xa0\x80"));  // surrogate
    CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(isValidUtf8("abcdefgh\xe2\x82"));  // cut short
}

TEST_CASE("the handshake's accept key and key validation", "[unit][frame]")
{
    // The example of RFC 6455 1.3.
    CHECK(secWebSocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const auto digest = sha1("abc");  // FIPS 180 example
    CHECK(base64Encode(digest.data(), digest.size()) == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    CHECK(base64Encode(reinterpret_cast<const std::uint8_t*>("ab"), 2) == "YWI=");
    CHECK(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZQ=="));
    CHECK_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZQ"));
    CHECK_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZ!=="));
}
