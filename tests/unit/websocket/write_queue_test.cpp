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
    return finishFrame(std::move(buffer));
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

TEST_CASE("WriteQueue: control frames go in front of the messages, in the order they came", "[unit][websocket]")
{
    WriteQueue queue;
    queue.push(message("a"));
    queue.pushControl(controlFrame(Opcode::pong, "1"), false);
    queue.push(message("b"));
    queue.pushControl(controlFrame(Opcode::ping, ""), false);
    queue.pushControl(controlFrame(Opcode::pong, "2"), false);
    CHECK(queue.size() == 5);
    CHECK(contents(queue) == std::vector<std::string>{"pong:1", "ping:", "pong:2", "a", "b"});
    CHECK(queue.bytes() == 0);
}

TEST_CASE("WriteQueue: each ping's pong waits in turn while writes flow", "[unit][websocket]")
{
    WriteQueue queue;
    queue.push(message("a"));
    (void)queue.pop();  // the queue's head has moved: control frames go in front of what is left
    queue.push(message("b"));
    for (int i = 0; i < 10; ++i)
        queue.pushControl(controlFrame(Opcode::pong, std::to_string(i)), false);
    CHECK(contents(queue) ==
        std::vector<std::string>{
            "pong:0", "pong:1", "pong:2", "pong:3", "pong:4", "pong:5", "pong:6", "pong:7", "pong:8", "pong:9", "b"});
}

TEST_CASE("WriteQueue: while writes are blocked, a pong still waiting is replaced by the next one", "[unit][websocket]")
{
    WriteQueue queue;
    queue.push(message("a"));
    for (int i = 0; i < 1000; ++i)
        queue.pushControl(controlFrame(Opcode::pong, "payload " + std::to_string(i)), true);
    queue.pushControl(controlFrame(Opcode::ping, ""), true);
    queue.pushControl(controlFrame(Opcode::pong, "last"), true);
    CHECK(queue.size() == 3);
    CHECK(queue.bytes() ==
        controlFrame(Opcode::ping, "").size() + controlFrame(Opcode::pong, "last").size() + message("a").size());
    CHECK(contents(queue) == std::vector<std::string>{"pong:last", "ping:", "a"});
}

TEST_CASE("WriteQueue: however writes go, at most a bounded number of control frames wait", "[unit][websocket]")
{
    WriteQueue queue;
    for (int i = 0; i < 1000; ++i)
        queue.pushControl(controlFrame(Opcode::pong, std::to_string(i)), false);
    CHECK(queue.size() == WriteQueue::maxWaitingControls);
    const auto waiting = contents(queue);
    CHECK(waiting.back() == "pong:999");
}

TEST_CASE("WriteQueue: dropOldest drops the oldest messages and keeps the control frames", "[unit][websocket]")
{
    WriteQueue queue;
    for (const char* text : {"m1", "m2", "m3", "m4"})
        queue.push(message(text));
    queue.pushControl(controlFrame(Opcode::ping, ""), false);
    queue.pushControl(controlFrame(Opcode::pong, "p"), false);
    const std::size_t messageSize = message("m1").size();
    const std::size_t controls = controlFrame(Opcode::ping, "").size() + controlFrame(Opcode::pong, "p").size();
    REQUIRE(queue.bytes() == controls + 4 * messageSize);

    // Room for one more message within a limit of three messages and the controls: two must go.
    CHECK(queue.dropOldest(messageSize, controls + 3 * messageSize) == 2);
    CHECK(queue.bytes() == controls + 2 * messageSize);

    // A limit the control frames alone pass: every message goes, they stay.
    WriteQueue copy = queue;
    CHECK(copy.dropOldest(0, 1) == 2);
    CHECK(contents(copy) == std::vector<std::string>{"ping:", "pong:p"});

    CHECK(contents(queue) == std::vector<std::string>{"ping:", "pong:p", "m3", "m4"});
}
