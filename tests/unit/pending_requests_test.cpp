#include <finch/detail/session/pending_requests.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace {
struct FakeTimer {
    int expiry = 0;
};
using Callback = std::function<int()>;
using Pending = finch::detail::PendingRequests<Callback, FakeTimer>;
}  // namespace

TEST_CASE("pending requests: ids count from 1 and each entry is taken once")
{
    Pending pending;
    Callback first = [] { return 1; };
    Callback second = [] { return 2; };
    const auto a = pending.add(first);
    const auto b = pending.add(second);
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK_FALSE(first);  // taken
    CHECK(pending.size() == 2);

    CHECK(pending.setTimer(b, std::make_shared<FakeTimer>(FakeTimer{5})));
    auto entry = pending.take(b);
    REQUIRE(entry);
    CHECK(entry->callback() == 2);
    REQUIRE(entry->timer);
    CHECK(entry->timer->expiry == 5);
    CHECK_FALSE(pending.take(b));
    CHECK_FALSE(pending.setTimer(b, std::make_shared<FakeTimer>()));
    CHECK_FALSE(pending.take(99));
    CHECK(pending.size() == 1);
}

TEST_CASE("pending requests: close hands back what is pending and refuses new requests")
{
    Pending pending;
    Callback one = [] { return 1; };
    pending.add(one);
    const auto entries = pending.close();
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].callback() == 1);
    Callback late = [] { return 3; };
    CHECK(pending.add(late) == 0);
    CHECK(late);  // left with the caller, who must complete it
    CHECK(pending.close().empty());
}

TEST_CASE("pending requests: an entry taken from several threads at once goes to exactly one")
{
    constexpr int requestCount = 500;
    Pending pending;
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < requestCount; ++i) {
        Callback callback = [] { return 0; };
        ids.push_back(pending.add(callback));
    }
    std::atomic<int> taken{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (const auto id : ids)
                if (pending.take(id))
                    ++taken;
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(taken == requestCount);
    CHECK(pending.size() == 0);
}
