#include <finch/encoding.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Binary envelopes (Options::encodings): the subprotocol that picks the
// encoding, a request with binary data in MessagePack and CBOR, the error
// envelopes of bad binary input in the connection's encoding, text frames
// still read as JSON, and a broadcast to a mix of encodings.

using namespace finch::test;
using finch::Encoding;
using nlohmann::json;

namespace {

finch::Options speaksAllEncodings()
{
    finch::Options options;
    options.encodings = {Encoding::json, Encoding::msgpack, Encoding::cbor};
    return options;
}

TestClient::Headers offeringEncoding(Encoding encoding)
{
    return {{"Sec-WebSocket-Protocol", std::string(finch::subprotocolOf(encoding))}};
}

std::string encodeForServer(Encoding encoding, const json& message)
{
    if (encoding == Encoding::json)
        return message.dump();
    const auto bytes = encoding == Encoding::cbor ? json::to_cbor(message) : json::to_msgpack(message);
    return std::string(bytes.begin(), bytes.end());
}

void sendEncoded(TestClient& client, Encoding encoding, const json& message)
{
    if (encoding == Encoding::json)
        client.sendText(message.dump());
    else
        client.sendBinary(encodeForServer(encoding, message));
}

// The next message, which must come in a frame of `encoding`'s kind.
json receiveEncoded(TestClient& client, Encoding encoding)
{
    const std::string payload = client.receiveText();
    REQUIRE(client.stream().got_binary() == (encoding != Encoding::json));
    switch (encoding) {
    case Encoding::msgpack:
        return json::from_msgpack(payload);
    case Encoding::cbor:
        return json::from_cbor(payload);
    case Encoding::json:
        break;
    }
    return json::parse(payload);
}

const Encoding binaryEncodings[] = {Encoding::msgpack, Encoding::cbor};

}  // namespace

TEST_CASE("a client picks MessagePack or CBOR by subprotocol, and a request carries bytes", "[encoding]")
{
    TestServer server;
    finch::SocketManager::Routes routes;
    routes["echo"].onMessage = [](finch::Socket& socket, const json& message) {
        socket.reply(message, message["data"]);
    };
    routes["which"].onMessage = [](finch::Socket& socket, const json& message) {
        socket.reply(message, std::string(finch::subprotocolOf(socket.encoding())));
    };
    server.start({}, routes, speaksAllEncodings());

    const json::binary_t blob(std::vector<std::uint8_t>{0, 1, 2, 0x7F, 0x80, 0xFF});
    std::size_t index = 0;
    for (const Encoding encoding : binaryEncodings) {
        INFO(finch::subprotocolOf(encoding));
        TestClient client(server.port(), "/ws", offeringEncoding(encoding));
        CHECK(client.handshakeResponse()[http::field::sec_websocket_protocol] == finch::subprotocolOf(encoding));
        CHECK(server.waitConnection(index++).encoding() == encoding);

        sendEncoded(client, encoding, {{"path", "echo"}, {"id", 1}, {"data", {{"blob", blob}, {"n", 3}}}});
        const json answer = receiveEncoded(client, encoding);
        CHECK(answer["path"] == "echo");
        CHECK(answer["status"] == 200);
        CHECK(answer["id"] == 1);
        CHECK(answer["replyTo"] == 1);
        REQUIRE(answer["data"]["blob"].is_binary());
        CHECK(answer["data"]["blob"].get_binary() == blob);
        CHECK(answer["data"]["n"] == 3);

        // A text frame is still JSON; the answer comes in the connection's encoding.
        client.send({{"path", "which"}, {"id", "t"}});
        const json which = receiveEncoded(client, encoding);
        CHECK(which["data"] == finch::subprotocolOf(encoding));
        CHECK(which["replyTo"] == "t");

        // The heartbeat too.
        sendEncoded(client, encoding, {{"path", "$ping"}, {"id", 9}});
        const json pong = receiveEncoded(client, encoding);
        CHECK(pong["path"] == "$ping");
        CHECK(pong["replyTo"] == 9);
    }
}

TEST_CASE("bad binary input gets the 400 error envelope in the connection's encoding", "[encoding]")
{
    EventLog<finch::Error> errors;
    TestServer server;
    finch::SocketEvent root;
    root.onError = [&](finch::Socket&, const finch::Error& error) { errors.push(error); };
    finch::SocketManager::Routes routes;
    routes["echo"].onMessage = [](finch::Socket& socket, const json& message) { socket.reply(message, "ok"); };
    server.start(root, routes, speaksAllEncodings());

    for (const Encoding encoding : binaryEncodings) {
        INFO(finch::subprotocolOf(encoding));
        TestClient client(server.port(), "/ws", offeringEncoding(encoding));
        const std::string whole = encodeForServer(encoding, {{"path", "echo"}, {"data", "hello"}});
        std::string deep(100000, encoding == Encoding::cbor ? '\x81' : '\x91');
        deep += encoding == Encoding::cbor ? '\x80' : '\x90';
        const std::vector<std::string> bad = {
            whole.substr(0, whole.size() - 3),  // truncated
            std::string(1, encoding == Encoding::cbor ? '\xFF' : '\xC1'),  // invalid
            deep,  // too deep
        };
        for (const auto& bytes : bad) {
            client.sendBinary(bytes);
            const json answer = receiveEncoded(client, encoding);
            CHECK(answer["path"] == "error");
            CHECK(answer["status"] == 400);
            CHECK(answer["data"]["message"].is_string());
        }
        // A valid message that breaks the envelope rules: the same answers as in JSON.
        sendEncoded(client, encoding, {{"path", "nowhere"}, {"id", 4}});
        const json unknown = receiveEncoded(client, encoding);
        CHECK(unknown["status"] == 404);
        CHECK(unknown["replyTo"] == 4);
        sendEncoded(client, encoding, {{"data", 1}});
        CHECK(receiveEncoded(client, encoding)["status"] == 400);
        // And the connection still works.
        sendEncoded(client, encoding, {{"path", "echo"}, {"id", 5}});
        CHECK(receiveEncoded(client, encoding)["data"] == "ok");
    }
    CHECK(errors.waitFor([](const std::vector<finch::Error>& seen) {
        std::size_t invalid = 0;
        for (const auto& error : seen)
            invalid += error.code == finch::ErrorCode::invalidJson;
        return invalid == 6;
    }));
}

TEST_CASE("a broadcast reaches JSON, MessagePack and CBOR receivers with the same data", "[encoding]")
{
    TestServer server;
    auto& manager = server.start({}, {}, speaksAllEncodings());

    TestClient plain(server.port());  // offers nothing: JSON
    TestClient asJson(server.port(), "/ws", offeringEncoding(Encoding::json));
    TestClient asMsgpack(server.port(), "/ws", offeringEncoding(Encoding::msgpack));
    TestClient asCbor(server.port(), "/ws", offeringEncoding(Encoding::cbor));
    server.waitConnection(3);
    CHECK(plain.handshakeResponse()[http::field::sec_websocket_protocol].empty());
    CHECK(asJson.handshakeResponse()[http::field::sec_websocket_protocol] == "finch.json");

    const json data = {{"text", "héllo"}, {"n", -5}, {"x", 1.5}, {"list", {true, nullptr, "z"}}, {"big", 1u << 31}};
    CHECK(manager.sendToAll(data, "news", 201) == 4);
    const json fromPlain = receiveEncoded(plain, Encoding::json);
    const json fromJson = receiveEncoded(asJson, Encoding::json);
    const json fromMsgpack = receiveEncoded(asMsgpack, Encoding::msgpack);
    const json fromCbor = receiveEncoded(asCbor, Encoding::cbor);
    CHECK(fromPlain["data"] == data);
    CHECK(fromPlain["path"] == "news");
    CHECK(fromPlain["status"] == 201);
    // One timestamp for the whole broadcast: the envelopes are equal.
    CHECK(fromJson == fromPlain);
    CHECK(fromMsgpack == fromPlain);
    CHECK(fromCbor == fromPlain);
}

TEST_CASE("without Options::encodings a finch.msgpack client gets JSON, and binary frames 415", "[encoding]")
{
    TestServer server;
    finch::SocketManager::Routes routes;
    routes["echo"].onMessage = [](finch::Socket& socket, const json& message) { socket.reply(message, "ok"); };
    server.start({}, routes);

    TestClient client(server.port(), "/ws", offeringEncoding(Encoding::msgpack));
    CHECK(client.handshakeResponse()[http::field::sec_websocket_protocol].empty());
    CHECK(server.waitConnection(0).encoding() == Encoding::json);
    client.sendBinary(encodeForServer(Encoding::msgpack, {{"path", "echo"}}));
    CHECK(receiveEncoded(client, Encoding::json)["status"] == 415);
}

TEST_CASE("binary envelopes carry the client id when asked, broadcasts included", "[encoding]")
{
    TestServer server;
    finch::Options options = speaksAllEncodings();
    options.includeClientId = true;
    auto& manager = server.start({}, {}, options);

    TestClient asCbor(server.port(), "/ws", offeringEncoding(Encoding::cbor));
    TestClient asMsgpack(server.port(), "/ws", offeringEncoding(Encoding::msgpack));
    const std::string cborId = server.waitConnection(0).id();
    const std::string msgpackId = server.waitConnection(1).id();
    CHECK(manager.sendToAll("hi", "news") == 2);
    const json toCbor = receiveEncoded(asCbor, Encoding::cbor);
    const json toMsgpack = receiveEncoded(asMsgpack, Encoding::msgpack);
    CHECK(toCbor["client"] == cborId);
    CHECK(toMsgpack["client"] == msgpackId);
    CHECK(toCbor["data"] == "hi");
    CHECK(toMsgpack["data"] == "hi");
    CHECK(manager.sendToClient(cborId, 1, "direct"));
    CHECK(receiveEncoded(asCbor, Encoding::cbor)["client"] == cborId);
}
