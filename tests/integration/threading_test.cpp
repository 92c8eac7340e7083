#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/client_frames.hpp"
#include "support/test_server.hpp"
#include "support/worker_threads.hpp"

#include <array>
#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// A manager whose io_context runs on 4 threads, used from foreign threads
// (see support/worker_threads.hpp for how workers report failures).

using namespace finch::test;
using nlohmann::json;

TEST_CASE("with 4 threads, one connection's callbacks never overlap and its messages arrive in order", "[threading]")
{
    constexpr int clientCount = 8;
    constexpr int messageCount = 200;

    struct Track {
        std::atomic<bool> inside{false};
        std::atomic<int> last{-1};
    };
    std::mutex tracksMutex;
    std::map<std::string, std::shared_ptr<Track>> tracks;
    std::atomic<int> overlaps{0};
    std::atomic<int> outOfOrder{0};
    const auto track = [&](const std::string& id) {
        std::lock_guard lock(tracksMutex);
        auto& entry = tracks[id];
        if (!entry)
            entry = std::make_shared<Track>();
        return entry;
    };
    // Marks a callback of `socket` as running for the scope of the returned guard.
    const auto enter = [&](const finch::Socket& socket) {
        auto entry = track(socket.id());
        if (entry->inside.exchange(true))
            ++overlaps;
        return std::shared_ptr<Track>(entry.get(), [entry](Track*) { entry->inside = false; });
    };

    TestServer server(4);
    finch::SocketEvent root;
    root.onConnect = [&](finch::Socket& socket) { const auto inside = enter(socket); };
    root.onDisconnect = [&](finch::Socket& socket) { const auto inside = enter(socket); };
    root.onError = [&](finch::Socket& socket, const finch::Error&) { const auto inside = enter(socket); };
    finch::SocketEvent seq;
    seq.onMessage = [&](finch::Socket& socket, const json& message) {
        const auto inside = enter(socket);
        const int n = message["data"].get<int>();
        if (n != inside->last + 1)
            ++outOfOrder;
        inside->last = n;
        socket.send(n, "ack");
        server.manager().countClients();
    };
    server.start(root, {{"seq", seq}});

    Failures failures;
    std::vector<std::thread> clients;
    for (int c = 0; c < clientCount; ++c) {
        clients.push_back(worker(failures, [&] {
            TestClient client(server.port());
            for (int i = 0; i < messageCount; ++i)
                client.send({{"path", "seq"}, {"data", i}});
            for (int i = 0; i < messageCount; ++i) {
                const json ack = client.receive();
                if (ack["path"] != "ack" || ack["data"] != i)
                    throw std::runtime_error("expected ack " + std::to_string(i) + ", got " + ack.dump());
            }
            client.close();
        }));
    }
    joinAll(clients);
    INFO(failures.first());
    REQUIRE(failures.count() == 0);
    REQUIRE(server.disconnected.waitForCount(clientCount));

    CHECK(overlaps == 0);
    CHECK(outOfOrder == 0);
    std::lock_guard lock(tracksMutex);
    CHECK(tracks.size() == clientCount);
    for (const auto& entry : tracks)
        CHECK(entry.second->last == messageCount - 1);
    CHECK(server.errors.size() == 0);
}

TEST_CASE(
    "sendToAll from 3 foreign threads: every client gets every message once, in each sender's order", "[threading]")
{
    constexpr std::size_t clientCount = 5;
    constexpr int senderCount = 3;
    constexpr int messageCount = 200;

    TestServer server(4);
    auto& manager = server.start();
    std::vector<std::unique_ptr<TestClient>> clients;
    for (std::size_t i = 0; i < clientCount; ++i)
        clients.push_back(std::make_unique<TestClient>(server.port()));
    server.waitConnection(clientCount - 1);

    Failures failures;
    std::atomic<int> shortBroadcasts{0};
    std::vector<std::thread> receivers;
    for (auto& client : clients) {
        receivers.push_back(worker(failures, [&client] {
            std::array<int, senderCount> next{};
            for (int received = 0; received < senderCount * messageCount; ++received) {
                const json message = client->receive();
                const int sender = message["data"]["t"].get<int>();
                const int i = message["data"]["i"].get<int>();
                if (sender < 0 || sender >= senderCount || i != next[static_cast<std::size_t>(sender)]++)
                    throw std::runtime_error("out of order or repeated: " + message.dump());
            }
        }));
    }
    std::vector<std::thread> senders;
    for (int t = 0; t < senderCount; ++t) {
        senders.push_back(worker(failures, [&manager, &shortBroadcasts, t] {
            for (int i = 0; i < messageCount; ++i)
                if (manager.sendToAll({{"t", t}, {"i", i}}, "broadcast") != clientCount)
                    ++shortBroadcasts;
        }));
    }
    joinAll(senders);
    joinAll(receivers);
    INFO(failures.first());
    REQUIRE(failures.count() == 0);
    CHECK(shortBroadcasts == 0);

    // Nothing more than that arrived.
    CHECK(manager.sendToAll("end", "end") == clientCount);
    for (auto& client : clients)
        CHECK(client->receive()["path"] == "end");
}

TEST_CASE("manager queries from foreign threads while clients connect and disconnect", "[threading]")
{
    constexpr int connectorCount = 4;
    constexpr int clientsPerConnector = 5;
    constexpr std::size_t total = connectorCount * clientsPerConnector;

    TestServer server(4);
    finch::SocketEvent echo;
    echo.onMessage = [](finch::Socket& socket, const json& message) { socket.send(message["data"], "echo"); };
    auto& manager = server.start({}, {{"echo", echo}});

    Failures failures;
    std::atomic<bool> done{false};
    std::atomic<long> queries{0};
    std::vector<std::thread> queriers;
    for (int q = 0; q < 3; ++q) {
        queriers.push_back(worker(failures, [&] {
            while (!done) {
                for (const auto& id : manager.getAllClientsKeys()) {
                    const auto socket = manager.getClient(id);
                    if (socket && socket->id() != id)
                        throw std::runtime_error("getClient(" + id + ") returned " + socket->id());
                    if (!isSocketId(id))
                        throw std::runtime_error("bad key " + id);
                    manager.sendToClient(id, "ping", "ping");
                }
                if (manager.countClients() > total)
                    throw std::runtime_error("more clients than ever connected");
                if (manager.countUsers() != 0)
                    throw std::runtime_error("users without requestHandle");
                ++queries;
                std::this_thread::yield();
            }
        }));
    }

    std::vector<std::thread> connectors;
    for (int c = 0; c < connectorCount; ++c) {
        connectors.push_back(worker(failures, [&, c] {
            for (int k = 0; k < clientsPerConnector; ++k) {
                TestClient client(server.port());
                const int data = c * 100 + k;
                client.send({{"path", "echo"}, {"data", data}});
                json reply = client.receive();
                while (reply["path"] == "ping")  // the queriers' messages may come first
                    reply = client.receive();
                if (reply["path"] != "echo" || reply["data"] != data)
                    throw std::runtime_error("bad echo " + reply.dump());
                client.close();
            }
        }));
    }
    joinAll(connectors);
    const bool allEnded = server.disconnected.waitForCount(total);
    done = true;
    joinAll(queriers);
    INFO(failures.first());
    REQUIRE(failures.count() == 0);
    REQUIRE(allEnded);
    CHECK(queries > 0);
    CHECK(server.connected.size() == total);
    CHECK(server.disconnected.size() == total);

    // Once the server is out of work, nothing is left counted.
    manager.stop();
    REQUIRE(server.threads.drainFor());
    CHECK(manager.countClients() == 0);
    CHECK(manager.getAllClientsKeys().empty());
}

TEST_CASE(
    "sends from foreign threads write beside the connection's own reads and echoes, and lose nothing", "[threading]")
{
    // Plain TCP lets a sender write at once, off the strand, while the strand
    // reads (TcpTransport::sendsBesideReceive); under ThreadSanitizer this is
    // where a race between the two would show.
    constexpr int senderCount = 3;
    constexpr int perSender = 300;
    constexpr int echoCount = 300;

    TestServer server(2);
    server.start({}, echoRoutes());
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    Failures failures;
    std::vector<std::thread> senders;
    for (int t = 0; t < senderCount; ++t) {
        senders.push_back(worker(failures, [socket, t] {
            for (int i = 0; i < perSender; ++i)
                if (!socket.send({{"t", t}, {"i", i}}, "pushed"))
                    throw std::runtime_error("a send was refused on an open connection");
        }));
    }
    std::string echoes;
    for (int i = 0; i < echoCount; ++i)
        echoes += maskedFrame(json{{"path", "echo"}, {"data", i}}.dump());
    // In pieces, so that the strand reads while the senders write.
    for (std::size_t offset = 0; offset < echoes.size(); offset += 997)
        client.sendRaw(echoes.substr(offset, 997));

    std::array<int, senderCount> next{};
    int nextEcho = 0;
    for (int received = 0; received < senderCount * perSender + echoCount; ++received) {
        const json message = client.receive();
        if (message["path"] == "echo") {
            CHECK(message["data"] == nextEcho++);
        } else {
            const auto t = message["data"]["t"].get<std::size_t>();
            REQUIRE(t < next.size());
            CHECK(message["data"]["i"] == next[t]++);
        }
    }
    joinAll(senders);
    INFO(failures.first());
    CHECK(failures.count() == 0);
    CHECK(nextEcho == echoCount);
    CHECK(server.errors.size() == 0);
}

TEST_CASE("a handler that re-enters the io_context does not overwrite the rest of its connection's read", "[threading]")
{
    // One server thread: the handler's poll() runs another connection's read
    // on the thread whose read buffer still holds this connection's next message.
    TestServer server(1);
    std::promise<void> otherSent;
    auto sent = otherSent.get_future();
    finch::SocketEvent reenter;
    reenter.onMessage = [&](finch::Socket&, const json&) {
        if (sent.wait_for(waitLimit) == std::future_status::ready)
            server.threads.context.poll();
    };
    auto routes = echoRoutes();
    routes.emplace("reenter", reenter);
    server.start({}, routes);
    TestClient other(server.port());
    TestClient client(server.port());
    server.waitConnection(1);

    client.sendRaw(maskedFrame(R"({"path":"reenter"})") +
        maskedFrame(json{{"path", "echo"}, {"data", "the rest of the read"}}.dump()));
    other.sendRaw(textFrame(json{{"path", "echo"}, {"data", std::string(30000, 'o')}}.dump()));
    otherSent.set_value();
    CHECK(client.receive()["data"] == "the rest of the read");
    CHECK(other.receive()["data"] == std::string(30000, 'o'));
    CHECK(server.errors.size() == 0);
}
