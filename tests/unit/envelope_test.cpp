#include <finch/envelope.hpp>

#include <catch2/catch.hpp>

using nlohmann::json;

TEST_CASE("encodeEnvelope writes path, status, timestamp and data")
{
    const auto text = finch::encodeEnvelope("time", 200, 1700000000123, json{{"now", "12:00"}});
    CHECK(text == R"({"path":"time","status":200,"timestamp":1700000000123,"data":{"now":"12:00"}})");
    const auto parsed = json::parse(text);
    CHECK(parsed["data"]["now"] == "12:00");
}

TEST_CASE("encodeEnvelope writes an empty path and null data")
{
    CHECK(finch::encodeEnvelope("", 204, 0, nullptr) == R"({"path":"","status":204,"timestamp":0,"data":null})");
}

TEST_CASE("encodeEnvelope escapes paths that need it")
{
    const std::string path = "say \"hi\"\\\n\x01 caf\xc3\xa9";
    const auto parsed = json::parse(finch::encodeEnvelope(path, 200, 1, 1));
    CHECK(parsed["path"] == path);
}

TEST_CASE("encodeEnvelope replaces invalid UTF-8 instead of throwing")
{
    const std::string broken = "a\xff"
                               "b";
    std::string text;
    REQUIRE_NOTHROW(text = finch::encodeEnvelope(broken, 200, 1, json(broken)));
    const auto parsed = json::parse(text);
    CHECK(parsed["path"] ==
        "a\xef\xbf\xbd"
        "b");
    CHECK(parsed["data"] ==
        "a\xef\xbf\xbd"
        "b");
}

TEST_CASE("withClientId puts the recipient's id first and keeps the rest")
{
    const auto base = finch::encodeEnvelope("p", 200, 5, json::array({1, 2}));
    const auto text = finch::withClientId(base, "abc123");
    CHECK(text == R"({"client":"abc123","path":"p","status":200,"timestamp":5,"data":[1,2]})");
}

TEST_CASE("encodeErrorEnvelope uses the error's status and the request path")
{
    const auto parsed = json::parse(finch::encodeErrorEnvelope(finch::error::unknown_path, "no route", 9, "nope"));
    CHECK(parsed["path"] == "error");
    CHECK(parsed["status"] == 404);
    CHECK(parsed["timestamp"] == 9);
    CHECK(parsed["data"]["message"] == "no route");
    CHECK(parsed["data"]["path"] == "nope");

    const auto withoutPath = json::parse(finch::encodeErrorEnvelope(finch::error::invalid_json, "bad", 9));
    CHECK(withoutPath["status"] == 400);
    CHECK_FALSE(withoutPath["data"].contains("path"));
}

TEST_CASE("nowMilliseconds counts milliseconds since the epoch")
{
    using namespace std::chrono;
    const auto before = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    const auto now = finch::nowMilliseconds();
    const auto after = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    CHECK(before <= now);
    CHECK(now <= after);
}

TEST_CASE("decodeEnvelope accepts an object with a string path")
{
    const auto decoded = finch::decodeEnvelope(R"({"path":"time","data":{"x":1}})");
    REQUIRE_FALSE(decoded.error);
    CHECK(decoded.path() == "time");
    CHECK(decoded.message["data"]["x"] == 1);
    CHECK(decoded.detail.empty());
}

TEST_CASE("decodeEnvelope accepts a message without data and keeps extra members")
{
    const auto decoded = finch::decodeEnvelope(R"({"path":"","id":7})");
    REQUIRE_FALSE(decoded.error);
    CHECK(decoded.path().empty());
    CHECK(decoded.message["id"] == 7);
}

TEST_CASE("decodeEnvelope reports each kind of bad input")
{
    struct Case {
        const char* text;
        finch::error expected;
    };
    const Case cases[] = {
        {"", finch::error::invalid_json},
        {"not json", finch::error::invalid_json},
        {R"({"path":"x")", finch::error::invalid_json},
        {"{\"path\":\"\xff\"}", finch::error::invalid_json},
        {"[1,2]", finch::error::not_an_object},
        {"42", finch::error::not_an_object},
        {R"("path")", finch::error::not_an_object},
        {"null", finch::error::not_an_object},
        {"{}", finch::error::invalid_path},
        {R"({"data":1})", finch::error::invalid_path},
        {R"({"path":1})", finch::error::invalid_path},
        {R"({"path":null})", finch::error::invalid_path},
        {R"({"path":["a"]})", finch::error::invalid_path},
    };
    for (const auto& c : cases) {
        INFO("input: " << c.text);
        const auto decoded = finch::decodeEnvelope(c.text);
        CHECK(decoded.error == c.expected);
        CHECK_FALSE(decoded.detail.empty());
        CHECK(decoded.message.is_null());
    }
}

TEST_CASE("decodeEnvelope survives deeply nested input")
{
    const std::string deep = R"({"path":"p","data":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
    const auto decoded = finch::decodeEnvelope(deep);
    CHECK_FALSE(decoded.error);
}
