#include <finch/detail/manager/route_table.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {
struct FakeEvent {
    std::string name;
};
}  // namespace

TEST_CASE("route table finds routes by path, with no allocation for the key")
{
    finch::detail::RouteTable<FakeEvent> table;
    CHECK(table.find("time") == nullptr);
    table.set("time", {"time-event"});
    table.set("clients", {"clients-event"});
    CHECK(table.size() == 2);
    const std::string_view key = "time";
    REQUIRE(table.find(key) != nullptr);
    CHECK(table.find(key)->name == "time-event");
    CHECK(table.find("Time") == nullptr);
    CHECK(table.find("") == nullptr);
}

TEST_CASE("replacing a route keeps the old event alive for whoever holds it")
{
    finch::detail::RouteTable<FakeEvent> table;
    table.set("x", {"first"});
    const auto held = table.find("x");
    table.set("x", {"second"});
    CHECK(held->name == "first");
    CHECK(table.find("x")->name == "second");
    CHECK(table.size() == 1);
}

TEST_CASE("route table takes additions while other threads look up")
{
    finch::detail::RouteTable<FakeEvent> table;
    table.set("stable", {"stable"});
    // Catch2's assertions are not thread-safe: the readers count, the test checks.
    std::atomic<int> misses{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r)
        readers.emplace_back([&table, &misses] {
            for (int i = 0; i < 2000; ++i)
                if (table.find("stable") == nullptr)
                    ++misses;
        });
    for (int i = 0; i < 500; ++i)
        table.set("route" + std::to_string(i), {"r"});
    for (auto& reader : readers)
        reader.join();
    CHECK(misses == 0);
    CHECK(table.size() == 501);
}
