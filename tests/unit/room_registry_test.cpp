#include <finch/detail/manager/room_registry.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {
struct FakeConnection {
    std::string id_;
    const std::string& id() const { return id_; }
};

std::vector<std::string> sorted(std::vector<std::string> names)
{
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> visitRoom(const finch::detail::RoomRegistry<FakeConnection>& rooms, std::string_view room)
{
    std::vector<std::string> ids;
    rooms.forEachIn(room, [&](FakeConnection& c) { ids.push_back(c.id()); });
    return sorted(ids);
}
}  // namespace

TEST_CASE("room registry: members per room, once each")
{
    finch::detail::RoomRegistry<FakeConnection> rooms;
    FakeConnection a{"a"}, b{"b"}, c{"c"};
    CHECK(rooms.add("general", a));
    CHECK(rooms.add("general", b));
    CHECK_FALSE(rooms.add("general", a));
    CHECK(rooms.add("staff", a));
    CHECK(rooms.add("random", c));

    CHECK(rooms.count("general") == 2);
    CHECK(rooms.count("staff") == 1);
    CHECK(rooms.count("nowhere") == 0);
    CHECK(visitRoom(rooms, "general") == std::vector<std::string>{"a", "b"});
    CHECK(visitRoom(rooms, "nowhere").empty());
    CHECK(sorted(rooms.ids("general")) == std::vector<std::string>{"a", "b"});
    CHECK(rooms.ids("nowhere").empty());
    CHECK(sorted(rooms.names()) == std::vector<std::string>{"general", "random", "staff"});
}

TEST_CASE("room registry: a room disappears with its last member")
{
    finch::detail::RoomRegistry<FakeConnection> rooms;
    FakeConnection a{"a"}, b{"b"};
    rooms.add("general", a);
    rooms.add("general", b);
    CHECK(rooms.remove("general", a));
    CHECK_FALSE(rooms.remove("general", a));
    CHECK_FALSE(rooms.remove("nowhere", a));
    CHECK(rooms.names() == std::vector<std::string>{"general"});
    CHECK(rooms.remove("general", b));
    CHECK(rooms.names().empty());
    CHECK(rooms.count("general") == 0);
}

TEST_CASE("room registry stays consistent under concurrent joins, leaves and broadcasts")
{
    finch::detail::RoomRegistry<FakeConnection> rooms;
    constexpr int threadCount = 4;
    constexpr int rounds = 2000;
    std::vector<FakeConnection> connections(threadCount);
    for (int i = 0; i < threadCount; ++i)
        connections[i].id_ = std::to_string(i);
    std::vector<std::thread> threads;
    for (int i = 0; i < threadCount; ++i)
        threads.emplace_back([&, i] {
            for (int round = 0; round < rounds; ++round) {
                const std::string room = "room" + std::to_string(round % 3);
                rooms.add(room, connections[i]);
                std::size_t seen = 0;
                rooms.forEachIn(room, [&](FakeConnection&) { ++seen; });
                rooms.count(room);
                rooms.remove(room, connections[i]);
            }
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(rooms.names().empty());
}

TEST_CASE("room registry: the watcher hears of each room's first member and last leave, and of the rooms already there")
{
    finch::detail::RoomRegistry<FakeConnection> rooms;
    FakeConnection a{"a"}, b{"b"};
    rooms.add("early", a);
    std::vector<std::pair<std::string, bool>> seen;
    rooms.watch([&](const std::string& room, bool exists) { seen.emplace_back(room, exists); });
    CHECK(seen == std::vector<std::pair<std::string, bool>>{{"early", true}});
    rooms.add("r", a);
    rooms.add("r", b);
    rooms.add("r", b);
    rooms.remove("r", a);
    rooms.remove("r", a);
    CHECK(seen.size() == 2);
    rooms.remove("r", b);
    rooms.remove("early", a);
    CHECK(seen == std::vector<std::pair<std::string, bool>>{{"early", true}, {"r", true}, {"r", false}, {"early", false}});
    rooms.add("s", a);
    rooms.add("s", b);
    CHECK(rooms.counts() == std::unordered_map<std::string, std::size_t>{{"s", 2}});
}
