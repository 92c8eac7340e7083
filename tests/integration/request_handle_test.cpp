#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <future>
#include <string>

// requestHandle (and its alias accept): the application's own HTTP server
// reads a request and hands the connection over. Tested through AppServer, on
// the manager's io_context, for the tcp::socket and tcp_stream overloads.

using namespace finch::test;
using nlohmann::json;

TEST_CASE("requestHandle upgrades a connection the application read, next to the application's own routes",
    "[request_handle]")
{
    const auto handoff = GENERATE(AppServer::Handoff::socket, AppServer::Handoff::stream,
        AppServer::Handoff::acceptSocket, AppServer::Handoff::acceptStream);
    INFO(nameOf(handoff));
    EventLog<std::string> customHeaders;
    TestServer server;
    finch::SocketEvent root;
    root.onConnect = [&](finch::Socket& socket) { customHeaders.push(std::string(socket.request()["X-Custom"])); };
    auto& manager = server.create(root, echoRoutes());
    AppServer app(server.threads.context, manager, handoff);

    // The application keeps its own route.
    const auto hello = httpGet(app.port(), "/hello");
    CHECK(hello.result() == http::status::ok);
    CHECK(hello.body() == "hello");

    std::optional<TestClient> client(
        std::in_place, app.port(), "/ws?user=alice", TestClient::Headers{{"X-Custom", "42"}});
    CHECK(client->handshakeResponse().result() == http::status::switching_protocols);
    const finch::Socket socket = server.waitConnection(0);
    CHECK(customHeaders.snapshot() == std::vector<std::string>{"42"});
    CHECK(isSocketId(socket.id()));
    CHECK(socket.userId() == "alice");
    CHECK(socket.request().target() == "/ws?user=alice");
    CHECK(socket.request()["X-Custom"] == "42");
    CHECK(manager.countClients() == 1);
    CHECK(manager.countUsers() == 1);

    client->send({{"path", "echo"}, {"data", "through requestHandle"}});
    const json reply = client->receive();
    CHECK(reply["path"] == "echo");
    CHECK(reply["data"] == "through requestHandle");
    CHECK(manager.sendToUser("alice", "for alice", "user") == 1);
    CHECK(client->receive()["data"] == "for alice");

    // The user id from a header, and the handed-over socket has TCP_NODELAY.
    TestClient bob(app.port(), "/ws", {{"X-User", "bob"}});
    CHECK(server.waitConnection(1).userId() == "bob");
    CHECK(manager.countUsers() == 2);
    CHECK_FALSE(bob.noDelay());
    const int fd = findTcpSocket(app.port(), bob.localPort());
    REQUIRE(fd >= 0);
    CHECK(noDelayOf(fd));

    // The connection ends like any other; the handle keeps its identity.
    client->close();
    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(server.settledClientCount() == 1);
    CHECK(manager.countUsers() == 1);
    CHECK(socket.userId() == "alice");
    CHECK(socket.request()["X-Custom"] == "42");
    CHECK_FALSE(socket.send("too late"));
    client.reset();
}

TEST_CASE("requestHandle does not ask the upgrade handler", "[request_handle][upgrade]")
{
    TestServer server;
    auto& manager = server.create();
    manager.setUpgradeHandler(
        [](const finch::Request&) { return finch::UpgradeDecision::refuse(http::status::forbidden, "no\n"); });
    AppServer app(server.threads.context, manager, AppServer::Handoff::socket);
    TestClient client(app.port(), "/ws?user=dave");
    const finch::Socket socket = server.waitConnection(0);
    CHECK(socket.userId() == "dave");
}

TEST_CASE("requestHandle answers a request that is not an upgrade with 426", "[request_handle]")
{
    const auto handoff = GENERATE(AppServer::Handoff::socket, AppServer::Handoff::stream,
        AppServer::Handoff::acceptSocket, AppServer::Handoff::acceptStream);
    INFO(nameOf(handoff));
    TestServer server;
    auto& manager = server.create();
    AppServer app(server.threads.context, manager, handoff);

    const auto response = httpGet(app.port(), "/ws?user=alice");
    CHECK(response.result() == http::status::upgrade_required);
    CHECK(response[http::field::upgrade] == "websocket");
    CHECK(server.connected.size() == 0);

    // The application and the manager still work.
    CHECK(httpGet(app.port(), "/hello").result() == http::status::ok);
    TestClient client(app.port(), "/ws");
    server.waitConnection(0);
}

TEST_CASE("requestHandle after stop() completes the upgrade, then closes with 1001 without onConnect",
    "[request_handle][lifecycle]")
{
    TestServer server;
    auto& manager = server.create();
    AppServer app(server.threads.context, manager, AppServer::Handoff::socket);
    manager.stop();

    TestClient client(app.port(), "/ws?user=late");
    CHECK(client.expectClose().code == websocket::close_code::going_away);
    CHECK(server.settledClientCount() == 0);
    CHECK(server.connected.size() == 0);
    CHECK(server.disconnected.size() == 0);
    CHECK(manager.countUsers() == 0);
}

TEST_CASE("stop() ends a session handed over by requestHandle that is still answering, before onStopped",
    "[request_handle][lifecycle]")
{
    TestServer server;
    finch::Options options;
    options.handshakeTimeout = std::chrono::seconds(60);
    auto& manager = server.create({}, {}, options);
    AppServer app(server.threads.context, manager, AppServer::Handoff::socket);

    // Not an upgrade: handed over and answered 426; the client keeps its
    // side open, so the session goes on reading until its deadline.
    net::io_context context;
    tcp::socket client(context);
    client.connect(loopback(app.port()));
    net::write(client, net::buffer(std::string("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
    std::string answer;
    boost::system::error_code ec;
    net::read_until(client, net::dynamic_buffer(answer), "\r\n\r\n", ec);
    REQUIRE(answer.rfind("HTTP/1.1 426", 0) == 0);

    std::promise<void> stopped;
    manager.stop([&] { stopped.set_value(); });
    REQUIRE(stopped.get_future().wait_for(waitLimit) == std::future_status::ready);
    // The session was waited for, so its socket is closed by now.
    CHECK(findTcpSocket(app.port(), client.local_endpoint().port()) == -1);
}
