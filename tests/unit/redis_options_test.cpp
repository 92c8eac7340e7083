#include <finch/redis_options.hpp>

#include <catch2/catch.hpp>

#include "support/doc_tables.hpp"

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

// finch::RedisOptions: every default is the one the RedisOptions table of
// docs/cluster.md states (what a single Redis on the same host, with no
// password, needs), and the table, the struct and this test name the same
// settings. A row of the table may name several settings ("`host`, `port`").

namespace {

struct DocumentedRedisSettings {
    std::string names;        // the table's first cell, without backquotes
    std::string docsDefault;  // its "default" cell, as written
    std::function<bool(const finch::RedisOptions&)> isDefault;
};

std::vector<DocumentedRedisSettings> documentedRedisSettings()
{
    using namespace std::chrono_literals;
    using finch::RedisOptions;
    return {
        {"host, port", "`127.0.0.1`, 6379",
            [](const RedisOptions& o) { return o.host == "127.0.0.1" && o.port == 6379; }},
        {"username, password", "empty",
            [](const RedisOptions& o) { return o.username.empty() && o.password.empty(); }},
        {"database", "0", [](const RedisOptions& o) { return o.database == 0; }},
        {"connectTimeout", "2 s", [](const RedisOptions& o) { return o.connectTimeout == 2s; }},
        {"reconnectDelay, maxReconnectDelay", "100 ms, 5 s",
            [](const RedisOptions& o) { return o.reconnectDelay == 100ms && o.maxReconnectDelay == 5s; }},
        {"stopTimeout", "2 s", [](const RedisOptions& o) { return o.stopTimeout == 2s; }},
        {"outagePolicy", "`keep`", [](const RedisOptions& o) { return o.outagePolicy == finch::RedisOutagePolicy::keep; }},
        {"maxBufferedBytes", "4 MiB", [](const RedisOptions& o) { return o.maxBufferedBytes == 4 * 1024 * 1024; }},
        {"subscribeBatch", "512", [](const RedisOptions& o) { return o.subscribeBatch == 512; }},
    };
}

// "a, b" -> {"a", "b"}
std::set<std::string> redisSettingNames(const std::string& cell)
{
    std::set<std::string> names;
    std::size_t start = 0;
    while (start <= cell.size()) {
        const auto comma = cell.find(',', start);
        names.insert(finch::test::trimmed(cell.substr(start, comma - start)));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return names;
}

}  // namespace

TEST_CASE("RedisOptions: every default is the one docs/cluster.md states", "[redis_options]")
{
    const auto docs = finch::test::markdownTable("docs/cluster.md", "### RedisOptions");
    const finch::RedisOptions options;
    for (const auto& settings : documentedRedisSettings()) {
        INFO(settings.names);
        CHECK(settings.isDefault(options));
        REQUIRE(docs.count(settings.names) == 1);
        CHECK(docs.at(settings.names) == settings.docsDefault);
    }
}

TEST_CASE("RedisOptions: docs/cluster.md's table, the struct and this test name the same settings", "[redis_options]")
{
    std::set<std::string> tested;
    for (const auto& settings : documentedRedisSettings())
        for (const auto& name : redisSettingNames(settings.names))
            tested.insert(name);
    std::set<std::string> documented;
    for (const auto& row : finch::test::markdownTable("docs/cluster.md", "### RedisOptions"))
        for (const auto& name : redisSettingNames(row.first))
            documented.insert(name);
    const auto declared = finch::test::structMembers("include/finch/redis_options.hpp", "struct RedisOptions {");
    CHECK(declared == documented);
    CHECK(declared == tested);
}
