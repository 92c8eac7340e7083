#include <finch/tcp_transport.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/transport_loopback.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <string>
#include <type_traits>

// finch::TcpTransport on its own, over a real TCP connection on loopback
// (the manager drives it in every other integration test): the socket it
// makes of a connected one, a non-blocking attempt per readSome and
// writeSome, the waits and the receive, the half close, cancel and close,
// and its clock and timers. The test's thread runs the io_context.

using namespace finch::test;

TEST_CASE("TcpTransport: a connected socket without Nagle's delay, one non-blocking attempt per read and write",
    "[tcp_transport]")
{
    TransportLoopback loop;
    tcp::socket client(loop.context);
    finch::TcpTransport transport(loop.connect(client));
    static_assert(finch::TcpTransport::sendsBesideReceive);

    CHECK(transport.isOpen());
    CHECK(transport.socket().non_blocking());
    tcp::no_delay noDelay;
    transport.socket().get_option(noDelay);
    CHECK(noDelay.value());
    CHECK(transport.get_executor() == transport.socket().get_executor());

    // Nothing has come: the attempt says so instead of waiting.
    std::array<char, 16> nothing{};
    boost::system::error_code ec;
    CHECK(transport.readSome(net::buffer(nothing), ec) == 0);
    CHECK(ec == net::error::would_block);

    net::write(client, net::buffer(std::string("from the client")));
    CHECK(loop.read(transport, 15) == "from the client");

    // One gathered send of both buffers.
    const std::array<net::const_buffer, 2> parts{net::buffer("gathered ", 9), net::buffer("write", 5)};
    ec = {};
    CHECK(transport.writeSome(parts, ec) == 14);
    CHECK_FALSE(ec);
    std::string written(14, '\0');
    net::read(client, net::buffer(written));
    CHECK(written == "gathered write");
}

TEST_CASE("TcpTransport: asyncReceive takes the bytes once they come, and asyncWaitWritable finds room",
    "[tcp_transport]")
{
    TransportLoopback loop;
    tcp::socket client(loop.context);
    finch::TcpTransport transport(loop.connect(client));

    std::array<char, 64> buffer{};
    std::string received;
    boost::system::error_code receiveError = net::error::would_block;
    transport.asyncReceive(net::buffer(buffer), [&](boost::system::error_code ec, std::size_t size) {
        receiveError = ec;
        received.assign(buffer.data(), size);
    });
    net::write(client, net::buffer(std::string("received")));
    loop.runUntil([&] { return receiveError != net::error::would_block; });
    CHECK_FALSE(receiveError);
    CHECK(received == "received");

    bool writable = false;
    boost::system::error_code waitError = net::error::would_block;
    transport.asyncWaitWritable([&](boost::system::error_code ec) {
        waitError = ec;
        writable = true;
    });
    loop.runUntil([&] { return writable; });
    CHECK_FALSE(waitError);
}

TEST_CASE("TcpTransport: shutdownSend ends the peer's stream after what was sent, and reading goes on",
    "[tcp_transport]")
{
    TransportLoopback loop;
    tcp::socket client(loop.context);
    finch::TcpTransport transport(loop.connect(client));

    boost::system::error_code ec;
    REQUIRE(transport.writeSome(net::buffer(std::string("last words")), ec) == 10);
    transport.shutdownSend();
    std::string atClient;
    net::read(client, net::dynamic_buffer(atClient), ec);
    CHECK(ec == net::error::eof);
    CHECK(atClient == "last words");

    // Only the sending half is closed.
    CHECK(transport.isOpen());
    net::write(client, net::buffer(std::string("still heard")));
    CHECK(loop.read(transport, 11) == "still heard");

    // The peer's end of the stream, once it comes.
    client.shutdown(tcp::socket::shutdown_send);
    std::array<char, 16> chunk{};
    bool readable = false;
    transport.asyncWaitReadable([&](boost::system::error_code) { readable = true; });
    loop.runUntil([&] { return readable; });
    ec = {};
    CHECK(transport.readSome(net::buffer(chunk), ec) == 0);
    CHECK(ec == net::error::eof);
}

TEST_CASE("TcpTransport: cancel ends the waits and keeps the socket, close ends them and the socket",
    "[tcp_transport]")
{
    TransportLoopback loop;
    tcp::socket client(loop.context);
    finch::TcpTransport transport(loop.connect(client));

    boost::system::error_code waitError;
    bool waited = false;
    transport.asyncWaitReadable([&](boost::system::error_code ec) {
        waitError = ec;
        waited = true;
    });
    transport.cancel();
    loop.runUntil([&] { return waited; });
    CHECK(waitError == net::error::operation_aborted);
    CHECK(transport.isOpen());

    std::array<char, 16> buffer{};
    boost::system::error_code receiveError;
    bool received = false;
    transport.asyncReceive(net::buffer(buffer), [&](boost::system::error_code ec, std::size_t) {
        receiveError = ec;
        received = true;
    });
    transport.close();
    CHECK_FALSE(transport.isOpen());
    loop.runUntil([&] { return received; });
    CHECK(receiveError == net::error::operation_aborted);

    // The peer sees the connection end.
    std::string rest;
    boost::system::error_code end;
    net::read(client, net::dynamic_buffer(rest), end);
    CHECK(rest.empty());
    CHECK(end);
}

TEST_CASE("TcpTransport: now() reads the steady clock, and timers from makeTimer run on the connection's strand",
    "[tcp_transport]")
{
    TransportLoopback loop;
    tcp::socket client(loop.context);
    finch::TcpTransport transport(loop.connect(client));

    static_assert(std::is_same_v<decltype(transport.now()), std::chrono::steady_clock::time_point>);
    const auto before = std::chrono::steady_clock::now();
    const auto now = transport.now();
    CHECK(before <= now);
    CHECK(now <= std::chrono::steady_clock::now());

    const auto timer = transport.makeTimer();
    REQUIRE(timer != nullptr);
    CHECK(timer->get_executor() == transport.get_executor());
    bool fired = false;
    bool onStrand = false;
    timer->expires_at(transport.now());
    timer->async_wait([&](boost::system::error_code ec) {
        fired = !ec;
        onStrand = transport.get_executor().running_in_this_thread();
    });
    loop.runUntil([&] { return fired; });
    CHECK(onStrand);
}
