#include <finch/detail/session/socket_id.hpp>

#include <catch2/catch.hpp>

#include <set>

TEST_CASE("socket ids are 128 bits of hex and do not repeat")
{
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        const auto id = finch::detail::newSocketId();
        REQUIRE(id.size() == 32);
        REQUIRE(id.find_first_not_of("0123456789abcdef") == std::string::npos);
        REQUIRE(seen.insert(id).second);
    }
}

TEST_CASE("socket ids use every hex digit in every position over many draws")
{
    // A constant or badly seeded generator would leave positions stuck.
    std::set<char> perPosition[32];
    for (int i = 0; i < 2000; ++i) {
        const auto id = finch::detail::newSocketId();
        for (std::size_t p = 0; p < id.size(); ++p)
            perPosition[p].insert(id[p]);
    }
    for (const auto& digits : perPosition)
        CHECK(digits.size() == 16);
}
