#include <finch/detail/websocket/frame_parser.hpp>

#include <finch/permessage_deflate.hpp>

#include "support/client_frames.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

// The client-frame parser without sockets: masking, fragmentation, control
// frames, every protocol violation with its own error and the close code it
// earns, UTF-8 failed at the first bad byte, the message limits, and the
// copies a message cut between reads costs.

using namespace finch::detail;
using namespace finch::test;
using finch::ErrorCode;
using finch::MessageKind;

namespace {

struct Recorder {
    std::vector<std::string> events;
    void onMessage(MessageKind kind, std::string_view payload)
    {
        events.push_back((kind == MessageKind::text ? "text:" : "binary:") + std::string(payload));
    }
    void onPing(std::string_view payload) { events.push_back("ping:" + std::string(payload)); }
    void onPong(std::string_view payload) { events.push_back("pong:" + std::string(payload)); }
    void onClose(std::uint16_t code, std::string_view reason)
    {
        events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
    }
};

struct Parsed {
    std::vector<std::string> events;
    ParseStatus status = ParseStatus::more;
    ErrorCode failure{};
};

// Feeds `bytes` in pieces of `piece` bytes (all at once when 0), reading
// into the parser's room whenever it offers one, as the stream does.
// `codec`: permessage-deflate was negotiated (the client resets its context).
Parsed parse(std::string bytes, std::size_t maxMessage = 1 << 20, std::size_t piece = 0,
    IncomingBudget* budget = nullptr, const finch::Compression* codec = nullptr)
{
    FrameParser parser(maxMessage, budget);
    if (codec)
        parser.enableInflation(*codec, maxMessage, false, 15);
    Recorder recorder;
    Parsed result;
    std::size_t offset = 0;
    while (offset < bytes.size() && result.status == ParseStatus::more) {
        std::size_t size = piece == 0 ? bytes.size() - offset : std::min(piece, bytes.size() - offset);
        const FrameParser::Room room = parser.room();
        if (room.data) {
            size = std::min(size, room.size);
            std::copy(bytes.data() + offset, bytes.data() + offset + size, room.data);
            result.status = parser.feedRoom(size, recorder);
        } else {
            std::string chunk = bytes.substr(offset, size);
            result.status = parser.feed(chunk.data(), chunk.size(), recorder);
        }
        offset += size;
    }
    result.events = recorder.events;
    if (result.status == ParseStatus::failed)
        result.failure = parser.failure();
    return result;
}

}  // namespace

TEST_CASE("FrameParser: messages of every length class, whole or cut at any byte", "[unit][websocket]")
{
    const std::string medium(300, 'm');
    const std::string large(70000, 'l');
    const std::string bytes =
        textFrame("hello") + binaryFrame(medium) + textFrame(large) + textFrame("") + pingFrame("p") + pongFrame();
    const std::vector<std::string> expected = {
        "text:hello", "binary:" + medium, "text:" + large, "text:", "ping:p", "pong:"};
    CHECK(parse(bytes).events == expected);
    for (std::size_t piece : {1, 2, 3, 5, 13, 1400, 16 * 1024})
        CHECK(parse(bytes, 1 << 20, piece).events == expected);
}

TEST_CASE("FrameParser: every split of a frame sequence gives the same events", "[unit][websocket]")
{
    const std::string bytes = textFrame("he", false) + pingFrame("in between") + continuationFrame("ll", false) +
        continuationFrame("o") + binaryFrame(std::string(130, 'b')) + closeFrame(1000, "done") + textFrame("after");
    const std::vector<std::string> expected = {
        "ping:in between", "text:hello", "binary:" + std::string(130, 'b'), "close:1000:done"};
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        CAPTURE(cut);
        FrameParser parser(1 << 20, nullptr);
        Recorder recorder;
        std::string first = bytes.substr(0, cut);
        std::string second = bytes.substr(cut);
        ParseStatus status = parser.feed(first.data(), first.size(), recorder);
        if (status == ParseStatus::more)
            status = parser.feed(second.data(), second.size(), recorder);
        REQUIRE(status == ParseStatus::closed);
        REQUIRE(recorder.events == expected);
    }
}

TEST_CASE("FrameParser: a close frame ends parsing, and without a code it reports 1005", "[unit][websocket]")
{
    const auto parsed = parse(closeFrame(1000, "done") + textFrame("after"));
    CHECK(parsed.status == ParseStatus::closed);
    CHECK(parsed.events == std::vector<std::string>{"close:1000:done"});
    CHECK(parse(closeFrame(0)).events == std::vector<std::string>{"close:1005:"});
    CHECK(parse(closeFrame(4999)).events == std::vector<std::string>{"close:4999:"});
}

TEST_CASE("FrameParser: each protocol violation has its own error and RFC 6455's close code", "[unit][websocket]")
{
    struct Case {
        std::string bytes;
        ErrorCode expected;
        unsigned short closeCode;
    };
    FrameSpec reserved;
    reserved.reservedBits = 0x40;
    FrameSpec unmasked;
    unmasked.masked = false;
    FrameSpec long16;
    long16.length = LengthField::sixteenBits;
    FrameSpec long64;
    long64.length = LengthField::sixtyFourBits;
    std::string outOfRange = clientFrame(long64, "x");
    outOfRange[2] = static_cast<char>(0x80);
    const std::vector<Case> cases = {
        {clientFrame(reserved, "x"), ErrorCode::reservedBits, 1002},
        {clientFrame(unmasked, "x"), ErrorCode::unmaskedFrame, 1002},
        {clientFrame(3, "x"), ErrorCode::unknownOpcode, 1002},
        {clientFrame(11, "x"), ErrorCode::unknownOpcode, 1002},
        {clientFrame(9, "x", false), ErrorCode::fragmentedControlFrame, 1002},
        {pingFrame(std::string(126, 'x')), ErrorCode::controlFrameTooLong, 1002},
        {continuationFrame("x"), ErrorCode::unexpectedContinuation, 1002},
        {textFrame("a", false) + textFrame("b"), ErrorCode::unfinishedMessage, 1002},
        {clientFrame(long16, "short"), ErrorCode::nonMinimalLength, 1002},
        {clientFrame(long64, std::string(200, 'x')), ErrorCode::nonMinimalLength, 1002},
        {outOfRange, ErrorCode::lengthOutOfRange, 1002},
        {clientFrame(8, "x"), ErrorCode::invalidClosePayload, 1002},
        {closeFrame(1005), ErrorCode::invalidCloseCode, 1002},
        {closeFrame(1004), ErrorCode::invalidCloseCode, 1002},
        {closeFrame(1015), ErrorCode::invalidCloseCode, 1002},
        {closeFrame(999), ErrorCode::invalidCloseCode, 1002},
        {closeFrame(2000), ErrorCode::invalidCloseCode, 1002},
        {closeFrame(5000), ErrorCode::invalidCloseCode, 1002},
        {closeFrame(1000, "\xff"), ErrorCode::invalidCloseReason, 1007},
        {textFrame("\xc3\x28"), ErrorCode::invalidUtf8, 1007},
        {textFrame("\xe2\x82", false) + continuationFrame("\xff"), ErrorCode::invalidUtf8, 1007},
        {textFrame("ends inside a character \xe2\x82"), ErrorCode::invalidUtf8, 1007},
        {textFrame("\xe2\x82", false) + continuationFrame(""), ErrorCode::invalidUtf8, 1007},
        {textFrame(std::string(101, 'x')), ErrorCode::messageTooBig, 1009},
        {textFrame(std::string(60, 'x'), false) + continuationFrame(std::string(60, 'x')), ErrorCode::messageTooBig, 1009},
    };
    for (const Case& c : cases) {
        CAPTURE(static_cast<int>(c.expected));
        for (std::size_t piece : {0, 1}) {
            const auto parsed = parse(c.bytes, 100, piece);
            CHECK(parsed.status == ParseStatus::failed);
            CHECK(parsed.failure == c.expected);
            CHECK(finch::closeCodeOf(parsed.failure) == c.closeCode);
        }
    }
}

TEST_CASE("FrameParser: a bad header fails at its first bad byte", "[unit][websocket]")
{
    FrameSpec reserved;
    reserved.reservedBits = 0x10;
    FrameParser parser(1 << 20, nullptr);
    Recorder recorder;
    std::string firstByte = clientFrame(reserved, "x").substr(0, 1);
    CHECK(parser.feed(firstByte.data(), 1, recorder) == ParseStatus::failed);
    CHECK(parser.failure() == ErrorCode::reservedBits);
}

TEST_CASE("FrameParser: invalid UTF-8 fails at the first bad byte, before the frame or message is complete",
    "[unit][websocket]")
{
    SECTION("inside one frame that has not fully arrived")
    {
        const std::string frame = textFrame("valid start \xce\xba\xe1\xbd\xb9 then \xf4\x90\x80\x80 and more to come");
        // The payload starts after 6 header bytes; the sequence at payload
        // offset 23 starts well (0xF4) and its second byte (0x90, above
        // U+10FFFF) is what makes it bad.
        FrameParser parser(1 << 20, nullptr);
        Recorder recorder;
        std::string upToLead = frame.substr(0, 6 + 24);
        CHECK(parser.feed(upToLead.data(), upToLead.size(), recorder) == ParseStatus::more);
        std::string badByte = frame.substr(6 + 24, 1);
        CHECK(parser.feed(badByte.data(), 1, recorder) == ParseStatus::failed);
        CHECK(parser.failure() == ErrorCode::invalidUtf8);
    }
    SECTION("in a fragment of a message whose final fragment has not come")
    {
        FrameParser parser(1 << 20, nullptr);
        Recorder recorder;
        std::string bytes = textFrame("fine", false) + continuationFrame("\xed\xa0\x80 surrogate", false);
        CHECK(parser.feed(bytes.data(), bytes.size(), recorder) == ParseStatus::failed);
        CHECK(parser.failure() == ErrorCode::invalidUtf8);
        CHECK(recorder.events.empty());
    }
    SECTION("a character cut between fragments is fine")
    {
        CHECK(parse(textFrame("\xe2", false) + continuationFrame("\x82", false) + continuationFrame("\xac")).events ==
            std::vector<std::string>{"text:\xe2\x82\xac"});
    }
}

TEST_CASE(
    "FrameParser: an oversized message is refused from its header, before its payload arrives", "[unit][websocket]")
{
    const std::string header = textFrame(std::string(70000, 'x')).substr(0, 14);
    const auto parsed = parse(header, 65536);
    CHECK(parsed.status == ParseStatus::failed);
    CHECK(parsed.failure == ErrorCode::messageTooBig);
}

TEST_CASE("FrameParser: maxMessageSize 0 means no limit for one message", "[unit][websocket]")
{
    const std::string large(3 << 20, 'x');
    const auto parsed = parse(textFrame(large), 0, 1400);
    REQUIRE(parsed.events.size() == 1);
    CHECK(parsed.events[0].size() == large.size() + 5);
}

TEST_CASE("FrameParser: a message cut between reads takes room for its whole length once, from the budget",
    "[unit][websocket]")
{
    IncomingBudget budget(100 * 1024);
    FrameParser parser(1 << 20, &budget);
    Recorder recorder;
    const std::string payload(80 * 1024, 'p');
    std::string frame = binaryFrame(payload);
    std::string head = frame.substr(0, 1000);
    REQUIRE(parser.feed(head.data(), head.size(), recorder) == ParseStatus::more);
    CHECK(budget.used() == payload.size());
    // The rest goes straight into the reserved room, in one piece.
    const FrameParser::Room room = parser.room();
    REQUIRE(room.data != nullptr);
    CHECK(room.size == frame.size() - 1000);
    std::copy(frame.begin() + 1000, frame.end(), room.data);
    CHECK(parser.feedRoom(room.size, recorder) == ParseStatus::more);
    REQUIRE(recorder.events.size() == 1);
    CHECK(recorder.events[0] == "binary:" + payload);
    // Handled: the memory is given back.
    CHECK(budget.used() == 0);
    CHECK(parser.bufferedBytes() == 0);
}

TEST_CASE("FrameParser: past the budget, a connection fails with 1013 instead of buffering", "[unit][websocket]")
{
    IncomingBudget budget(10 * 1024);
    const auto parsed = parse(textFrame(std::string(20 * 1024, 'x')), 1 << 20, 1000, &budget);
    CHECK(parsed.status == ParseStatus::failed);
    CHECK(parsed.failure == ErrorCode::incomingMemoryFull);
    CHECK(finch::closeCodeOf(parsed.failure) == 1013);
    CHECK(budget.used() == 0);
}

TEST_CASE("FrameParser: a message in many fragments costs linear memory and time", "[unit][websocket]")
{
    std::string bytes;
    std::string expected;
    for (int i = 0; i < 2000; ++i) {
        const std::string piece(100, static_cast<char>('a' + i % 26));
        bytes += i == 0 ? textFrame(piece, false) : continuationFrame(piece, i == 1999 ? true : false);
        expected += piece;
    }
    const auto parsed = parse(bytes, 1 << 20, 4096);
    REQUIRE(parsed.events.size() == 1);
    CHECK(parsed.events[0] == "text:" + expected);
}

namespace {

// A message's payload as a permessage-deflate client sends it.
std::string deflated(const finch::Compression& codec, const std::string& message)
{
    std::string out;
    REQUIRE(codec.compress(message, 15, out));
    return out;
}

FrameSpec compressedSpec(std::uint8_t opcode, bool fin = true)
{
    FrameSpec spec;
    spec.opcode = opcode;
    spec.fin = fin;
    spec.reservedBits = 0x40;
    return spec;
}

}  // namespace

TEST_CASE("FrameParser: compressed messages are inflated, whole or cut at any byte", "[unit][websocket][deflate]")
{
    const auto codec = finch::permessageDeflate();
    const std::string text(5000, 't');
    const std::string binary = "\x01\x02" + std::string(3000, '\0');
    const std::string payload = deflated(*codec, text);
    // A compressed message in two fragments: RSV1 on the first only (RFC 7692 6.1).
    const std::string bytes = clientFrame(compressedSpec(1), payload) +
        clientFrame(compressedSpec(2, false), deflated(*codec, binary).substr(0, 5)) + pingFrame("p") +
        continuationFrame(deflated(*codec, binary).substr(5)) + textFrame("plain");
    const std::vector<std::string> expected = {"text:" + text, "ping:p", "binary:" + binary, "text:plain"};
    for (std::size_t piece : {0, 1, 3, 7, 1400}) {
        CAPTURE(piece);
        const Parsed parsed = parse(bytes, 1 << 20, piece, nullptr, codec.get());
        CHECK(parsed.status == ParseStatus::more);
        CHECK(parsed.events == expected);
    }
}

TEST_CASE("FrameParser: RSV1 is refused where RFC 7692 gives it no meaning", "[unit][websocket][deflate]")
{
    const auto codec = finch::permessageDeflate();
    const std::string payload = deflated(*codec, "hello");
    FrameSpec both = compressedSpec(1);
    both.reservedBits = 0x60;
    FrameSpec ping = compressedSpec(9);
    const std::pair<std::string, const finch::Compression*> cases[] = {
        {clientFrame(compressedSpec(1), payload), nullptr},  // not negotiated
        {textFrame("he", false) + clientFrame(compressedSpec(0), "llo"), codec.get()},  // on a continuation
        {clientFrame(ping, ""), codec.get()},  // on a control frame
        {clientFrame(both, payload), codec.get()},  // with RSV2
    };
    for (const auto& [bytes, negotiated] : cases) {
        const Parsed parsed = parse(bytes, 1 << 20, 0, nullptr, negotiated);
        CHECK(parsed.status == ParseStatus::failed);
        CHECK(parsed.failure == ErrorCode::reservedBits);
    }
}

TEST_CASE("FrameParser: a compression bomb fails with 1009 at the inflated limit", "[unit][websocket][deflate]")
{
    const auto codec = finch::permessageDeflate();
    const std::string payload = deflated(*codec, std::string(8 * 1024 * 1024, 'a'));
    REQUIRE(payload.size() < 64 * 1024);  // small on the wire: the header check lets it in
    const Parsed parsed = parse(clientFrame(compressedSpec(2), payload), 1 << 20, 0, nullptr, codec.get());
    CHECK(parsed.status == ParseStatus::failed);
    CHECK(parsed.failure == ErrorCode::messageTooBig);
    CHECK(finch::closeCodeOf(parsed.failure) == 1009);
    CHECK(parsed.events.empty());
}

TEST_CASE("FrameParser: data that does not inflate fails with 1007", "[unit][websocket][deflate]")
{
    const auto codec = finch::permessageDeflate();
    const Parsed parsed = parse(clientFrame(compressedSpec(1), "\xff\xff\xff"), 1 << 20, 0, nullptr, codec.get());
    CHECK(parsed.status == ParseStatus::failed);
    CHECK(parsed.failure == ErrorCode::invalidCompressedData);
    CHECK(finch::closeCodeOf(parsed.failure) == 1007);
}

TEST_CASE("FrameParser: a compressed text message's UTF-8 is checked once inflated", "[unit][websocket][deflate]")
{
    const auto codec = finch::permessageDeflate();
    const Parsed parsed =
        parse(clientFrame(compressedSpec(1), deflated(*codec, "ok \xc3\x28 not")), 1 << 20, 0, nullptr, codec.get());
    CHECK(parsed.status == ParseStatus::failed);
    CHECK(parsed.failure == ErrorCode::invalidUtf8);
}
