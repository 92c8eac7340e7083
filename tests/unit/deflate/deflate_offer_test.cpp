#include <finch/detail/deflate/deflate_offer.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

// permessage-deflate's negotiation (RFC 7692 5, 7.1): which offer finch
// accepts, what it answers, and the offers it must decline without failing
// the handshake (unknown or repeated parameters, values out of range, a
// server window of 8, a header that breaks the grammar).

using namespace finch::detail;

namespace {

DeflateAgreement negotiate(std::vector<std::string_view> values, const finch::PerMessageDeflate& settings = {})
{
    return negotiateDeflate(values, settings);
}

}  // namespace

TEST_CASE("no offer, or none of permessage-deflate, gets no extension")
{
    CHECK_FALSE(negotiate({}).accepted);
    CHECK_FALSE(negotiate({""}).accepted);
    CHECK_FALSE(negotiate({"x-webkit-deflate-frame"}).accepted);
    CHECK(negotiate({"x-webkit-deflate-frame"}).response.empty());
}

TEST_CASE("the plain offer is answered with no context takeover both ways")
{
    const auto agreement = negotiate({"permessage-deflate"});
    REQUIRE(agreement.accepted);
    CHECK(agreement.response == "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    CHECK(agreement.serverWindowBits == 15);
    CHECK_FALSE(agreement.clientTakeover);
}

TEST_CASE("a browser's offer: client_max_window_bits without a value is not answered")
{
    // Chromium, Firefox and Node's ws send this one; the response must not
    // name client_max_window_bits unless finch keeps the client's window.
    const auto agreement = negotiate({"permessage-deflate; client_max_window_bits"});
    REQUIRE(agreement.accepted);
    CHECK(agreement.response == "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST_CASE("server_max_window_bits is honoured and echoed")
{
    const auto agreement = negotiate({"permessage-deflate; server_max_window_bits=10"});
    REQUIRE(agreement.accepted);
    CHECK(agreement.serverWindowBits == 10);
    CHECK(agreement.response ==
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_no_context_takeover");
    // Quoted values are values (RFC 7692 7.1.2.1 allows a quoted-string).
    CHECK(negotiate({"permessage-deflate; server_max_window_bits=\"12\""}).serverWindowBits == 12);
}

TEST_CASE("the server's own limit caps its window, named only when the client asked")
{
    finch::PerMessageDeflate settings;
    settings.serverMaxWindowBits = 12;
    const auto plain = negotiate({"permessage-deflate"}, settings);
    CHECK(plain.serverWindowBits == 12);
    CHECK(plain.response == "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    const auto asked = negotiate({"permessage-deflate; server_max_window_bits=14"}, settings);
    CHECK(asked.serverWindowBits == 12);
    CHECK(asked.response.find("server_max_window_bits=12") != std::string::npos);
}

TEST_CASE("offers finch must decline are passed over for the next, never failing the handshake")
{
    const char* declined[] = {
        "permessage-deflate; server_max_window_bits=8",  // zlib cannot compress with 256 bytes
        "permessage-deflate; server_max_window_bits",  // a value is required
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; unknown_parameter",
    };
    for (const char* offer : declined) {
        INFO(offer);
        CHECK_FALSE(negotiate({offer}).accepted);
        // Followed by an acceptable one, in the same header or the next.
        const std::string list = std::string(offer) + ", permessage-deflate; server_max_window_bits=11";
        const auto same = negotiate({list});
        REQUIRE(same.accepted);
        CHECK(same.serverWindowBits == 11);
        CHECK(negotiate({offer, "permessage-deflate; server_max_window_bits=11"}).serverWindowBits == 11);
    }
}

TEST_CASE("several offers: the first acceptable one wins")
{
    const auto agreement = negotiate(
        {"permessage-deflate; server_max_window_bits=9; client_no_context_takeover, permessage-deflate"});
    REQUIRE(agreement.accepted);
    CHECK(agreement.serverWindowBits == 9);
}

TEST_CASE("names compare without regard to case, and spaces and empty elements are allowed")
{
    CHECK(negotiate({"Permessage-Deflate"}).accepted);
    CHECK(negotiate({" ,  permessage-deflate ;\tclient_max_window_bits , "}).accepted);
}

TEST_CASE("a header that breaks the grammar gets no extension")
{
    for (const char* text : {"permessage-deflate; =", "permessage-deflate;", "permessage-deflate x",
             "permessage-deflate; a=\"unterminated", "; permessage-deflate", "permessage-deflate; a=b=c"}) {
        INFO(text);
        CHECK_FALSE(negotiate({text}).accepted);
    }
}

TEST_CASE("parsed offers keep their parameters, quoted values unquoted")
{
    const auto offers = parseExtensionOffers("a; b=\"x\\\"y\"; c, d");
    REQUIRE(offers);
    REQUIRE(offers->size() == 2);
    CHECK((*offers)[0].name == "a");
    REQUIRE((*offers)[0].params.size() == 2);
    CHECK((*offers)[0].params[0].first == "b");
    CHECK((*offers)[0].params[0].second == std::string("x\"y"));
    CHECK_FALSE((*offers)[0].params[1].second);
    CHECK((*offers)[1].name == "d");
}

TEST_CASE("with clientContextTakeover, the client keeps its context at the smallest window it allows")
{
    finch::PerMessageDeflate settings;
    settings.clientContextTakeover = true;

    const auto browser = negotiate({"permessage-deflate; client_max_window_bits"}, settings);
    REQUIRE(browser.accepted);
    CHECK(browser.clientTakeover);
    CHECK(browser.clientWindowBits == 9);
    CHECK(browser.response == "permessage-deflate; server_no_context_takeover; client_max_window_bits=9");

    // Without client_max_window_bits the client uses 32 KiB, and the
    // response may not name the parameter (RFC 7692 7.1.2.2).
    const auto plain = negotiate({"permessage-deflate"}, settings);
    CHECK(plain.clientTakeover);
    CHECK(plain.clientWindowBits == 15);
    CHECK(plain.response == "permessage-deflate; server_no_context_takeover");

    // A client that resets its context anyway needs no window kept.
    const auto resets = negotiate({"permessage-deflate; client_no_context_takeover"}, settings);
    CHECK_FALSE(resets.clientTakeover);
    CHECK(resets.response == "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST_CASE("Safari 15.0 to 15.3, whose compression ignores client_no_context_takeover, are told apart")
{
    CHECK(hasBrokenContextReset(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.2 "
        "Safari/605.1.15"));
    CHECK(hasBrokenContextReset("Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 "
                                "(KHTML, like Gecko) Version/15.0 Mobile/15E148 Safari/604.1"));
    CHECK(hasBrokenContextReset("... Version/15.3.1 Safari/605.1.15"));
    // Fixed in 15.4; other versions and browsers are fine.
    CHECK_FALSE(hasBrokenContextReset("... Version/15.4 Safari/605.1.15"));
    CHECK_FALSE(hasBrokenContextReset("... Version/15.10 Safari/605.1.15"));
    CHECK_FALSE(hasBrokenContextReset("... Version/16.1 Safari/605.1.15"));
    CHECK_FALSE(hasBrokenContextReset(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"));
    CHECK_FALSE(hasBrokenContextReset("Python/3.11 websockets/10.4"));
    CHECK_FALSE(hasBrokenContextReset(""));
    CHECK_FALSE(hasBrokenContextReset("Version/15."));
}
