#include <finch/envelope_format.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <set>
#include <stdexcept>
#include <string>

// Options::envelope: another shape of messages in both directions, and
// listen()'s "*" target, as the shootout example uses them.

using namespace finch::test;
using nlohmann::json;

namespace {

finch::Options typeAndPayload()
{
    finch::Options options;
    options.envelope = finch::EnvelopeFormat::typeAndPayload();
    return options;
}

}  // namespace

TEST_CASE("typeAndPayload routes on \"type\" and answers {type, payload}", "[envelope-format]")
{
    TestServer server;
    finch::SocketEvent echo;
    json seen;
    echo.onMessage = [&seen](finch::Socket& socket, const json& message) {
        seen = message;
        socket.send(message["payload"], "echo");
    };
    server.start({}, {{"echo", echo}}, typeAndPayload());
    TestClient client(server.port());

    const json payload = {{"n", 1}, {"text", "caf\u00e9"}, {"list", {1, 2.5, nullptr}}};
    client.send({{"type", "echo"}, {"payload", payload}});
    const json reply = client.receive();
    INFO(reply.dump());
    CHECK(keysOf(reply) == std::set<std::string>{"type", "payload"});
    CHECK(reply["type"] == "echo");
    CHECK(reply["payload"] == payload);
    // The handler sees the whole message as it came.
    CHECK(seen == json{{"type", "echo"}, {"payload", payload}});
}

TEST_CASE("typeAndPayload applies to broadcasts and to error envelopes", "[envelope-format]")
{
    TestServer server;
    finch::SocketEvent broadcast;
    broadcast.onMessage = [&server](finch::Socket& socket, const json& message) {
        server.manager().sendToAll(message["payload"], "broadcast");
        socket.send(message["payload"], "broadcastResult");
    };
    server.start({}, {{"broadcast", broadcast}}, typeAndPayload());
    TestClient sender(server.port());
    TestClient other(server.port());

    sender.send({{"type", "broadcast"}, {"payload", {{"seq", 7}}}});
    for (TestClient* client : {&sender, &other}) {
        const json received = client->receive();
        INFO(received.dump());
        CHECK(received == json{{"type", "broadcast"}, {"payload", {{"seq", 7}}}});
    }
    CHECK(sender.receive() == json{{"type", "broadcastResult"}, {"payload", {{"seq", 7}}}});

    // A type without a route, and a message without a type.
    sender.send({{"type", "nope"}, {"payload", 1}});
    const json unknown = sender.receive();
    INFO(unknown.dump());
    CHECK(keysOf(unknown) == std::set<std::string>{"type", "payload"});
    CHECK(unknown["type"] == "error");
    CHECK(unknown["payload"]["type"] == "nope");
    CHECK(unknown["payload"]["message"].is_string());

    sender.send({{"path", "broadcast"}, {"payload", 1}});
    const json untyped = sender.receive();
    INFO(untyped.dump());
    CHECK(untyped["type"] == "error");
    CHECK(untyped["payload"]["message"] == "the object has no \"type\" member");
}

TEST_CASE("a format keeps status and timestamp under the names it gives them", "[envelope-format]")
{
    TestServer server;
    finch::Options options;
    options.envelope = finch::EnvelopeFormat("event", "body", "code", "");
    server.start({}, {{"echo", {}}}, options);
    finch::SocketEvent reply;
    reply.onMessage = [](finch::Socket& socket, const json& message) { socket.send(message["body"], "answer", 201); };
    server.manager().addRoute("echo", reply);
    TestClient client(server.port());

    client.send({{"event", "echo"}, {"body", "hi"}});
    CHECK(client.receive() == json{{"event", "answer"}, {"code", 201}, {"body", "hi"}});
}

TEST_CASE("EnvelopeFormat refuses formats it could not write", "[envelope-format]")
{
    CHECK_THROWS_AS(finch::EnvelopeFormat("", "data"), std::invalid_argument);
    CHECK_THROWS_AS(finch::EnvelopeFormat("path", ""), std::invalid_argument);
    CHECK_THROWS_AS(finch::EnvelopeFormat("path", "path"), std::invalid_argument);
    CHECK_THROWS_AS(finch::EnvelopeFormat("path", "data", "when", "when"), std::invalid_argument);
    // Names that need escaping are escaped.
    const auto quoted = finch::encodeEnvelope(finch::EnvelopeFormat("a\"b", "d"), "p", 200, 0, 1);
    CHECK(json::parse(quoted) == json{{"a\"b", "p"}, {"d", 1}});
}

TEST_CASE("listen on \"*\" upgrades on every target and leaves plain HTTP to the HttpHandler", "[envelope-format][http]")
{
    TestServer server;
    server.start({}, echoRoutes(), {}, "*");
    for (const std::string target : {"/", "/ws", "/any/path?x=1"}) {
        TestClient client(server.port(), target);
        client.send({{"path", "echo"}, {"data", target}});
        CHECK(client.receive()["data"] == target);
    }
    CHECK(httpGet(server.port(), "/page").result() == boost::beast::http::status::upgrade_required);
    server.manager().setHttpHandler([](const finch::Request&) {
        finch::Response response{boost::beast::http::status::ok, 11};
        response.body() = "page";
        return response;
    });
    const auto page = httpGet(server.port(), "/page");
    CHECK(page.result() == boost::beast::http::status::ok);
    CHECK(page.body() == "page");
}
