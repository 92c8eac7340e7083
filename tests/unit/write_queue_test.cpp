#include <finch/detail/websocket/write_queue.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// A connection's queue of outgoing frames without a socket: where control
// frames go, which frames the dropOldest policy may drop, and the byte count
// the queue limit is checked against.

using namespace finch::detail;

namespace {

OutFrame message(const std::string& text)
{
    std::string buffer = frameBuffer();
    buffer += text;
    return finishTextFrame(std::move(buffer));
}

// What is queued, front first: a message's text, or "ping:"/"pong:" and the payload.
std::vector<std::string> contents(WriteQueue& queue)
{
    std::vector<std::string> out;
    while (!queue.empty()) {
        const OutFrame frame = queue.pop();
        const std::string_view payload = frame.bytes().substr(2);
        const auto opcode = static_cast<Opcode>(frame.opcodeBits());
        const std::string prefix = opcode == Opcode::ping ? "ping:" : opcode == Opcode::pong ? "pong:" : "";
        out.push_back(prefix + std::string(payload));
    }
    return out;
}

}  // namespace

TEST_CASE("WriteQueue: control frames go in front of the messages, in the order they came", "[write_queue]")
{
    WriteQueue queue;
    queue.push(message("a"));
    queue.pushControl(controlFrame(Opcode::pong, "1"));
    queue.push(message("b"));
    queue.pushControl(controlFrame(Opcode::ping, ""));
    CHECK(queue.size() == 4);
    CHECK(contents(queue) == std::vector<std::string>{"ping:", "pong:1", "a", "b"});
    CHECK(queue.bytes() == 0);
}

TEST_CASE("WriteQueue: a pong still waiting is replaced by the next one, so pings cannot grow the queue",
    "[write_queue]")
{
    WriteQueue queue;
    queue.push(message("a"));
    for (int i = 0; i < 1000; ++i)
        queue.pushControl(controlFrame(Opcode::pong, "payload " + std::to_string(i)));
    queue.pushControl(controlFrame(Opcode::ping, ""));
    queue.pushControl(controlFrame(Opcode::pong, "last"));
    CHECK(queue.size() == 3);
    CHECK(queue.bytes() == controlFrame(Opcode::ping, "").size() + controlFrame(Opcode::pong, "last").size() +
            message("a").size());
    CHECK(contents(queue) == std::vector<std::string>{"ping:", "pong:last", "a"});
}

TEST_CASE("WriteQueue: dropOldest drops the oldest messages and keeps the control frames", "[write_queue]")
{
    WriteQueue queue;
    for (const char* text : {"m1", "m2", "m3", "m4"})
        queue.push(message(text));
    queue.pushControl(controlFrame(Opcode::ping, ""));
    queue.pushControl(controlFrame(Opcode::pong, "p"));
    const std::size_t messageSize = message("m1").size();
    const std::size_t controls = controlFrame(Opcode::ping, "").size() + controlFrame(Opcode::pong, "p").size();
    REQUIRE(queue.bytes() == controls + 4 * messageSize);

    // Room for one more message within a limit of three messages and the controls: two must go.
    CHECK(queue.dropOldest(messageSize, controls + 3 * messageSize) == 2);
    CHECK(queue.bytes() == controls + 2 * messageSize);

    // A limit the control frames alone pass: every message goes, they stay.
    WriteQueue copy = queue;
    CHECK(copy.dropOldest(0, 1) == 2);
    CHECK(contents(copy) == std::vector<std::string>{"pong:p", "ping:"});

    CHECK(contents(queue) == std::vector<std::string>{"pong:p", "ping:", "m3", "m4"});
}
