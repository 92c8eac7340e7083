#include <finch/detail/cluster/node_report.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using finch::detail::NodeReport;

TEST_CASE("node report: counts, users and rooms survive the round trip")
{
    NodeReport report;
    report.clients = 3;
    report.users = {"ann", "b\xc3\xa9"};
    report.rooms = {{"lobby", 2}, {"r:1", 1}};
    const auto parsed = finch::detail::parseNodeReport(finch::detail::encodeNodeReport(report));
    REQUIRE(parsed);
    CHECK(parsed->clients == 3);
    auto users = parsed->users;
    std::sort(users.begin(), users.end());
    CHECK(users == report.users);
    CHECK(parsed->rooms == report.rooms);
}

TEST_CASE("node report: a user id that is not UTF-8 is sent, replaced, not thrown on")
{
    NodeReport report;
    report.users = {"\xff"};
    const auto parsed = finch::detail::parseNodeReport(finch::detail::encodeNodeReport(report));
    REQUIRE(parsed);
    CHECK(parsed->users.size() == 1);
}

TEST_CASE("node report: what is not a report is nothing")
{
    for (const char* text : {"", "[]", "{}", R"({"clients":-1,"users":[],"rooms":{}})",
             R"({"clients":1,"users":[1],"rooms":{}})", R"({"clients":1,"users":[],"rooms":{"r":"x"}})",
             R"({"clients":1,"users":{},"rooms":{}})", "{\"clients\":1"}) {
        INFO(text);
        CHECK_FALSE(finch::detail::parseNodeReport(text));
    }
}
