#include <finch/detail/websocket/sha1.hpp>

#include <finch/detail/websocket/handshake.hpp>

#include <catch2/catch.hpp>

// SHA-1, which the handshake's accept key needs, against FIPS 180's examples.

using namespace finch::detail;

TEST_CASE("SHA-1 of FIPS 180's examples", "[unit][websocket]")
{
    const auto abc = sha1("abc");
    CHECK(base64Encode(abc.data(), abc.size()) == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    const auto twoBlocks = sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    CHECK(base64Encode(twoBlocks.data(), twoBlocks.size()) == "hJg+RBw70m66rkqh+VEp5eVGcPE=");
}
