#include <finch/socket.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/client_frames.hpp"
#include "support/test_server.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// finch::Socket, one connection's handle: its id, how it can end (client
// close, server close, manager close/stop, a dropped TCP connection), what the
// callbacks see of countClients() on the way, handles that outlive the
// connection, post() onto the connection's strand, and messages without an
// envelope.

using namespace finch::test;
using nlohmann::json;

namespace {

// The per-connection data of the post() test: what post() protects.
struct SocketVisits {
    int count = 0;
};

using VisitsServer = BasicTestServer<SocketVisits>;

}  // namespace

TEST_CASE("socket ids are 32 lowercase hex digits, distinct, and not the client's key", "[connection]")
{
    EventLog<std::pair<std::string, std::string>> seen;  // id, Sec-WebSocket-Key
    TestServer server;
    finch::SocketEvent root;
    root.onConnect = [&](finch::Socket& socket) {
        seen.push({socket.id(), std::string(socket.request()[http::field::sec_websocket_key])});
    };
    server.start(root);

    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 5; ++i)
        clients.push_back(std::make_unique<TestClient>(server.port()));
    REQUIRE(seen.waitForCount(5));

    std::set<std::string> ids;
    for (const auto& [id, key] : seen.snapshot()) {
        INFO("id " << id << ", key " << key);
        CHECK(isSocketId(id));
        CHECK_FALSE(key.empty());
        CHECK(id != key);
        CHECK(id.find(key) == std::string::npos);
        ids.insert(id);
    }
    CHECK(ids.size() == 5);
}

TEST_CASE(
    "a client's clean close ends the connection once, and countClients counts it from onConnect through onDisconnect",
    "[connection][lifecycle]")
{
    std::atomic<long> countInConnect{-1};
    std::atomic<long> countInDisconnect{-1};
    TestServer server;
    finch::SocketEvent root;
    root.onConnect = [&](finch::Socket&) { countInConnect = static_cast<long>(server.manager().countClients()); };
    root.onDisconnect = [&](finch::Socket&) { countInDisconnect = static_cast<long>(server.manager().countClients()); };
    server.start(root, echoRoutes());

    std::optional<TestClient> client(std::in_place, server.port());
    const finch::Socket socket = server.waitConnection(0);
    CHECK(countInConnect == 1);
    expectEcho(*client, "hello");
    client->close();

    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(countInDisconnect == 1);
    CHECK(server.settledClientCount() == 0);
    CHECK(server.connected.size() == 1);
    CHECK(server.disconnected.size() == 1);
    CHECK(server.errors.size() == 0);  // a clean close is no error

    // The handle outlives the connection: identity readable, sending refused.
    CHECK(isSocketId(socket.id()));
    CHECK(socket.request().target() == "/ws");
    CHECK(socket.userId().empty());
    CHECK_FALSE(socket.isOpen());
    CHECK_FALSE(socket.send("too late", "echo"));
    CHECK_FALSE(socket.close());
    client.reset();
}

TEST_CASE(
    "socket.close(code, reason) writes the messages queued before it, then that close frame", "[connection][lifecycle]")
{
    struct Result {
        bool firstClose;
        bool secondClose;
        bool sendAfterClose;
    };
    EventLog<Result> results;
    TestServer server;
    finch::SocketEvent bye;
    bye.onMessage = [&](finch::Socket& socket, const json&) {
        socket.send(1, "queued");
        socket.send(2, "queued");
        socket.send(3, "queued");
        const bool first = socket.close(finch::CloseCode{4001}, "see you");
        const bool second = socket.close(finch::CloseCode::normal, "again");
        const bool late = socket.send(4, "queued");
        results.push({first, second, late});
    };
    server.start({}, {{"bye", bye}});

    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);
    client.send({{"path", "bye"}});
    for (int expected = 1; expected <= 3; ++expected) {
        const json message = client.receive();
        CHECK(message["path"] == "queued");
        CHECK(message["data"] == expected);
    }
    const auto reason = client.expectClose();
    CHECK(reason.code == 4001);
    CHECK(reasonText(reason) == "see you");

    REQUIRE(results.waitForCount(1));
    const Result result = results.snapshot().front();
    CHECK(result.firstClose);
    CHECK_FALSE(result.secondClose);
    CHECK_FALSE(result.sendAfterClose);

    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(server.settledClientCount() == 0);
    CHECK(server.disconnected.size() == 1);
    CHECK(server.errors.size() == 0);
    CHECK_FALSE(socket.send(5, "queued"));
    CHECK_FALSE(socket.close());
}

TEST_CASE("socket.close with Beast's close code, deprecated, sends that code", "[connection][lifecycle]")
{
    TestServer server;
    finch::SocketEvent bye;
    bye.onMessage = [&](finch::Socket& socket, const json&) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        socket.close(boost::beast::websocket::close_code::going_away, "old name");
#pragma GCC diagnostic pop
    };
    server.start({}, {{"bye", bye}});
    TestClient client(server.port());
    client.send({{"path", "bye"}});
    const auto reason = client.expectClose();
    CHECK(reason.code == 1001);
    CHECK(reasonText(reason) == "old name");
}

TEST_CASE(
    "Socket::close refuses codes a server may not send and reasons that do not fit, and stays open", "[connection]")
{
    using code = finch::CloseCode;
    TestServer server;
    EventLog<std::string> verdicts;
    finch::SocketEvent close;
    close.onMessage = [&](finch::Socket& socket, const json&) {
        std::string verdict;
        for (const auto value : {1004, 1005, 1006, 1015, 999, 2000, 5000})
            verdict += socket.close(static_cast<code>(value)) ? "closed " : "refused ";
        verdict += socket.close(code::normal, std::string(124, 'x')) ? "closed " : "refused ";
        verdict += socket.close(code::normal, "\xff") ? "closed " : "refused ";
        verdict += socket.isOpen() ? "open" : "closing";
        verdicts.push(verdict);
        socket.close(static_cast<code>(4000), std::string(123, 'x'));
    };
    server.start({}, {{"close", close}});
    TestClient client(server.port());
    client.send({{"path", "close"}});
    const auto reason = client.expectClose();
    REQUIRE(verdicts.waitForCount(1));
    CHECK(verdicts.snapshot()[0] == "refused refused refused refused refused refused refused refused refused open");
    CHECK(reason.code == 4000);
    CHECK(reasonText(reason) == std::string(123, 'x'));
}

TEST_CASE("manager.close() closes every connection with 1001 after its queued messages and keeps accepting",
    "[connection][lifecycle]")
{
    TestServer server;
    auto& manager = server.start({}, echoRoutes());

    std::vector<std::unique_ptr<TestClient>> clients;
    for (std::size_t i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<TestClient>(server.port()));
        server.waitConnection(i);
    }
    CHECK(manager.sendToAll("last words", "news") == 3);
    manager.close();
    for (auto& client : clients) {
        const json message = client->receive();
        CHECK(message["data"] == "last words");
        CHECK(client->expectClose().code == websocket::close_code::going_away);
    }
    REQUIRE(server.disconnected.waitForCount(3));
    CHECK(server.settledClientCount() == 0);
    CHECK(server.disconnected.size() == 3);
    CHECK(server.errors.size() == 0);

    TestClient late(server.port());
    server.waitConnection(3);
    expectEcho(late, "still accepting");
    CHECK(manager.countClients() == 1);
}

TEST_CASE("manager.stop() closes every connection with 1001 and stops accepting", "[connection][lifecycle]")
{
    TestServer server;
    auto& manager = server.start({}, echoRoutes());
    TestClient first(server.port());
    TestClient second(server.port());
    server.waitConnection(1);

    manager.stop();
    CHECK(first.expectClose().code == websocket::close_code::going_away);
    CHECK(second.expectClose().code == websocket::close_code::going_away);
    REQUIRE(server.disconnected.waitForCount(2));
    CHECK(server.settledClientCount() == 0);  // also a barrier: the listener's stop has run
    CHECK(server.disconnected.size() == 2);
    CHECK(server.errors.size() == 0);

    CHECK_THROWS_AS(TestClient(server.port()), std::runtime_error);
    CHECK(server.connected.size() == 2);

    // Nothing of the manager is left to run: an io_context run until it is
    // out of work returns.
    CHECK(server.threads.drainFor());
}

TEST_CASE("a client that drops the TCP connection is reported to onError with a network error, then onDisconnect",
    "[connection][lifecycle]")
{
    EventLog<std::string> order;
    TestServer server;
    finch::SocketEvent root;
    root.onError = [&](finch::Socket&, const finch::Error&) { order.push("error"); };
    root.onDisconnect = [&](finch::Socket&) { order.push("disconnect"); };
    server.start(root, echoRoutes());

    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);
    expectEcho(client, "before");

    SECTION("between messages")
    {
        client.reset();
    }
    SECTION("in the middle of a frame")
    {
        const std::string frame = maskedFrame(json{{"path", "echo"}, {"data", "never complete"}}.dump());
        client.sendRaw(frame.substr(0, frame.size() / 2));
        client.reset();
    }

    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(order.snapshot() == std::vector<std::string>{"error", "disconnect"});
    const auto errors = server.errors.snapshot();
    REQUIRE(errors.size() == 1);
    INFO(errors[0].error.code.message());
    CHECK(errors[0].id == socket.id());
    CHECK(errors[0].error.code);
    CHECK(&errors[0].error.code.category() != &finch::errorCategory());
    CHECK(errors[0].error.code != websocket::error::closed);
    CHECK_FALSE(errors[0].error.message.empty());
    CHECK(server.settledClientCount() == 0);
    CHECK(server.disconnected.size() == 1);
}

TEST_CASE("exceptions thrown by onConnect, onDisconnect and onError are contained", "[connection][errors]")
{
    TestServer server;
    finch::SocketEvent root;
    root.onConnect = [](finch::Socket& socket) {
        if (socket.request().target().find("throw-on-connect") != std::string_view::npos)
            throw std::runtime_error("connect boom");
    };
    root.onDisconnect = [](finch::Socket& socket) {
        if (socket.request().target().find("throw-on-disconnect") != std::string_view::npos)
            throw std::runtime_error("disconnect boom");
    };
    root.onError = [](finch::Socket&, const finch::Error&) { throw std::runtime_error("error boom"); };
    server.start(root, echoRoutes());

    // onConnect threw: reported, and the connection works.
    TestClient a(server.port(), "/ws?throw-on-connect");
    const finch::Socket socketA = server.waitConnection(0);
    REQUIRE(server.errors.waitForCount(1));
    {
        const auto error = server.errors.snapshot().front();
        CHECK(error.id == socketA.id());
        CHECK(error.error.code == finch::ErrorCode::handlerException);
        CHECK(error.error.message == "connect boom");
    }
    expectEcho(a, "connected anyway");

    // onDisconnect threw: reported, and the connection is still removed.
    std::optional<TestClient> b(std::in_place, server.port(), "/ws?throw-on-disconnect");
    const finch::Socket socketB = server.waitConnection(1);
    b->close();
    REQUIRE(server.waitDisconnected(socketB.id()));
    REQUIRE(server.errors.waitFor([&](const std::vector<ErrorEvent>& errors) {
        return countErrors(errors, socketB.id(), finch::ErrorCode::handlerException) == 1;
    }));
    for (const auto& error : server.errors.snapshot())
        if (error.id == socketB.id())
            CHECK(error.error.message == "disconnect boom");
    CHECK(server.settledClientCount() == 1);
    b.reset();

    // onError threw (for a bad message): the client still gets its answers.
    a.sendText("not json");
    CHECK(a.receive()["status"] == 400);
    expectEcho(a, "after a throwing onError");

    TestClient c(server.port());
    server.waitConnection(2);
    expectEcho(c, "new client");
    CHECK(server.manager().countClients() == 2);
}

TEST_CASE("accepted connections have TCP_NODELAY set", "[connection]")
{
    TestServer server;
    server.start();
    TestClient client(server.port());
    server.waitConnection(0);

    CHECK_FALSE(client.noDelay());  // the default, so the check below tells the difference
    const int fd = findTcpSocket(server.port(), client.localPort());
    REQUIRE(fd >= 0);
    CHECK(noDelayOf(fd));
}

TEST_CASE("a message over maxMessageSize closes the connection with 1009", "[connection][lifecycle]")
{
    TestServer server;
    finch::Options options;
    options.maxMessageSize = 64;
    server.start({}, echoRoutes(), options);
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);
    expectEcho(client, "small");

    client.send({{"path", "echo"}, {"data", std::string(100, 'x')}});
    CHECK(client.expectClose().code == websocket::close_code::too_big);
    REQUIRE(server.waitDisconnected(socket.id()));
    const auto errors = server.errors.snapshot();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].error.code == finch::ErrorCode::messageTooBig);
    CHECK(server.settledClientCount() == 0);
}

TEST_CASE("replies to the messages that came with the client's close frame leave before the server's close frame",
    "[connection][lifecycle]")
{
    TestServer server;
    server.start({}, echoRoutes());
    const RawExchange exchange = rawExchange(server.port(),
        upgradeRequestText(server.port()) + maskedFrame(R"({"path":"echo","data":"one"})") +
            maskedFrame(R"({"path":"echo","data":"two"})") + maskedFrameWithOpcode(0x8, std::string("\x03\xe8", 2)));
    const std::size_t headEnd = exchange.received.find("\r\n\r\n");
    REQUIRE(headEnd != std::string::npos);
    std::string frames = exchange.received.substr(headEnd + 4);
    const auto received = takeServerFrames(frames);
    REQUIRE(received.size() == 3);
    CHECK(json::parse(received[0].payload)["data"] == "one");
    CHECK(json::parse(received[1].payload)["data"] == "two");
    CHECK(received[2].opcode == 8);
    CHECK(received[2].closeCode() == 1000);
}

TEST_CASE("a protocol violation reaches onError as its own finch error, and the client gets its close code",
    "[connection][errors]")
{
    struct Case {
        const char* name;
        std::string frame;
        finch::ErrorCode error;
        unsigned short closeCode;
    };
    FrameSpec unmasked;
    unmasked.masked = false;
    FrameSpec longLength;
    longLength.length = LengthField::sixteenBits;
    const std::vector<Case> cases = {
        {"unmasked", clientFrame(unmasked, "{}"), finch::ErrorCode::unmaskedFrame, 1002},
        {"non-minimal length", clientFrame(longLength, "{}"), finch::ErrorCode::nonMinimalLength, 1002},
        {"invalid UTF-8", textFrame("{\"path\":\"\xff\"}"), finch::ErrorCode::invalidUtf8, 1007},
        {"a close code that may not be sent", closeFrame(1006), finch::ErrorCode::invalidCloseCode, 1002},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TestServer server;
        server.start({}, echoRoutes());
        TestClient client(server.port());
        const finch::Socket socket = server.waitConnection(0);
        client.sendRaw(c.frame);
        CHECK(client.expectClose().code == c.closeCode);
        REQUIRE(server.waitDisconnected(socket.id()));
        CHECK(countErrors(server.errors.snapshot(), socket.id(), c.error) == 1);
    }
}

TEST_CASE(
    "rawMessages: text and binary messages reach onRawMessage as bytes and go back as they came", "[connection][raw]")
{
    TestServer server;
    finch::SocketEvent root;
    EventLog<std::string> kinds;
    root.onRawMessage = [&](finch::Socket& socket, std::string_view data, finch::MessageKind kind) {
        kinds.push(kind == finch::MessageKind::text ? "text" : "binary");
        if (kind == finch::MessageKind::text)
            socket.sendText(data);
        else
            socket.sendBinary(data);
    };
    root.onMessage = [&](finch::Socket&, const json&) { kinds.push("envelope"); };
    finch::Options options;
    options.rawMessages = true;
    server.start(root, {}, options);
    TestClient client(server.port());
    client.sendText("not JSON at all");
    CHECK(client.receiveText() == "not JSON at all");
    CHECK(client.stream().got_text());
    const std::string bytes("\x00\x01\xff binary", 10);
    client.sendBinary(bytes);
    CHECK(client.receiveText() == bytes);
    CHECK_FALSE(client.stream().got_text());
    client.send({{"path", "echo"}, {"data", 1}});
    CHECK(client.receive()["path"] == "echo");  // an envelope is just text here
    CHECK(kinds.snapshot() == std::vector<std::string>{"text", "binary", "text"});
    CHECK(server.errors.size() == 0);
}

TEST_CASE("Socket::post runs on the connection's strand, where data() may be touched", "[connection][data]")
{
    VisitsServer server(4);
    VisitsServer::Event count;
    count.onMessage = [](VisitsServer::Socket& socket, const json& message) {
        socket.reply(message, socket.data().count);
    };
    VisitsServer::Event root;
    root.onDisconnect = [](VisitsServer::Socket& socket) { socket.data().count = -1000; };
    server.start(root, {{"count", count}});
    std::optional<TestClient> client(std::in_place, server.port());
    const VisitsServer::Socket socket = server.waitConnection(0);

    // From several threads at once: the strand makes the increments safe.
    constexpr int threadCount = 4;
    constexpr int perThread = 100;
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < threadCount; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < perThread; ++i)
                if (!socket.post([](VisitsServer::Socket& self) { ++self.data().count; }))
                    ++refused;
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(refused == 0);
    // Posted before this message was sent, so run before its handler.
    client->send({{"path", "count"}, {"id", 1}});
    CHECK(client->receive()["data"] == threadCount * perThread);

    // An exception is reported like a handler's.
    CHECK(socket.post([](VisitsServer::Socket&) { throw std::runtime_error("post boom"); }));
    REQUIRE(server.errors.waitForCount(1));
    CHECK(server.errors.snapshot()[0].error.message == "post boom");

    client->close();
    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK_FALSE(socket.post([](VisitsServer::Socket& self) { self.data().count = 1; }));
    client.reset();
    // Every callback is over: the data may be read from here.
    CHECK(socket.data().count == -1000);
}
