#include <finch/detail/cluster/node_table.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using finch::detail::NodeReport;
using finch::detail::NodeTable;

namespace {
NodeReport reportOf(std::size_t clients, std::vector<std::string> users, std::unordered_map<std::string, std::size_t> rooms)
{
    NodeReport report;
    report.clients = clients;
    report.users = std::move(users);
    report.rooms = std::move(rooms);
    return report;
}
}  // namespace

TEST_CASE("node table: sums the other nodes' last reports, a user once however many nodes report it")
{
    NodeTable table;
    const auto now = NodeTable::Clock::now();
    table.update("b", reportOf(2, {"ann", "bob"}, {{"r", 2}}), now);
    table.update("c", reportOf(1, {"ann"}, {{"r", 1}, {"s", 1}}), now);
    CHECK(table.clients() == 3);
    CHECK(table.room("r") == 3);
    CHECK(table.room("s") == 1);
    CHECK(table.room("t") == 0);
    CHECK(table.usersBeside([](const std::string&) { return false; }) == 2);
    CHECK(table.usersBeside([](const std::string& user) { return user == "ann"; }) == 1);

    // A newer report replaces the node's last one.
    table.update("b", reportOf(1, {"bob"}, {}), now);
    CHECK(table.clients() == 2);
    CHECK(table.room("r") == 1);
    CHECK(table.usersBeside([](const std::string&) { return false; }) == 2);

    CHECK(table.contains("c"));
    CHECK(table.remove("c"));
    CHECK_FALSE(table.remove("c"));
    CHECK_FALSE(table.contains("c"));
    CHECK(table.clients() == 1);
    CHECK(table.room("r") == 0);
    CHECK(table.room("s") == 0);
    CHECK(table.rooms().empty());
    CHECK(table.usersBeside([](const std::string&) { return false; }) == 1);
}

TEST_CASE("node table: a node not heard of since the deadline is forgotten")
{
    NodeTable table;
    const auto then = NodeTable::Clock::now();
    table.update("old", reportOf(5, {"x"}, {{"r", 5}}), then);
    table.update("new", reportOf(1, {}, {}), then + std::chrono::seconds(10));
    CHECK(table.expire(then + std::chrono::seconds(5)) == 1);
    CHECK(table.nodes() == std::vector<std::string>{"new"});
    CHECK(table.clients() == 1);
    CHECK(table.room("r") == 0);
    CHECK(table.usersBeside([](const std::string&) { return false; }) == 0);
}
