#include <finch/subprotocol.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <future>
#include <string>
#include <vector>

// Subprotocols (RFC 6455 1.9): what the manager picks from
// Options::subprotocols, what an upgrade handler picks instead, the 400 of
// Options::subprotocolMismatch, and what the 101 and Socket::subprotocol()
// say; through listen() and requestHandle().

using namespace finch::test;
using nlohmann::json;

namespace {

// A manager that speaks "a" and "b", and settles a mismatch with `mismatch`.
finch::Options speaksAandB(finch::SubprotocolMismatch mismatch = finch::SubprotocolMismatch::refuse)
{
    finch::Options options;
    options.subprotocols = {"a", "b"};
    options.subprotocolMismatch = mismatch;
    return options;
}

// The Sec-WebSocket-Protocol of an answer; empty when it has none.
std::string answeredSubprotocol(const http::response<http::string_body>& response)
{
    return std::string(response[http::field::sec_websocket_protocol]);
}

std::string answeredSubprotocol(const TestClient& client)
{
    return std::string(client.handshakeResponse()[http::field::sec_websocket_protocol]);
}

// An upgrade request with one Sec-WebSocket-Protocol field for each of
// `fields`, in that order (TestClient's headers set one field only); the
// answer, after which the connection is dropped.
http::response<http::string_body> upgradeOffering(
    unsigned short port, const std::vector<std::string>& fields, const std::string& target = "/ws")
{
    http::request<http::string_body> request{http::verb::get, target, 11};
    for (const auto& header : upgradeHeaders())
        request.set(header.first, header.second);
    for (const auto& value : fields)
        request.insert(http::field::sec_websocket_protocol, value);
    return httpRequest(port, std::move(request));
}

TestClient::Headers offering(const std::string& list)
{
    return {{"Sec-WebSocket-Protocol", list}};
}

}  // namespace

TEST_CASE("the manager picks the first subprotocol in the client's order that it speaks", "[subprotocol]")
{
    EventLog<std::string> seenInOnConnect;
    TestServer server;
    finch::SocketEvent root;
    root.onConnect = [&](finch::Socket& socket) { seenInOnConnect.push(socket.subprotocol()); };
    finch::SocketManager::Routes routes;
    routes["which"].onMessage = [](finch::Socket& socket, const json& message) {
        socket.reply(message, socket.subprotocol());
    };
    server.start(root, routes, speaksAandB());

    TestClient client(server.port(), "/ws", offering("x, b, a"));
    CHECK(answeredSubprotocol(client) == "b");
    const finch::Socket socket = server.waitConnection(0);
    CHECK(socket.subprotocol() == "b");
    client.send({{"path", "which"}, {"id", 1}});
    CHECK(client.receive()["data"] == "b");

    TestClient other(server.port(), "/ws", offering("a,b"));
    CHECK(answeredSubprotocol(other) == "a");
    server.waitConnection(1);
    CHECK(seenInOnConnect.snapshot() == std::vector<std::string>{"b", "a"});

    // Read from another thread, after the upgrade: it never changes.
    auto fromElsewhere = std::async(std::launch::async, [socket] { return socket.subprotocol(); });
    CHECK(fromElsewhere.get() == "b");
}

TEST_CASE("a client that offers no subprotocol is accepted without one", "[subprotocol]")
{
    TestServer server;
    server.start({}, {}, speaksAandB());
    TestClient client(server.port());
    CHECK(client.handshakeResponse().find(http::field::sec_websocket_protocol) == client.handshakeResponse().end());
    CHECK(server.waitConnection(0).subprotocol().empty());
    // An empty offer is no offer.
    const auto blank = upgradeOffering(server.port(), {" , "});
    CHECK(blank.result() == http::status::switching_protocols);
    CHECK(blank.find(http::field::sec_websocket_protocol) == blank.end());
}

TEST_CASE("offering only unspoken subprotocols: 400 naming both lists, or accepted without one", "[subprotocol]")
{
    SECTION("refuse, the default")
    {
        CHECK(finch::Options().subprotocolMismatch == finch::SubprotocolMismatch::refuse);
        TestServer server;
        auto& manager = server.start({}, {}, speaksAandB());
        const auto refused = upgradeRequest(server.port(), "/ws", offering("x, y"));
        CHECK(refused.result() == http::status::bad_request);
        CHECK(refused[http::field::content_type] == "text/plain; charset=utf-8");
        CHECK(refused.body() == "Unsupported subprotocol: the client offered x, y; this server speaks a, b.\n");
        CHECK(refused.find(http::field::sec_websocket_protocol) == refused.end());
        CHECK(manager.countClients() == 0);
        CHECK(server.connected.size() == 0);
        // Case matters: "A" is not "a".
        CHECK(upgradeRequest(server.port(), "/ws", offering("A")).result() == http::status::bad_request);
    }
    SECTION("acceptWithout")
    {
        TestServer server;
        server.start({}, {}, speaksAandB(finch::SubprotocolMismatch::acceptWithout));
        TestClient client(server.port(), "/ws", offering("x, y"));
        CHECK(client.handshakeResponse().result() == http::status::switching_protocols);
        CHECK(client.handshakeResponse().find(http::field::sec_websocket_protocol) == client.handshakeResponse().end());
        CHECK(server.waitConnection(0).subprotocol().empty());
    }
    SECTION("a manager that speaks none neither picks nor refuses")
    {
        TestServer server;
        server.start();
        TestClient client(server.port(), "/ws", offering("x, y"));
        CHECK(answeredSubprotocol(client).empty());
        CHECK(server.waitConnection(0).subprotocol().empty());
    }
}

TEST_CASE("several Sec-WebSocket-Protocol fields and odd spacing are read in the client's order", "[subprotocol]")
{
    TestServer server;
    server.start({}, {}, speaksAandB());
    const auto answer = upgradeOffering(server.port(), {" x ,\ty ,", ",, b\t, a", "a"});
    CHECK(answer.result() == http::status::switching_protocols);
    CHECK(answeredSubprotocol(answer) == "b");
    CHECK(server.waitConnection(0).subprotocol() == "b");

    // The refusal names the offer as read.
    const auto refused = upgradeOffering(server.port(), {"x  ,", "\ty"});
    CHECK(refused.body() == "Unsupported subprotocol: the client offered x, y; this server speaks a, b.\n");
}

TEST_CASE("the upgrade handler's subprotocol overrides the manager's", "[subprotocol][upgrade]")
{
    EventLog<std::vector<std::string>> offers;
    TestServer server;
    auto& manager = server.start({}, {}, speaksAandB());
    manager.setUpgradeHandler([&](const finch::Request& request) {
        const auto offered = finch::offeredSubprotocols(request);
        offers.push(offered);
        // The last one offered, against the client's preference; "none" for none.
        if (offered.empty())
            return finch::UpgradeDecision::accept();
        if (offered.back() == "none")
            return finch::UpgradeDecision::accept().withSubprotocol("");
        return finch::UpgradeDecision::accept("u").withSubprotocol(offered.back());
    });

    TestClient overridden(server.port(), "/ws", offering("b, a"));
    CHECK(answeredSubprotocol(overridden) == "a");
    CHECK(server.waitConnection(0).subprotocol() == "a");
    CHECK(server.waitConnection(0).userId() == "u");
    CHECK(offers.snapshot().front() == std::vector<std::string>{"b", "a"});

    // One the manager does not speak, which the refusal policy does not touch.
    TestClient unlisted(server.port(), "/ws", offering("b, z"));
    CHECK(answeredSubprotocol(unlisted) == "z");
    CHECK(server.waitConnection(1).subprotocol() == "z");

    // An empty choice: no subprotocol, although the manager would refuse.
    TestClient without(server.port(), "/ws", offering("x, none"));
    CHECK(answeredSubprotocol(without).empty());
    CHECK(server.waitConnection(2).subprotocol().empty());

    // No choice: the manager's rules.
    manager.setUpgradeHandler([](const finch::Request&) { return finch::UpgradeDecision::accept(); });
    TestClient managers(server.port(), "/ws", offering("x, b, a"));
    CHECK(answeredSubprotocol(managers) == "b");
    CHECK(upgradeRequest(server.port(), "/ws", offering("x")).result() == http::status::bad_request);
}

TEST_CASE("an upgrade handler that picks a subprotocol the client did not offer: 500", "[subprotocol][upgrade]")
{
    const std::string expected =
        "Internal Server Error: the upgrade handler chose the subprotocol \"a\", which the client did not offer "
        "(it offered: x, b).\n";
    EventLog<finch::UpgradeCompletion> undecided;
    TestServer server;
    const ClearOnExit clearUndecided(undecided);
    auto& manager = server.start({}, {}, speaksAandB());
    SECTION("synchronous")
    {
        manager.setUpgradeHandler(
            [](const finch::Request&) { return finch::UpgradeDecision::accept().withSubprotocol("a"); });
        const auto answer = upgradeRequest(server.port(), "/ws", offering("x, b"));
        CHECK(answer.result() == http::status::internal_server_error);
        CHECK(answer.body() == expected);
        CHECK(answer.find(http::field::sec_websocket_protocol) == answer.end());
    }
    SECTION("asynchronous, decided on the test's thread")
    {
        manager.setUpgradeHandler(
            [&](const finch::Request&, finch::UpgradeCompletion done) { undecided.push(std::move(done)); });
        auto answer =
            std::async(std::launch::async, [&] { return upgradeRequest(server.port(), "/ws", offering("x, b")); });
        REQUIRE(undecided.waitForCount(1));
        undecided.snapshot().front()(finch::UpgradeDecision::accept().withSubprotocol("a"));
        const auto response = answer.get();
        CHECK(response.result() == http::status::internal_server_error);
        CHECK(response.body() == expected);
    }
    CHECK(server.settledClientCount() == 0);
    CHECK(server.connected.size() == 0);
}

TEST_CASE("requestHandle negotiates the subprotocol by the manager's Options", "[subprotocol][request_handle]")
{
    const auto handoff = GENERATE(AppServer::Handoff::socket, AppServer::Handoff::stream);
    INFO(nameOf(handoff));
    TestServer server;
    auto& manager = server.create({}, {}, speaksAandB());
    AppServer app(server.threads.context, manager, handoff);

    TestClient client(app.port(), "/ws?user=ann", offering("x, b, a"));
    CHECK(answeredSubprotocol(client) == "b");
    const finch::Socket socket = server.waitConnection(0);
    CHECK(socket.subprotocol() == "b");
    CHECK(socket.userId() == "ann");

    const auto several = upgradeOffering(app.port(), {"x", " a "});
    CHECK(answeredSubprotocol(several) == "a");

    const auto refused = upgradeRequest(app.port(), "/ws", offering("x"));
    CHECK(refused.result() == http::status::bad_request);
    CHECK(refused.body() == "Unsupported subprotocol: the client offered x; this server speaks a, b.\n");

    TestClient none(app.port());
    CHECK(answeredSubprotocol(none).empty());
}
