#include <finch/detail/websocket/handshake.hpp>

#include <catch2/catch.hpp>

#include <cstdint>

// The opening handshake's accept key (RFC 6455 4.2.2) and the check of the
// client's key (RFC 6455 4.1).

using namespace finch::detail;

TEST_CASE("the handshake's accept key and key validation", "[unit][websocket]")
{
    // The example of RFC 6455 1.3.
    CHECK(secWebSocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(base64Encode(reinterpret_cast<const std::uint8_t*>("ab"), 2) == "YWI=");
    CHECK(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZQ=="));
    CHECK_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZQ"));
    CHECK_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZ!=="));
}
