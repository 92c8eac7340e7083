#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/lists.hpp"
#include "support/test_server.hpp"

#include <boost/asio/execution.hpp>
#include <boost/asio/require.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
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

// An io_context's executor that, once `refusing` is set, throws instead of
// taking work, as an executor whose context can no longer run anything may
// (and as any submission may when memory runs out). Every submission goes
// through it, so a test sees whether finch still submits work at that point.
class RefusingExecutor {
public:
    RefusingExecutor(net::io_context& context, std::shared_ptr<std::atomic<bool>> refusing)
        : inner_(net::require(context.get_executor(), net::execution::blocking.never))
        , refusing_(std::move(refusing))
    {
    }

    net::execution_context& query(net::execution::context_t) const noexcept
    {
        return net::query(inner_, net::execution::context);
    }
    static constexpr net::execution::blocking_t query(net::execution::blocking_t) noexcept
    {
        return net::execution::blocking.never;
    }
    RefusingExecutor require(net::execution::blocking_t::never_t) const noexcept { return *this; }

    template <class Function>
    void execute(Function&& function) const
    {
        if (refusing_->load())
            throw std::runtime_error("RefusingExecutor: this executor runs nothing any more");
        inner_.execute(std::forward<Function>(function));
    }

    friend bool operator==(const RefusingExecutor& a, const RefusingExecutor& b) noexcept
    {
        return a.inner_ == b.inner_ && a.refusing_ == b.refusing_;
    }
    friend bool operator!=(const RefusingExecutor& a, const RefusingExecutor& b) noexcept { return !(a == b); }

private:
    using Inner =
        decltype(net::require(std::declval<net::io_context::executor_type>(), net::execution::blocking.never));
    Inner inner_;
    std::shared_ptr<std::atomic<bool>> refusing_;
};

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
    CHECK(ec == finch::ErrorCode::managerStopped);
    try {
        manager.listen(loopback());
        FAIL_CHECK("listen() after stop() did not throw");
    } catch (const boost::system::system_error& e) {
        CHECK(e.code() == finch::ErrorCode::managerStopped);
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
        CHECK((!ec || ec == finch::ErrorCode::managerStopped));
        REQUIRE(server.threads.drainFor());
        if (!ec)
            CHECK_THROWS(TestClient(manager.port()));
    }
}

TEST_CASE("an io_context destroyed before stop(onStopped) has finished drops onStopped unrun and submits nothing while "
          "it goes",
    "[shutdown]")
{
    EventLog<std::string> connected;
    const auto refusing = std::make_shared<std::atomic<bool>>(false);
    std::atomic<bool> ran{false};
    auto captured = std::make_shared<int>(0);
    const std::weak_ptr<int> capture = captured;
    finch::SocketEvent root;
    root.onConnect = [&connected](finch::Socket& socket) { connected.push(socket.id()); };
    auto threads = std::make_unique<ServerThreads>();
    auto manager =
        std::make_unique<finch::SocketManager>(RefusingExecutor(threads->context, refusing), root, echoRoutes());
    manager->listen(loopback());
    TestClient client(manager->port());
    REQUIRE(connected.waitForCount(1));
    expectEcho(client, "served through the executor");

    // The application gives up waiting: its io_context runs no more, and the
    // connection, asked to close, never gets to end.
    threads->join();
    manager->stop([&ran, captured = std::move(captured)] { ran = true; });
    manager.reset();
    refusing->store(true);
    // Destroys the connection with its handlers, unrun.
    threads.reset();

    CHECK_FALSE(ran);
    CHECK(capture.expired());
}
