#include <finch/redis_backplane.hpp>

#include <catch2/catch.hpp>

#include "support/redis_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// finch::RedisBackplane against a real redis-server on loopback: publish and
// subscribe between two backplanes, binary channels and payloads, the events
// of a connection, an outage (Redis stopped and restarted) under both outage
// policies, AUTH, thousands of channels restored, stop(), and publishes from
// several threads. Every wait runs the io_context until a condition holds,
// within a deadline; nothing sleeps to synchronise.

using finch::BackplaneEvent;
using finch::BackplaneStatus;
using finch::test::RedisServer;

namespace {

using namespace std::chrono_literals;

// What one backplane's handlers saw (io_context on the test's thread only).
struct RedisProbe {
    std::vector<std::pair<std::string, std::string>> messages;
    std::vector<BackplaneEvent> events;
    bool stopped = false;
    std::size_t callsAfterStop = 0;

    finch::BackplaneHandlers handlers()
    {
        finch::BackplaneHandlers handlers;
        handlers.onMessage = [this](std::string_view channel, std::string_view payload) {
            if (stopped)
                ++callsAfterStop;
            messages.emplace_back(std::string(channel), std::string(payload));
        };
        handlers.onEvent = [this](const BackplaneEvent& event) {
            if (stopped)
                ++callsAfterStop;
            events.push_back(event);
        };
        return handlers;
    }

    std::size_t count(BackplaneStatus status) const
    {
        return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(), [status](const BackplaneEvent& event) { return event.status == status; }));
    }

    bool last(BackplaneStatus status) const { return !events.empty() && events.back().status == status; }

    std::vector<std::string> payloads(const std::string& channel) const
    {
        std::vector<std::string> result;
        for (const auto& [name, payload] : messages)
            if (name == channel)
                result.push_back(payload);
        return result;
    }
};

// Runs `io` until `done()` holds; false after `limit`.
bool redisRunUntil(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::seconds limit = 20s)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        if (io.stopped())
            io.restart();
        io.run_one_for(20ms);
    }
    return true;
}

// Runs `io` until every probe's backplane reports `connected` as its latest state.
bool redisAllConnected(boost::asio::io_context& io, std::initializer_list<const RedisProbe*> probes)
{
    return redisRunUntil(io, [&] {
        return std::all_of(probes.begin(), probes.end(),
            [](const RedisProbe* probe) { return probe->last(BackplaneStatus::connected); });
    });
}

finch::RedisOptions redisOptionsFor(const RedisServer& server)
{
    finch::RedisOptions options;
    options.port = server.port();
    // Short waits: an outage in a test is over as soon as Redis is back.
    options.reconnectDelay = 10ms;
    options.maxReconnectDelay = 200ms;
    return options;
}

// Stops `backplane` and runs `io` until its callback ran.
void redisStop(boost::asio::io_context& io, finch::RedisBackplane& backplane, RedisProbe& probe)
{
    bool stopped = false;
    backplane.stop([&] {
        stopped = true;
        probe.stopped = true;
    });
    REQUIRE(redisRunUntil(io, [&] { return stopped; }));
}

std::string redisNumbered(const std::string& prefix, std::size_t n)
{
    return prefix + std::to_string(n);
}

}  // namespace

TEST_CASE("redis backplane: connecting then connected, and 1000 messages in order between two backplanes", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe publisherProbe;
    RedisProbe subscriberProbe;
    finch::RedisBackplane publisher(io, redisOptionsFor(server));
    finch::RedisBackplane subscriber(io, redisOptionsFor(server));
    publisher.start(publisherProbe.handlers());
    subscriber.start(subscriberProbe.handlers());
    // Posted right behind start(): in the set before the first connection,
    // so "connected" waits for Redis to confirm it.
    subscriber.subscribe("orders");
    REQUIRE(redisAllConnected(io, {&publisherProbe, &subscriberProbe}));
    REQUIRE(subscriberProbe.events.size() == 2);
    CHECK(subscriberProbe.events[0].status == BackplaneStatus::connecting);
    CHECK(subscriberProbe.events[1].status == BackplaneStatus::connected);
    CHECK(!subscriberProbe.events[1].error);
    CHECK(subscriber.status() == BackplaneStatus::connected);

    std::vector<std::string> sent;
    for (std::size_t i = 0; i < 1000; ++i) {
        sent.push_back(redisNumbered("message ", i));
        publisher.publish("orders", sent.back());
    }
    REQUIRE(redisRunUntil(io, [&] { return subscriberProbe.messages.size() == 1000; }));
    CHECK(subscriberProbe.payloads("orders") == sent);
    CHECK(publisherProbe.messages.empty());  // it did not subscribe
    CHECK(publisher.dropped() == 0);

    redisStop(io, publisher, publisherProbe);
    redisStop(io, subscriber, subscriberProbe);
    CHECK(subscriberProbe.last(BackplaneStatus::stopped));
}

TEST_CASE("redis backplane: binary channel names and payloads, all 256 byte values and 1 MiB", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe publisherProbe;
    RedisProbe subscriberProbe;
    finch::RedisBackplane publisher(io, redisOptionsFor(server));
    finch::RedisBackplane subscriber(io, redisOptionsFor(server));
    const std::string channel("bin\0ary\r\n%s %d\xff", 15);
    publisher.start(publisherProbe.handlers());
    subscriber.start(subscriberProbe.handlers());
    subscriber.subscribe(channel);
    REQUIRE(redisAllConnected(io, {&publisherProbe, &subscriberProbe}));

    std::string everyByte;
    for (int value = 0; value < 256; ++value)
        everyByte.push_back(static_cast<char>(value));
    std::string large(1024 * 1024, '\0');
    std::minstd_rand random(7);
    for (auto& byte : large)
        byte = static_cast<char>(random() & 0xff);

    publisher.publish(channel, everyByte);
    publisher.publish(channel, large);
    publisher.publish(channel, "");
    REQUIRE(redisRunUntil(io, [&] { return subscriberProbe.messages.size() == 3; }));
    REQUIRE(subscriberProbe.messages[0].first == channel);
    CHECK(subscriberProbe.messages[0].second == everyByte);
    CHECK(subscriberProbe.messages[1].second.size() == large.size());
    CHECK(subscriberProbe.messages[1].second == large);
    CHECK(subscriberProbe.messages[2].second.empty());

    redisStop(io, publisher, publisherProbe);
    redisStop(io, subscriber, subscriberProbe);
}

TEST_CASE(
    "redis backplane: only subscribed channels arrive, unsubscribe stops delivery, own publishes arrive", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe aProbe;
    RedisProbe bProbe;
    finch::RedisBackplane a(io, redisOptionsFor(server));
    finch::RedisBackplane b(io, redisOptionsFor(server));
    a.start(aProbe.handlers());
    b.start(bProbe.handlers());
    a.subscribe("own");
    b.subscribe("news");
    b.subscribe("news");  // twice is once
    b.subscribe("sport");
    REQUIRE(redisAllConnected(io, {&aProbe, &bProbe}));

    SECTION("a channel not subscribed to is not received")
    {
        a.publish("weather", "rain");
        a.publish("news", "headline");  // same publishing connection, so it comes after "rain"
        REQUIRE(redisRunUntil(io, [&] { return bProbe.messages.size() >= 1; }));
        REQUIRE(bProbe.messages.size() == 1);
        CHECK(bProbe.messages[0] == std::pair<std::string, std::string>("news", "headline"));
    }
    SECTION("unsubscribe stops delivery")
    {
        b.unsubscribe("news");
        a.publish("news", "not for b");
        a.publish("sport", "score");
        REQUIRE(redisRunUntil(io, [&] { return !bProbe.payloads("sport").empty(); }));
        CHECK(bProbe.payloads("news").empty());
        b.subscribe("news");  // and subscribing again brings it back
        a.publish("own", "marker");  // a subscribes to its own channel: when it has this, b's SUBSCRIBE is sent
        REQUIRE(redisRunUntil(io, [&] { return !aProbe.payloads("own").empty(); }));
    }
    SECTION("a backplane receives its own publishes on a channel it subscribes to")
    {
        a.publish("own", "mine");
        REQUIRE(redisRunUntil(io, [&] { return !aProbe.messages.empty(); }));
        CHECK(aProbe.messages[0] == std::pair<std::string, std::string>("own", "mine"));
    }
    redisStop(io, a, aProbe);
    redisStop(io, b, bProbe);
}

TEST_CASE(
    "redis backplane: an unreachable port reports disconnected and retries until a server starts there", "[redis]")
{
    const unsigned short port = RedisServer::freePort();
    boost::asio::io_context io;
    RedisProbe probe;
    finch::RedisOptions options;
    options.port = port;
    options.reconnectDelay = 10ms;
    options.maxReconnectDelay = 50ms;
    finch::RedisBackplane backplane(io, options);
    backplane.start(probe.handlers());
    backplane.subscribe("later");
    REQUIRE(redisRunUntil(io, [&] { return probe.count(BackplaneStatus::disconnected) >= 3; }));
    CHECK(probe.events.front().status == BackplaneStatus::connecting);
    CHECK(probe.count(BackplaneStatus::connected) == 0);
    CHECK(probe.count(BackplaneStatus::connecting) >= 3);  // it kept trying
    const auto failure = std::find_if(probe.events.begin(), probe.events.end(),
        [](const BackplaneEvent& event) { return event.status == BackplaneStatus::disconnected; });
    INFO(backplane.lastError());
    CHECK(failure->error == finch::RedisError::io);
    CHECK(failure->error.category().name() == std::string("finch.redis"));
    CHECK(!failure->error.message().empty());
    CHECK(backplane.lastError().find("refused") != std::string::npos);
    CHECK(backplane.status() != BackplaneStatus::connected);

    RedisServer server(port, {});
    REQUIRE(redisAllConnected(io, {&probe}));
    backplane.publish("later", "at last");
    REQUIRE(redisRunUntil(io, [&] { return !probe.messages.empty(); }));
    CHECK(probe.messages[0].second == "at last");
    redisStop(io, backplane, probe);
}

TEST_CASE("redis backplane: a host name is resolved before connecting, one that does not resolve is a failure",
    "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    SECTION("localhost")
    {
        RedisProbe probe;
        finch::RedisOptions options = redisOptionsFor(server);
        options.host = "localhost";
        finch::RedisBackplane backplane(io, options);
        backplane.start(probe.handlers());
        backplane.subscribe("named");
        REQUIRE(redisAllConnected(io, {&probe}));
        backplane.publish("named", "by name");
        REQUIRE(redisRunUntil(io, [&] { return !probe.messages.empty(); }));
        CHECK(probe.messages[0].second == "by name");
        redisStop(io, backplane, probe);
    }
    SECTION("a name that does not exist (RFC 6761's .invalid)")
    {
        RedisProbe probe;
        finch::RedisOptions options = redisOptionsFor(server);
        options.host = "no-such-host.invalid";
        finch::RedisBackplane backplane(io, options);
        backplane.start(probe.handlers());
        REQUIRE(redisRunUntil(io, [&] { return probe.count(BackplaneStatus::disconnected) >= 2; }));
        const auto failure = std::find_if(probe.events.begin(), probe.events.end(),
            [](const BackplaneEvent& event) { return event.status == BackplaneStatus::disconnected; });
        // Where no resolver answers at all, the deadline comes first.
        INFO(backplane.lastError());
        CHECK((failure->error == finch::RedisError::io || failure->error == finch::RedisError::connectTimeout));
        CHECK(probe.count(BackplaneStatus::connected) == 0);
        redisStop(io, backplane, probe);
    }
}

TEST_CASE("redis backplane: a server that never answers reports connectTimeout", "[redis]")
{
    boost::asio::io_context io;
    // The kernel completes TCP connections to a listening socket by itself:
    // connecting succeeds, and the PING of the handshake is never answered.
    boost::asio::ip::tcp::acceptor silent(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    RedisProbe probe;
    finch::RedisOptions options;
    options.port = silent.local_endpoint().port();
    options.connectTimeout = 100ms;
    finch::RedisBackplane backplane(io, options);
    backplane.start(probe.handlers());
    REQUIRE(redisRunUntil(io, [&] { return probe.count(BackplaneStatus::disconnected) > 0; }));
    const auto failure = std::find_if(probe.events.begin(), probe.events.end(),
        [](const BackplaneEvent& event) { return event.status == BackplaneStatus::disconnected; });
    CHECK(failure->error == finch::RedisError::connectTimeout);
    CHECK(!backplane.lastError().empty());
    redisStop(io, backplane, probe);
}

TEST_CASE("redis backplane: Redis restarted, subscriptions restored and kept publishes delivered in order", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe aProbe;
    RedisProbe bProbe;
    finch::RedisBackplane a(io, redisOptionsFor(server));  // keep, the default
    finch::RedisBackplane b(io, redisOptionsFor(server));
    a.start(aProbe.handlers());
    b.start(bProbe.handlers());
    a.subscribe("room");
    b.subscribe("room");
    REQUIRE(redisAllConnected(io, {&aProbe, &bProbe}));
    a.publish("room", "before");
    REQUIRE(redisRunUntil(io, [&] { return aProbe.messages.size() == 1 && bProbe.messages.size() == 1; }));

    server.stop();
    REQUIRE(redisRunUntil(io, [&] {
        return aProbe.count(BackplaneStatus::disconnected) > 0 && bProbe.count(BackplaneStatus::disconnected) > 0;
    }));
    const auto outage = std::find_if(aProbe.events.begin(), aProbe.events.end(),
        [](const BackplaneEvent& event) { return event.status == BackplaneStatus::disconnected; });
    CHECK(outage->error);
    CHECK(!a.lastError().empty());
    const std::size_t droppedBefore = a.dropped();

    // Published by a while Redis is away: kept, and published in order,
    // after a's own subscription is back, so a receives them.
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < 20; ++i) {
        kept.push_back(redisNumbered("during ", i));
        a.publish("room", kept.back());
    }
    server.restart();
    REQUIRE(redisAllConnected(io, {&aProbe, &bProbe}));
    REQUIRE(redisRunUntil(io, [&] { return aProbe.messages.size() == 1 + kept.size(); }));
    std::vector<std::string> expected{"before"};
    expected.insert(expected.end(), kept.begin(), kept.end());
    CHECK(aProbe.payloads("room") == expected);
    CHECK(a.dropped() == droppedBefore);

    // b's subscription is back too: a message published now reaches it.
    a.publish("room", "after");
    REQUIRE(redisRunUntil(io, [&] { return bProbe.payloads("room").back() == "after"; }));
    redisStop(io, a, aProbe);
    redisStop(io, b, bProbe);
}

TEST_CASE("redis backplane: with the drop policy, publishes during an outage are dropped and counted", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe probe;
    auto options = redisOptionsFor(server);
    options.outagePolicy = finch::RedisOutagePolicy::drop;
    finch::RedisBackplane backplane(io, options);
    backplane.start(probe.handlers());
    backplane.subscribe("room");
    REQUIRE(redisAllConnected(io, {&probe}));

    server.stop();
    REQUIRE(redisRunUntil(io, [&] { return probe.count(BackplaneStatus::disconnected) > 0; }));
    const std::size_t droppedBefore = backplane.dropped();
    for (std::size_t i = 0; i < 5; ++i)
        backplane.publish("room", redisNumbered("lost ", i));
    REQUIRE(redisRunUntil(io, [&] { return backplane.dropped() == droppedBefore + 5; }));
    // Reported through onEvent with the running total.
    REQUIRE(
        redisRunUntil(io, [&] { return !probe.events.empty() && probe.events.back().dropped == droppedBefore + 5; }));

    server.restart();
    REQUIRE(redisAllConnected(io, {&probe}));
    backplane.publish("room", "after");
    REQUIRE(redisRunUntil(io, [&] { return !probe.messages.empty(); }));
    CHECK(probe.payloads("room") == std::vector<std::string>{"after"});
    CHECK(backplane.dropped() == droppedBefore + 5);
    redisStop(io, backplane, probe);
}

TEST_CASE("redis backplane: with the keep policy and a small buffer, the oldest are dropped and counted", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe probe;
    auto options = redisOptionsFor(server);
    // Channel "c" (1 byte) and 9-byte payloads: room for exactly 10.
    options.maxBufferedBytes = 100;
    finch::RedisBackplane backplane(io, options);
    backplane.start(probe.handlers());
    backplane.subscribe("c");
    REQUIRE(redisAllConnected(io, {&probe}));

    server.stop();
    REQUIRE(redisRunUntil(io, [&] { return probe.count(BackplaneStatus::disconnected) > 0; }));
    const std::size_t droppedBefore = backplane.dropped();
    std::vector<std::string> sent;
    for (std::size_t i = 10; i < 35; ++i) {
        sent.push_back(redisNumbered("message", i));  // "message10" ... "message34": 9 bytes
        backplane.publish("c", sent.back());
    }
    REQUIRE(redisRunUntil(io, [&] { return backplane.dropped() == droppedBefore + 15; }));
    server.restart();
    REQUIRE(redisRunUntil(io, [&] { return probe.messages.size() == 10; }));
    CHECK(probe.payloads("c") == std::vector<std::string>(sent.end() - 10, sent.end()));
    CHECK(backplane.dropped() == droppedBefore + 15);
    redisStop(io, backplane, probe);
}

TEST_CASE("redis backplane: AUTH with the right password connects, a wrong one reports the server's refusal", "[redis]")
{
    RedisServer server({"--requirepass", "s3cret pass"});
    boost::asio::io_context io;

    SECTION("right password")
    {
        RedisProbe probe;
        auto options = redisOptionsFor(server);
        options.password = "s3cret pass";
        finch::RedisBackplane backplane(io, options);
        backplane.start(probe.handlers());
        backplane.subscribe("secure");
        REQUIRE(redisAllConnected(io, {&probe}));
        backplane.publish("secure", "authenticated");
        REQUIRE(redisRunUntil(io, [&] { return !probe.messages.empty(); }));
        redisStop(io, backplane, probe);
    }
    SECTION("right password for the ACL user default, with the database selected")
    {
        RedisProbe probe;
        auto options = redisOptionsFor(server);
        options.username = "default";
        options.password = "s3cret pass";
        options.database = 3;
        finch::RedisBackplane backplane(io, options);
        backplane.start(probe.handlers());
        REQUIRE(redisAllConnected(io, {&probe}));
        redisStop(io, backplane, probe);
    }
    SECTION("wrong password")
    {
        RedisProbe probe;
        auto options = redisOptionsFor(server);
        options.password = "wrong";
        finch::RedisBackplane backplane(io, options);
        backplane.start(probe.handlers());
        REQUIRE(redisRunUntil(io, [&] { return probe.count(BackplaneStatus::disconnected) > 0; }));
        const auto failure = std::find_if(probe.events.begin(), probe.events.end(),
            [](const BackplaneEvent& event) { return event.status == BackplaneStatus::disconnected; });
        CHECK(failure->error == finch::RedisError::rejected);
        CHECK(backplane.lastError().find("WRONGPASS") != std::string::npos);
        CHECK(probe.count(BackplaneStatus::connected) == 0);
        redisStop(io, backplane, probe);
    }
    SECTION("no password")
    {
        RedisProbe probe;
        finch::RedisBackplane backplane(io, redisOptionsFor(server));
        backplane.start(probe.handlers());
        REQUIRE(redisRunUntil(io, [&] { return probe.count(BackplaneStatus::disconnected) > 0; }));
        CHECK(backplane.lastError().find("NOAUTH") != std::string::npos);
        redisStop(io, backplane, probe);
    }
}

TEST_CASE("redis backplane: 2000 channels are all restored after Redis restarts", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe subscriberProbe;
    RedisProbe publisherProbe;
    finch::RedisBackplane subscriber(io, redisOptionsFor(server));
    finch::RedisBackplane publisher(io, redisOptionsFor(server));
    subscriber.start(subscriberProbe.handlers());
    publisher.start(publisherProbe.handlers());
    constexpr std::size_t channels = 2000;
    for (std::size_t i = 0; i < channels; ++i)
        subscriber.subscribe(redisNumbered("channel:", i));
    REQUIRE(redisAllConnected(io, {&subscriberProbe, &publisherProbe}));

    server.restart();
    REQUIRE(redisRunUntil(io, [&] {
        return subscriberProbe.count(BackplaneStatus::disconnected) > 0 &&
            publisherProbe.count(BackplaneStatus::disconnected) > 0;
    }));
    REQUIRE(redisAllConnected(io, {&subscriberProbe, &publisherProbe}));
    for (std::size_t i = 0; i < channels; ++i)
        publisher.publish(redisNumbered("channel:", i), redisNumbered("to ", i));
    REQUIRE(redisRunUntil(io, [&] { return subscriberProbe.messages.size() == channels; }));
    for (std::size_t i = 0; i < channels; i += 199)
        CHECK(subscriberProbe.payloads(redisNumbered("channel:", i)) ==
            std::vector<std::string>{redisNumbered("to ", i)});
    redisStop(io, subscriber, subscriberProbe);
    redisStop(io, publisher, publisherProbe);
}

TEST_CASE("redis backplane: stop() flushes what is queued, calls back once, and no handler runs after", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    RedisProbe aProbe;
    RedisProbe bProbe;
    finch::RedisBackplane a(io, redisOptionsFor(server));
    finch::RedisBackplane b(io, redisOptionsFor(server));
    a.start(aProbe.handlers());
    b.start(bProbe.handlers());
    a.subscribe("flush");
    b.subscribe("flush");
    REQUIRE(redisAllConnected(io, {&aProbe, &bProbe}));

    std::vector<std::string> sent;
    for (std::size_t i = 0; i < 300; ++i) {
        sent.push_back(redisNumbered("last words ", i));
        a.publish("flush", sent.back());
    }
    int callbacks = 0;
    a.stop([&] {
        ++callbacks;
        aProbe.stopped = true;
    });
    a.publish("flush", "too late");  // after stop(): dropped
    a.stop();  // a second stop() changes nothing
    REQUIRE(redisRunUntil(io, [&] { return callbacks == 1 && bProbe.messages.size() == sent.size(); }));
    CHECK(bProbe.payloads("flush") == sent);
    CHECK(aProbe.last(BackplaneStatus::stopped));
    CHECK(a.status() == BackplaneStatus::stopped);
    CHECK(a.dropped() == 1);

    // b receives nothing more, and a calls nothing more: run b's work until a
    // marker of b's own has gone round, then let everything settle.
    b.publish("flush", "marker");
    REQUIRE(redisRunUntil(io, [&] { return bProbe.payloads("flush").back() == "marker"; }));
    io.poll();
    CHECK(callbacks == 1);
    CHECK(aProbe.callsAfterStop == 0);
    CHECK(bProbe.payloads("flush").size() == sent.size() + 1);
    redisStop(io, b, bProbe);
}

TEST_CASE(
    "redis backplane: 4 threads publish while 4 threads run the io_context, each publisher's order kept", "[redis]")
{
    RedisServer server;
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    std::vector<std::thread> runners;
    for (int i = 0; i < 4; ++i)
        runners.emplace_back([&io] { io.run(); });

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> received;
    int connected = 0;
    bool stopped = false;
    auto handlersFor = [&](bool collect) {
        finch::BackplaneHandlers handlers;
        handlers.onMessage = [&, collect](std::string_view, std::string_view payload) {
            std::lock_guard lock(mutex);
            if (collect)
                received.emplace_back(payload);
            changed.notify_all();
        };
        handlers.onEvent = [&](const BackplaneEvent& event) {
            std::lock_guard lock(mutex);
            if (event.status == BackplaneStatus::connected)
                ++connected;
            changed.notify_all();
        };
        return handlers;
    };
    constexpr int publishers = 4;
    constexpr int perPublisher = 500;
    {
        finch::RedisBackplane a(io, redisOptionsFor(server));
        finch::RedisBackplane b(io, redisOptionsFor(server));
        a.start(handlersFor(false));
        b.start(handlersFor(true));
        b.subscribe("threads");
        bool ready = false;
        {
            std::unique_lock lock(mutex);
            ready = changed.wait_for(lock, 20s, [&] { return connected == 2; });
        }
        REQUIRE(ready);

        std::vector<std::thread> threads;
        for (int t = 0; t < publishers; ++t)
            threads.emplace_back([&a, t] {
                for (int n = 0; n < perPublisher; ++n)
                    a.publish("threads", std::to_string(t) + ":" + std::to_string(n));
            });
        for (auto& thread : threads)
            thread.join();
        bool all = false;
        {
            std::unique_lock lock(mutex);
            all = changed.wait_for(
                lock, 20s, [&] { return received.size() == static_cast<std::size_t>(publishers * perPublisher); });
        }
        CHECK(all);
        CHECK(a.dropped() == 0);
        int stops = 0;
        a.stop([&] {
            std::lock_guard lock(mutex);
            ++stops;
            changed.notify_all();
        });
        b.stop([&] {
            std::lock_guard lock(mutex);
            if (++stops == 2)
                stopped = true;
            changed.notify_all();
        });
        std::unique_lock lock(mutex);
        CHECK(changed.wait_for(lock, 20s, [&] { return stopped || stops == 2; }));
    }
    work.reset();
    for (auto& runner : runners)
        runner.join();

    std::vector<int> next(publishers, 0);
    bool ordered = true;
    for (const auto& payload : received) {
        const auto colon = payload.find(':');
        const int t = std::stoi(payload.substr(0, colon));
        const int n = std::stoi(payload.substr(colon + 1));
        if (n != next[static_cast<std::size_t>(t)])
            ordered = false;
        next[static_cast<std::size_t>(t)] = n + 1;
    }
    CHECK(ordered);
    CHECK(next == std::vector<int>(publishers, perPublisher));
}
