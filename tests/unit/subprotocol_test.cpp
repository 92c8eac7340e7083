#include <finch/subprotocol.hpp>

#include <finch/detail/websocket/handshake.hpp>
#include <finch/upgrade.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// What a client offers in Sec-WebSocket-Protocol (RFC 6455 4.1), the pick
// among them, the 101 that names it, and an upgrade decision's choice.

namespace http = boost::beast::http;
using Names = std::vector<std::string>;

namespace {

finch::Request requestOffering(const Names& fields)
{
    finch::Request request{http::verb::get, "/ws", 11};
    for (const auto& value : fields)
        request.insert(http::field::sec_websocket_protocol, value);
    return request;
}

}  // namespace

TEST_CASE("offeredSubprotocols: every field, split on commas, trimmed, in the client's order", "[unit][subprotocol]")
{
    CHECK(finch::offeredSubprotocols(requestOffering({})).empty());
    CHECK(finch::offeredSubprotocols(requestOffering({"chat"})) == Names{"chat"});
    CHECK(finch::offeredSubprotocols(requestOffering({"x, b,a"})) == Names{"x", "b", "a"});
    // Several fields keep their order; odd spacing, tabs and empty elements
    // (RFC 7230 7: "#rule" lists may have them) are ignored.
    CHECK(finch::offeredSubprotocols(requestOffering({" \tfinch.cbor ,, finch.json\t", ",", "chat.v2 ,"})) ==
        Names{"finch.cbor", "finch.json", "chat.v2"});
    CHECK(finch::offeredSubprotocols(requestOffering({"", "  "})).empty());
    // Case is kept: names compare case-sensitively.
    CHECK(finch::offeredSubprotocols(requestOffering({"Chat, chat"})) == Names{"Chat", "chat"});
}

TEST_CASE("the manager's pick is the first offered subprotocol it speaks", "[unit][subprotocol]")
{
    using finch::detail::firstSpoken;
    CHECK(firstSpoken({"x", "b", "a"}, {"a", "b"}) == "b");
    CHECK(firstSpoken({"a", "b"}, {"b", "a"}) == "a");
    CHECK(firstSpoken({"x", "y"}, {"a"}).empty());
    CHECK(firstSpoken({}, {"a"}).empty());
    CHECK(firstSpoken({"A"}, {"a"}).empty());
    CHECK(finch::detail::subprotocolList({"x", "y"}) == "x, y");
    CHECK(finch::detail::subprotocolList({}) == "none");
}

TEST_CASE("the 101 names the chosen subprotocol, and only a chosen one", "[unit][subprotocol]")
{
    finch::Request request = requestOffering({"a, b"});
    request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    const std::string without = finch::detail::switchingProtocolsResponse(request);
    CHECK(without.find("Sec-WebSocket-Protocol") == std::string::npos);
    CHECK(without.substr(without.size() - 4) == "\r\n\r\n");
    const std::string with = finch::detail::switchingProtocolsResponse(request, "b");
    CHECK(with.find("\r\nSec-WebSocket-Protocol: b\r\n\r\n") != std::string::npos);
    CHECK(with.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
}

TEST_CASE("an upgrade decision's subprotocol: none by default, chosen on an accept only", "[unit][subprotocol]")
{
    CHECK_FALSE(finch::UpgradeDecision::accept().subprotocol());
    const auto chosen = finch::UpgradeDecision::accept("ann").withSubprotocol("chat.v2");
    REQUIRE(chosen.subprotocol());
    CHECK(*chosen.subprotocol() == "chat.v2");
    CHECK(chosen.userId() == "ann");

    auto none = finch::UpgradeDecision::accept();
    none.withSubprotocol("");
    REQUIRE(none.subprotocol());
    CHECK(none.subprotocol()->empty());

    const auto refused = finch::UpgradeDecision::refuse(http::status::forbidden).withSubprotocol("chat.v2");
    CHECK_FALSE(refused.subprotocol());
}
