#include <finch/socket_manager.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/lists.hpp"
#include "support/test_server.hpp"

#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>

// The manager's view of its connections (counts, keys, lookup) and its ways
// of sending to several of them.

using namespace finch::test;
using nlohmann::json;

namespace {

using Clients = std::vector<std::unique_ptr<TestClient>>;

// Connects `count` clients to `port` one by one; their ids, in order.
std::vector<std::string> connect(TestServer& server, Clients& clients, std::size_t count, unsigned short port,
    const std::string& target = "/ws", const TestClient::Headers& headers = {})
{
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < count; ++i) {
        clients.push_back(std::make_unique<TestClient>(port, target, headers));
        ids.push_back(server.waitConnection(clients.size() - 1).id());
    }
    return ids;
}

// Proves that `client` received nothing so far: a direct message sent now is
// the next thing it reads.
void expectNothingBefore(finch::SocketManager& manager, TestClient& client, const std::string& id)
{
    REQUIRE(manager.sendToClient(id, "marker", "marker"));
    const json next = client.receive();
    CHECK(next["path"] == "marker");
    CHECK(next["data"] == "marker");
}

}  // namespace

TEST_CASE("countClients, getAllClientsKeys and getClient follow the open connections", "[manager]")
{
    TestServer server;
    auto& manager = server.start();
    CHECK(manager.countClients() == 0);
    CHECK(manager.getAllClientsKeys().empty());

    Clients clients;
    const auto ids = connect(server, clients, 3, server.port());
    CHECK(manager.countClients() == 3);
    CHECK(sorted(manager.getAllClientsKeys()) == sorted(ids));

    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto found = manager.getClient(ids[i]);
        REQUIRE(found);
        CHECK(found->id() == ids[i]);
        CHECK(*found == server.connected.snapshot()[i]);
        CHECK(found->send(static_cast<int>(i), "direct"));
        const json message = clients[i]->receive();
        CHECK(message["path"] == "direct");
        CHECK(message["data"] == static_cast<int>(i));
    }
    CHECK_FALSE(manager.getClient("nope"));
    CHECK_FALSE(manager.getClient(""));
    CHECK_FALSE(manager.getClient(std::string(32, '0')));

    clients[1]->close();
    REQUIRE(server.waitDisconnected(ids[1]));
    CHECK(server.settledClientCount() == 2);
    CHECK_FALSE(manager.getClient(ids[1]));
    CHECK(sorted(manager.getAllClientsKeys()) == sorted({ids[0], ids[2]}));
}

TEST_CASE("sendToAll queues for every open connection and says for how many", "[manager]")
{
    TestServer server;
    auto& manager = server.start();
    CHECK(manager.sendToAll("nobody", "news") == 0);

    Clients clients;
    connect(server, clients, 3, server.port());
    CHECK(manager.sendToAll({{"n", 1}}, "news") == 3);
    CHECK(manager.sendToAll("second", "news", 202) == 3);
    for (auto& client : clients) {
        const json first = client->receive();
        CHECK(first["path"] == "news");
        CHECK(first["status"] == 200);
        CHECK(first["data"] == json{{"n", 1}});
        const json second = client->receive();
        CHECK(second["status"] == 202);
        CHECK(second["data"] == "second");
    }
}

// The broadcasting thread writes to idle receivers itself; what the kernel
// does not take at once must go on from the exact byte where it stopped.
TEST_CASE("a broadcast far larger than the socket buffers reaches every receiver whole, then the next one",
    "[manager][backpressure]")
{
    TestServer server;
    auto& manager = server.start();
    Clients clients;
    connect(server, clients, 3, server.port());
    // Nobody reads until both broadcasts are queued, and the server's send
    // buffers are small: the kernel takes a part of the first broadcast at
    // once, the connection's write loop sends the rest.
    for (auto& client : clients) {
        const int fd = findTcpSocket(server.port(), client->localPort());
        REQUIRE(fd >= 0);
        const int sendBuffer = 64 * 1024;
        REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer) == 0);
    }

    std::string big(3 * 1024 * 1024, ' ');
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    CHECK(manager.sendToAll(big, "big") == 3);
    CHECK(manager.sendToAll("after", "small") == 3);
    for (auto& client : clients) {
        const json first = client->receive();
        CHECK(first["path"] == "big");
        CHECK(first["data"] == big);
        const json second = client->receive();
        CHECK(second["path"] == "small");
        CHECK(second["data"] == "after");
    }
}

TEST_CASE("sendToAllExcept skips exactly one connection", "[manager]")
{
    TestServer server;
    auto& manager = server.start();
    Clients clients;
    const auto ids = connect(server, clients, 3, server.port());
    const finch::Socket excluded = server.connected.snapshot()[1];

    CHECK(manager.sendToAllExcept(excluded, "not for 1", "news") == 2);
    for (std::size_t i : {0u, 2u}) {
        const json message = clients[i]->receive();
        CHECK(message["path"] == "news");
        CHECK(message["data"] == "not for 1");
    }
    expectNothingBefore(manager, *clients[1], ids[1]);
}

TEST_CASE("sendToClient sends to one open connection, and says whether it could", "[manager]")
{
    TestServer server;
    auto& manager = server.start();
    Clients clients;
    const auto ids = connect(server, clients, 2, server.port());

    CHECK(manager.sendToClient(ids[1], {{"to", 1}}, "direct", 299));
    const json message = clients[1]->receive();
    CHECK(message["path"] == "direct");
    CHECK(message["status"] == 299);
    CHECK(message["data"] == json{{"to", 1}});
    expectNothingBefore(manager, *clients[0], ids[0]);

    CHECK_FALSE(manager.sendToClient("unknown", "x"));
    CHECK_FALSE(manager.sendToClient(std::string(32, 'a'), "x"));

    clients[1]->close();
    REQUIRE(server.waitDisconnected(ids[1]));
    CHECK_FALSE(manager.sendToClient(ids[1], "too late"));
}

TEST_CASE("users: countUsers counts distinct non-empty user ids, sendToUser reaches all of one user's connections",
    "[manager][users]")
{
    TestServer server;
    auto& manager = server.create();
    AppServer app(server.threads.context, manager, AppServer::Handoff::socket);

    Clients clients;
    const auto alice = connect(server, clients, 2, app.port(), "/ws?user=alice");
    const auto bob = connect(server, clients, 1, app.port(), "/ws", {{"X-User", "bob"}});
    const auto anonymous = connect(server, clients, 1, app.port(), "/ws");
    const auto sockets = server.connected.snapshot();
    CHECK(sockets[0].userId() == "alice");
    CHECK(sockets[1].userId() == "alice");
    CHECK(sockets[2].userId() == "bob");
    CHECK(sockets[3].userId().empty());
    CHECK(manager.countClients() == 4);
    CHECK(manager.countUsers() == 2);

    CHECK(manager.sendToUser("alice", "hi alice", "user") == 2);
    for (std::size_t i : {0u, 1u}) {
        const json message = clients[i]->receive();
        CHECK(message["path"] == "user");
        CHECK(message["data"] == "hi alice");
    }
    CHECK(manager.sendToUser("carol", "nobody") == 0);
    CHECK(manager.sendToUser("", "not a user") == 0);
    expectNothingBefore(manager, *clients[2], bob[0]);
    expectNothingBefore(manager, *clients[3], anonymous[0]);

    CHECK(manager.sendToUser("bob", "hi bob", "user", 201) == 1);
    const json toBob = clients[2]->receive();
    CHECK(toBob["data"] == "hi bob");
    CHECK(toBob["status"] == 201);

    clients[0]->close();
    REQUIRE(server.waitDisconnected(alice[0]));
    CHECK(server.settledClientCount() == 3);
    CHECK(manager.countUsers() == 2);  // alice still has a connection
    CHECK(manager.sendToUser("alice", "still here", "user") == 1);
    CHECK(clients[1]->receive()["data"] == "still here");

    clients[1]->close();
    REQUIRE(server.waitDisconnected(alice[1]));
    CHECK(server.settledClientCount() == 2);
    CHECK(manager.countUsers() == 1);
    CHECK(manager.sendToUser("alice", "gone") == 0);
}
