#include <finch/detail/cluster/cluster_message.hpp>

#include <catch2/catch.hpp>

#include <string>

using finch::detail::ClusterKind;
using finch::detail::decodeClusterMessage;
using finch::detail::encodeClusterMessage;

TEST_CASE("cluster message: a text head, then the payload's bytes as they are")
{
    const std::string payload("{\"path\":\"x\"}\n\0\xff", 15);
    const std::string bytes = encodeClusterMessage(ClusterKind::client, "0000000a", "0000000b1234", payload);
    CHECK(bytes.substr(0, bytes.find('\n')) == "finch1 client 0000000a 0000000b1234");
    const auto message = decodeClusterMessage(bytes);
    REQUIRE(message);
    CHECK(message->kind == ClusterKind::client);
    CHECK(message->origin == "0000000a");
    CHECK(message->target == "0000000b1234");
    CHECK(message->payload == payload);
}

TEST_CASE("cluster message: every kind survives the round trip, an empty target is '-'")
{
    for (const ClusterKind kind : {ClusterKind::all, ClusterKind::room, ClusterKind::user, ClusterKind::client,
             ClusterKind::close, ClusterKind::report, ClusterKind::leave, ClusterKind::query, ClusterKind::answer}) {
        const std::string bytes = encodeClusterMessage(kind, "00000001", {}, "");
        INFO(bytes);
        const auto message = decodeClusterMessage(bytes);
        REQUIRE(message);
        CHECK(message->kind == kind);
        CHECK(message->target.empty());
        CHECK(message->payload.empty());
    }
    CHECK(encodeClusterMessage(ClusterKind::all, "00000001", {}, "p") == "finch1 all 00000001 -\np");
}

TEST_CASE("cluster message: what is not a message of this version is nothing")
{
    for (const char* bytes : {"", "finch1 all 00000001 -", "finch2 all 00000001 -\n", "finch1 shout 00000001 -\n",
             "finch1 all 00000001\n", "finch1 all  00000001 -\n", "finch1 all 00000001 - extra\n",
             "finch1 all 00000001 -  \n", " finch1 all 00000001 -\n", "{\"path\":\"x\"}"}) {
        INFO(bytes);
        CHECK_FALSE(decodeClusterMessage(bytes));
    }
}
