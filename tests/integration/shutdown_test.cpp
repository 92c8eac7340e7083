#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/lists.hpp"
#include "support/test_server.hpp"

#include <algorithm>
#include <future>
#include <string>
#include <thread>
#include <vector>

// Graceful shutdown: stop() and close() with their completion handlers, a
// client that never answers the closing handshake, the promise that no
// callback runs after the handler, and stop() being final.

using namespace finch::test;

namespace {

std::ptrdiff_t indexOf(const std::vector<std::string>& events, const std::string& event)
{
    return std::find(events.begin(), events.end(), event) - events.begin();
}

// Root callbacks that write every lifecycle event to `timeline`.
finch::SocketEvent recordingRoot(EventLog<std::string>& timeline)
{
    finch::SocketEvent root;
    root.onConnect = [&timeline](finch::Socket& socket) { timeline.push("connect:" + socket.id()); };
    root.onDisconnect = [&timeline](finch::Socket& socket) { timeline.push("disconnect:" + socket.id()); };
    root.onError = [&timeline](finch::Socket& socket, const finch::Error&) { timeline.push("error:" + socket.id()); };
    return root;
}

bool contains(const EventLog<std::string>& timeline, const std::string& event)
{
    return timeline.waitFor([&](const std::vector<std::string>& events) { return countOf(events, event) > 0; });
}

}  // namespace

TEST_CASE("stop(onStopped): 1001 to every client, a silent one dropped at closeTimeout, each onDisconnect once, "
          "nothing after onStopped",
    "[shutdown]")
{
    EventLog<std::string> timeline;
    TestServer server(2);
    finch::Options options;
    options.closeTimeout = std::chrono::milliseconds(300);
    server.start(recordingRoot(timeline), echoRoutes(), options);

    // Each waited for before the next: onConnect order is not connect order.
    TestClient polite(server.port());
    const std::string politeId = server.waitConnection(0).id();
    TestClient silent(server.port());  // never reads: never answers the close frame
    const std::string silentId = server.waitConnection(1).id();
    // A TCP connection that has not sent its upgrade request yet.
    net::io_context idleContext;
    beast::tcp_stream idle(idleContext);
    idle.connect(loopback(server.port()));
    expectEcho(polite, "before");

    server.manager().stop([&timeline] { timeline.push("stopped"); });

    CHECK(polite.expectClose().code == websocket::close_code::going_away);
    REQUIRE(contains(timeline, "stopped"));
    // With the manager stopped, its io_context runs out of work by itself.
    REQUIRE(server.threads.drainFor());

    const auto events = timeline.snapshot();
    CHECK(events.back() == "stopped");
    CHECK(countOf(events, "stopped") == 1);
    CHECK(countOf(events, "disconnect:" + politeId) == 1);
    CHECK(countOf(events, "disconnect:" + silentId) == 1);
    CHECK(countOf(events, "error:" + politeId) == 0);
    // The silent client was dropped after the deadline, and that was reported first.
    CHECK(countErrors(server.errors.snapshot(), silentId, beast::error::timeout) == 1);
    CHECK(indexOf(events, "error:" + silentId) < indexOf(events, "disconnect:" + silentId));
    CHECK(server.manager().countClients() == 0);
    CHECK_THROWS(TestClient(server.port()));
}

TEST_CASE("stop(onStopped) with no connection calls the handler at once", "[shutdown]")
{
    EventLog<std::string> timeline;
    TestServer server;
    server.start();
    server.manager().stop([&timeline] { timeline.push("stopped"); });
    CHECK(contains(timeline, "stopped"));
}

TEST_CASE("close(onClosed): runs after every connection open at the call has ended, and new ones are still admitted",
    "[shutdown]")
{
    EventLog<std::string> timeline;
    TestServer server(2);
    server.start(recordingRoot(timeline), echoRoutes());
    TestClient first(server.port());
    const std::string firstId = server.waitConnection(0).id();
    TestClient second(server.port());
    const std::string secondId = server.waitConnection(1).id();

    server.manager().close([&timeline] { timeline.push("closed"); });
    CHECK(first.expectClose().code == websocket::close_code::going_away);
    CHECK(second.expectClose().code == websocket::close_code::going_away);
    REQUIRE(contains(timeline, "closed"));
    const auto events = timeline.snapshot();
    CHECK(indexOf(events, "disconnect:" + firstId) < indexOf(events, "closed"));
    CHECK(indexOf(events, "disconnect:" + secondId) < indexOf(events, "closed"));

    TestClient later(server.port());
    expectEcho(later, "admitted after close()");
}

TEST_CASE("listen() after stop() opens nothing and fails with managerStopped", "[shutdown]")
{
    TestServer server;
    finch::SocketManager& manager = server.start();
    const unsigned short port = server.port();
    manager.stop();

    boost::system::error_code ec;
    manager.listen(loopback(), "/ws", ec);
    CHECK(ec == finch::error::managerStopped);
    try {
        manager.listen(loopback());
        FAIL_CHECK("listen() after stop() did not throw");
    } catch (const boost::system::system_error& e) {
        CHECK(e.code() == finch::error::managerStopped);
    }
    CHECK(manager.port() == port);
    // Nothing is left listening: the io_context runs out of work by itself.
    REQUIRE(server.threads.drainFor());
}

TEST_CASE("a listen() racing with stop() on another thread is either stopped by it or fails", "[shutdown]")
{
    for (int round = 0; round < 20; ++round) {
        TestServer server;
        finch::SocketManager& manager = server.create();
        std::promise<void> start;
        const std::shared_future<void> started = start.get_future().share();
        boost::system::error_code ec;
        std::thread listening([&] {
            started.wait();
            manager.listen(loopback(), "/ws", ec);
        });
        std::thread stopping([&] {
            started.wait();
            manager.stop();
        });
        start.set_value();
        listening.join();
        stopping.join();

        INFO("round " << round << ": listen said \"" << ec.message() << "\"");
        CHECK((!ec || ec == finch::error::managerStopped));
        REQUIRE(server.threads.drainFor());
        if (!ec)
            CHECK_THROWS(TestClient(manager.port()));
    }
}
