#include <finch/detail/websocket/frame.hpp>

#include <finch/detail/websocket/out_frame.hpp>

#include <catch2/catch.hpp>

#include <string>

// The frames a server writes: headers in the shortest length encoding,
// written in front of a payload that does not move.

using namespace finch::detail;

TEST_CASE("server frame headers use the shortest length encoding", "[unit][websocket]")
{
    CHECK(makeFrame(Opcode::text, "hi") == std::string("\x81\x02hi", 4));
    const std::string medium(126, 'm');
    const std::string mediumFrame = makeFrame(Opcode::text, medium);
    CHECK(mediumFrame.substr(0, 4) == std::string("\x81\x7e\x00\x7e", 4));
    CHECK(mediumFrame.size() == 4 + 126);
    const std::string large(70000, 'l');
    const std::string largeFrame = makeFrame(Opcode::binary, large);
    CHECK(largeFrame.substr(0, 10) == std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
    CHECK(makeFrame(Opcode::close,
              std::string("\x03\xe9"
                          "bye",
                  5)) ==
        std::string("\x88\x05\x03\xe9"
                    "bye",
            7));
}

TEST_CASE("a frame built behind reserved room has the same bytes as a frame built whole", "[unit][websocket]")
{
    for (std::size_t size : {0, 125, 126, 65535, 65536}) {
        const std::string payload(size, 'x');
        std::string buffer = frameBuffer();
        buffer += payload;
        const OutFrame text = finishFrame(std::move(buffer));
        CHECK(text.bytes() == makeFrame(Opcode::text, payload));
        CHECK(text.headerSize() == text.size() - size);
        CHECK(dataFrame(Opcode::binary, payload).bytes() == makeFrame(Opcode::binary, payload));
    }
}
