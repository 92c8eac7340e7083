#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_future.hpp>
#if defined(BOOST_ASIO_HAS_CO_AWAIT)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <future>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

// Acknowledgements both ways. A client's message with an "id" is answered by
// Socket::reply, or by an error envelope, with that id; Socket::request asks
// the client, which answers with "replyTo", and completes exactly once: with
// the answer, on timeout, or when the connection ends first.

using namespace finch::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A route that answers the sum of its data.
finch::SocketEvent sumEvent()
{
    finch::SocketEvent sum;
    sum.onMessage = [](finch::Socket& socket, const json& message) {
        int total = 0;
        for (const auto& term : message.at("data"))
            total += term.get<int>();
        socket.reply(message, total);
    };
    return sum;
}

// What a request's completion received.
struct Outcome {
    boost::system::error_code error;
    json reply;
};

// Sends the client's answer to the request envelope `request`.
void answer(TestClient& client, const json& request, const json& data, int status = 200)
{
    client.send({{"replyTo", request["id"]}, {"data", data}, {"status", status}});
}

// A request envelope: path, status 200, timestamp, a numeric id, data.
json expectRequest(TestClient& client, const std::string& path)
{
    const json request = client.receive();
    INFO(request.dump());
    CHECK(keysOf(request) == std::set<std::string>{"path", "status", "timestamp", "id", "data"});
    CHECK(request["path"] == path);
    CHECK(request["status"] == 200);
    CHECK(request["id"].is_number_unsigned());
    return request;
}

}  // namespace

TEST_CASE("a message with an id is answered with that id and the request's path", "[acks]")
{
    TestServer server;
    finch::SocketEvent created;
    created.onMessage = [](finch::Socket& socket, const json& message) { socket.reply(message, "made", 201); };
    server.start({}, {{"sum", sumEvent()}, {"create", created}});
    TestClient client(server.port());

    client.send({{"path", "sum"}, {"id", 7}, {"data", {1, 2}}});
    const json reply = client.receive();
    INFO(reply.dump());
    CHECK(keysOf(reply) == std::set<std::string>{"path", "status", "timestamp", "id", "replyTo", "data"});
    CHECK(reply["path"] == "sum");
    CHECK(reply["status"] == 200);
    CHECK(reply["id"] == 7);
    CHECK(reply["replyTo"] == 7);
    CHECK(reply["data"] == 3);

    client.send({{"path", "create"}, {"id", "req-\u00e9"}, {"data", nullptr}});
    const json createdReply = client.receive();
    CHECK(createdReply["id"] == "req-\u00e9");
    CHECK(createdReply["replyTo"] == "req-\u00e9");
    CHECK(createdReply["status"] == 201);
    CHECK(createdReply["data"] == "made");

    // Without an id, reply() is a plain send on the request's path.
    client.send({{"path", "sum"}, {"data", {4, 5}}});
    const json plain = client.receive();
    CHECK(keysOf(plain) == std::set<std::string>{"path", "status", "timestamp", "data"});
    CHECK(plain["data"] == 9);
}

TEST_CASE("a reply may come later, from another thread", "[acks]")
{
    EventLog<std::pair<finch::Socket, json>> requests;
    TestServer server;
    const ClearOnExit clearRequests(requests);
    finch::SocketEvent slow;
    slow.onMessage = [&](finch::Socket& socket, const json& message) { requests.push({socket, message}); };
    server.start({}, {{"slow", slow}});
    TestClient client(server.port());

    client.send({{"path", "slow"}, {"id", 1}});
    client.send({{"path", "slow"}, {"id", 2}});
    REQUIRE(requests.waitForCount(2));
    const auto pending = requests.snapshot();
    CHECK(pending[1].first.reply(pending[1].second, "second"));
    CHECK(pending[0].first.reply(pending[0].second, "first"));
    const json a = client.receive();
    const json b = client.receive();
    CHECK(a["id"] == 2);
    CHECK(a["data"] == "second");
    CHECK(b["id"] == 1);
    CHECK(b["data"] == "first");
    client.close();
    REQUIRE(server.waitDisconnected(pending[0].first.id()));
    CHECK_FALSE(pending[0].first.reply(pending[0].second, "too late"));
}

TEST_CASE("error envelopes carry the id of the request they refuse", "[acks][errors]")
{
    TestServer server;
    finch::SocketEvent boom;
    boom.onMessage = [](finch::Socket&, const json&) { throw std::runtime_error("boom"); };
    server.start({}, {{"boom", boom}, {"sum", sumEvent()}});
    TestClient client(server.port());

    struct Case {
        json request;
        int status;
        finch::ErrorCode code;
    };
    const Case cases[] = {
        {{{"path", "nope"}, {"id", 1}}, 404, finch::ErrorCode::unknownPath},
        {{{"path", "boom"}, {"id", "b"}}, 500, finch::ErrorCode::handlerException},
        {{{"path", "sum"}, {"id", 2}, {"data", "not a list"}}, 500, finch::ErrorCode::handlerException},
        {{{"id", 3}, {"data", 1}}, 400, finch::ErrorCode::invalidPath},
        {{{"path", 5}, {"id", 4}}, 400, finch::ErrorCode::invalidPath},
    };
    for (const auto& c : cases) {
        INFO(c.request.dump());
        client.send(c.request);
        const json reply = client.receive();
        INFO(reply.dump());
        CHECK(reply["path"] == "error");
        CHECK(reply["status"] == c.status);
        CHECK(reply["id"] == c.request["id"]);
        CHECK(reply["replyTo"] == c.request["id"]);
        CHECK(reply["data"]["message"].is_string());
    }
    REQUIRE(server.errors.waitForCount(std::size(cases)));
    for (std::size_t i = 0; i < std::size(cases); ++i)
        CHECK(server.errors.snapshot()[i].error.code == cases[i].code);
}

TEST_CASE("an id that is neither a string nor a number is refused with 400, without an id", "[acks][errors]")
{
    TestServer server;
    server.start({}, {{"sum", sumEvent()}});
    TestClient client(server.port());
    for (const json& id : {json(nullptr), json::array({1}), json::object(), json(true)}) {
        INFO(id.dump());
        client.send({{"path", "sum"}, {"id", id}, {"data", {1}}});
        const json reply = client.receive();
        CHECK(reply["status"] == 400);
        CHECK_FALSE(reply.contains("id"));
        CHECK_FALSE(reply.contains("replyTo"));
    }
    client.send({{"replyTo", "one"}});
    CHECK(client.receive()["status"] == 400);
    REQUIRE(server.errors.waitForCount(5));
    for (const auto& error : server.errors.snapshot())
        CHECK(error.error.code == finch::ErrorCode::invalidId);
    // The connection is fine.
    client.send({{"path", "sum"}, {"id", 1}, {"data", {1, 1}}});
    CHECK(client.receive()["data"] == 2);
}

TEST_CASE("request: the client's answer completes the callback once, with the whole answer", "[acks][request]")
{
    EventLog<Outcome> outcomes;
    TestServer server;
    finch::SocketEvent ask;
    ask.onMessage = [&](finch::Socket& socket, const json& message) {
        socket.request("question", message["data"], 60s, [&](boost::system::error_code ec, const json& reply) {
            outcomes.push({ec, reply});
        });
    };
    server.start({}, {{"ask", ask}, {"echo", echoEvent()}});
    TestClient client(server.port());

    client.send({{"path", "ask"}, {"data", "first?"}});
    const json first = expectRequest(client, "question");
    CHECK(first["data"] == "first?");
    client.send({{"path", "ask"}, {"data", "second?"}});
    const json second = expectRequest(client, "question");
    CHECK(second["id"].get<std::uint64_t>() > first["id"].get<std::uint64_t>());

    answer(client, second, "yes", 201);
    REQUIRE(outcomes.waitForCount(1));
    answer(client, first, {{"ok", true}});
    REQUIRE(outcomes.waitForCount(2));
    const auto seen = outcomes.snapshot();
    CHECK_FALSE(seen[0].error);
    CHECK(seen[0].reply == json{{"replyTo", second["id"]}, {"data", "yes"}, {"status", 201}});
    CHECK_FALSE(seen[1].error);
    CHECK(seen[1].reply["data"] == json{{"ok", true}});

    // A second answer, and an answer to nothing, are dropped without a word:
    // the echo behind them comes back first and nothing else does.
    answer(client, first, "again");
    client.send({{"replyTo", 12345}, {"data", "unasked"}});
    expectEcho(client, "barrier");
    CHECK(outcomes.size() == 2);
    CHECK(server.errors.size() == 0);
}

TEST_CASE("request: no answer within the timeout completes with replyTimeout, once", "[acks][request]")
{
    EventLog<Outcome> outcomes;
    TestServer server;
    finch::SocketEvent ask;
    ask.onMessage = [&](finch::Socket& socket, const json&) {
        socket.request("question", nullptr, 50ms, [&](boost::system::error_code ec, const json& reply) {
            outcomes.push({ec, reply});
        });
    };
    server.start({}, {{"ask", ask}, {"echo", echoEvent()}});
    TestClient client(server.port());

    client.send({{"path", "ask"}});
    const json request = expectRequest(client, "question");
    REQUIRE(outcomes.waitForCount(1));
    CHECK(outcomes.snapshot()[0].error == finch::ErrorCode::replyTimeout);
    CHECK(outcomes.snapshot()[0].reply.is_null());

    answer(client, request, "late");
    expectEcho(client, "barrier");
    CHECK(outcomes.size() == 1);
}

TEST_CASE("request: a connection that ends first completes its requests with connectionClosed, before onDisconnect",
    "[acks][request]")
{
    EventLog<std::string> order;
    TestServer server;
    finch::SocketEvent root;
    root.onDisconnect = [&](finch::Socket&) { order.push("disconnect"); };
    finch::SocketEvent ask;
    ask.onMessage = [&](finch::Socket& socket, const json& message) {
        const std::string name = message["data"];
        socket.request("question", name, 60s, [&order, name](boost::system::error_code ec, const json& reply) {
            order.push(name + ": " + (ec == finch::ErrorCode::connectionClosed ? "closed" : ec.message()) +
                (reply.is_null() ? "" : " with a reply"));
        });
    };
    server.start(root, {{"ask", ask}});
    std::optional<TestClient> client(std::in_place, server.port());
    const finch::Socket socket = server.waitConnection(0);

    client->send({{"path", "ask"}, {"data", "a"}});
    expectRequest(*client, "question");
    client->send({{"path", "ask"}, {"data", "b"}});
    expectRequest(*client, "question");
    SECTION("the client closes")
    {
        client->close();
    }
    SECTION("the client vanishes")
    {
        client->reset();
    }
    REQUIRE(server.waitDisconnected(socket.id()));
    auto seen = order.snapshot();
    REQUIRE(seen.size() == 3);
    CHECK(seen.back() == "disconnect");
    seen.pop_back();
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"a: closed", "b: closed"});

    // After the end, a request completes at once, the same way.
    EventLog<Outcome> late;
    socket.request("question", 1, 60s, [&](boost::system::error_code ec, const json& reply) {
        late.push({ec, reply});
    });
    REQUIRE(late.waitForCount(1));
    CHECK(late.snapshot()[0].error == finch::ErrorCode::connectionClosed);
    client.reset();
}

TEST_CASE("request: a callback that throws is reported to onError", "[acks][request]")
{
    TestServer server;
    finch::SocketEvent ask;
    ask.onMessage = [&](finch::Socket& socket, const json&) {
        socket.request("question", nullptr, 60s,
            [](boost::system::error_code, const json&) { throw std::runtime_error("callback boom"); });
    };
    server.start({}, {{"ask", ask}, {"echo", echoEvent()}});
    TestClient client(server.port());
    client.send({{"path", "ask"}});
    answer(client, expectRequest(client, "question"), 1);
    REQUIRE(server.errors.waitForCount(1));
    CHECK(server.errors.snapshot()[0].error.code == finch::ErrorCode::handlerException);
    CHECK(server.errors.snapshot()[0].error.message == "callback boom");
    expectEcho(client, "still fine");
}

TEST_CASE("request: a callback bound to another executor that throws is reported to onError, not thrown out of that "
          "executor's run()",
    "[acks][request]")
{
    TestServer server;
    server.start({}, {{"echo", echoEvent()}});
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);
    net::io_context other;  // the application's own, run below by this thread

    socket.request("question", nullptr, 60s, net::bind_executor(other, [](boost::system::error_code, const json&) {
        throw std::runtime_error("bound callback boom");
    }));
    answer(client, expectRequest(client, "question"), 1);
    // The request counts as work of `other` until its callback has run, so
    // this returns once it has.
    REQUIRE_NOTHROW(other.run_for(waitLimit));
    CHECK(other.stopped());

    REQUIRE(server.errors.waitForCount(1));
    const ErrorEvent reported = server.errors.snapshot()[0];
    CHECK(reported.id == socket.id());
    CHECK(reported.error.code == finch::ErrorCode::handlerException);
    CHECK(reported.error.message == "bound callback boom");
    expectEcho(client, "still fine");
}

TEST_CASE("request: a callback bound to the server's own io_context that throws is reported to onError, not thrown "
          "out of the server's run()",
    "[acks][request]")
{
    TestServer server;
    server.start({}, {{"echo", echoEvent()}});
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    // Dispatched from the strand, inside the server's run(): the io_context's
    // executor runs it inline, and would keep its exception for run() to throw.
    socket.request("question", nullptr, 60s,
        net::bind_executor(server.threads.context, [](boost::system::error_code, const json&) {
            throw std::runtime_error("callback boom on the server's context");
        }));
    answer(client, expectRequest(client, "question"), 1);
    REQUIRE(server.errors.waitForCount(1));
    const ErrorEvent reported = server.errors.snapshot()[0];
    CHECK(reported.id == socket.id());
    CHECK(reported.error.code == finch::ErrorCode::handlerException);
    CHECK(reported.error.message == "callback boom on the server's context");
    expectEcho(client, "still serving");
}

TEST_CASE(
    "request with use_future(function): what the function throws reaches the future, not onError", "[acks][request]")
{
    TestServer server;
    server.start({}, {{"echo", echoEvent()}});
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    auto future = socket.request("question", nullptr, 60s,
        boost::asio::use_future(
            [](boost::system::error_code, const json&) -> int { throw std::runtime_error("packaged boom"); }));
    answer(client, expectRequest(client, "question"), 1);
    REQUIRE(future.wait_for(waitLimit) == std::future_status::ready);
    CHECK_THROWS_WITH(future.get(), "packaged boom");
    expectEcho(client, "barrier");
    CHECK(server.errors.size() == 0);
}

TEST_CASE("request with completion tokens: use_future and deferred", "[acks][request]")
{
    TestServer server;
    server.start();
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    SECTION("use_future: the answer")
    {
        auto future = socket.request("question", "q", 60s, boost::asio::use_future);
        const json request = expectRequest(client, "question");
        answer(client, request, "a");
        REQUIRE(future.wait_for(waitLimit) == std::future_status::ready);
        CHECK(future.get()["data"] == "a");
    }
    SECTION("use_future: a timeout is thrown as a system_error")
    {
        auto future = socket.request("question", "q", 20ms, boost::asio::use_future);
        expectRequest(client, "question");
        REQUIRE(future.wait_for(waitLimit) == std::future_status::ready);
        try {
            future.get();
            FAIL("no exception");
        } catch (const boost::system::system_error& e) {
            CHECK(e.code() == finch::ErrorCode::replyTimeout);
        }
    }
    SECTION("deferred: nothing is sent until it is launched")
    {
        auto operation = socket.request("question", "later", 60s, boost::asio::deferred);
        CHECK(server.manager().sendToAll("first", "first") == 1);
        CHECK(client.receive()["path"] == "first");
        auto future = std::move(operation)(boost::asio::use_future);
        const json request = expectRequest(client, "question");
        CHECK(request["data"] == "later");
        answer(client, request, "done");
        REQUIRE(future.wait_for(waitLimit) == std::future_status::ready);
        CHECK(future.get()["data"] == "done");
    }
}

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
TEST_CASE("request in a coroutine: co_await with use_awaitable", "[acks][request]")
{
    EventLog<json> answers;
    TestServer server;
    server.start();
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    boost::asio::co_spawn(
        server.threads.context,
        [socket, &answers]() -> boost::asio::awaitable<void> {
            const json reply = co_await socket.request("question", 1, 60s, boost::asio::use_awaitable);
            answers.push(reply);
        },
        boost::asio::detached);
    answer(client, expectRequest(client, "question"), "from a coroutine");
    REQUIRE(answers.waitForCount(1));
    CHECK(answers.snapshot()[0]["data"] == "from a coroutine");
}

TEST_CASE("request in a coroutine on another io_context: a timeout is thrown inside the coroutine, not reported to "
          "onError",
    "[acks][request]")
{
    EventLog<std::string> outcomes;
    TestServer server;
    server.start({}, {{"echo", echoEvent()}});
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);
    net::io_context other;

    boost::asio::co_spawn(
        other,
        [socket, &outcomes]() -> boost::asio::awaitable<void> {
            try {
                co_await socket.request("question", 1, 20ms, boost::asio::use_awaitable);
                outcomes.push("answered");
            } catch (const boost::system::system_error& e) {
                outcomes.push(e.code() == finch::ErrorCode::replyTimeout ? "timeout" : e.what());
            }
        },
        boost::asio::detached);
    other.poll();  // runs the coroutine up to its co_await: the request leaves
    expectRequest(client, "question");
    REQUIRE_NOTHROW(other.run_for(waitLimit));
    CHECK(outcomes.snapshot() == std::vector<std::string>{"timeout"});
    expectEcho(client, "barrier");
    CHECK(server.errors.size() == 0);
}
#endif
