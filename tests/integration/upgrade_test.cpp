#include <finch/upgrade.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// The application's say before and after the upgrade: the upgrade handler
// (refusing with any status, or admitting as a user with initial data), the
// typed per-connection data and Socket::post, and route guards.

using namespace finch::test;
using nlohmann::json;
namespace http = boost::beast::http;

namespace {

struct Session {
    std::string nick;
    int visits = 0;
    bool admin = false;
};

using SessionServer = BasicTestServer<Session>;
using SessionSocket = SessionServer::Socket;
using SessionEvent = SessionServer::Event;
using SessionDecision = finch::BasicUpgradeDecision<Session>;
using SessionCompletion = finch::BasicUpgradeCompletion<Session>;

// The value of `key` in the request target's query ("/ws?nick=ann" -> "ann").
std::string queryValue(std::string_view target, std::string_view key)
{
    const auto query = target.find('?');
    if (query == std::string_view::npos)
        return {};
    std::string_view rest = target.substr(query + 1);
    while (!rest.empty()) {
        const auto end = rest.find('&');
        const auto pair = rest.substr(0, end);
        const auto equals = pair.find('=');
        if (pair.substr(0, equals) == key && equals != std::string_view::npos)
            return std::string(pair.substr(equals + 1));
        if (end == std::string_view::npos)
            break;
        rest = rest.substr(end + 1);
    }
    return {};
}

// Sends to `path` with an id and returns the answer.
json ask(TestClient& client, const std::string& path, int id, const json& data = nullptr)
{
    client.send({{"path", path}, {"id", id}, {"data", data}});
    return client.receive();
}

}  // namespace

TEST_CASE("an upgrade handler refuses with 401, a body and headers: no connection, nothing counted", "[upgrade]")
{
    std::atomic<int> asked{0};
    TestServer server;
    auto& manager = server.start();
    manager.setUpgradeHandler([&](const finch::Request& request) {
        ++asked;
        if (request.find(http::field::authorization) == request.end())
            return finch::UpgradeDecision::refuse(
                http::status::unauthorized, "who are you?\n", {{"WWW-Authenticate", "Bearer realm=\"finch\""}});
        return finch::UpgradeDecision::accept();
    });

    const auto refused = upgradeRequest(server.port());
    CHECK(refused.result_int() == 401);
    CHECK(refused.body() == "who are you?\n");
    CHECK(refused[http::field::www_authenticate] == "Bearer realm=\"finch\"");
    CHECK(refused[http::field::content_type] == "text/plain; charset=utf-8");
    CHECK(manager.countClients() == 0);

    // Other statuses, other content types.
    manager.setUpgradeHandler([](const finch::Request&) {
        return finch::UpgradeDecision::refuse(http::status::too_many_requests, R"({"retry":5})",
            {{"Content-Type", "application/json"}, {"Retry-After", "5"}});
    });
    const auto limited = upgradeRequest(server.port());
    CHECK(limited.result_int() == 429);
    CHECK(limited[http::field::content_type] == "application/json");
    CHECK(limited[http::field::retry_after] == "5");
    CHECK(json::parse(limited.body())["retry"] == 5);

    // Removing the handler admits everyone again.
    manager.setUpgradeHandler(finch::UpgradeHandler{});
    TestClient admitted(server.port());
    server.waitConnection(0);
    CHECK(asked == 1);
    CHECK(server.connected.size() == 1);
    CHECK(server.errors.size() == 0);
}

TEST_CASE("an accepting upgrade handler sets the user id and the data that onConnect sees", "[upgrade][data]")
{
    EventLog<std::string> seen;
    SessionServer server;
    SessionEvent root;
    root.onConnect = [&](SessionSocket& socket) { seen.push(socket.userId() + "/" + socket.data().nick); };
    SessionEvent visit;
    visit.onMessage = [](SessionSocket& socket, const json& message) { socket.reply(message, ++socket.data().visits); };
    auto& manager = server.start(root, {{"visit", visit}});
    manager.setUpgradeHandler([](const finch::Request& request) {
        const std::string nick = queryValue(request.target(), "nick");
        if (nick.empty())
            return SessionDecision::refuse(http::status::bad_request, "a nick, please\n");
        return SessionDecision::accept("user-" + nick, Session{nick, 0, false});
    });

    CHECK(upgradeRequest(server.port(), "/ws").result_int() == 400);
    TestClient ann(server.port(), "/ws?nick=ann");
    const SessionSocket annSocket = server.waitConnection(0);
    TestClient bob(server.port(), "/ws?nick=bob");
    server.waitConnection(1);
    CHECK(seen.snapshot() == std::vector<std::string>{"user-ann/ann", "user-bob/bob"});
    CHECK(annSocket.userId() == "user-ann");
    CHECK(manager.countUsers() == 2);

    // Each connection's data is its own, and lasts.
    CHECK(ask(ann, "visit", 1)["data"] == 1);
    CHECK(ask(ann, "visit", 2)["data"] == 2);
    CHECK(ask(bob, "visit", 3)["data"] == 1);
    CHECK(manager.sendToUser("user-ann", "hi ann", "greeting") == 1);
    CHECK(ann.receive()["data"] == "hi ann");
}

TEST_CASE(
    "an asynchronous upgrade handler decides later, from another thread, and its first decision counts", "[upgrade]")
{
    EventLog<SessionCompletion> pending;
    SessionServer server;
    const ClearOnExit clearPending(pending);
    auto& manager = server.start();
    manager.setUpgradeHandler([&](const finch::Request&, SessionCompletion done) { pending.push(std::move(done)); });

    auto refused = std::async(std::launch::async, [&] { return upgradeRequest(server.port()).result_int(); });
    REQUIRE(pending.waitForCount(1));
    const auto first = pending.snapshot()[0];
    first(SessionDecision::refuse(http::status::forbidden, "banned\n"));
    first(SessionDecision::accept("ignored"));
    REQUIRE(refused.wait_for(waitLimit) == std::future_status::ready);
    CHECK(refused.get() == 403);

    auto admitted = std::async(std::launch::async, [&] {
        auto client = std::make_unique<TestClient>(server.port());
        client->send({{"path", "missing"}});
        return client;
    });
    REQUIRE(pending.waitForCount(2));
    std::thread decider([done = pending.snapshot()[1]] {
        done(SessionDecision::accept("carol", Session{"c", 0, true}));
    });
    decider.join();
    REQUIRE(admitted.wait_for(waitLimit) == std::future_status::ready);
    const auto client = admitted.get();
    const SessionSocket socket = server.waitConnection(0);
    CHECK(socket.userId() == "carol");
    CHECK(client->receive()["status"] == 404);
    CHECK(server.connected.size() == 1);
}

TEST_CASE("an upgrade handler that never decides: the connection is closed at handshakeTimeout, unanswered",
    "[upgrade][limits]")
{
    EventLog<finch::UpgradeCompletion> pending;
    TestServer server;
    const ClearOnExit clearPending(pending);
    finch::Options options;
    options.handshakeTimeout = std::chrono::milliseconds(500);
    auto& manager = server.start({}, {}, options);
    manager.setUpgradeHandler([&](const finch::Request&, finch::UpgradeCompletion done) { pending.push(done); });

    const std::string request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    const RawExchange exchange = rawExchange(server.port(), request);
    CHECK(exchange.received.empty());
    CHECK((exchange.end == net::error::eof || exchange.end == net::error::connection_reset));
    // Asked, unless the machine was too slow to read the request before the
    // deadline, which ends the same way without asking.
    CHECK(pending.size() <= 1);

    // A decision after the deadline changes nothing.
    for (const auto& done : pending.snapshot())
        done(finch::UpgradeDecision::accept());
    CHECK(server.settledClientCount() == 0);
    CHECK(server.connected.size() == 0);
}

TEST_CASE("a throwing upgrade handler answers 500 and admits nobody", "[upgrade][errors]")
{
    TestServer server;
    auto& manager = server.start();
    SECTION("synchronous")
    {
        manager.setUpgradeHandler(
            [](const finch::Request&) -> finch::UpgradeDecision { throw std::runtime_error("db down"); });
    }
    SECTION("asynchronous, before deciding")
    {
        manager.setUpgradeHandler([](const finch::Request&, finch::UpgradeCompletion) { throw 42; });
    }
    CHECK(upgradeRequest(server.port()).result_int() == 500);
    CHECK(server.settledClientCount() == 0);
    CHECK(server.connected.size() == 0);
    CHECK(server.errors.size() == 0);
}

TEST_CASE("the Origin check comes before the upgrade handler, and a connection over the cap is refused before both",
    "[upgrade][limits]")
{
    std::atomic<int> asked{0};
    TestServer server;
    finch::Options options;
    options.allowedOrigins = {"https://good.example"};
    options.maxConnections = 1;
    auto& manager = server.start({}, {}, options);
    manager.setUpgradeHandler([&](const finch::Request&) {
        ++asked;
        return finch::UpgradeDecision::accept();
    });

    CHECK(upgradeRequest(server.port(), "/ws", {{"Origin", "https://evil.example"}}).result_int() == 403);
    CHECK(asked == 0);
    TestClient first(server.port());
    server.waitConnection(0);
    CHECK(asked == 1);
    CHECK(upgradeRequest(server.port()).result_int() == 503);
    CHECK(asked == 1);
}

namespace {

// Data that counts its moves, and throws at the `failAt`-th (0: never).
struct Fragile {
    static inline std::atomic<int> moves{0};
    static inline std::atomic<int> failAt{0};
    std::string text;

    Fragile() = default;
    explicit Fragile(std::string value)
        : text(std::move(value))
    {
    }
    Fragile(const Fragile&) = default;
    Fragile(Fragile&& other)
        : text(std::move(other.text))
    {
        if (++moves == failAt)
            throw std::runtime_error("this data cannot move");
    }
    Fragile& operator=(const Fragile&) = default;
    Fragile& operator=(Fragile&&) = default;
};

}  // namespace

TEST_CASE("a connection whose creation throws is dropped and gives its slot back", "[upgrade][limits]")
{
    BasicTestServer<Fragile> server;
    finch::Options options;
    options.maxConnections = 1;
    auto& manager = server.start({}, {}, options);
    manager.setUpgradeHandler([](const finch::Request&) {
        Fragile::moves = 0;
        return finch::BasicUpgradeDecision<Fragile>::accept("user", Fragile("data"));
    });
    // A connection that works tells how many moves the data makes on its
    // way in; the last one is into the connection itself.
    int movesOnTheWay = 0;
    {
        TestClient probe(server.port());
        const auto socket = server.waitConnection(0);
        movesOnTheWay = Fragile::moves;
        probe.close();
        REQUIRE(server.waitDisconnected(socket.id()));
    }
    REQUIRE(movesOnTheWay > 0);
    Fragile::failAt = movesOnTheWay;
    CHECK_THROWS(TestClient(server.port()));
    Fragile::failAt = 0;
    // The slot is free again: had it leaked, the cap of one would answer 503 here.
    TestClient client(server.port());
    CHECK(server.waitConnection(1).data().text == "data");
    CHECK(server.connected.size() == 2);
}