#include <finch/detail/manager/registry.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {
struct FakeConnection {
    std::string id_;
    std::string user_;
    const std::string& id() const { return id_; }
    const std::string& userId() const { return user_; }
};

template <class Registry>
std::vector<std::string> visitUser(const Registry& registry, std::string_view user)
{
    std::vector<std::string> ids;
    registry.forEachOfUser(user, [&](FakeConnection& c) { ids.push_back(c.id()); });
    std::sort(ids.begin(), ids.end());
    return ids;
}
}  // namespace

TEST_CASE("registry counts clients and distinct non-empty users")
{
    finch::detail::Registry<FakeConnection> registry;
    FakeConnection a{"a", "alice"}, b{"b", "alice"}, c{"c", "bob"}, d{"d", ""};
    for (auto* connection : {&a, &b, &c, &d})
        REQUIRE(registry.add(*connection));
    CHECK(registry.countClients() == 4);
    CHECK(registry.countUsers() == 2);
    CHECK(visitUser(registry, "alice") == std::vector<std::string>{"a", "b"});
    CHECK(visitUser(registry, "bob") == std::vector<std::string>{"c"});
    CHECK(visitUser(registry, "").empty());

    auto ids = registry.ids();
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("registry forgets users whose last connection left")
{
    finch::detail::Registry<FakeConnection> registry;
    FakeConnection a{"a", "alice"}, b{"b", "alice"};
    registry.add(a);
    registry.add(b);
    registry.remove(a);
    CHECK(registry.countUsers() == 1);
    CHECK(visitUser(registry, "alice") == std::vector<std::string>{"b"});
    registry.remove(b);
    CHECK(registry.countUsers() == 0);
    CHECK(registry.countClients() == 0);
    registry.remove(b);  // twice is harmless
    CHECK(registry.countClients() == 0);
}

TEST_CASE("registry finds one client by id")
{
    finch::detail::Registry<FakeConnection> registry;
    FakeConnection a{"a", ""};
    registry.add(a);
    FakeConnection* found = nullptr;
    CHECK(registry.visitClient("a", [&](FakeConnection& c) { found = &c; }));
    CHECK(found == &a);
    CHECK_FALSE(registry.visitClient("zz", [&](FakeConnection&) { FAIL("visited an absent client"); }));
}

TEST_CASE("a sealed registry admits nobody and visits who was there")
{
    finch::detail::Registry<FakeConnection> registry;
    FakeConnection a{"a", ""}, b{"b", ""};
    registry.add(a);
    std::vector<std::string> visited;
    registry.sealAndVisit([&](FakeConnection& c) { visited.push_back(c.id()); });
    CHECK(visited == std::vector<std::string>{"a"});
    CHECK_FALSE(registry.add(b));
    CHECK(registry.countClients() == 1);
}

TEST_CASE("registry stays consistent under concurrent adds, removes and reads")
{
    finch::detail::Registry<FakeConnection> registry;
    constexpr int perThread = 300;
    std::vector<std::vector<FakeConnection>> connections(3);
    for (int t = 0; t < 3; ++t)
        for (int i = 0; i < perThread; ++i)
            connections[t].push_back({std::to_string(t) + "-" + std::to_string(i), "user" + std::to_string(i % 7)});
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
        threads.emplace_back([&, t] {
            for (auto& c : connections[t])
                registry.add(c);
            for (auto& c : connections[t])
                registry.remove(c);
        });
    threads.emplace_back([&] {
        for (int i = 0; i < 300; ++i) {
            std::size_t visited = 0;
            registry.forEach([&](FakeConnection&) { ++visited; });
            (void)registry.countUsers();
            (void)registry.ids();
        }
    });
    for (auto& thread : threads)
        thread.join();
    CHECK(registry.countClients() == 0);
    CHECK(registry.countUsers() == 0);
}

TEST_CASE("registry tells its user watcher of each user's first and last connection, and of those already there")
{
    finch::detail::Registry<FakeConnection> registry;
    FakeConnection early{"e", "eve"}, a1{"a1", "ann"}, a2{"a2", "ann"}, anonymous{"x", ""};
    registry.add(early);
    std::vector<std::pair<std::string, bool>> seen;
    registry.watchUsers([&](const std::string& user, bool exists) { seen.emplace_back(user, exists); });
    CHECK(seen == std::vector<std::pair<std::string, bool>>{{"eve", true}});
    registry.add(a1);
    registry.add(a2);
    registry.add(anonymous);
    registry.remove(a1);
    CHECK(seen.size() == 2);
    registry.remove(a2);
    registry.remove(early);
    registry.remove(anonymous);
    CHECK(seen == std::vector<std::pair<std::string, bool>>{{"eve", true}, {"ann", true}, {"ann", false}, {"eve", false}});
    CHECK(registry.userIds().empty());
    CHECK_FALSE(registry.hasUser("ann"));
}
