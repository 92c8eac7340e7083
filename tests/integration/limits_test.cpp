#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/client_frames.hpp"
#include "support/lists.hpp"
#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// Every limit of finch::Options, crossed on purpose: the exact close code or
// HTTP status the client sees, what the application is told, and that the
// other connections do not notice. (Their defaults are held to the README in
// tests/unit/options_test.cpp.)

using namespace finch::test;
using nlohmann::json;

namespace {

bool hasError(TestServer& server, const std::string& id, const boost::system::error_code& code)
{
    return server.errors.waitFor(
        [&](const std::vector<ErrorEvent>& errors) { return countErrors(errors, id, code) > 0; });
}

// bufferedAmount() once the server thread has handled the completions of
// writes whose bytes the client already has: those completions are queued on
// the io_context, so a bounded number of round trips through it sees them.
std::size_t settledBufferedAmount(TestServer& server, const finch::Socket& socket)
{
    std::size_t amount = 0;
    for (int trip = 0; trip < 1000; ++trip) {
        amount = server.onServerThread([&] { return socket.bufferedAmount(); });
        if (amount == 0)
            break;
    }
    return amount;
}

}  // namespace

TEST_CASE("a message over the default 1 MiB closes that connection with 1009 and no other", "[limits]")
{
    TestServer server;
    server.start({}, echoRoutes());
    TestClient other(server.port());
    server.waitConnection(0);
    TestClient big(server.port());
    const finch::Socket bigSocket = server.waitConnection(1);

    // Just under the limit passes (the envelope's own bytes count too).
    const std::string fits(1024 * 1024 - 64, 'x');
    big.send({{"path", "echo"}, {"data", fits}});
    CHECK(big.receive()["data"] == fits);

    big.send({{"path", "echo"}, {"data", std::string(1024 * 1024, 'x')}});
    CHECK(big.expectClose().code == websocket::close_code::too_big);
    REQUIRE(server.waitDisconnected(bigSocket.id()));
    CHECK(countErrors(server.errors.snapshot(), bigSocket.id(), finch::ErrorCode::messageTooBig) == 1);
    expectEcho(other, "still here");
}

TEST_CASE("an upgrade request whose head passes maxHeaderBytes gets 431 and no connection", "[limits][http]")
{
    TestServer server;
    SECTION("the default, 8 KiB")
    {
        server.start();
        CHECK(upgradeRequest(server.port(), "/ws", {{"X-Padding", std::string(7 * 1024, 'a')}}).result_int() == 101);
        const auto refused = upgradeRequest(server.port(), "/ws", {{"X-Padding", std::string(9 * 1024, 'a')}});
        CHECK(refused.result_int() == 431);
    }
    SECTION("a smaller limit")
    {
        finch::Options options;
        options.maxHeaderBytes = 1024;
        server.start({}, {}, options);
        CHECK(upgradeRequest(server.port(), "/ws", {{"X-Padding", std::string(2000, 'a')}}).result_int() == 431);
        CHECK(upgradeRequest(server.port()).result_int() == 101);
    }
    // Only the short requests were upgraded.
    CHECK(server.connected.waitForCount(1));
    CHECK(server.connected.size() == 1);
}

TEST_CASE("a request the HTTP parser refuses gets 400", "[limits][http]")
{
    TestServer server;
    server.start();
    const RawExchange exchange = rawExchange(server.port(), "GET /ws HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n");
    CHECK(exchange.received.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(server.connected.size() == 0);
}

TEST_CASE(
    "a client that trickles its upgrade request is closed at handshakeTimeout, without an answer", "[limits][http]")
{
    TestServer server;
    finch::Options options;
    options.handshakeTimeout = std::chrono::milliseconds(300);
    server.start({}, {}, options);

    // One header line every 20 ms, each of which would renew a per-read
    // deadline; the server must drop the connection long before the last.
    net::io_context context;
    beast::tcp_stream stream(context);
    net::steady_timer pace(context);
    stream.expires_after(waitLimit);
    constexpr int lineLimit = 1000;  // 20 s of trickling
    int linesSent = 0;
    std::string received;
    boost::system::error_code readEnd;
    std::array<char, 256> chunk{};
    std::function<void()> trickle = [&] {
        if (readEnd || linesSent == lineLimit)
            return;
        const std::string line =
            linesSent == 0 ? "GET /ws HTTP/1.1\r\n" : "X-Slow: " + std::to_string(linesSent) + "\r\n";
        ++linesSent;
        net::async_write(stream, net::buffer(line), [&, line](boost::system::error_code ec, std::size_t) {
            if (ec)
                return;
            pace.expires_after(std::chrono::milliseconds(20));
            pace.async_wait([&](boost::system::error_code) { trickle(); });
        });
    };
    std::function<void()> readMore = [&] {
        stream.async_read_some(net::buffer(chunk), [&](boost::system::error_code ec, std::size_t size) {
            received.append(chunk.data(), size);
            if (ec) {
                readEnd = ec;
                pace.cancel();
                return;
            }
            readMore();
        });
    };
    stream.async_connect(loopback(server.port()), [&](boost::system::error_code ec) {
        REQUIRE_FALSE(ec);
        trickle();
        readMore();
    });
    context.run();

    CHECK((readEnd == net::error::eof || readEnd == net::error::connection_reset));
    CHECK(received.empty());
    CHECK(linesSent < lineLimit);
    CHECK(server.connected.size() == 0);
}

namespace {

// Counts the pings that a client's reads answer, for another thread to wait on.
struct PingCounter {
    explicit PingCounter(TestClient& client)
    {
        client.stream().control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind != websocket::frame_type::ping)
                return;
            {
                std::lock_guard lock(mutex);
                ++pings;
            }
            changed.notify_all();
        });
    }

    int count()
    {
        std::lock_guard lock(mutex);
        return pings;
    }

    void waitFor(int target)
    {
        std::unique_lock lock(mutex);
        changed.wait_for(lock, waitLimit, [&] { return pings >= target; });
    }

    std::mutex mutex;
    std::condition_variable changed;
    int pings = 0;
};

}  // namespace

TEST_CASE("a client that answers pings stays connected, and one that does not is dropped", "[limits][keepalive]")
{
    TestServer server;
    finch::Options options;
    options.pingInterval = std::chrono::milliseconds(100);
    server.start({}, {}, options);

    SECTION("answering")
    {
        TestClient client(server.port());
        const finch::Socket socket = server.waitConnection(0);
        PingCounter pings(client);
        // The client's reads (which answer the pings) run on this thread
        // inside receiveText(); another thread ends that read with a message
        // once three pings have come and gone.
        std::thread releaser([&] {
            pings.waitFor(3);
            server.manager().sendToAll("after three pings", "done");
        });
        const json message = json::parse(client.receiveText());
        releaser.join();
        CHECK(message["data"] == "after three pings");
        CHECK(pings.count() >= 3);
        CHECK(socket.isOpen());
        CHECK(server.disconnected.size() == 0);
        CHECK(server.errors.size() == 0);
    }
    SECTION("silent")
    {
        TestClient client(server.port());  // never reads, so never answers a ping
        const finch::Socket socket = server.waitConnection(0);
        REQUIRE(server.waitDisconnected(socket.id()));
        CHECK(countErrors(server.errors.snapshot(), socket.id(), beast::error::timeout) == 1);
        CHECK(countOf(server.disconnected.snapshot(), socket.id()) == 1);
        CHECK(server.settledClientCount() == 0);
        CHECK(client.readUntilEnd() != websocket::error::closed);  // dropped, not closed by handshake
    }
}

TEST_CASE("a connection that falls quiet and speaks again is heard both times", "[limits][keepalive]")
{
    // A connection that is exchanging messages reads into a block of its own;
    // a keepalive tick with no message since the previous one gives the block
    // back and the connection waits for readiness instead. Both ways of
    // reading, and the switch between them, must lose nothing.
    TestServer server;
    finch::Options options;
    options.pingInterval = std::chrono::milliseconds(100);
    server.start({}, echoRoutes(), options);
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    PingCounter pings(client);
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 20; ++i) {
            client.send({{"path", "echo"}, {"data", i}});
            REQUIRE(client.receive()["data"] == i);
        }
        // Quiet for two ticks: the second finds no message since the first.
        // The client's reads answer the pings; a message ends the wait.
        const int target = pings.count() + 2;
        std::thread releaser([&] {
            pings.waitFor(target);
            socket.send("quiet", "done");
        });
        const json message = json::parse(client.receiveText());
        releaser.join();
        CHECK(message["data"] == "quiet");
    }
    CHECK(socket.isOpen());
    CHECK(server.errors.size() == 0);
}

TEST_CASE("maxConnections: upgrades above the cap get 503 until a connection ends", "[limits][http]")
{
    TestServer server;
    finch::Options options;
    options.maxConnections = 2;
    server.start({}, echoRoutes(), options);
    TestClient first(server.port());
    const finch::Socket firstSocket = server.waitConnection(0);
    TestClient second(server.port());
    server.waitConnection(1);

    const auto refused = upgradeRequest(server.port());
    CHECK(refused.result_int() == 503);
    CHECK(server.connected.size() == 2);
    expectEcho(second, "unaffected");

    first.close();
    REQUIRE(server.waitDisconnected(firstSocket.id()));
    TestClient third(server.port());
    expectEcho(third, "admitted");
}

TEST_CASE(
    "allowedOrigins: other origins get 403, listed ones (any case) and origin-less clients connect", "[limits][http]")
{
    TestServer server;
    finch::Options options;
    options.allowedOrigins = {"https://good.example", "http://localhost:8080"};
    server.start({}, {}, options);

    CHECK(upgradeRequest(server.port(), "/ws", {{"Origin", "https://evil.example"}}).result_int() == 403);
    CHECK(upgradeRequest(server.port(), "/ws", {{"Origin", "https://good.example.evil"}}).result_int() == 403);
    CHECK(server.connected.size() == 0);
    CHECK(upgradeRequest(server.port(), "/ws", {{"Origin", "HTTPS://Good.Example"}}).result_int() == 101);
    CHECK(upgradeRequest(server.port(), "/ws", {{"Origin", "http://localhost:8080"}}).result_int() == 101);
    CHECK(upgradeRequest(server.port()).result_int() == 101);
    CHECK(server.connected.waitForCount(3));
}

TEST_CASE("requestHandle applies the same Origin and connection limits", "[limits][http]")
{
    TestServer server;
    finch::Options options;
    options.allowedOrigins = {"https://good.example"};
    options.maxConnections = 1;
    auto& manager = server.create({}, {}, options);
    AppServer app(server.threads.context, manager, AppServer::Handoff::socket);

    CHECK(upgradeRequest(app.port(), "/ws", {{"Origin", "https://evil.example"}}).result_int() == 403);
    TestClient admitted(app.port(), "/ws", {{"Origin", "https://good.example"}});
    server.waitConnection(0);
    CHECK(upgradeRequest(app.port(), "/ws", {{"Origin", "https://good.example"}}).result_int() == 503);
}

namespace {

// A broadcast flood towards two fast readers and one client that stops
// reading. The producer runs on the test thread and stays at most `window`
// messages ahead of the fast readers, so their queues stay far below the cap
// whatever the scheduling; only the stalled client's queue grows.
struct Flood {
    static constexpr int messages = 2000;
    static constexpr int window = 4;
    static constexpr std::size_t payload = 1000;
    static constexpr std::size_t cap = 16 * 1024;

    explicit Flood(finch::OverflowPolicy policy)
    {
        finch::Options options;
        options.maxQueuedBytes = cap;
        options.overflowPolicy = policy;
        options.closeTimeout = waitLimit;  // the stalled client reads only after the flood
        server.start({}, {}, options);
    }

    // Runs the flood; returns the largest bufferedAmount() seen on the
    // stalled connection after each broadcast.
    std::size_t run(TestClient& stalled, const finch::Socket& stalledSocket)
    {
        // Small kernel buffers on both ends, so the stalled client's backlog
        // lands in finch's queue after a few kilobytes.
        stalled.setReceiveBuffer(4096);
        const int fd = findTcpSocket(server.port(), stalled.localPort());
        REQUIRE(fd >= 0);
        const int sendBuffer = 4096;
        REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer) == 0);

        std::vector<std::thread> readers;
        for (int reader = 0; reader < 2; ++reader)
            readers.emplace_back([this, reader] { readAll(reader); });

        std::size_t highWater = 0;
        const std::string pad(payload, 'p');
        for (int seq = 0; seq < messages; ++seq) {
            if (!waitForReaders(seq - window))
                break;
            server.manager().sendToAll({{"seq", seq}, {"pad", pad}}, "flood");
            highWater = std::max(highWater, stalledSocket.bufferedAmount());
        }
        for (auto& thread : readers)
            thread.join();
        return highWater;
    }

    // Fast reader `index`: connects before the flood, then expects every
    // message in order.
    void readAll(int index)
    {
        try {
            TestClient& client = *fast[index];
            for (int seq = 0; seq < messages; ++seq) {
                const json message = client.receive();
                if (message["data"]["seq"] != seq) {
                    ++failures;
                    break;
                }
                {
                    std::lock_guard lock(mutex);
                    ++received[index];
                }
                changed.notify_all();
            }
        } catch (const std::exception&) {
            ++failures;
        }
        {
            std::lock_guard lock(mutex);
            received[index] = messages;  // let the producer finish either way
        }
        changed.notify_all();
    }

    bool waitForReaders(int count)
    {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, waitLimit, [&] { return received[0] >= count && received[1] >= count; });
    }

    // The stalled client's messages after the flood: sequence numbers, in order
    // of arrival, and whether a close ended them.
    static std::vector<int> drain(TestClient& client, int untilSeq, bool& closed)
    {
        std::vector<int> seqs;
        closed = false;
        while (seqs.empty() || seqs.back() != untilSeq) {
            const auto text = client.receiveOrClose();
            if (!text) {
                closed = true;
                break;
            }
            seqs.push_back(json::parse(*text)["data"]["seq"].get<int>());
        }
        return seqs;
    }

    TestServer server;
    std::unique_ptr<TestClient> fast[2];
    std::mutex mutex;
    std::condition_variable changed;
    int received[2] = {0, 0};  // guarded by mutex
    std::atomic<int> failures{0};
};

}  // namespace

TEST_CASE("slow consumer, closeConnection policy: closed with 1013, the others get every message in order",
    "[limits][backpressure]")
{
    Flood flood(finch::OverflowPolicy::closeConnection);
    TestClient stalled(flood.server.port());
    const finch::Socket stalledSocket = flood.server.waitConnection(0);
    flood.fast[0] = std::make_unique<TestClient>(flood.server.port());
    flood.fast[1] = std::make_unique<TestClient>(flood.server.port());
    flood.server.waitConnection(2);

    const std::size_t highWater = flood.run(stalled, stalledSocket);
    CHECK(flood.failures == 0);
    // Queued bytes never pass the cap; the one message being written comes on top.
    CHECK(highWater <= Flood::cap + Flood::payload + 100);
    REQUIRE(hasError(flood.server, stalledSocket.id(), finch::ErrorCode::queueOverflow));
    CHECK_FALSE(stalledSocket.isOpen());

    // What reaches the stalled client is an unbroken prefix of the flood, then 1013.
    bool closed = false;
    const std::vector<int> seqs = Flood::drain(stalled, Flood::messages - 1, closed);
    REQUIRE(closed);
    CHECK(stalled.closeReason().code == websocket::close_code::try_again_later);
    REQUIRE_FALSE(seqs.empty());
    CHECK(seqs.back() < Flood::messages - 1);
    for (std::size_t i = 0; i < seqs.size(); ++i)
        REQUIRE(seqs[i] == static_cast<int>(i));
    REQUIRE(flood.server.waitDisconnected(stalledSocket.id()));
    CHECK(countErrors(flood.server.errors.snapshot(), stalledSocket.id(), finch::ErrorCode::queueOverflow) == 1);
    CHECK(flood.server.errors.size() == 1);  // the overflow explains the end; nothing else is reported
}

TEST_CASE("slow consumer, dropOldest policy: the stalled client keeps the newest messages and its connection",
    "[limits][backpressure]")
{
    Flood flood(finch::OverflowPolicy::dropOldest);
    TestClient stalled(flood.server.port());
    const finch::Socket stalledSocket = flood.server.waitConnection(0);
    flood.fast[0] = std::make_unique<TestClient>(flood.server.port());
    flood.fast[1] = std::make_unique<TestClient>(flood.server.port());
    flood.server.waitConnection(2);

    const std::size_t highWater = flood.run(stalled, stalledSocket);
    CHECK(flood.failures == 0);
    CHECK(highWater <= Flood::cap + Flood::payload + 100);
    REQUIRE(hasError(flood.server, stalledSocket.id(), finch::ErrorCode::messagesDropped));
    CHECK(stalledSocket.isOpen());

    // In order, with a gap where messages were dropped, up to the very last one.
    bool closed = false;
    const std::vector<int> seqs = Flood::drain(stalled, Flood::messages - 1, closed);
    CHECK_FALSE(closed);
    REQUIRE(seqs.size() >= 2);
    CHECK(seqs.size() < static_cast<std::size_t>(Flood::messages));
    CHECK(std::is_sorted(seqs.begin(), seqs.end()));
    CHECK(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end());
    CHECK(seqs.back() == Flood::messages - 1);
    CHECK(settledBufferedAmount(flood.server, stalledSocket) == 0);

    stalled.close();
    REQUIRE(flood.server.waitDisconnected(stalledSocket.id()));
    for (const ErrorEvent& event : flood.server.errors.snapshot())
        CHECK(event.error.code == finch::ErrorCode::messagesDropped);
}

TEST_CASE("onConnect may send more than maxQueuedBytes: the 101 still goes first, then the message whole",
    "[limits][backpressure]")
{
    const auto policy = GENERATE(finch::OverflowPolicy::closeConnection, finch::OverflowPolicy::dropOldest);
    TestServer server;
    finch::Options options;
    options.maxQueuedBytes = 1024;
    options.overflowPolicy = policy;
    // A message alone is always taken; the 101 queued ahead of it must not
    // count as "something else", nor be dropped or cleared by the policy.
    const std::string snapshot(8 * 1024, 's');
    finch::SocketEvent root;
    root.onConnect = [&](finch::Socket& socket) { socket.send(snapshot, "snapshot"); };
    server.start(root, echoRoutes(), options);

    TestClient client(server.port());  // throws unless the handshake completes
    const json first = client.receive();
    CHECK(first["path"] == "snapshot");
    CHECK(first["data"] == snapshot);
    expectEcho(client, "still open");
    CHECK(server.errors.size() == 0);
}

TEST_CASE("a client that pings without reading pins a bounded number of pongs in the server's queue",
    "[limits][backpressure]")
{
    TestServer server;
    EventLog<std::size_t> buffered;
    finch::SocketEvent probe;
    probe.onMessage = [&](finch::Socket& socket, const json&) { buffered.push(socket.bufferedAmount()); };
    auto routes = echoRoutes();
    routes.emplace("probe", probe);
    server.start({}, routes);
    TestClient client(server.port());
    server.waitConnection(0);
    // Small kernel buffers on both ends: the pongs the client does not read
    // back up into finch's queue after a few kilobytes.
    client.setReceiveBuffer(4096);
    const int fd = findTcpSocket(server.port(), client.localPort());
    REQUIRE(fd >= 0);
    const int sendBuffer = 4096;
    REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer) == 0);

    // 4,000 pings with the largest payload allowed: half a megabyte of
    // pongs, far more than the kernel holds. The probe is handled after
    // every one of them (one connection's frames are handled in order).
    const std::string payload(125, 'p');
    std::string pings;
    for (int i = 0; i < 4000; ++i)
        pings += maskedFrameWithOpcode(0x9, payload);
    client.sendRaw(pings + maskedFrame(R"({"path":"probe"})"));
    REQUIRE(buffered.waitForCount(1));
    // Once writes block, a new pong replaces the newest waiting one: at most
    // a full batch of waiting pongs went into the write that blocked, and as
    // many wait behind it, each 2 + 125 bytes (of half a megabyte).
    CHECK(buffered.snapshot()[0] <= 2 * finch::detail::WriteQueue::maxWaitingControls * (2 + payload.size()));

    // Reading again, the client gets its pongs (Beast answers them quietly) and the connection works.
    expectEcho(client, "still answered");
    CHECK(server.errors.size() == 0);
}

TEST_CASE("bufferedAmount is 0 on an idle connection and after it ends", "[limits][backpressure]")
{
    TestServer server;
    server.start({}, echoRoutes());
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);
    expectEcho(client, "x");
    CHECK(settledBufferedAmount(server, socket) == 0);
    client.close();
    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(socket.bufferedAmount() == 0);
}

TEST_CASE("maxMessageSize 0: one message may be as large as the client likes", "[limits]")
{
    TestServer server;
    finch::Options options;
    options.maxMessageSize = 0;
    server.start({}, echoRoutes(), options);
    TestClient client(server.port());
    server.waitConnection(0);
    const std::string large(3 * 1024 * 1024, 'x');
    expectEcho(client, large);
    CHECK(server.errors.size() == 0);
}

TEST_CASE("maxIncomingBytes: a message that would pass the manager's budget closes its connection with 1013, "
          "and the others go on",
    "[limits]")
{
    TestServer server;
    finch::Options options;
    options.maxIncomingBytes = 1024 * 1024;
    server.start({}, echoRoutes(), options);
    TestClient first(server.port());
    TestClient second(server.port());
    const finch::Socket secondSocket = server.waitConnection(1);

    // 600 KiB each, sent in part: the message read first takes room for its
    // whole length from the budget; the other one no longer fits.
    const finch::Socket firstSocket = server.waitConnection(0);
    const std::string envelope = json{{"path", "echo"}, {"data", std::string(600 * 1024, 'a')}}.dump();
    const std::string frame = textFrame(envelope);
    first.sendRaw(frame.substr(0, 1000));
    second.sendRaw(frame.substr(0, 1000));
    REQUIRE(server.errors.waitFor([&](const std::vector<ErrorEvent>& errors) {
        return countErrors(errors, firstSocket.id(), finch::ErrorCode::incomingMemoryFull) +
            countErrors(errors, secondSocket.id(), finch::ErrorCode::incomingMemoryFull) >
            0;
    }));
    const bool firstRefused =
        countErrors(server.errors.snapshot(), firstSocket.id(), finch::ErrorCode::incomingMemoryFull) == 1;
    TestClient& refused = firstRefused ? first : second;
    TestClient& admitted = firstRefused ? second : first;
    CHECK(refused.expectClose().code == 1013);
    REQUIRE(server.waitDisconnected(firstRefused ? firstSocket.id() : secondSocket.id()));

    admitted.sendRaw(frame.substr(1000));
    CHECK(admitted.receive()["data"].get<std::string>().size() == 600 * 1024);
    CHECK(server.errors.size() == 1);
}

TEST_CASE("maxConnections counts a connection whose request is still being read", "[limits][http]")
{
    TestServer server;
    finch::Options options;
    options.maxConnections = 1;
    server.start({}, echoRoutes(), options);

    // A client that opens a TCP connection and says nothing holds the only slot.
    net::io_context context;
    tcp::socket silent(context);
    silent.connect(loopback(server.port()));
    const auto refused = upgradeRequest(server.port());
    CHECK(refused.result_int() == 503);
    CHECK(refused[http::field::retry_after] == "1");

    silent.close();
    // Its slot comes back once the server has seen it go; until then, 503.
    bool admitted = false;
    for (int attempt = 0; attempt < 1000 && !admitted; ++attempt)
        admitted = upgradeRequest(server.port()).result_int() == 101;
    CHECK(admitted);
}
