#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <atomic>
#include <set>
#include <string>
#include <vector>

// The envelopes a server writes, how incoming messages reach handlers, and
// what a client that sends nonsense, or a handler that throws, gets back.

using namespace finch::test;
using nlohmann::json;

namespace {

// Checks an error envelope and returns its data.
json expectErrorEnvelope(TestClient& client, int status)
{
    const json reply = client.receive();
    INFO(reply.dump());
    CHECK(reply["path"] == "error");
    CHECK(reply["status"] == status);
    CHECK(reply["timestamp"].is_number_integer());
    REQUIRE(reply["data"].is_object());
    CHECK(reply["data"]["message"].is_string());
    CHECK_FALSE(reply["data"]["message"].get<std::string>().empty());
    return reply["data"];
}

}  // namespace

TEST_CASE("a reply is an envelope of path, status, timestamp and data", "[dispatch][envelope]")
{
    TestServer server;
    finch::SocketEvent created;
    created.onMessage = [](finch::Socket& socket, const json& message) {
        socket.send({{"created", message["data"]}}, "created", 201);
    };
    server.start({}, {{"echo", echoEvent()}, {"create", created}});
    TestClient client(server.port());

    const auto before = epochMilliseconds();
    client.send({{"path", "echo"}, {"data", {{"x", 1}, {"list", {1, "two", nullptr}}}}});
    const json reply = client.receive();
    const auto after = epochMilliseconds();
    INFO(reply.dump());
    CHECK(keysOf(reply) == std::set<std::string>{"path", "status", "timestamp", "data"});
    CHECK(reply["path"] == "echo");
    CHECK(reply["status"] == 200);
    REQUIRE(reply["timestamp"].is_number_integer());
    CHECK(reply["timestamp"].get<std::int64_t>() >= before);
    CHECK(reply["timestamp"].get<std::int64_t>() <= after);
    CHECK(reply["data"] == json{{"x", 1}, {"list", {1, "two", nullptr}}});

    client.send({{"path", "create"}, {"data", "thing"}});
    const json createdReply = client.receive();
    CHECK(createdReply["path"] == "created");
    CHECK(createdReply["status"] == 201);
    CHECK(createdReply["data"] == json{{"created", "thing"}});
}

TEST_CASE("with includeClientId, every envelope names its recipient", "[dispatch][envelope]")
{
    TestServer server;
    finch::Options options;
    options.includeClientId = true;
    auto& manager = server.start({}, {{"echo", echoEvent()}}, options);
    TestClient a(server.port());
    const std::string idA = server.waitConnection(0).id();
    TestClient b(server.port());
    const std::string idB = server.waitConnection(1).id();

    a.send({{"path", "echo"}, {"data", 1}});
    const json reply = a.receive();
    CHECK(reply["client"] == idA);
    CHECK(reply["path"] == "echo");
    CHECK(reply["data"] == 1);

    CHECK(manager.sendToAll("news", "broadcast") == 2);
    const json toA = a.receive();
    const json toB = b.receive();
    CHECK(toA["client"] == idA);
    CHECK(toB["client"] == idB);
    CHECK(toA["data"] == "news");
    CHECK(toB["data"] == "news");
    CHECK(keysOf(toB) == std::set<std::string>{"client", "path", "status", "timestamp", "data"});

    b.sendText("not json");
    const json error = b.receive();
    CHECK(error["path"] == "error");
    CHECK(error["client"] == idB);
}

TEST_CASE("a message reaches its route's onMessage with the whole envelope", "[dispatch]")
{
    TestServer server;
    finch::SocketEvent whole;
    whole.onMessage = [](finch::Socket& socket, const json& message) { socket.send(message, "whole"); };
    finch::SocketEvent other;
    other.onMessage = [](finch::Socket& socket, const json& message) {
        socket.send({{"path", message["path"]}, {"hasData", message.contains("data")}}, "other");
    };
    finch::SocketEvent root;
    root.onMessage = [](finch::Socket& socket, const json& message) { socket.send(message, "root"); };
    server.start(root, {{"whole", whole}, {"other", other}});
    TestClient client(server.port());

    const json sent = {{"path", "whole"}, {"data", {{"a", {1, 2}}}}, {"extra", "kept"}};
    client.send(sent);
    json reply = client.receive();
    CHECK(reply["path"] == "whole");
    CHECK(reply["data"] == sent);

    SECTION("another route gets its own messages, also without data")
    {
        client.send({{"path", "other"}});
        reply = client.receive();
        CHECK(reply["path"] == "other");
        CHECK(reply["data"] == json{{"path", "other"}, {"hasData", false}});
    }
    SECTION("a path without a route goes to the root's onMessage")
    {
        const json unrouted = {{"path", "nowhere"}, {"data", 7}};
        client.send(unrouted);
        reply = client.receive();
        CHECK(reply["path"] == "root");
        CHECK(reply["data"] == unrouted);
    }
}

TEST_CASE("finch answers the heartbeat itself, before any route, guard or onMessage", "[dispatch][heartbeat]")
{
    TestServer server;
    std::atomic<int> handled{0};
    finch::SocketEvent root;
    root.onMessage = [&](finch::Socket& socket, const json& message) {
        ++handled;
        socket.send(message, "root");
    };
    finch::SocketEvent shadow;  // a route on the reserved path: the heartbeat goes first
    shadow.guard = [&](finch::Socket&, const json&) { ++handled; return false; };
    shadow.onMessage = [&](finch::Socket&, const json&) { ++handled; };
    server.start(root, {{"$ping", shadow}});
    TestClient client(server.port());

    client.send({{"path", "$ping"}, {"id", 7}});
    json reply = client.receive();
    INFO(reply.dump());
    CHECK(keysOf(reply) == std::set<std::string>{"path", "status", "timestamp", "id", "replyTo", "data"});
    CHECK(reply["path"] == "$ping");
    CHECK(reply["status"] == 200);
    CHECK(reply["id"] == 7);
    CHECK(reply["replyTo"] == 7);
    CHECK(reply["data"].is_null());

    SECTION("without an id, the answer is a plain envelope")
    {
        client.send({{"path", "$ping"}, {"data", "anything"}});
        reply = client.receive();
        CHECK(keysOf(reply) == std::set<std::string>{"path", "status", "timestamp", "data"});
        CHECK(reply["path"] == "$ping");
        CHECK(reply["data"].is_null());
    }
    // What follows is still routed, and nothing of the application saw the heartbeats.
    client.send({{"path", "other"}, {"data", 1}});
    CHECK(client.receive()["path"] == "root");
    CHECK(handled == 1);
    CHECK(server.errors.size() == 0);
}

TEST_CASE("with an empty heartbeatPath, \"$ping\" is a path like any other", "[dispatch][heartbeat]")
{
    TestServer server;
    finch::Options options;
    options.heartbeatPath.clear();
    server.start({}, {{"echo", echoEvent()}}, options);
    TestClient client(server.port());

    client.send({{"path", "$ping"}, {"id", 1}});
    const json data = expectErrorEnvelope(client, 404);
    CHECK(data["path"] == "$ping");
}

TEST_CASE("without a root onMessage, an unrouted path is answered 404", "[dispatch][errors]")
{
    TestServer server;
    server.start({}, {{"echo", echoEvent()}});
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    client.send({{"path", "nowhere"}, {"data", 1}});
    const json data = expectErrorEnvelope(client, 404);
    CHECK(data["path"] == "nowhere");
    REQUIRE(server.errors.waitForCount(1));
    CHECK(server.errors.snapshot().front().error.code == finch::ErrorCode::unknownPath);
    expectEcho(client, "still served");
}

TEST_CASE("routes added after listen are used", "[dispatch]")
{
    TestServer server;
    auto& manager = server.start({}, {{"echo", echoEvent()}});
    TestClient client(server.port());
    server.waitConnection(0);

    client.send({{"path", "late"}});
    expectErrorEnvelope(client, 404);

    finch::SocketEvent late;
    late.onMessage = [](finch::Socket& socket, const json&) { socket.send("late v1", "late"); };
    manager.addRoute("late", late);
    client.send({{"path", "late"}});
    CHECK(client.receive()["data"] == "late v1");

    finch::SocketEvent a;
    a.onMessage = [](finch::Socket& socket, const json&) { socket.send("from a", "a"); };
    finch::SocketEvent b;
    b.onMessage = [](finch::Socket& socket, const json&) { socket.send("from b", "b"); };
    finch::SocketEvent replaced;
    replaced.onMessage = [](finch::Socket& socket, const json&) { socket.send("late v2", "late"); };
    manager.addEvents({{"a", a}, {"b", b}, {"late", replaced}});
    client.send({{"path", "a"}});
    CHECK(client.receive()["data"] == "from a");
    client.send({{"path", "b"}});
    CHECK(client.receive()["data"] == "from b");
    client.send({{"path", "late"}});
    CHECK(client.receive()["data"] == "late v2");
    expectEcho(client, "the first route is still there");
}

TEST_CASE(
    "bad input is answered with an error envelope and reported, and the connection stays usable", "[dispatch][errors]")
{
    struct Case {
        const char* name;
        std::string frame;
        bool binary;
        int status;
        finch::ErrorCode code;
    };
    const std::vector<Case> cases = {
        {"not JSON", "this is not json", false, 400, finch::ErrorCode::invalidJson},
        {"truncated JSON", R"({"path":"echo")", false, 400, finch::ErrorCode::invalidJson},
        {"a JSON array", R"([{"path":"echo"}])", false, 400, finch::ErrorCode::notAnObject},
        {"a JSON number", "42", false, 400, finch::ErrorCode::notAnObject},
        {"a JSON string", R"("echo")", false, 400, finch::ErrorCode::notAnObject},
        {"no path", R"({"data":1})", false, 400, finch::ErrorCode::invalidPath},
        {"a numeric path", R"({"path":5,"data":1})", false, 400, finch::ErrorCode::invalidPath},
        {"a null path", R"({"path":null})", false, 400, finch::ErrorCode::invalidPath},
        {"a binary frame", R"({"path":"echo","data":1})", true, 415, finch::ErrorCode::binaryFrame},
        // Echoing this would overflow the server's stack (finch::maxMessageDepth).
        {"nesting 100000 levels deep",
            R"({"path":"echo","data":)" + std::string(100000, '[') + std::string(100000, ']') + "}", false, 400,
            finch::ErrorCode::invalidJson},
    };

    TestServer server;
    server.start({}, {{"echo", echoEvent()}});
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    for (std::size_t i = 0; i < cases.size(); ++i) {
        const Case& bad = cases[i];
        INFO(bad.name);
        if (bad.binary)
            client.sendBinary(bad.frame);
        else
            client.sendText(bad.frame);
        const json data = expectErrorEnvelope(client, bad.status);
        CHECK_FALSE(data.contains("path"));

        REQUIRE(server.errors.waitForCount(i + 1));
        const ErrorEvent error = server.errors.snapshot()[i];
        CHECK(error.id == socket.id());
        CHECK(error.error.code == bad.code);
        CHECK_FALSE(error.error.message.empty());

        expectEcho(client, static_cast<int>(i));
    }
    CHECK(server.errors.size() == cases.size());

    // Data nested as deeply as the limit allows, the envelope being one level.
    json deepest = json::array();
    for (std::size_t level = 2; level < finch::maxMessageDepth; ++level)
        deepest = json::array({deepest});
    expectEcho(client, deepest);
    CHECK(server.errors.size() == cases.size());
    CHECK(server.disconnected.size() == 0);
    CHECK(socket.isOpen());
}

TEST_CASE(
    "a throwing handler is answered 500 and reported to its route's onError, else the root's", "[dispatch][errors]")
{
    EventLog<finch::Error> routeErrors;
    TestServer server;
    finch::SocketEvent throwsStd;
    throwsStd.onMessage = [](finch::Socket&, const json&) { throw std::runtime_error("boom"); };
    finch::SocketEvent throwsOwn;
    throwsOwn.onMessage = [](finch::Socket&, const json&) { throw std::logic_error("own boom"); };
    throwsOwn.onError = [&](finch::Socket&, const finch::Error& error) { routeErrors.push(error); };
    finch::SocketEvent throwsInt;
    throwsInt.onMessage = [](finch::Socket&, const json&) { throw 42; };
    finch::SocketEvent root;
    root.onError = [](finch::Socket&, const finch::Error&) {};
    server.start(
        root, {{"echo", echoEvent()}, {"throws", throwsStd}, {"throws-own", throwsOwn}, {"throws-int", throwsInt}});
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    SECTION("std::exception, no onError of its own: the root's")
    {
        client.send({{"path", "throws"}, {"data", 1}});
        const json data = expectErrorEnvelope(client, 500);
        CHECK(data["path"] == "throws");
        CHECK(data["message"] == "boom");
        expectEcho(client, "served after the throw");
        const auto errors = server.errors.snapshot();
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].id == socket.id());
        CHECK(errors[0].error.code == finch::ErrorCode::handlerException);
        CHECK(errors[0].error.message == "boom");
        CHECK(routeErrors.size() == 0);
    }
    SECTION("std::exception, with an onError of its own: only that one")
    {
        client.send({{"path", "throws-own"}});
        const json data = expectErrorEnvelope(client, 500);
        CHECK(data["path"] == "throws-own");
        CHECK(data["message"] == "own boom");
        expectEcho(client, "served after the throw");
        const auto errors = routeErrors.snapshot();
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].code == finch::ErrorCode::handlerException);
        CHECK(errors[0].message == "own boom");
        CHECK(server.errors.size() == 0);
    }
    SECTION("an exception that is not a std::exception")
    {
        client.send({{"path", "throws-int"}});
        const json data = expectErrorEnvelope(client, 500);
        CHECK(data["path"] == "throws-int");
        expectEcho(client, "served after the throw");
        const auto errors = server.errors.snapshot();
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].error.code == finch::ErrorCode::handlerException);
        CHECK(routeErrors.size() == 0);
    }

    // Other clients are served too.
    TestClient other(server.port());
    expectEcho(other, "another client");
    CHECK(server.disconnected.size() == 0);
}
