#include <finch/cluster.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/memory_backplane.hpp"
#include "support/test_server.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// The cluster layer of the manager (joinCluster): which connections of which
// node each send reaches, the interest subscriptions, the cluster-wide
// counts, and nodes that leave or fall silent; over an in-process broker
// (support/memory_backplane.hpp). The same over a real redis-server, in
// separate processes, is tests/e2e/cluster_test.py.

using namespace finch::test;
using nlohmann::json;

namespace {

// Waits until `holds` is true, looking again each time a node has handled a
// message of the broker (see MemoryBroker::settles).
template <class Condition>
bool clusterSettles(MemoryBroker& broker, Condition holds)
{
    return broker.settles(holds, waitLimit);
}

// One node: a manager with its own io_context thread and backplane, whose
// connections are users named by their X-User header.
struct ClusterTestNode {
    ClusterTestNode(const std::shared_ptr<MemoryBroker>& broker, std::string nodeId, finch::Options options = {},
        std::chrono::milliseconds reportInterval = std::chrono::milliseconds(100))
    {
        auto& manager = server.create({}, {}, std::move(options));
        manager.setUpgradeHandler([](const finch::Request& request) {
            return finch::UpgradeDecision::accept(std::string(request["X-User"]));
        });
        backplane = MemoryBackplane::make(broker, server.threads.context.get_executor());
        finch::ClusterOptions cluster;
        cluster.nodeId = std::move(nodeId);
        cluster.reportInterval = reportInterval;
        cluster.nodeTimeout = 3 * reportInterval;
        cluster.onEvent = [this](const finch::BackplaneEvent& event) { events.push(event); };
        manager.joinCluster(backplane, cluster);
        manager.listen(loopback(), "/ws");
    }

    finch::SocketManager& manager() { return server.manager(); }

    struct Connected {
        std::unique_ptr<TestClient> client;
        finch::Socket socket;
        TestClient* operator->() const { return client.get(); }
        TestClient& operator*() const { return *client; }
    };

    // A client of this node, as `user`, and its socket on the server.
    Connected connect(const std::string& user, TestClient::Headers headers = {})
    {
        const std::size_t index = server.connected.size();
        headers.emplace_back("X-User", user);
        auto client = std::make_unique<TestClient>(server.port(), "/ws", std::move(headers));
        return {std::move(client), server.waitConnection(index)};
    }

    EventLog<finch::BackplaneEvent> events;
    TestServer server;
    // After the server: its strand must go before the server's io_context.
    std::shared_ptr<MemoryBackplane> backplane;
};

void expectData(TestClient& client, const std::string& path, const json& data)
{
    const json message = client.receive();
    INFO(message.dump());
    CHECK(message["path"] == path);
    CHECK(message["data"] == data);
}

}  // namespace

TEST_CASE("cluster: every send kind reaches exactly its connections on every node, once each", "[cluster]")
{
    const auto broker = std::make_shared<MemoryBroker>();
    ClusterTestNode a(broker, "0000000a");
    ClusterTestNode b(broker, "0000000b");
    CHECK(a.manager().nodeId() == "0000000a");

    auto a1 = a.connect("alice");
    auto a2 = a.connect("bob");
    auto b1 = b.connect("alice");
    auto b2 = b.connect("carol");
    // A connection's id starts with its node's.
    CHECK(a1.socket.id().size() == 40);
    CHECK(a1.socket.id().substr(0, 8) == "0000000a");
    CHECK(b2.socket.id().substr(0, 8) == "0000000b");

    REQUIRE(a1.socket.join("r"));
    REQUIRE(b2.socket.join("r"));
    REQUIRE(a2.socket.join("only-a"));

    // The counts converge: each node sums its own and the other's last report.
    REQUIRE(clusterSettles(*broker, [&] {
        return a.manager().countClients() == 4 && b.manager().countClients() == 4 && a.manager().countRoom("r") == 2 &&
            b.manager().countRoom("r") == 2 && b.manager().countRoom("only-a") == 1;
    }));
    CHECK(a.manager().countLocalClients() == 2);
    CHECK(a.manager().countLocalRoom("r") == 1);
    // alice has a connection on each node and counts once.
    CHECK(a.manager().countUsers() == 3);
    CHECK(b.manager().countUsers() == 3);
    CHECK(b.manager().countLocalUsers() == 2);

    // Interest: a node subscribes to a room or a user while it has someone in it.
    CHECK(a.backplane->subscribed("finch:room:r"));
    CHECK(b.backplane->subscribed("finch:room:r"));
    CHECK(a.backplane->subscribed("finch:room:only-a"));
    CHECK_FALSE(b.backplane->subscribed("finch:room:only-a"));
    CHECK(b.backplane->subscribed("finch:user:alice"));
    CHECK_FALSE(b.backplane->subscribed("finch:user:bob"));

    // Each send is followed by a marker to everyone: the messages of one
    // node arrive in order, so a client that gets the marker next got
    // nothing it should not have.
    const auto marker = [&](int n) {
        a.manager().sendToAll(n, "marker");
        for (auto* client : {a1.client.get(), a2.client.get(), b1.client.get(), b2.client.get()})
            expectData(*client, "marker", n);
    };

    SECTION("sendToAll")
    {
        CHECK(a.manager().sendToAll("hello", "all") == 2);  // the local deliveries
        for (auto* client : {a1.client.get(), a2.client.get(), b1.client.get(), b2.client.get()})
            expectData(*client, "all", "hello");
        marker(1);
    }
    SECTION("sendToAllExcept")
    {
        CHECK(a.manager().sendToAllExcept(a1.socket, "not a1", "allExcept") == 1);
        for (auto* client : {a2.client.get(), b1.client.get(), b2.client.get()})
            expectData(*client, "allExcept", "not a1");
        marker(2);
    }
    SECTION("sendToRoom from a node with and without members")
    {
        CHECK(b.manager().sendToRoom("r", "to r", "room") == 1);
        expectData(*a1, "room", "to r");
        expectData(*b2, "room", "to r");
        marker(3);
        // B has no member of only-a, so it is not subscribed and gets none of its traffic.
        CHECK(a.manager().sendToRoom("only-a", "to only-a", "room") == 1);
        expectData(*a2, "room", "to only-a");
        marker(4);
        CHECK(b.backplane->received("finch:room:only-a") == 0);
        CHECK(b.manager().sendToRoom("only-a", "from b", "room") == 0);
        expectData(*a2, "room", "from b");
        marker(5);
    }
    SECTION("sendToRoomExcept")
    {
        CHECK(a.manager().sendToRoomExcept("r", a1.socket, "not a1", "roomExcept") == 0);
        expectData(*b2, "roomExcept", "not a1");
        marker(6);
    }
    SECTION("sendToUser reaches the user's connections on both nodes")
    {
        CHECK(b.manager().sendToUser("alice", "hi alice", "user") == 1);
        expectData(*a1, "user", "hi alice");
        expectData(*b1, "user", "hi alice");
        marker(7);
        CHECK(a.manager().sendToUser("carol", "hi carol", "user") == 0);
        expectData(*b2, "user", "hi carol");
        marker(8);
    }
    SECTION("sendToClient goes to the id's node only")
    {
        CHECK(a.manager().sendToClient(b1.socket.id(), "just b1", "client"));
        expectData(*b1, "client", "just b1");
        marker(9);
        CHECK(a.backplane->received("finch:node:0000000b") == 0);
        CHECK(b.backplane->received("finch:node:0000000b") == 1);
        // An id of a node that does not exist, and one of this node that is not open.
        CHECK_FALSE(a.manager().sendToClient("0000000c" + b1.socket.id().substr(8), "nobody", "client"));
        CHECK_FALSE(a.manager().sendToClient("0000000a" + b1.socket.id().substr(8), "nobody", "client"));
        CHECK_FALSE(a.manager().sendToClient("not an id", "nobody", "client"));
        // The length of an id, its node's prefix, but not hexadecimal: never published.
        CHECK_FALSE(a.manager().sendToClient("0000000b" + std::string(31, 'f') + "\n", "nobody", "client"));
        CHECK_FALSE(a.manager().sendToClient("0000000b" + std::string(31, 'f') + " ", "nobody", "client"));
    }
    SECTION("closeClient closes a connection of another node")
    {
        CHECK(a.manager().closeClient(b2.socket.id(), finch::CloseCode{4000}, "moved"));
        const auto reason = b2->expectClose();
        CHECK(reason.code == 4000);
        CHECK(reasonText(reason) == "moved");
        REQUIRE(b.server.waitDisconnected(b2.socket.id()));
        // The room and the user go with it, and the other node's counts follow.
        REQUIRE(clusterSettles(*broker, [&] { return a.manager().countClients() == 3 && a.manager().countRoom("r") == 1; }));
        CHECK_FALSE(b.backplane->subscribed("finch:room:r"));
        CHECK_FALSE(b.backplane->subscribed("finch:user:carol"));
        // A code Socket::close refuses is refused here too.
        CHECK_FALSE(a.manager().closeClient(b1.socket.id(), finch::CloseCode{1005}));
    }
}

TEST_CASE("cluster: a node that stops leaves the counts at once, a silent one after its timeout", "[cluster]")
{
    const auto broker = std::make_shared<MemoryBroker>();
    ClusterTestNode a(broker, "0000000a");
    auto b = std::make_unique<ClusterTestNode>(broker, "0000000b");
    ClusterTestNode c(broker, "0000000c");
    auto a1 = a.connect("alice");
    std::optional<ClusterTestNode::Connected> b1 = b->connect("bob");
    auto c1 = c.connect("carol");
    REQUIRE(clusterSettles(*broker, [&] { return a.manager().countClients() == 3 && a.manager().countUsers() == 3; }));

    b->manager().stop();
    (*b1)->expectClose();
    REQUIRE(clusterSettles(*broker, [&] { return a.manager().countClients() == 2; }));
    b1.reset();  // its socket handle must not outlive B's io_context
    b.reset();

    // C loses its broker: it neither reports nor hears, and A forgets it
    // after nodeTimeout. Local delivery goes on meanwhile, on both sides.
    c.backplane->setOnline(false);
    CHECK(c.manager().sendToAll("local only", "all") == 1);
    expectData(*c1, "all", "local only");
    REQUIRE(clusterSettles(*broker, [&] { return a.manager().countClients() == 1 && a.manager().countUsers() == 1; }));
    CHECK(a.manager().sendToAll("to a", "all") == 1);
    expectData(*a1, "all", "to a");
    // What C published meanwhile was dropped, and it said so.
    REQUIRE(c.events.waitFor([](const std::vector<finch::BackplaneEvent>& events) {
        return !events.empty() && events.back().status == finch::BackplaneStatus::disconnected;
    }));

    // Back online, C reports again and is counted again.
    c.backplane->setOnline(true);
    REQUIRE(clusterSettles(*broker, [&] { return a.manager().countClients() == 2; }));
    a.manager().sendToAll("both again", "all");
    expectData(*a1, "all", "both again");
    expectData(*c1, "all", "both again");
}

namespace {
// What a getAllClientsKeys or getRoomClients of the cluster calls back with.
struct ClusterIdsAnswer {
    std::vector<std::string> ids;
    bool complete = false;
};

template <class Ask>
ClusterIdsAnswer askCluster(Ask ask)
{
    auto promise = std::make_shared<std::promise<ClusterIdsAnswer>>();
    auto future = promise->get_future();
    ask([promise](std::vector<std::string> ids, bool complete) {
        std::sort(ids.begin(), ids.end());
        promise->set_value({std::move(ids), complete});
    });
    REQUIRE(future.wait_for(waitLimit) == std::future_status::ready);
    return future.get();
}
}  // namespace

TEST_CASE("cluster: getAllClientsKeys and getRoomClients gather every node's ids, or what came in time", "[cluster]")
{
    const auto broker = std::make_shared<MemoryBroker>();
    ClusterTestNode a(broker, "0000000a");
    ClusterTestNode b(broker, "0000000b");
    // C reports rarely, so that it stays in the others' counts while it is cut off below.
    ClusterTestNode c(broker, "0000000c", {}, std::chrono::seconds(10));
    auto a1 = a.connect("");
    auto b1 = b.connect("");
    auto b2 = b.connect("");
    auto c1 = c.connect("");
    REQUIRE(a1.socket.join("r"));
    REQUIRE(c1.socket.join("r"));
    REQUIRE(clusterSettles(*broker, [&] { return a.manager().countClients() == 4 && a.manager().countRoom("r") == 2; }));

    std::vector<std::string> everyone{a1.socket.id(), b1.socket.id(), b2.socket.id(), c1.socket.id()};
    std::sort(everyone.begin(), everyone.end());
    auto all = askCluster([&](auto done) { a.manager().getAllClientsKeys(done); });
    CHECK(all.complete);
    CHECK(all.ids == everyone);
    auto room = askCluster([&](auto done) { b.manager().getRoomClients("r", done); });
    CHECK(room.complete);
    std::vector<std::string> members{a1.socket.id(), c1.socket.id()};
    std::sort(members.begin(), members.end());
    CHECK(room.ids == members);
    CHECK(askCluster([&](auto done) { a.manager().getRoomClients("nobody's", done); }).ids.empty());

    // C cannot answer: A gets the others' ids when the timeout comes, and says so.
    c.backplane->setOnline(false);
    all = askCluster([&](auto done) { a.manager().getAllClientsKeys(done, std::chrono::milliseconds(200)); });
    CHECK_FALSE(all.complete);
    std::vector<std::string> reachable{a1.socket.id(), b1.socket.id(), b2.socket.id()};
    std::sort(reachable.begin(), reachable.end());
    CHECK(all.ids == reachable);
}

TEST_CASE("cluster: a manager without a cluster answers the cluster's queries with its own ids", "[cluster]")
{
    TestServer server;
    server.start();
    TestClient client(server.port());
    const auto socket = server.waitConnection(0);
    REQUIRE(socket.join("r"));
    CHECK(askCluster([&](auto done) { server.manager().getAllClientsKeys(done); }).ids ==
        std::vector<std::string>{socket.id()});
    const auto room = askCluster([&](auto done) { server.manager().getRoomClients("r", done); });
    CHECK(room.complete);
    CHECK(room.ids == std::vector<std::string>{socket.id()});
    CHECK(server.manager().nodeId().empty());
}

TEST_CASE("cluster: a remote send is framed in each receiver's encoding, with its client id", "[cluster]")
{
    const auto broker = std::make_shared<MemoryBroker>();
    finch::Options options;
    options.includeClientId = true;
    options.encodings = {finch::Encoding::json, finch::Encoding::msgpack};
    ClusterTestNode a(broker, "0000000a", options);
    ClusterTestNode b(broker, "0000000b", options);
    auto asJson = b.connect("");
    auto asMsgpack =
        b.connect("", {{"Sec-WebSocket-Protocol", std::string(finch::subprotocolOf(finch::Encoding::msgpack))}});
    REQUIRE(clusterSettles(*broker, [&] { return a.manager().countClients() == 2; }));

    const json data{{"n", 1}, {"text", "\u00e9t\u00e9"}, {"list", {1, 2.5, nullptr}}};
    CHECK(a.manager().sendToAll(data, "all", 201) == 0);
    const json fromJson = json::parse(asJson->receiveText());
    CHECK_FALSE(asJson->stream().got_binary());
    const std::string packed = asMsgpack->receiveText();
    CHECK(asMsgpack->stream().got_binary());
    const json fromMsgpack = json::from_msgpack(packed);
    for (const auto& [message, socket] : {std::pair{fromJson, asJson.socket}, std::pair{fromMsgpack, asMsgpack.socket}}) {
        INFO(message.dump());
        CHECK(message["client"] == socket.id());
        CHECK(message["path"] == "all");
        CHECK(message["status"] == 201);
        CHECK(message["data"] == data);
    }
}

TEST_CASE("cluster: joinCluster refuses what it cannot honour", "[cluster]")
{
    const auto broker = std::make_shared<MemoryBroker>();
    TestServer server;
    auto& manager = server.create();
    const auto backplane = MemoryBackplane::make(broker, server.threads.context.get_executor());
    CHECK_THROWS_AS(manager.joinCluster(nullptr), std::invalid_argument);
    finch::ClusterOptions options;
    options.app = "with:colon";
    CHECK_THROWS_AS(manager.joinCluster(backplane, options), std::invalid_argument);
    options.app = "finch";
    options.nodeId = "ABCDEF01";
    CHECK_THROWS_AS(manager.joinCluster(backplane, options), std::invalid_argument);
    options.nodeId = "abc";
    CHECK_THROWS_AS(manager.joinCluster(backplane, options), std::invalid_argument);
    options.nodeId.clear();
    options.nodeTimeout = options.reportInterval;
    CHECK_THROWS_AS(manager.joinCluster(backplane, options), std::invalid_argument);
    CHECK(manager.nodeId().empty());

    // After listen(), the connection ids could no longer carry the node.
    manager.listen(loopback());
    CHECK_THROWS_AS(manager.joinCluster(backplane), std::logic_error);
    CHECK(manager.nodeId().empty());
}
