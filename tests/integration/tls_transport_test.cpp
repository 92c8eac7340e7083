#include <finch/tls_transport.hpp>
#include <finch/tls.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_certificates.hpp"
#include "support/test_server.hpp"
#include "support/tls_test_client.hpp"
#include "support/tls_test_server.hpp"
#include "support/transport_loopback.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

// finch::TlsTransport: on its own over a TCP connection on loopback, against
// Asio's ssl::stream as the client (its reads drive the server's side of the
// handshake, plaintext both ways, close_notify before the FIN, a plain
// connection that is TCP only, a connection that could not be set up); and
// under a manager, the TLS handshake counted against handshakeTimeout and
// maxHeaderBytes.

using namespace finch::test;
using nlohmann::json;

namespace {

// Sends `bytes` one at a time, `gap` apart, as a client on a slow link
// would (or one that means to hold a connection open cheaply), until the
// server ends the connection; how many were sent by then.
std::size_t trickle(unsigned short port, const std::string& bytes, std::chrono::milliseconds gap)
{
    net::io_context context;
    tcp::socket socket(context);
    socket.connect(loopback(port));
    net::steady_timer timer(context);
    std::array<char, 256> answer{};
    std::size_t sent = 0;
    bool ended = false;
    socket.async_read_some(net::buffer(answer), [&](boost::system::error_code, std::size_t) {
        ended = true;  // the server closed (nothing else comes before a whole ClientHello)
        timer.cancel();
    });
    std::function<void()> next = [&] {
        if (ended || sent == bytes.size())
            return;
        boost::system::error_code ec;
        net::write(socket, net::buffer(bytes.data() + sent, 1), ec);
        if (ec)
            return;
        ++sent;
        timer.expires_after(gap);
        timer.async_wait([&](boost::system::error_code waitError) {
            if (!waitError)
                next();
        });
    };
    next();
    context.run_for(waitLimit);
    if (!ended)
        throw std::runtime_error("trickle: the server did not end the connection within the wait limit");
    return sent;
}

}  // namespace

TEST_CASE("TlsTransport: the server's reads drive the handshake, then plaintext goes both ways and close_notify "
          "goes before the FIN",
    "[tls][tls_transport]")
{
    TestAuthority authority;
    const auto context = std::make_shared<finch::TlsContext>(authority.issue("transport"));
    TransportLoopback loop;
    ssl::context clientTls = clientContext({authority.caFile()});
    ssl::stream<tcp::socket> client(loop.context, clientTls);
    nameServer(client.native_handle(), {authority.caFile()});
    finch::TlsTransport transport(loop.connect(client.next_layer()), context);
    CHECK(transport.secure());
    REQUIRE(transport.nativeHandle() != nullptr);
    CHECK(SSL_is_server(transport.nativeHandle()) == 1);

    // The client handshakes, then writes; the server only receives.
    const std::string fromClient = "over tls, from the client";
    boost::system::error_code clientError = net::error::would_block;
    client.async_handshake(ssl::stream_base::client, [&](boost::system::error_code ec) {
        if (ec) {
            clientError = ec;
            return;
        }
        net::async_write(client, net::buffer(fromClient),
            [&](boost::system::error_code writeError, std::size_t) { clientError = writeError; });
    });
    std::array<char, 256> buffer{};
    std::string received;
    bool receiveDone = false;
    boost::system::error_code receiveError;
    transport.asyncReceive(net::buffer(buffer), [&](boost::system::error_code ec, std::size_t size) {
        receiveError = ec;
        received.assign(buffer.data(), size);
        receiveDone = true;
    });
    loop.runUntil([&] { return receiveDone && clientError != net::error::would_block; });
    REQUIRE_FALSE(clientError);
    REQUIRE_FALSE(receiveError);
    CHECK(received == fromClient);
    CHECK(peerCommonName(client.native_handle()) == "transport");

    // What readSome decrypts, and what writeSome encrypts.
    net::write(client, net::buffer(std::string("second")));
    CHECK(loop.read(transport, 6) == "second");
    const std::string fromServer = "over tls, from the server";
    loop.write(transport, fromServer);
    std::string atClient(fromServer.size(), '\0');
    net::read(client, net::buffer(atClient));
    CHECK(atClient == fromServer);

    // Asio reports a close_notify as eof; a FIN without one as stream_truncated.
    transport.shutdownSend();
    std::string rest;
    boost::system::error_code end;
    net::read(client, net::dynamic_buffer(rest), end);
    CHECK(rest.empty());
    CHECK(end == net::error::eof);
}

TEST_CASE("TlsTransport: a connection without a TlsContext is plain TCP", "[tls][tls_transport]")
{
    TransportLoopback loop;
    tcp::socket client(loop.context);
    finch::TlsTransport transport(loop.connect(client));
    CHECK_FALSE(transport.secure());
    CHECK(transport.nativeHandle() == nullptr);

    std::array<char, 16> nothing{};
    boost::system::error_code ec;
    CHECK(transport.readSome(net::buffer(nothing), ec) == 0);
    CHECK(ec == net::error::would_block);

    net::write(client, net::buffer(std::string("plain bytes")));
    CHECK(loop.read(transport, 11) == "plain bytes");
    loop.write(transport, "plain answer");
    transport.shutdownSend();
    std::string atClient;
    boost::system::error_code end;
    net::read(client, net::dynamic_buffer(atClient), end);
    CHECK(atClient == "plain answer");
    CHECK(end == net::error::eof);
}

TEST_CASE("TlsTransport: a TLS connection that could not be set up fails its first read and write",
    "[tls][tls_transport]")
{
    TransportLoopback loop;
    tcp::socket client(loop.context);
    // Without a context there is nothing to make its SSL from.
    finch::TlsTransport transport(loop.connect(client), nullptr);
    CHECK(transport.secure());
    CHECK(transport.nativeHandle() == nullptr);

    net::write(client, net::buffer(std::string("hello")));
    std::array<char, 16> buffer{};
    boost::system::error_code readError;
    CHECK(transport.readSome(net::buffer(buffer), readError) == 0);
    CHECK(readError);
    CHECK(readError != net::error::would_block);
    boost::system::error_code writeError;
    CHECK(transport.writeSome(net::buffer(std::string("answer")), writeError) == 0);
    CHECK(writeError == readError);
}

TEST_CASE("wss: the handshake counts against handshakeTimeout and maxHeaderBytes", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    const std::string hello = clientHello();
    REQUIRE(hello.size() > 100);
    REQUIRE(static_cast<unsigned char>(hello[0]) == 0x16);  // a handshake record

    SECTION("a client that sends nothing, or stops inside its ClientHello, is cut at the deadline")
    {
        finch::Options options;
        options.handshakeTimeout = std::chrono::milliseconds(200);
        TlsServer server;
        server.create({}, tlsEchoRoutes(), options).listen(loopback(), "/ws", tls);
        const RawExchange silent = rawExchange(server.port(), "");
        CHECK(silent.received.empty());
        CHECK(silent.end != beast::error::timeout);  // the server ended it
        const RawExchange stalled = rawExchange(server.port(), hello.substr(0, hello.size() / 2));
        CHECK(stalled.received.empty());
        CHECK(stalled.end != beast::error::timeout);
        // One byte every 20 ms would take seconds to finish the hello: the
        // deadline counts from the accept, so the bytes do not extend it.
        CHECK(trickle(server.port(), hello, std::chrono::milliseconds(20)) < hello.size());
    }
    SECTION("a ClientHello longer than maxHeaderBytes is cut before the deadline")
    {
        finch::Options options;
        options.handshakeTimeout = std::chrono::hours(1);  // longer than the test's wait limit
        options.maxHeaderBytes = 64;
        TlsServer server;
        server.create({}, tlsEchoRoutes(), options).listen(loopback(), "/ws", tls);
        const RawExchange cut = rawExchange(server.port(), hello);
        CHECK(cut.end != beast::error::timeout);
        CHECK(cut.received.find("\x16\x03") == std::string::npos);  // no ServerHello
    }
}
