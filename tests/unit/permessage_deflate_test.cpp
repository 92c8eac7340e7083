#include <finch/permessage_deflate.hpp>

#include <catch2/catch.hpp>

#include "support/doc_tables.hpp"

#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

// finch::permessageDeflate(): the codec it makes keeps the settings it was
// given, by default those docs/compression.md states (the table, the struct
// and this test name the same settings), and it refuses settings out of
// their ranges when it is called, not at the first message.

namespace {

std::vector<finch::test::DocumentedDefault<finch::PerMessageDeflate>> documentedDeflateSettings()
{
    using finch::PerMessageDeflate;
    return {
        {"threshold", "1024", [](const PerMessageDeflate& s) { return s.threshold == 1024; }},
        {"level", "6", [](const PerMessageDeflate& s) { return s.level == 6; }},
        {"memLevel", "8", [](const PerMessageDeflate& s) { return s.memLevel == 8; }},
        {"serverMaxWindowBits", "15", [](const PerMessageDeflate& s) { return s.serverMaxWindowBits == 15; }},
        {"clientContextTakeover", "`false`", [](const PerMessageDeflate& s) { return !s.clientContextTakeover; }},
    };
}

const std::string deflateSettingsHeading =
    "Settings (`finch::PerMessageDeflate`, given to `permessageDeflate(settings)`):";

}  // namespace

TEST_CASE("permessageDeflate(): by default, the settings docs/compression.md states", "[permessage_deflate]")
{
    const auto codec = finch::permessageDeflate();
    REQUIRE(codec != nullptr);
    finch::test::checkDocumentedDefaults(codec->settings(), documentedDeflateSettings(), "docs/compression.md",
        deflateSettingsHeading, "include/finch/compression.hpp", "struct PerMessageDeflate {");
}

TEST_CASE("permessageDeflate(): the codec keeps the settings it was given", "[permessage_deflate]")
{
    finch::PerMessageDeflate settings;
    settings.threshold = 0;
    settings.level = 1;
    settings.memLevel = 9;
    settings.serverMaxWindowBits = 10;
    settings.clientContextTakeover = true;
    const auto codec = finch::permessageDeflate(settings);
    CHECK(codec->settings().threshold == 0);
    CHECK(codec->settings().level == 1);
    CHECK(codec->settings().memLevel == 9);
    CHECK(codec->settings().serverMaxWindowBits == 10);
    CHECK(codec->settings().clientContextTakeover);
}

TEST_CASE("settings out of range are refused when the codec is made", "[permessage_deflate]")
{
    const auto refused = [](auto change) {
        finch::PerMessageDeflate settings;
        change(settings);
        try {
            finch::permessageDeflate(settings);
        } catch (const std::invalid_argument&) {
            return true;
        }
        return false;
    };
    CHECK(refused([](finch::PerMessageDeflate& s) { s.level = 0; }));
    CHECK(refused([](finch::PerMessageDeflate& s) { s.level = 10; }));
    CHECK(refused([](finch::PerMessageDeflate& s) { s.memLevel = 0; }));
    CHECK(refused([](finch::PerMessageDeflate& s) { s.memLevel = 10; }));
    CHECK(refused([](finch::PerMessageDeflate& s) { s.serverMaxWindowBits = 8; }));
    CHECK(refused([](finch::PerMessageDeflate& s) { s.serverMaxWindowBits = 16; }));
    // The ends of each range are settings like any other.
    CHECK_FALSE(refused([](finch::PerMessageDeflate& s) { s.level = 1; }));
    CHECK_FALSE(refused([](finch::PerMessageDeflate& s) { s.level = 9; }));
    CHECK_FALSE(refused([](finch::PerMessageDeflate& s) { s.memLevel = 1; }));
    CHECK_FALSE(refused([](finch::PerMessageDeflate& s) { s.memLevel = 9; }));
    CHECK_FALSE(refused([](finch::PerMessageDeflate& s) { s.serverMaxWindowBits = 9; }));
    CHECK_FALSE(refused([](finch::PerMessageDeflate& s) { s.serverMaxWindowBits = 15; }));
}
