#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"
#include "support/worker_threads.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

// Connection churn: thousands of short connections that end in every way a
// client can end one, while other threads broadcast, send to users and count.
// Afterwards every onConnect has had its onDisconnect and the manager counts
// nobody. The test runs in a process of its own (one ctest test per case), so
// under scripts/test.sh asan a connection or buffer that is never freed fails
// it at exit (LeakSanitizer), and under tsan so does a race between ending a
// connection and sending to it.

using namespace finch::test;
using nlohmann::json;

namespace {

// What the root's onConnect and onDisconnect saw, per connection id.
class Lifecycles {
public:
    void connected(const std::string& id)
    {
        {
            std::lock_guard lock(mutex_);
            if (++entries_[id].connects != 1)
                anomaly("onConnect twice for " + id);
            ++connects_;
        }
        changed_.notify_all();
    }

    void disconnected(const std::string& id)
    {
        {
            std::lock_guard lock(mutex_);
            const auto found = entries_.find(id);
            if (found == entries_.end() || found->second.connects != 1)
                anomaly("onDisconnect without onConnect for " + id);
            else if (++found->second.disconnects != 1)
                anomaly("onDisconnect twice for " + id);
            ++disconnects_;
        }
        changed_.notify_all();
    }

    // Waits until at least `count` connections connected and every one that
    // connected has disconnected; false if that did not happen within `limit`.
    bool waitAllEnded(std::size_t count, std::chrono::seconds limit)
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return connects_ >= count && disconnects_ == connects_; });
    }

    std::size_t connects() const
    {
        std::lock_guard lock(mutex_);
        return connects_;
    }

    std::size_t disconnects() const
    {
        std::lock_guard lock(mutex_);
        return disconnects_;
    }

    std::size_t ids() const
    {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

    // Connections whose onConnect and onDisconnect did not both run exactly once.
    std::size_t unbalanced() const
    {
        std::lock_guard lock(mutex_);
        std::size_t count = 0;
        for (const auto& entry : entries_)
            if (entry.second.connects != 1 || entry.second.disconnects != 1)
                ++count;
        return count;
    }

    std::size_t anomalies() const
    {
        std::lock_guard lock(mutex_);
        return anomalies_;
    }

    std::string firstAnomaly() const
    {
        std::lock_guard lock(mutex_);
        return firstAnomaly_;
    }

private:
    struct Entry {
        int connects = 0;
        int disconnects = 0;
    };

    void anomaly(const std::string& what)  // mutex_ held
    {
        if (anomalies_++ == 0)
            firstAnomaly_ = what;
    }

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::unordered_map<std::string, Entry> entries_;
    std::size_t connects_ = 0;
    std::size_t disconnects_ = 0;
    std::size_t anomalies_ = 0;
    std::string firstAnomaly_;
};

// How many client connections have ended, for the noise threads to pace
// themselves by: a fixed number of manager calls per ended connection keeps the
// outgoing traffic proportional to the churn, without a sleep.
class Progress {
public:
    void advance()
    {
        {
            std::lock_guard lock(mutex_);
            ++ended_;
        }
        changed_.notify_all();
    }

    void finish()
    {
        {
            std::lock_guard lock(mutex_);
            finished_ = true;
        }
        changed_.notify_all();
    }

    // Waits until more than `count` connections have ended; false once the
    // churn is over or nothing happened within the wait limit.
    bool waitBeyond(std::size_t count)
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, waitLimit, [&] { return finished_ || ended_ > count; });
        return !finished_ && ended_ > count;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t ended_ = 0;
    bool finished_ = false;
};

// The ways a client ends its connection.
enum class Ending {
    // Reads its answers, then a closing handshake.
    cleanClose,
    // Half of a frame, then a TCP reset (SO_LINGER 0).
    resetMidFrame,
    // Half of a frame, then a plain close of the socket (FIN, no handshake).
    dropMidFrame,
    // Leaves the server's answers unread and closes the socket: the kernel
    // answers them with a reset.
    dropUnread,
    // Asks the server to close it, and starts its own closing handshake at the
    // same time, without reading.
    closeBothWays,
};
constexpr int endingCount = 5;

// The echo reply to `data`, skipping the broadcasts and user messages that the
// noise threads send in between.
void expectEchoAmongNoise(TestClient& client, int data)
{
    // Bounded: the noise threads send a fixed number of messages per
    // connection that ends, so far fewer than this can come first.
    for (int skipped = 0; skipped < 100000; ++skipped) {
        const json message = client.receive();
        if (message["path"] != "echo")
            continue;
        if (message["data"] != data)
            throw std::runtime_error("echo of " + std::to_string(data) + " answered " + message.dump());
        return;
    }
    throw std::runtime_error("no echo among the noise");
}

// One connection; `upgraded` counts it once its handshake went through, which
// is when an onConnect (and so an onDisconnect) is owed.
void runClient(
    unsigned short port, const std::string& target, Ending ending, int serial, std::atomic<std::size_t>& upgraded)
{
    TestClient client(port, target);
    ++upgraded;
    client.send({{"path", "echo"}, {"data", serial}});
    client.sendText("not json");
    const std::string frame = maskedFrame(R"({"path":"echo","data":"cut short"})");
    switch (ending) {
    case Ending::cleanClose:
        expectEchoAmongNoise(client, serial);
        client.close();
        break;
    case Ending::resetMidFrame:
        client.sendRaw(frame.substr(0, frame.size() / 2));
        client.reset();
        break;
    case Ending::dropMidFrame:
        client.sendRaw(frame.substr(0, frame.size() / 2));
        client.abort();
        break;
    case Ending::dropUnread:
        client.send({{"path", "echo"}, {"data", serial + 1}});
        client.abort();
        break;
    case Ending::closeBothWays:
        client.send({{"path", "quit"}});
        client.close();
        break;
    }
}

}  // namespace

TEST_CASE("connection churn: every connection ends exactly once and the manager counts nobody afterwards",
    "[churn][threading]")
{
    constexpr int serverThreadCount = 4;
    constexpr int clientThreadCount = 4;
    constexpr int connectionsPerThread = 500;
    constexpr std::size_t connectionCount = clientThreadCount * connectionsPerThread;
    constexpr int userCount = 5;
    // Manager calls of each noise thread per connection that ends.
    constexpr std::size_t callsPerConnection = 2;
    const auto allEndedLimit = 3 * waitLimit;

    Lifecycles lifecycles;
    ServerThreads threads(serverThreadCount);
    finch::SocketEvent root;
    root.onConnect = [&](finch::Socket& socket) { lifecycles.connected(socket.id()); };
    root.onDisconnect = [&](finch::Socket& socket) { lifecycles.disconnected(socket.id()); };
    finch::SocketEvent quit;
    quit.onMessage = [](finch::Socket& socket, const json&) { socket.close(finch::CloseCode::normal, "bye"); };
    std::optional<finch::SocketManager> manager;
    manager.emplace(threads.context, root, finch::SocketManager::Routes{{"echo", echoEvent()}, {"quit", quit}});
    // Whatever happens below, the io_context's threads stop before the manager goes.
    struct StopFirst {
        ServerThreads& threads;
        ~StopFirst() { threads.join(); }
    } stopFirst{threads};
    manager->listen(loopback());
    // Half the connections come through the application's own HTTP server,
    // with a user id: requestHandle, and the registry's per-user lists.
    std::optional<AppServer> app(std::in_place, threads.context, *manager, AppServer::Handoff::socket);
    const unsigned short listenPort = manager->port();
    const unsigned short appPort = app->port();

    Failures failures;
    Progress progress;
    std::atomic<std::size_t> upgraded{0};
    std::vector<std::thread> noise;
    noise.push_back(worker(failures, [&] {
        for (std::size_t call = 0; progress.waitBeyond(call / callsPerConnection); ++call) {
            if (manager->sendToAll({{"call", call}}, "news") > connectionCount)
                throw std::runtime_error("sendToAll reached more clients than ever connected");
            if (manager->countClients() > connectionCount)
                throw std::runtime_error("countClients above the number of connections");
        }
    }));
    noise.push_back(worker(failures, [&] {
        for (std::size_t call = 0; progress.waitBeyond(call / callsPerConnection); ++call) {
            const std::string user = "u" + std::to_string(call % userCount);
            if (manager->sendToUser(user, {{"call", call}}, "user") > connectionCount)
                throw std::runtime_error("sendToUser reached more clients than ever connected");
            if (manager->countUsers() > static_cast<std::size_t>(userCount))
                throw std::runtime_error("countUsers above the number of user ids in use");
            for (const auto& id : manager->getAllClientsKeys())
                manager->sendToClient(id, "direct", "direct");
        }
    }));

    std::vector<std::thread> clients;
    for (int t = 0; t < clientThreadCount; ++t) {
        clients.push_back(worker(failures, [&, t] {
            for (int i = 0; i < connectionsPerThread; ++i) {
                const int serial = t * connectionsPerThread + i;
                const bool withUser = serial % 2 == 0;
                const auto ending = static_cast<Ending>((serial / 2) % endingCount);
                try {
                    runClient(withUser ? appPort : listenPort,
                        withUser ? "/ws?user=u" + std::to_string(serial % userCount) : "/ws", ending, serial, upgraded);
                } catch (const std::exception& e) {
                    failures.add("connection " + std::to_string(serial) + ": " + e.what());
                }
                progress.advance();
            }
        }));
    }
    joinAll(clients);
    progress.finish();
    joinAll(noise);
    INFO(failures.first());
    REQUIRE(failures.count() == 0);
    REQUIRE(upgraded == connectionCount);

    // The deterministic end: every connection's onDisconnect has run.
    INFO(lifecycles.firstAnomaly());
    REQUIRE(lifecycles.waitAllEnded(connectionCount, allEndedLimit));
    CHECK(lifecycles.anomalies() == 0);
    CHECK(lifecycles.connects() == connectionCount);
    CHECK(lifecycles.ids() == connectionCount);
    CHECK(lifecycles.unbalanced() == 0);

    // Each connection leaves the registry right after its onDisconnect
    // returns, on its own strand: once the io_context has run out of work,
    // every one of them has. stop() only closes the listener here (nobody is
    // left to close), which lets the io_context run out of work.
    app.reset();
    manager->stop();
    REQUIRE(threads.drainFor(allEndedLimit));
    CHECK(manager->countClients() == 0);
    CHECK(manager->countUsers() == 0);
    CHECK(manager->getAllClientsKeys().empty());
    CHECK(lifecycles.disconnects() == connectionCount);
}
