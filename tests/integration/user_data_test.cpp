#include <finch/user_data.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// finch::NoUserData, the data of a manager that keeps none, and what a
// manager with data of the application's type promises: each connection has
// its own, UserData{} unless the upgrade handler gave it some, inside the
// connection for as long as a handle to it exists; a type that can only be
// moved will do.

using namespace finch::test;
using nlohmann::json;

namespace {

// Move-only, and its default is not what zeroed memory would hold: a
// connection that starts with UserData{} shows it.
struct VisitCount {
    int visits = 7;
    std::unique_ptr<std::string> note = std::make_unique<std::string>("fresh");
};

using VisitCountServer = BasicTestServer<VisitCount>;

}  // namespace

static_assert(std::is_same_v<finch::Socket, finch::BasicSocket<finch::TcpTransport, finch::NoUserData>>);
static_assert(std::is_same_v<finch::SocketManager, finch::BasicSocketManager<finch::TcpTransport, finch::NoUserData>>);
static_assert(std::is_same_v<finch::UpgradeDecision, finch::BasicUpgradeDecision<finch::NoUserData>>);

TEST_CASE("UserData: each connection has its own, UserData{} unless the upgrade handler gave some, kept while a "
          "handle lives",
    "[user_data][data]")
{
    EventLog<std::pair<int, std::string>> starts;  // visits and note, as onConnect saw them
    VisitCountServer server;
    VisitCountServer::Event visit;
    visit.onMessage = [](VisitCountServer::Socket& socket, const json& message) {
        socket.reply(message, ++socket.data().visits);
    };
    VisitCountServer::Event root;
    root.onConnect = [&](VisitCountServer::Socket& socket) {
        starts.push({socket.data().visits, *socket.data().note});
    };
    auto& manager = server.start(root, {{"visit", visit}});
    const auto visitOnce = [](TestClient& client) {
        client.send({{"path", "visit"}, {"id", 1}});
        return client.receive()["data"].get<int>();
    };

    TestClient first(server.port());
    const VisitCountServer::Socket firstSocket = server.waitConnection(0);
    TestClient second(server.port());
    server.waitConnection(1);
    CHECK(visitOnce(first) == 8);
    CHECK(visitOnce(first) == 9);
    CHECK(visitOnce(second) == 8);

    // Given by the upgrade handler, moved into the connection.
    manager.setUpgradeHandler([](const finch::Request&) {
        VisitCount given;
        given.visits = 100;
        given.note = std::make_unique<std::string>("given");
        return finch::BasicUpgradeDecision<VisitCount>::accept("", std::move(given));
    });
    TestClient third(server.port());
    server.waitConnection(2);
    CHECK(visitOnce(third) == 101);
    CHECK(starts.snapshot() ==
          std::vector<std::pair<int, std::string>>{{7, "fresh"}, {7, "fresh"}, {100, "given"}});

    // Every callback of the first connection is over: its data may be read here.
    first.close();
    REQUIRE(server.waitDisconnected(firstSocket.id()));
    CHECK(firstSocket.data().visits == 9);
    CHECK(*firstSocket.data().note == "fresh");
}
