#include <finch/detail/json/json_reader.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../support/json_shape.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

// The JSON reader of incoming messages: every kind of value, escapes, numbers
// at the edges of their types, each failure with its offset, the nesting
// limit, and agreement with nlohmann::json::parse on inputs picked to trip a
// parser up.

using finch::detail::JsonReadFailure;
using finch::detail::readJson;
using finch::test::sameTypes;
using nlohmann::json;

namespace {

constexpr std::size_t depthLimit = 128;

json read(std::string_view text, std::size_t maxDepth = depthLimit)
{
    json value;
    JsonReadFailure failure;
    INFO("text: " << text);
    const bool accepted = readJson(text, value, maxDepth, failure);
    INFO("failure: " << failure.reason << " at " << failure.offset);
    REQUIRE(accepted);
    return value;
}

JsonReadFailure refusal(std::string_view text, std::size_t maxDepth = depthLimit)
{
    json value;
    JsonReadFailure failure;
    INFO("text: " << text);
    REQUIRE_FALSE(readJson(text, value, maxDepth, failure));
    CHECK_FALSE(failure.reason.empty());
    return failure;
}

void checkRefused(std::string_view text, std::size_t offset, std::string_view reason)
{
    const JsonReadFailure failure = refusal(text);
    INFO("text: " << text);
    CHECK(failure.offset == offset);
    CHECK(failure.reason == reason);
    CHECK_FALSE(failure.tooDeep);
}

void checkSame(const json& ours, const json& theirs)
{
    CHECK(ours == theirs);
    CHECK(ours.dump() == theirs.dump());
    CHECK(sameTypes(ours, theirs));
}

// What readJson makes of `text` must be what nlohmann::json::parse makes of it.
void checkAgreesWithNlohmann(std::string_view text)
{
    INFO("text: " << text);
    const json theirs = json::parse(text.begin(), text.end(), nullptr, false);
    json ours;
    JsonReadFailure failure;
    const bool accepted = readJson(text, ours, depthLimit, failure);
    INFO("failure: " << failure.reason << " at " << failure.offset);
    REQUIRE(accepted == !theirs.is_discarded());
    if (accepted)
        checkSame(ours, theirs);
}

std::string nested(std::size_t depth, const std::string& inside = "")
{
    return std::string(depth, '[') + inside + std::string(depth, ']');
}

}  // namespace

TEST_CASE("readJson reads every kind of value", "[jsonReader]")
{
    CHECK(read("null").is_null());
    CHECK(read("true") == true);
    CHECK(read("false") == false);
    CHECK(read("\"text\"") == "text");
    CHECK(read("\"\"") == "");
    CHECK(read("0").is_number_unsigned());
    CHECK(read("[]") == json::array());
    CHECK(read("{}") == json::object());

    const json message = read(R"({"path":"chat","id":17,"data":{"text":"hi","n":[1,2.5,-3,true,null]}})");
    checkSame(message, json::parse(R"({"path":"chat","id":17,"data":{"text":"hi","n":[1,2.5,-3,true,null]}})"));
    CHECK(message["id"].is_number_unsigned());
    CHECK(message["data"]["n"][1].is_number_float());
    CHECK(message["data"]["n"][2].is_number_integer());

    const std::string data(64, 'x');
    CHECK(read(R"({"path":"echo","data":")" + data + "\"}")["data"] == data);
}

TEST_CASE("readJson allows whitespace around values and a leading byte order mark", "[jsonReader]")
{
    CHECK(read(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" :\n null } \n") == json::parse(R"({"a":[1,2],"b":null})"));
    CHECK(read("\xEF\xBB\xBF{\"a\":1}") == json{{"a", 1}});
    checkRefused(" \xEF\xBB\xBFnull", 1, "expected a value");
    checkRefused("\xEF\xBBnull", 0, "expected a value");
}

TEST_CASE("readJson decodes escapes and keeps UTF-8 as it is", "[jsonReader]")
{
    CHECK(read(R"("\"\\\/\b\f\n\r\t")") == "\"\\/\b\f\n\r\t");
    CHECK(read(R"("\u0041\u00e9\u20AC")") == "A\xC3\xA9\xE2\x82\xAC");
    CHECK(read(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");
    CHECK(read(R"("\uDBFF\uDFFF")") == "\xF4\x8F\xBF\xBF");
    CHECK(read(R"("a\u0000b")") == std::string("a\0b", 3));
    CHECK(read("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"") == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    // Long enough for the eight-byte scan, with the special bytes at each position.
    for (std::size_t at = 0; at < 20; ++at) {
        std::string text(20, 'a');
        text.insert(at, "\\n\xC3\xA9");
        CHECK(read("\"" + text + "\"") == json::parse("\"" + text + "\""));
    }
}

TEST_CASE("readJson gives numbers nlohmann's types and values", "[jsonReader]")
{
    const json max = read("18446744073709551615");
    CHECK(max.is_number_unsigned());
    CHECK(max.get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());

    const json overMax = read("18446744073709551616");
    CHECK(overMax.is_number_float());
    CHECK(overMax.get<double>() == 18446744073709551616.0);

    const json min = read("-9223372036854775808");
    CHECK(min.is_number_integer());
    CHECK(min.get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());

    const json underMin = read("-9223372036854775809");
    CHECK(underMin.is_number_float());
    CHECK(underMin.get<double>() == -9223372036854775808.0);

    const json minusZero = read("-0");
    CHECK(minusZero.is_number_integer());
    CHECK(minusZero.get<std::int64_t>() == 0);

    const json minusZeroFloat = read("-0.0");
    CHECK(minusZeroFloat.is_number_float());
    CHECK(std::signbit(minusZeroFloat.get<double>()));

    CHECK(read("1E5").is_number_float());
    CHECK(read("1E5").get<double>() == 100000.0);
    CHECK(read("0.1").get<double>() == 0.1);
    CHECK(read("-1.5e-3").get<double>() == -1.5e-3);
    CHECK(read("1e+2").get<double>() == 100.0);
    CHECK(read("4.9e-324").get<double>() == std::numeric_limits<double>::denorm_min());
    CHECK(read("12345678901234567890123").get<double>() == 12345678901234567890123.0);

    // Too small for a double: zero of the right sign, as strtod gives.
    const json tiny = read("1e-400");
    CHECK(tiny.is_number_float());
    CHECK(tiny.get<double>() == 0.0);
    CHECK_FALSE(std::signbit(tiny.get<double>()));
    CHECK(std::signbit(read("-1e-400").get<double>()));
    CHECK(read("0.00000000000000000001e-310").get<double>() == 0.0);
    CHECK(read("0e999999999999999999999").get<double>() == 0.0);

    // Too big: nlohmann refuses the infinity that strtod gives.
    checkRefused("1e400", 0, "number out of range");
    checkRefused("[-1e400]", 1, "number out of range");
    checkRefused(std::string(400, '9'), 0, "number out of range");
    checkRefused("1e999999999999999999999", 0, "number out of range");

    for (const char* text : {"18446744073709551615", "18446744073709551616", "-9223372036854775808",
             "-9223372036854775809", "-0", "-0.0", "1E5", "1e-400", "-1e-400", "0.1", "-1.5e-3", "99999999999999999999",
             "10000000000000000000", "9223372036854775807", "-9223372036854775807", "1.7976931348623157e308",
             "2.2250738585072011e-308", "2.4703282292062328e-324", "0.000001e-320", "123456789e-5"})
        checkAgreesWithNlohmann(text);
}

TEST_CASE("readJson keeps the last of duplicate keys", "[jsonReader]")
{
    const json value = read(R"({"a":1,"b":2,"a":{"c":[3]},"a":"last"})");
    CHECK(value.size() == 2);
    CHECK(value["a"] == "last");
    checkAgreesWithNlohmann(R"({"a":1,"b":2,"a":{"c":[3]},"a":"last"})");
    checkAgreesWithNlohmann(R"({"a":[1,2],"a":{"x":1},"a":null})");
}

TEST_CASE("readJson says where and why it refuses", "[jsonReader]")
{
    checkRefused("", 0, "unexpected end of input");
    checkRefused(" \n", 2, "unexpected end of input");
    checkRefused("{\"a\":1", 6, "unexpected end of input");
    checkRefused("\"abc", 4, "unexpected end of input");
    checkRefused("x", 0, "expected a value");
    checkRefused("[1,]", 3, "expected a value");
    checkRefused("{\"a\" 1}", 5, "expected ':' after an object key");
    checkRefused("{1:2}", 1, "expected a string as an object key");
    checkRefused("{\"a\":1,}", 7, "expected a string as an object key");
    checkRefused("{\"a\":1 \"b\":2}", 7, "expected ',' or '}' after an object member");
    checkRefused("[1 2]", 3, "expected ',' or ']' after an array element");
    checkRefused("\"a\\x\"", 2, "invalid escape");
    checkRefused("\"\\u12\"", 1, "invalid \\u escape");
    checkRefused("\"\\ud800\"", 1, "lone surrogate in a \\u escape");
    checkRefused("\"\\udc00\"", 1, "lone surrogate in a \\u escape");
    checkRefused("\"\\ud800\\u0041\"", 1, "lone surrogate in a \\u escape");
    checkRefused("\"ab\xC3\x28\"", 3, "invalid UTF-8 in a string");
    checkRefused("\"a\tb\"", 2, "control character in a string");
    checkRefused(std::string("\"a\0b\"", 5), 2, "control character in a string");
    checkRefused("-", 1, "unexpected end of input");
    checkRefused("-x", 1, "invalid number");
    checkRefused("1.x", 2, "invalid number");
    checkRefused("1e+", 3, "unexpected end of input");
    checkRefused("tru", 3, "unexpected end of input");
    checkRefused("trUe", 2, "invalid literal");
    checkRefused("nul", 3, "unexpected end of input");
    checkRefused("01", 1, "trailing characters after the value");
    checkRefused("{} {}", 3, "trailing characters after the value");
    checkRefused("truex", 4, "trailing characters after the value");
    // nlohmann takes a NUL outside a string for the end of the input and
    // accepts this; the reader does not.
    checkRefused(std::string("{\"a\":1}\0junk", 12), 7, "trailing characters after the value");
}

TEST_CASE("readJson clears a failure's tooDeep when reused", "[jsonReader]")
{
    json value;
    JsonReadFailure failure;
    REQUIRE_FALSE(readJson("[[]]", value, 1, failure));
    CHECK(failure.tooDeep);
    REQUIRE_FALSE(readJson("[", value, 1, failure));
    CHECK_FALSE(failure.tooDeep);
    CHECK(failure.reason == "unexpected end of input");
}

TEST_CASE("readJson enforces the nesting limit", "[jsonReader]")
{
    CHECK(read(nested(depthLimit, "1")) == json::parse(nested(depthLimit, "1")));
    CHECK(read(R"({"a":)" + nested(depthLimit - 1) + "}").is_object());

    const JsonReadFailure over = refusal(nested(depthLimit + 1));
    CHECK(over.tooDeep);
    CHECK(over.offset == depthLimit);
    CHECK(over.reason == "nested too deeply");

    const JsonReadFailure overInObject = refusal(R"({"a":)" + nested(depthLimit) + "}");
    CHECK(overInObject.tooDeep);
    CHECK(overInObject.offset == 5 + depthLimit - 1);

    CHECK(read("1", 0) == 1);
    CHECK(refusal("[]", 0).tooDeep);
    CHECK(refusal("{}", 0).tooDeep);
    CHECK(read("[[]]", 2).is_array());
    CHECK(refusal("[[]]", 1).tooDeep);

    // An error before the limit is reached is that error, not tooDeep.
    const JsonReadFailure first = refusal("[x" + nested(depthLimit + 1));
    CHECK_FALSE(first.tooDeep);
    CHECK(first.offset == 1);

    // Far deeper than any stack would take by recursion.
    const std::string deep(100000, '[');
    CHECK(refusal(deep).tooDeep);
    CHECK(refusal(R"({"path":"echo","data":[1,{"a":")" + deep + "\"}," + deep).tooDeep);
    CHECK(refusal(R"({"path":"echo","data":[1,{"a":)" + deep).offset == 30 + depthLimit - 3);
}

TEST_CASE("readJson accepts exactly what nlohmann accepts, and builds the same value", "[jsonReader]")
{
    // Grouped by theme, several to a line.
    // clang-format off
    const char* const texts[] = {
        // numbers
        "01", "-01", "1.", ".5", "+1", "- 1", "1.e5", "1e", "1e+", "1E-2", "1.5E+10", "-", "--1", "0x10", "1_000",
        "Infinity", "NaN", "-0", "0.0e0", "1e0001", "[1.0,1,-1,1e0]",
        // literals
        "tru", "nul", "fals", "True", "NULL", "nulls", "[true,false,null]",
        // structure
        "[1,]", "{\"a\":1,}", "{,}", "[,]", "[,1]", "{\"a\" 1}", "{1:2}", "{\"a\":}", "{\"a\"}", "{\"a\":1 \"b\":2}",
        "[1 2]", "[", "]", "{", "}", "[[[]]", "[]]", "{}}", "[]{}", "{\"a\":1}}", "",
        " ", "{\"\":\"\"}", "{\"a\":{\"b\":{\"c\":[]}}}",
        // strings and escapes
        "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\U0041\"", "\"\\u00e9\\u00E9\"", "\"\\ud83d\\ude00\"",
        "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\ud83d\\n\"", "\"\\ud83d\\ud83d\"", "\"\\ude00\"", "\"\\u0000\"", "\"abc",
        "\"abc\\", "\"abc\\\"", "\"a\\\"b\"", "\"\\/\"", "'single'", "\"tab\there\"", "\"\x7f\"",
        // UTF-8
        "\"\xC3\xA9\"", "\"\xC0\x80\"", "\"\xC1\xBF\"", "\"\xE0\x80\x80\"", "\"\xE0\xA0\x80\"", "\"\xED\xA0\x80\"",
        "\"\xED\x9F\xBF\"", "\"\xEE\x80\x80\"", "\"\xF0\x80\x80\x80\"", "\"\xF0\x90\x80\x80\"", "\"\xF4\x8F\xBF\xBF\"",
        "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "\"\xFF\"", "\"\x80\"", "\"\xC3\"", "\"\xC3", "\"\xE2\x82\"",
        "\"\xE2\x82", "\"\xF0\x9F\x98\"", "\"\xF0\x9F\x98", "\"\xC3\xA9\xC3\"", "\xC3\xA9",
        // whitespace and what surrounds the value
        "\xEF\xBB\xBF[1]", "\xEF\xBB\xBF", "\xEF\xBB[1]", "[1]\xEF\xBB\xBF", "\f1", "\v1", "1 x", "1 2", "\"a\" \"b\"",
        "{\"path\":\"echo\",\"data\":\"hello\"}",
    };
    // clang-format on
    for (const char* text : texts)
        checkAgreesWithNlohmann(text);
    checkAgreesWithNlohmann(std::string("\"a\0b\"", 5));
    checkAgreesWithNlohmann(std::string("\0", 1));
    checkAgreesWithNlohmann(std::string("[\0]", 3));
}
