#include <finch/envelope.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

using nlohmann::json;

namespace {

std::string repeat(const std::string& text, std::size_t times)
{
    std::string out;
    for (std::size_t i = 0; i < times; ++i)
        out += text;
    return out;
}

// An envelope whose data is `arrays` nested arrays: it nests `arrays + 1` levels.
std::string nestedEnvelope(std::size_t arrays)
{
    return R"({"path":"p","data":)" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
}

}  // namespace

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
    const auto parsed = json::parse(finch::encodeErrorEnvelope(finch::ErrorCode::unknownPath, "no route", 9, "nope"));
    CHECK(parsed["path"] == "error");
    CHECK(parsed["status"] == 404);
    CHECK(parsed["timestamp"] == 9);
    CHECK(parsed["data"]["message"] == "no route");
    CHECK(parsed["data"]["path"] == "nope");

    const auto withoutPath = json::parse(finch::encodeErrorEnvelope(finch::ErrorCode::invalidJson, "bad", 9));
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
        finch::ErrorCode expected;
    };
    const Case cases[] = {
        {"", finch::ErrorCode::invalidJson},
        {"not json", finch::ErrorCode::invalidJson},
        {R"({"path":"x")", finch::ErrorCode::invalidJson},
        {"{\"path\":\"\xff\"}", finch::ErrorCode::invalidJson},
        {"[1,2]", finch::ErrorCode::notAnObject},
        {"42", finch::ErrorCode::notAnObject},
        {R"("path")", finch::ErrorCode::notAnObject},
        {"null", finch::ErrorCode::notAnObject},
        {"{}", finch::ErrorCode::invalidPath},
        {R"({"data":1})", finch::ErrorCode::invalidPath},
        {R"({"path":1})", finch::ErrorCode::invalidPath},
        {R"({"path":null})", finch::ErrorCode::invalidPath},
        {R"({"path":["a"]})", finch::ErrorCode::invalidPath},
    };
    for (const auto& c : cases) {
        INFO("input: " << c.text);
        const auto decoded = finch::decodeEnvelope(c.text);
        CHECK(decoded.error == c.expected);
        CHECK_FALSE(decoded.detail.empty());
        CHECK(decoded.message.is_null());
    }
}

TEST_CASE("decodeEnvelope accepts nesting up to maxMessageDepth, the envelope included")
{
    const auto decoded = finch::decodeEnvelope(nestedEnvelope(finch::maxMessageDepth - 1));
    REQUIRE_FALSE(decoded.error);
    // What a handler that echoes the data does with it.
    CHECK(json::parse(finch::encodeEnvelope("p", 200, 1, decoded.message["data"]))["data"] == decoded.message["data"]);
}

TEST_CASE("decodeEnvelope refuses deeper nesting before parsing, however deep")
{
    // 100000 levels fit in the default maxMessageSize; serializing them would
    // overflow the stack.
    for (const std::size_t arrays : {finch::maxMessageDepth, std::size_t{100000}}) {
        INFO("arrays: " << arrays);
        const auto decoded = finch::decodeEnvelope(nestedEnvelope(arrays));
        CHECK(decoded.error == finch::ErrorCode::invalidJson);
        CHECK(decoded.detail == "the message nests deeper than " + std::to_string(finch::maxMessageDepth) + " levels");
        CHECK(decoded.message.is_null());
    }
    const auto objects =
        finch::decodeEnvelope(R"({"path":"p","data":)" + repeat(R"({"a":)", 200) + "0" + std::string(200, '}') + "}");
    CHECK(objects.error == finch::ErrorCode::invalidJson);
}

TEST_CASE("decodeEnvelope does not count brackets inside strings as nesting")
{
    // In JSON: [{\"\\ (brackets, an escaped quote, an escaped backslash).
    const std::string brackets = repeat(R"([{\"\\)", 300);
    const auto decoded = finch::decodeEnvelope(R"({"path":"p","data":[")" + brackets + R"("]})");
    REQUIRE_FALSE(decoded.error);
    CHECK(decoded.message["data"][0] == repeat("[{\"\\", 300));
}

// The envelope's data is written by nlohmann's internal serializer
// (nlohmann::detail::serializer, impl/envelope.hpp), kept per thread for
// speed. It is not nlohmann's public API: this test is what tells us when a
// new nlohmann/json changes it, by failing to compile or by writing other
// text than the public dump() for the same values.
TEST_CASE("the data's writer, nlohmann's internal serializer, writes what dump() writes")
{
    const json values[] = {
        nullptr,
        true,
        0,
        -17,
        18446744073709551615u,
        3.141592653589793,
        1e300,
        -0.0,
        "plain",
        "quote \" backslash \\ newline \n tab \t control \x01",
        "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa6",
        json::array({1, "two", json::array(), json::object()}),
        json{{"b", 1}, {"a", json{{"nested", json::array({nullptr, false})}}}},
        json::binary({1, 2, 3}),
    };
    for (const json& value : values) {
        INFO(value.dump());
        std::string written;
        finch::detail::appendJson(written, value);
        CHECK(written == value.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    // Invalid UTF-8 is replaced, as dump() with error_handler_t::replace does.
    const json invalid = std::string("bad \xff byte");
    std::string written = "kept ";
    finch::detail::appendJson(written, invalid);
    CHECK(written == "kept " + invalid.dump(-1, ' ', false, json::error_handler_t::replace));
}
