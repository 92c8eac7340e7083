#include <finch/guards.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// The ready-made route guards of <finch/guards.hpp> (requireUser,
// requireRoom, requireData) on a manager whose connections keep data: what
// they let through, the 403 error envelope of what they refuse, a guard that
// throws, the root's own guard; and that each guard asks nothing of a socket
// but what it names, so that one guard serves the socket of any manager.

using namespace finch::test;
using nlohmann::json;

namespace {

struct GuardedSession {
    bool admin = false;
};

using GuardedServer = BasicTestServer<GuardedSession>;

// Sends to `path` with an id and returns the answer.
json guardedAsk(TestClient& client, const std::string& path, int id, const json& data = nullptr)
{
    client.send({{"path", path}, {"id", id}, {"data", data}});
    return client.receive();
}

// A socket of no manager at all, with only the members the guards name.
struct BareGuardedSocket {
    std::string user;
    std::vector<std::string> rooms;
    GuardedSession session;

    const std::string& userId() const { return user; }
    bool inRoom(std::string_view room) const { return std::find(rooms.begin(), rooms.end(), room) != rooms.end(); }
    const GuardedSession& data() const { return session; }
};

}  // namespace

TEST_CASE("route guards: refused messages get 403 with their id and never reach the route", "[guards]")
{
    std::atomic<int> ran{0};
    GuardedServer server;
    const auto route = [&](auto guard) {
        GuardedServer::Event event;
        event.guard = guard;
        event.onMessage = [&](GuardedServer::Socket& socket, const json& message) {
            ++ran;
            socket.reply(message, "ran");
        };
        return event;
    };
    GuardedServer::Event enter;
    enter.onMessage = [](GuardedServer::Socket& socket, const json& message) {
        socket.reply(message, socket.join(message["data"].get<std::string>()));
    };
    GuardedServer::Event throwing =
        route([](GuardedServer::Socket&, const json&) -> bool { throw std::runtime_error("guard boom"); });
    GuardedServer::Event fallback;
    fallback.guard = [](GuardedServer::Socket&, const json& message) { return message.value("data", json()) == "please"; };
    fallback.onMessage = [&](GuardedServer::Socket& socket, const json& message) { socket.reply(message, "root ran"); };
    auto& manager = server.start(fallback,
        {{"users", route(finch::requireUser())}, {"club", route(finch::requireRoom("club"))},
            {"admins", route(finch::requireData([](const GuardedSession& session) { return session.admin; }))},
            {"throwing", throwing}, {"enter", enter}});
    manager.setUpgradeHandler([](const finch::Request& request) {
        const std::string user(request["X-User"]);
        return finch::BasicUpgradeDecision<GuardedSession>::accept(user, GuardedSession{user == "root"});
    });

    TestClient anonymous(server.port());
    server.waitConnection(0);
    for (const char* path : {"users", "club", "admins"}) {
        INFO(path);
        const json refused = guardedAsk(anonymous, path, 1);
        CHECK(refused["path"] == "error");
        CHECK(refused["status"] == 403);
        CHECK(refused["id"] == 1);
        CHECK(refused["data"]["path"] == path);
    }
    CHECK(ran == 0);
    REQUIRE(server.errors.waitForCount(3));
    for (const auto& error : server.errors.snapshot())
        CHECK(error.error.code == finch::ErrorCode::forbidden);

    TestClient eve(server.port(), "/ws", {{"X-User", "eve"}});
    server.waitConnection(1);
    CHECK(guardedAsk(eve, "users", 2)["data"] == "ran");
    CHECK(guardedAsk(eve, "club", 3)["status"] == 403);
    CHECK(guardedAsk(eve, "enter", 4, "club")["data"] == true);
    CHECK(guardedAsk(eve, "club", 5)["data"] == "ran");
    CHECK(guardedAsk(eve, "admins", 6)["status"] == 403);

    TestClient root(server.port(), "/ws", {{"X-User", "root"}});
    server.waitConnection(2);
    CHECK(guardedAsk(root, "admins", 7)["data"] == "ran");
    CHECK(ran == 3);

    // A guard that throws counts as a handler that throws.
    const json failed = guardedAsk(root, "throwing", 8);
    CHECK(failed["status"] == 500);
    CHECK(failed["id"] == 8);
    CHECK(ran == 3);

    // The root's guard covers the root's onMessage, and no route.
    CHECK(guardedAsk(root, "elsewhere", 9, "please")["data"] == "root ran");
    CHECK(guardedAsk(root, "elsewhere", 10, "now")["status"] == 403);
    CHECK(guardedAsk(root, "users", 11, "now")["data"] == "ran");
}

TEST_CASE("guards ask a socket of any type only for its user id, its rooms or its data", "[guards]")
{
    const BareGuardedSocket nobody;
    BareGuardedSocket member{"ann", {"club", "staff"}, {}};
    BareGuardedSocket admin{"root", {}, GuardedSession{true}};
    const json message = {{"path", "any"}};

    const auto user = finch::requireUser();
    CHECK_FALSE(user(nobody, message));
    CHECK(user(member, message));

    const auto staff = finch::requireRoom("staff");
    CHECK(staff(member, message));
    CHECK_FALSE(staff(nobody, message));
    CHECK_FALSE(staff(admin, message));
    member.rooms = {"club"};
    CHECK_FALSE(staff(member, message));

    int asked = 0;
    const auto admins = finch::requireData([&asked](const GuardedSession& session) {
        ++asked;
        return session.admin;
    });
    CHECK(admins(admin, message));
    CHECK_FALSE(admins(member, message));
    CHECK(asked == 2);

    // The same guard objects fit the events of managers of either kind.
    static_assert(std::is_assignable_v<decltype(finch::SocketEvent::guard)&, decltype(user)>);
    static_assert(std::is_assignable_v<decltype(GuardedServer::Event::guard)&, decltype(user)>);
    static_assert(std::is_assignable_v<decltype(GuardedServer::Event::guard)&, decltype(admins)>);
}
