#include <finch/options.hpp>

#include <catch2/catch.hpp>

#include "support/doc_tables.hpp"

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

// finch::Options: every default is the one the README's Options table
// states, and the table, the struct and this test name the same options, so
// that a default changed in one place only, or an option added without its
// row, fails here.

namespace {

std::vector<finch::test::DocumentedDefault<finch::Options>> documentedOptions()
{
    using namespace std::chrono_literals;
    using finch::Options;
    return {
        {"includeClientId", "`false`", [](const Options& o) { return !o.includeClientId; }},
        {"envelope", "`EnvelopeFormat::finch()`",
            [](const Options& o) {
                const auto standard = finch::EnvelopeFormat::finch();
                return o.envelope.pathMember() == standard.pathMember() &&
                       o.envelope.dataMember() == standard.dataMember() &&
                       o.envelope.statusMember() == standard.statusMember() &&
                       o.envelope.timestampMember() == standard.timestampMember();
            }},
        {"encodings", "`{Encoding::json}`",
            [](const Options& o) { return o.encodings == std::vector<finch::Encoding>{finch::Encoding::json}; }},
        {"rawMessages", "`false`", [](const Options& o) { return !o.rawMessages; }},
        {"maxMessageSize", "1 MiB", [](const Options& o) { return o.maxMessageSize == 1024 * 1024; }},
        {"maxIncomingBytes", "256 MiB", [](const Options& o) { return o.maxIncomingBytes == 256 * 1024 * 1024; }},
        {"maxHeaderBytes", "8 KiB", [](const Options& o) { return o.maxHeaderBytes == 8 * 1024; }},
        {"handshakeTimeout", "10 s", [](const Options& o) { return o.handshakeTimeout == 10s; }},
        {"pingInterval", "30 s", [](const Options& o) { return o.pingInterval == 30s; }},
        {"maxConnections", "0 (no limit)", [](const Options& o) { return o.maxConnections == 0; }},
        {"maxQueuedBytes", "4 MiB", [](const Options& o) { return o.maxQueuedBytes == 4 * 1024 * 1024; }},
        {"overflowPolicy", "`OverflowPolicy::closeConnection`",
            [](const Options& o) { return o.overflowPolicy == finch::OverflowPolicy::closeConnection; }},
        {"allowedOrigins", "empty (any)", [](const Options& o) { return o.allowedOrigins.empty(); }},
        {"subprotocols", "empty", [](const Options& o) { return o.subprotocols.empty(); }},
        {"subprotocolMismatch", "`SubprotocolMismatch::refuse`",
            [](const Options& o) { return o.subprotocolMismatch == finch::SubprotocolMismatch::refuse; }},
        {"closeTimeout", "5 s", [](const Options& o) { return o.closeTimeout == 5s; }},
        {"heartbeatPath", "`\"$ping\"`", [](const Options& o) { return o.heartbeatPath == "$ping"; }},
        {"compression", "null (off)", [](const Options& o) { return o.compression == nullptr; }},
    };
}

}  // namespace

TEST_CASE("Options: every default is the one the README's table states, which names every option", "[options]")
{
    finch::test::checkDocumentedDefaults(finch::Options{}, documentedOptions(), "README.md", "### `Options`",
        "include/finch/options.hpp", "struct Options {");
}
