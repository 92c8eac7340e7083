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

std::vector<finch::test::DocumentedDefault<finch::RedisOptions>> documentedRedisSettings()
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

}  // namespace

TEST_CASE("RedisOptions: every default is the one docs/cluster.md states, whose table names every setting",
    "[redis_options]")
{
    finch::test::checkDocumentedDefaults(finch::RedisOptions{}, documentedRedisSettings(), "docs/cluster.md",
        "### RedisOptions", "include/finch/redis_options.hpp", "struct RedisOptions {");
}
