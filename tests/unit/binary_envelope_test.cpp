#include <finch/envelope.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// MessagePack and CBOR envelopes: the bounded decoder (invalid, truncated,
// too deep), the shared envelope rules, binary data without base64, and the
// encoder's map, read back by nlohmann's readers.

using finch::Encoding;
using nlohmann::json;

namespace {

std::string encodedAs(Encoding encoding, const json& value)
{
    const std::vector<std::uint8_t> bytes = encoding == Encoding::cbor ? json::to_cbor(value) : json::to_msgpack(value);
    return std::string(bytes.begin(), bytes.end());
}

finch::DecodedMessage decodedAs(Encoding encoding, const std::string& bytes)
{
    return finch::decodeEnvelope(finch::EnvelopeFormat(), encoding, bytes);
}

// `levels` arrays, one inside the other, each of one element; the innermost empty.
std::string deepArrays(Encoding encoding, std::size_t levels)
{
    // fixarray of 1 (MessagePack 0x91, CBOR 0x81), then an empty one.
    const char one = encoding == Encoding::cbor ? '\x81' : '\x91';
    const char empty = encoding == Encoding::cbor ? '\x80' : '\x90';
    return std::string(levels, one) + empty;
}

std::string readBack(Encoding encoding, const std::string& bytes)
{
    return (encoding == Encoding::cbor ? json::from_cbor(bytes) : json::from_msgpack(bytes)).dump();
}

}  // namespace

TEST_CASE("the subprotocol names of the encodings", "[encoding]")
{
    CHECK(finch::subprotocolOf(Encoding::json) == "finch.json");
    CHECK(finch::subprotocolOf(Encoding::msgpack) == "finch.msgpack");
    CHECK(finch::subprotocolOf(Encoding::cbor) == "finch.cbor");
    CHECK(finch::encodingOf("finch.cbor") == Encoding::cbor);
    CHECK(finch::encodingOf("finch.msgpack") == Encoding::msgpack);
    CHECK(finch::encodingOf("finch.json") == Encoding::json);
    CHECK_FALSE(finch::encodingOf("Finch.cbor"));
    CHECK_FALSE(finch::encodingOf(""));
}

TEST_CASE("a binary envelope decodes to the message a JSON one gives", "[encoding]")
{
    const json message = {{"path", "echo"}, {"id", 7}, {"data", {{"n", 1}, {"list", {1, "two", nullptr}}}}};
    for (const Encoding encoding : {Encoding::msgpack, Encoding::cbor}) {
        const auto decoded = decodedAs(encoding, encodedAs(encoding, message));
        REQUIRE_FALSE(decoded.error);
        CHECK(decoded.message == message);
        CHECK(decoded.path() == "echo");
        CHECK(decoded.id == 7);
    }
}

TEST_CASE("binary data passes through MessagePack and CBOR as bytes", "[encoding]")
{
    const json::binary_t blob(std::vector<std::uint8_t>{0, 1, 2, 0xFF, 0x80});
    const json message = {{"path", "blob"}, {"data", blob}};
    for (const Encoding encoding : {Encoding::msgpack, Encoding::cbor}) {
        const auto decoded = decodedAs(encoding, encodedAs(encoding, message));
        REQUIRE_FALSE(decoded.error);
        REQUIRE(decoded.message["data"].is_binary());
        CHECK(decoded.message["data"].get_binary() == blob);
    }
}

TEST_CASE("CBOR tags are skipped: a tagged byte string is bytes", "[encoding]")
{
    // {"path": "t", "data": 64([1, 2])}: cbor-x tags a Uint8Array with 64.
    const std::string bytes("\xA2\x64"
                            "path\x61"
                            "t\x64"
                            "data\xD8\x40\x42\x01\x02",
        18);
    const auto decoded = decodedAs(Encoding::cbor, bytes);
    REQUIRE_FALSE(decoded.error);
    REQUIRE(decoded.message["data"].is_binary());
    CHECK(decoded.message["data"].get_binary() == json::binary_t(std::vector<std::uint8_t>{1, 2}));
}

TEST_CASE("the envelope rules apply to binary messages", "[encoding]")
{
    for (const Encoding encoding : {Encoding::msgpack, Encoding::cbor}) {
        CHECK(decodedAs(encoding, encodedAs(encoding, json::array({1, 2}))).error == finch::ErrorCode::notAnObject);
        CHECK(decodedAs(encoding, encodedAs(encoding, {{"data", 1}})).error == finch::ErrorCode::invalidPath);
        CHECK(decodedAs(encoding, encodedAs(encoding, {{"path", 1}})).error == finch::ErrorCode::invalidPath);
        CHECK(
            decodedAs(encoding, encodedAs(encoding, {{"path", "p"}, {"id", true}})).error == finch::ErrorCode::invalidId);
        const auto answer = decodedAs(encoding, encodedAs(encoding, {{"replyTo", 3}, {"data", "ok"}}));
        REQUIRE_FALSE(answer.error);
        CHECK(answer.replyTo == 3u);
    }
}

TEST_CASE("invalid, truncated and trailing binary input is invalidJson", "[encoding]")
{
    for (const Encoding encoding : {Encoding::msgpack, Encoding::cbor}) {
        const std::string whole = encodedAs(encoding, {{"path", "echo"}, {"data", "some text"}});
        for (std::size_t length = 0; length < whole.size(); ++length) {
            const auto truncated = decodedAs(encoding, whole.substr(0, length));
            CHECK(truncated.error == finch::ErrorCode::invalidJson);
            CHECK(truncated.message.is_null());
        }
        CHECK(decodedAs(encoding, whole + '\x01').error == finch::ErrorCode::invalidJson);
        // 0xC1 is never used in MessagePack; 0xFF is a CBOR "break" out of place.
        const auto invalid = decodedAs(encoding, std::string(1, encoding == Encoding::cbor ? '\xFF' : '\xC1'));
        CHECK(invalid.error == finch::ErrorCode::invalidJson);
        CHECK_THAT(invalid.detail, Catch::Contains(encoding == Encoding::cbor ? "CBOR" : "MessagePack"));
    }
    // A map whose key is a number, and one that declares 2^32-1 members.
    CHECK(decodedAs(Encoding::msgpack, std::string("\x81\x01\x02", 3)).error == finch::ErrorCode::invalidJson);
    CHECK(decodedAs(Encoding::cbor, std::string("\xA1\x01\x02", 3)).error == finch::ErrorCode::invalidJson);
    CHECK(decodedAs(Encoding::msgpack, std::string("\xDF\xFF\xFF\xFF\xFF", 5)).error == finch::ErrorCode::invalidJson);
    CHECK(decodedAs(Encoding::cbor, std::string("\xBB\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 9)).error ==
        finch::ErrorCode::invalidJson);
}

TEST_CASE("binary nesting is bounded before the value is built", "[encoding]")
{
    for (const Encoding encoding : {Encoding::msgpack, Encoding::cbor}) {
        // The limit itself passes (the envelope counts as one level).
        json inner = json::array();
        for (std::size_t level = 2; level < finch::maxMessageDepth; ++level)
            inner = json::array({inner});
        const auto atLimit = decodedAs(encoding, encodedAs(encoding, {{"path", "p"}, {"data", inner}}));
        CHECK_FALSE(atLimit.error);

        const auto past = decodedAs(encoding, encodedAs(encoding, {{"path", "p"}, {"data", json::array({inner})}}));
        CHECK(past.error == finch::ErrorCode::invalidJson);
        CHECK_THAT(past.detail, Catch::Contains("deeper"));

        // Far too deep for the stack if it recursed all the way.
        const auto deep = decodedAs(encoding, deepArrays(encoding, 100000));
        CHECK(deep.error == finch::ErrorCode::invalidJson);
        CHECK_THAT(deep.detail, Catch::Contains("deeper"));
    }
}

TEST_CASE("the binary encoder writes the envelope's members in order", "[encoding]")
{
    const json::binary_t blob(std::vector<std::uint8_t>{9, 8, 7});
    const std::string longPath(300, 'p');
    for (const Encoding encoding : {Encoding::msgpack, Encoding::cbor}) {
        std::string bytes;
        finch::detail::appendBinaryEnvelope(bytes, encoding, finch::EnvelopeFormat(), "chat", 200, 1700000000123,
            json{{"blob", blob}}, json("r1"), finch::detail::IdMembers::reply, "c0ffee");
        const json back = encoding == Encoding::cbor ? json::from_cbor(bytes) : json::from_msgpack(bytes);
        CHECK(back ==
            json{{"client", "c0ffee"}, {"path", "chat"}, {"status", 200}, {"timestamp", 1700000000123}, {"id", "r1"},
                {"replyTo", "r1"}, {"data", {{"blob", blob}}}});

        std::string plain;
        finch::detail::appendBinaryEnvelope(
            plain, encoding, finch::EnvelopeFormat::typeAndPayload(), longPath, 404, 1, "x");
        CHECK(readBack(encoding, plain) == json{{"type", longPath}, {"payload", "x"}}.dump());

        std::string request;
        finch::detail::appendBinaryEnvelope(request, encoding, finch::EnvelopeFormat(), std::string(70000, 'q'), 200, 2,
            nullptr, json(5), finch::detail::IdMembers::request);
        const json asked = encoding == Encoding::cbor ? json::from_cbor(request) : json::from_msgpack(request);
        CHECK(asked["path"].get<std::string>().size() == 70000);
        CHECK(asked["id"] == 5);
        CHECK_FALSE(asked.contains("replyTo"));
    }
}
