#include <finch/detail/http/upgrade_target.hpp>

#include <catch2/catch.hpp>

TEST_CASE("the WebSocket target matches its path with or without a query")
{
    using finch::detail::targetMatches;
    CHECK(targetMatches("/ws", "/ws"));
    CHECK(targetMatches("/ws?token=abc", "/ws"));
    CHECK(targetMatches("/ws?", "/ws"));
    CHECK_FALSE(targetMatches("/ws/", "/ws"));
    CHECK_FALSE(targetMatches("/wss", "/ws"));
    CHECK_FALSE(targetMatches("/", "/ws"));
    CHECK_FALSE(targetMatches("", "/ws"));
    CHECK(targetMatches("/", "/"));
}
