#include <finch/envelope.hpp>

#include <catch2/catch.hpp>

#include <string>

// The members that pair requests and answers: "id" on a request (either
// way), "replyTo" on an answer.

using nlohmann::json;

TEST_CASE("encodeEnvelope with an id puts it before the data, and a null id leaves it out")
{
    CHECK(finch::encodeEnvelope("ping", 200, 5, json{{"x", 1}}, 42) ==
        R"({"path":"ping","status":200,"timestamp":5,"id":42,"data":{"x":1}})");
    CHECK(finch::encodeEnvelope("ping", 200, 5, 1, nullptr) == finch::encodeEnvelope("ping", 200, 5, 1));
}

TEST_CASE("encodeReplyEnvelope carries the request's id as id and replyTo")
{
    CHECK(finch::encodeReplyEnvelope("sum", 200, 5, 3, 7) ==
        R"({"path":"sum","status":200,"timestamp":5,"id":7,"replyTo":7,"data":3})");
    CHECK(finch::encodeReplyEnvelope("sum", 200, 5, 3, "a\"b") ==
        R"({"path":"sum","status":200,"timestamp":5,"id":"a\"b","replyTo":"a\"b","data":3})");
    CHECK(finch::encodeReplyEnvelope("sum", 201, 5, 3, nullptr) == finch::encodeEnvelope("sum", 201, 5, 3));

    // With the recipient's id in front, as for every envelope.
    const auto addressed = json::parse(finch::withClientId(finch::encodeReplyEnvelope("p", 200, 1, 2, 3), "abc"));
    CHECK(addressed ==
        json{{"client", "abc"}, {"path", "p"}, {"status", 200}, {"timestamp", 1}, {"id", 3}, {"replyTo", 3},
            {"data", 2}});
}

TEST_CASE("an id that is not valid UTF-8 is repaired, not thrown on")
{
    std::string text;
    REQUIRE_NOTHROW(text = finch::encodeReplyEnvelope("p", 200, 1, 2, std::string("a\xff")));
    CHECK(json::parse(text)["id"] == "a\xef\xbf\xbd");
}

TEST_CASE("encodeErrorEnvelope answering a request carries its id")
{
    const auto parsed =
        json::parse(finch::encodeErrorEnvelope(finch::ErrorCode::forbidden, "no", 9, "admin", json("req-1")));
    CHECK(parsed["path"] == "error");
    CHECK(parsed["status"] == 403);
    CHECK(parsed["id"] == "req-1");
    CHECK(parsed["replyTo"] == "req-1");
    CHECK(parsed["data"] == json{{"message", "no"}, {"path", "admin"}});
    const auto withoutId = json::parse(finch::encodeErrorEnvelope(finch::ErrorCode::forbidden, "no", 9, "admin", nullptr));
    CHECK_FALSE(withoutId.contains("id"));
    CHECK_FALSE(withoutId.contains("replyTo"));
}

TEST_CASE("decodeEnvelope reads a string or numeric id")
{
    for (const char* text : {R"({"path":"p","id":7})", R"({"path":"p","id":"seven"})", R"({"path":"p","id":-1.5})"}) {
        INFO(text);
        const auto decoded = finch::decodeEnvelope(text);
        REQUIRE_FALSE(decoded.error);
        CHECK(decoded.id == json::parse(text)["id"]);
        CHECK(decoded.message["id"] == decoded.id);
        CHECK_FALSE(decoded.replyTo);
    }
    CHECK(finch::decodeEnvelope(R"({"path":"p"})").id.is_null());
}

TEST_CASE("decodeEnvelope refuses an id that is neither a string nor a number")
{
    for (const char* text : {R"({"path":"p","id":null})", R"({"path":"p","id":[1]})", R"({"path":"p","id":{}})",
             R"({"path":"p","id":true})"}) {
        INFO(text);
        const auto decoded = finch::decodeEnvelope(text);
        CHECK(decoded.error == finch::ErrorCode::invalidId);
        CHECK_FALSE(decoded.detail.empty());
        CHECK(decoded.message.is_null());
        CHECK(decoded.id.is_null());
    }
}

TEST_CASE("decodeEnvelope keeps the id of a message refused for its path")
{
    const auto decoded = finch::decodeEnvelope(R"({"id":"x","data":1})");
    CHECK(decoded.error == finch::ErrorCode::invalidPath);
    CHECK(decoded.id == "x");
}

TEST_CASE("decodeEnvelope reads a reply, with or without a path")
{
    const auto reply = finch::decodeEnvelope(R"({"replyTo":12,"data":{"ok":true}})");
    REQUIRE_FALSE(reply.error);
    REQUIRE(reply.replyTo);
    CHECK(*reply.replyTo == 12);
    CHECK(reply.message["data"]["ok"] == true);

    const auto withPath = finch::decodeEnvelope(R"({"replyTo":0,"path":7,"status":500})");
    REQUIRE_FALSE(withPath.error);
    CHECK(withPath.replyTo == std::optional<std::uint64_t>(0));
    CHECK(withPath.message["status"] == 500);
}

TEST_CASE("decodeEnvelope refuses a replyTo that is not a non-negative integer")
{
    for (const char* text : {R"({"replyTo":-1})", R"({"replyTo":1.5})", R"({"replyTo":"1"})", R"({"replyTo":null})"}) {
        INFO(text);
        const auto decoded = finch::decodeEnvelope(text);
        CHECK(decoded.error == finch::ErrorCode::invalidId);
        CHECK_FALSE(decoded.replyTo);
    }
}
