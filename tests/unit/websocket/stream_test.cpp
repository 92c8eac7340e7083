#include <finch/detail/websocket/stream.hpp>

#include "support/client_frames.hpp"
#include "support/memory_transport.hpp"
#include "support/stream_harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <vector>

// finch's WebSocket stream without sockets and without real time, over the
// in-memory transport: the handshake's first write, messages read at every
// split, fragments with pings inside them, both directions of the closing
// handshake, a protocol failure after a valid message, the overflow
// policies, keepalive, and every read or write failing in turn.

using namespace finch::test;
using namespace std::chrono_literals;
using finch::MessageKind;
using finch::Options;
using finch::OverflowPolicy;
using finch::detail::Phase;

namespace {

std::vector<std::string> describe(const std::vector<ServerFrame>& frames)
{
    std::vector<std::string> out;
    for (const ServerFrame& frame : frames)
        out.push_back(frame.describe());
    return out;
}

}  // namespace

TEST_CASE("Stream: the 101 and what the session sends while opening leave in one write", "[unit][stream]")
{
    StreamHarness harness;
    harness.pipe->setWriteLimit(1 << 20);
    harness.session->start({}, [](auto& session) {
        session.sendText("welcome");
        session.sendText("second");
    });
    harness.settle();
    std::string bytes = harness.pipe->read();
    REQUIRE(bytes.compare(0, 7, "101\r\n\r\n") == 0);
    bytes.erase(0, 7);
    CHECK(describe(takeServerFrames(bytes)) == std::vector<std::string>{"text:welcome", "text:second"});
    CHECK(bytes.empty());
}

TEST_CASE("Stream: bytes that came with the upgrade request are read first", "[unit][stream]")
{
    StreamHarness harness;
    harness.start(textFrame("early"));
    CHECK(harness.session->messages == std::vector<std::string>{"text:early"});
    CHECK(harness.received() == std::vector<std::string>{"text:early"});
}

TEST_CASE("Stream: messages read in pieces of any size come out the same", "[unit][stream]")
{
    const std::string large(70000, 'l');
    const std::string bytes = textFrame("hello") + textFrame("he", false) + pingFrame("inside") +
        continuationFrame("ll", false) + continuationFrame("o") + binaryFrame(std::string(300, '\x01')) +
        textFrame(large) + pingFrame("after");
    const std::vector<std::string> messages = {
        "text:hello", "text:hello", "binary:" + std::string(300, '\x01'), "text:" + large};
    for (std::size_t piece : {1, 2, 3, 7, 64, 1400, 4096, 100000}) {
        CAPTURE(piece);
        StreamHarness harness;
        harness.pipe->setReadLimit(piece);
        harness.start();
        harness.send(bytes);
        CHECK(harness.session->messages == messages);
        // Echoes in order, and pongs in order; a pong may overtake echoes
        // still queued (control frames go between messages, first).
        std::vector<std::string> echoes;
        std::vector<std::string> pongs;
        for (const std::string& frame : harness.received())
            (frame.rfind("pong:", 0) == 0 ? pongs : echoes).push_back(frame);
        CHECK(echoes == messages);
        CHECK(pongs == std::vector<std::string>{"pong:inside", "pong:after"});
    }
}

TEST_CASE("Stream: ten pings in one read get ten pongs, in order", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    std::string pings;
    std::vector<std::string> pongs;
    for (int i = 0; i < 10; ++i) {
        pings += pingFrame("ping " + std::to_string(i));
        pongs.push_back("pong:ping " + std::to_string(i));
    }
    harness.send(pings);
    CHECK(harness.received() == pongs);
}

TEST_CASE("Stream: a peer that pings without reading pins at most one pong while writes are blocked", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.pipe->setCapacity(1000);
    harness.session->sendText(std::string(5000, 'x'));  // fills what the peer takes, and blocks
    harness.settle();
    const std::size_t blocked = harness.session->bufferedAmount();
    for (int i = 0; i < 1000; ++i)
        harness.send(pingFrame(std::string(100, 'p') + std::to_string(i)));
    CHECK(harness.session->bufferedAmount() <= blocked + pongFrame(std::string(104, 'p')).size());
    harness.pipe->setCapacity(std::numeric_limits<std::size_t>::max());
    const auto frames = describe(harness.receive());
    REQUIRE(frames.size() == 2);
    CHECK(frames[1] == "pong:" + std::string(100, 'p') + "999");
}

TEST_CASE("Stream: short writes and a peer that reads slowly still get every message, in order", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.pipe->setWriteLimit(7);
    harness.pipe->setCapacity(50);
    std::vector<std::string> sent;
    for (int i = 0; i < 200; ++i) {
        sent.push_back("text:message " + std::to_string(i));
        REQUIRE(harness.session->sendText("message " + std::to_string(i)));
    }
    CHECK(harness.received() == sent);
    CHECK(harness.session->bufferedAmount() == 0);
}

TEST_CASE(
    "Stream: with a transport that may not send beside its reads, every send goes through the strand", "[unit][stream]")
{
    BasicStreamHarness<BasicMemoryTransport<false>> strandOnly;
    strandOnly.start();
    REQUIRE(strandOnly.session->sendText("later"));
    CHECK(strandOnly.pipe->unread() == 0);  // queued, not written: the strand has not run
    CHECK(strandOnly.received() == std::vector<std::string>{"text:later"});

    StreamHarness beside;
    beside.start();
    REQUIRE(beside.session->sendText("now"));
    CHECK(beside.pipe->unread() > 0);  // written by the caller, at once
}

TEST_CASE("Stream: the server's close goes after what is queued, and ends at the peer's answer", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.session->sendText("last words");
    REQUIRE(harness.session->close(1000, "bye"));
    CHECK_FALSE(harness.session->close(1001, ""));  // closing already
    CHECK_FALSE(harness.session->sendText("too late"));
    CHECK(harness.received() == std::vector<std::string>{"text:last words", "close:1000:bye"});
    CHECK(harness.session->ends == 0);
    harness.send(textFrame("ignored while closing") + closeFrame(1000));
    CHECK(harness.session->messages.empty());
    CHECK(harness.session->ends == 1);
    CHECK_FALSE(harness.session->endCause);
    CHECK(harness.pipe->serverClosed());
}

TEST_CASE("Stream: the peer's close is answered after the replies to what came before it", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.send(textFrame("one") + textFrame("two") + closeFrame(4000, "done"));
    CHECK(harness.received() == std::vector<std::string>{"text:one", "text:two", "close:4000:"});
    CHECK(harness.session->ends == 1);
    CHECK_FALSE(harness.session->endCause);
    CHECK(harness.pipe->serverClosed());
}

TEST_CASE("Stream: a close frame without a code is answered without one", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.send(closeFrame(0));
    const auto frames = harness.receive();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].opcode == 8);
    CHECK(frames[0].payload.empty());
}

TEST_CASE(
    "Stream: a protocol failure after a valid message: its answer, the close code, then the drain", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    FrameSpec reserved;
    reserved.reservedBits = 0x20;
    harness.send(textFrame("valid") + clientFrame(reserved, "bad"));
    const auto frames = describe(harness.receive());
    REQUIRE(frames.size() == 2);
    CHECK(frames[0] == "text:valid");
    CHECK(frames[1].rfind("close:1002:", 0) == 0);
    // Our FIN follows the close frame; what the peer still sends is dropped.
    CHECK(harness.pipe->serverSentFin());
    CHECK(harness.session->ends == 0);
    harness.send(textFrame("dropped"));
    harness.pipe->closeWrite();
    harness.settle();
    CHECK(harness.session->messages == std::vector<std::string>{"text:valid"});
    CHECK(harness.session->ends == 1);
    // Reported when it happened, not again at the end.
    REQUIRE(harness.session->errors.size() == 1);
    CHECK(harness.session->errors[0].code == finch::ErrorCode::reservedBits);
    CHECK_FALSE(harness.session->endCause);
}

TEST_CASE("Stream: invalid UTF-8 fails the connection with 1007 before the frame has fully arrived", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    const std::string frame = textFrame("ok so far \xff and the rest of a long frame");
    harness.send(frame.substr(0, 6 + 11));
    const auto frames = harness.receive();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].closeCode() == 1007);
}

TEST_CASE("Stream: closeConnection: past maxQueuedBytes, the queue goes and 1013 follows", "[unit][stream]")
{
    Options options;
    options.maxQueuedBytes = 1000;
    StreamHarness harness(options);
    harness.start();
    harness.pipe->setCapacity(0);  // the peer reads nothing
    REQUIRE(harness.session->sendText(std::string(600, 'a')));
    REQUIRE(harness.session->sendText(std::string(300, 'b')));
    CHECK_FALSE(harness.session->sendText(std::string(300, 'c')));  // overflows
    harness.settle();
    REQUIRE(harness.session->errors.size() == 1);
    CHECK(harness.session->errors[0].code == finch::ErrorCode::queueOverflow);
    harness.pipe->setCapacity(std::numeric_limits<std::size_t>::max());
    const auto frames = describe(harness.receive());
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == "close:1013:outgoing queue full");
    // The stuck peer never answers: the close deadline ends it, with nothing more to report.
    harness.advance(std::chrono::duration_cast<std::chrono::milliseconds>(options.closeTimeout));
    CHECK(harness.session->ends == 1);
    CHECK_FALSE(harness.session->endCause);
}

TEST_CASE("Stream: dropOldest: the oldest messages go, the newest arrive, one report per burst", "[unit][stream]")
{
    Options options;
    options.maxQueuedBytes = 100;
    options.overflowPolicy = OverflowPolicy::dropOldest;
    StreamHarness harness(options);
    harness.start();
    harness.pipe->setCapacity(0);
    for (int i = 0; i < 20; ++i)
        REQUIRE(harness.session->sendText("message " + std::to_string(i) + std::string(20, '.')));
    harness.settle();
    REQUIRE(harness.session->errors.size() == 1);
    CHECK(harness.session->errors[0].code == finch::ErrorCode::messagesDropped);
    harness.pipe->setCapacity(std::numeric_limits<std::size_t>::max());
    const auto frames = describe(harness.receive());
    REQUIRE_FALSE(frames.empty());
    CHECK(frames.back() == "text:message 19" + std::string(20, '.'));
    CHECK(frames.size() < 20);
}

TEST_CASE("Stream: keepalive pings a silent peer, and drops it after another silent interval", "[unit][stream]")
{
    Options options;
    options.pingInterval = 1000ms;
    StreamHarness harness(options);
    harness.start();
    harness.advance(999ms);
    CHECK(harness.received().empty());
    harness.advance(1ms);
    CHECK(harness.received() == std::vector<std::string>{"ping:"});
    SECTION("a pong keeps it")
    {
        harness.advance(500ms);
        harness.send(pongFrame());
        harness.advance(1000ms);
        CHECK(harness.session->ends == 0);
        CHECK(harness.received() == std::vector<std::string>{"ping:"});
    }
    SECTION("silence ends it")
    {
        harness.advance(1000ms);
        CHECK(harness.session->ends == 1);
        CHECK(harness.session->endCause == boost::beast::error::timeout);
    }
}

TEST_CASE("Stream: a busy peer is never pinged", "[unit][stream]")
{
    Options options;
    options.pingInterval = 1000ms;
    StreamHarness harness(options);
    harness.start();
    for (int i = 0; i < 10; ++i) {
        harness.advance(600ms);
        harness.send(textFrame("busy"));
    }
    const auto frames = describe(harness.receive());
    CHECK(std::count(frames.begin(), frames.end(), "ping:") == 0);
    CHECK(harness.session->ends == 0);
}

TEST_CASE("Stream: a close the peer never answers ends at closeTimeout", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.session->close(1001, "");
    CHECK(harness.received() == std::vector<std::string>{"close:1001:"});
    harness.advance(4999ms);
    CHECK(harness.session->ends == 0);
    harness.advance(1ms);
    CHECK(harness.session->ends == 1);
    CHECK(harness.session->endCause == boost::beast::error::timeout);
}

TEST_CASE("Stream: a peer that answers our close with its FIN ends normally", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.session->close(1000, "");
    harness.receive();
    harness.pipe->closeWrite();
    harness.settle();
    CHECK(harness.session->ends == 1);
    CHECK_FALSE(harness.session->endCause);
}

TEST_CASE("Stream: whichever read or write fails, the stream ends once and reports it", "[unit][stream]")
{
    // The scenario: a message in pieces, pings, echoes, a close from the peer.
    const std::string bytes = textFrame("he", false) + pingFrame("p") + continuationFrame("llo") +
        binaryFrame(std::string(3000, 'b')) + closeFrame(1000);
    bool completed = false;
    for (std::size_t failAt = 1; !completed && failAt < 1000; ++failAt) {
        CAPTURE(failAt);
        StreamHarness harness;
        harness.pipe->failures.failAt = failAt;
        harness.pipe->setReadLimit(5);
        harness.pipe->setWriteLimit(100);
        harness.start();
        harness.send(bytes);
        harness.receive();
        harness.settle();
        if (!harness.pipe->failures.reached) {
            completed = true;
            CHECK(harness.session->ends == 1);
            CHECK_FALSE(harness.session->endCause);
            CHECK(harness.session->messages ==
                std::vector<std::string>{"text:hello", "binary:" + std::string(3000, 'b')});
            break;
        }
        // The failure ends the connection: once, with the transport's error.
        REQUIRE(harness.session->ends == 1);
        CHECK(harness.session->endCause);
        CHECK(harness.pipe->serverClosed());
        CHECK(harness.session->phase() == Phase::closed);
    }
    CHECK(completed);
}

TEST_CASE("Stream: a peer's reset ends the connection with the error", "[unit][stream]")
{
    StreamHarness harness;
    harness.start();
    harness.send(textFrame("hello"));
    harness.pipe->reset();
    harness.settle();
    CHECK(harness.session->ends == 1);
    CHECK(harness.session->endCause == boost::asio::error::connection_reset);
}
