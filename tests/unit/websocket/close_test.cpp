#include <finch/detail/websocket/close.hpp>

#include <catch2/catch.hpp>

#include <string>

// Which close codes and reasons may cross the wire (RFC 6455 7.4, 5.5.1).

using namespace finch::detail;

TEST_CASE("close codes: the registered ones and the applications' range, never the reserved ones", "[unit][websocket]")
{
    for (unsigned code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999})
        CHECK(isValidCloseCode(static_cast<std::uint16_t>(code)));
    for (unsigned code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
        CHECK_FALSE(isValidCloseCode(static_cast<std::uint16_t>(code)));
}

TEST_CASE("a close reason must be UTF-8 and fit in the frame", "[unit][websocket]")
{
    CHECK(isValidClose(1000, ""));
    CHECK(isValidClose(1000, std::string(123, 'x')));
    CHECK_FALSE(isValidClose(1000, std::string(124, 'x')));
    CHECK_FALSE(isValidClose(1000, "\xff"));
    CHECK_FALSE(isValidClose(1005, "no status may not be sent"));
    CHECK(closePayload(1001, "bye") ==
        std::string("\x03\xe9"
                    "bye",
            5));
}
