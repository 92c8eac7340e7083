#include <finch/detail/redis/backoff.hpp>

#include <catch2/catch.hpp>

using finch::detail::redis::Backoff;
using std::chrono::milliseconds;

TEST_CASE("reconnection waits double up to the cap, each drawn between half the step and the whole")
{
    Backoff backoff(milliseconds(100), milliseconds(1000));
    const long long steps[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (const long long step : steps) {
        const auto wait = backoff.next().count();
        CHECK(wait >= step / 2);
        CHECK(wait <= step);
    }
    backoff.reset();
    const auto wait = backoff.next().count();
    CHECK(wait >= 50);
    CHECK(wait <= 100);
}

TEST_CASE("a cap below the first wait, or a zero first wait, still gives waits")
{
    Backoff low(milliseconds(500), milliseconds(100));
    for (int i = 0; i < 5; ++i) {
        const auto wait = low.next().count();
        CHECK(wait >= 250);
        CHECK(wait <= 500);
    }
    Backoff zero(milliseconds(0), milliseconds(0));
    CHECK(zero.next().count() <= 1);
}
