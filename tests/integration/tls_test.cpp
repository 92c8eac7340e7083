#include <finch/tls.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_certificates.hpp"
#include "support/test_server.hpp"
#include "support/tls_test_client.hpp"
#include "support/tls_test_server.hpp"

#include <array>
#include <functional>
#include <map>
#include <string>
#include <vector>

// wss:// on finch's own TLS transport, over loopback, with Beast's client on
// Asio's ssl_stream verifying against an authority made for the test: the
// handshake and verification, one manager for ws and wss, what is not TLS on
// a TLS port, https, stop() ending with 1001 then close_notify, a client that
// does not read while the server writes, and broadcasts from several threads.
// What TlsContext serves (certificates, reload, SNI, ALPN, versions) is in
// tls_context_test.cpp; TlsTransport itself, and the handshake's deadline and
// byte limit, in tls_transport_test.cpp.

using namespace finch::test;
using nlohmann::json;

namespace {

// A port nobody listens on now, for a second listener of the same manager
// (port() reports the first one only).
unsigned short freePort()
{
    net::io_context context;
    tcp::acceptor acceptor(context, loopback(0));
    return acceptor.local_endpoint().port();
}

// A TLS connection without WebSocket on top, to see the bytes and the end
// exactly: Asio reports the peer's close_notify as eof, and a TCP end
// without one as ssl::error::stream_truncated.
class RawTlsConnection {
public:
    RawTlsConnection(unsigned short port, const std::string& caFile)
        : tls_(clientContext({caFile}))
        , stream_(context_, tls_)
    {
        nameServer(stream_.native_handle(), {caFile});
        stream_.lowest_layer().connect(loopback(port));
        stream_.handshake(ssl::stream_base::client);
    }

    void write(const std::string& bytes) { net::write(stream_, net::buffer(bytes)); }

    // Reads until `done(received)` or the end of the stream; what ended it.
    template <class Done>
    boost::system::error_code readUntil(Done done)
    {
        boost::system::error_code end;
        bool finished = false;
        std::function<void()> next = [&] {
            stream_.async_read_some(net::buffer(chunk_), [&](boost::system::error_code ec, std::size_t size) {
                received.append(chunk_.data(), size);
                if (ec) {
                    end = ec;
                    finished = true;
                } else if (done(received)) {
                    finished = true;
                } else {
                    next();
                }
            });
        };
        next();
        context_.restart();
        const auto deadline = std::chrono::steady_clock::now() + waitLimit;
        while (!finished && std::chrono::steady_clock::now() < deadline)
            context_.run_one_until(deadline);
        if (!finished) {
            stream_.lowest_layer().cancel();
            context_.restart();
            context_.run();
            throw std::runtime_error("raw tls connection: nothing within the wait limit");
        }
        return end;
    }

    std::string received;

private:
    net::io_context context_;
    ssl::context tls_;
    ssl::stream<tcp::socket> stream_;
    std::array<char, 4096> chunk_{};
};

}  // namespace

TEST_CASE("wss: a verified handshake, Socket::secure(), messages both ways, and ws beside it on one manager", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    TlsServer server;
    auto& manager = server.create({}, tlsEchoRoutes());
    manager.listen(loopback(), "/ws", tls);
    const unsigned short plainPort = freePort();
    manager.listen(loopback(plainPort), "/ws");

    TlsTestClient secure(server.port(), {authority.caFile()});
    CHECK(secure.peerName() == "server");
    expectTlsEcho(secure, "over tls");
    CHECK(server.waitConnection(0).secure());

    TestClient plain(plainPort);
    CHECK_FALSE(server.waitConnection(1).secure());
    plain.send({{"path", "echo"}, {"data", "plain"}});
    CHECK(plain.receive()["data"] == json{{"data", "plain"}, {"secure", false}});

    // One manager: its counts and broadcasts cover both.
    CHECK(server.settledClientCount() == 2);
    CHECK(manager.sendToAll("to all", "news") == 2);
    CHECK(secure.receive()["data"] == "to all");
    CHECK(plain.receive()["data"] == "to all");

    // A client that does not trust the authority refuses the server.
    const TestAuthority stranger;
    TlsClientSettings untrusting{stranger.caFile()};
    // (OpenSSL's first error is about the signature, not "verify failed": the
    // trusted client above is the same but for the authority.)
    CHECK_THROWS_AS(TlsTestClient(server.port(), untrusting), std::runtime_error);
    // ... and one that verifies another name too.
    TlsClientSettings wrongName{authority.caFile(), "example.com"};
    CHECK_THROWS_AS(TlsTestClient(server.port(), wrongName), std::runtime_error);
    expectTlsEcho(secure, "still here");
}

TEST_CASE("wss: large messages both ways, and a client that reads only after the server has written megabytes",
    "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    finch::Options options;
    options.maxMessageSize = 4 * 1024 * 1024;
    options.maxQueuedBytes = 64 * 1024 * 1024;
    auto routes = tlsEchoRoutes();
    routes["flood"].onMessage = [](finch::TlsSocket& socket, const json& message) {
        const int count = message["data"]["count"];
        for (int i = 0; i < count; ++i)
            socket.send({{"seq", i}, {"pad", std::string(64 * 1024, static_cast<char>('a' + i % 26))}}, "flood");
    };
    TlsServer server;
    server.create({}, routes, options).listen(loopback(), "/ws", tls);
    TlsTestClient client(server.port(), {authority.caFile()});

    const std::string big(3 * 1024 * 1024 + 17, 'x');
    expectTlsEcho(client, big);

    // 8 MiB queued at once: the kernel's buffers fill, finch keeps the
    // ciphertext it could not send and goes on when the client reads.
    client.send({{"path", "flood"}, {"data", {{"count", 128}}}});
    for (int i = 0; i < 128; ++i) {
        const json message = client.receive();
        REQUIRE(message["data"]["seq"] == i);
        REQUIRE(message["data"]["pad"] == std::string(64 * 1024, static_cast<char>('a' + i % 26)));
    }
    expectTlsEcho(client, "after the flood");
}

TEST_CASE("wss: plain HTTP, garbage or a broken ClientHello on the TLS port end that connection only", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    finch::Options options;
    options.handshakeTimeout = std::chrono::hours(1);  // what ends them is the error, not the deadline
    TlsServer server;
    server.create({}, tlsEchoRoutes(), options).listen(loopback(), "/ws", tls);
    TlsTestClient open(server.port(), {authority.caFile()});

    std::string broken = clientHello();
    broken[5] = 0x02;  // the handshake message claims to be a ServerHello
    for (const std::string& bytes : {upgradeRequestText(server.port()), std::string("\x01\x02 not tls at all\r\n\r\n"),
             std::string(5000, '\xff'), broken}) {
        const RawExchange answer = rawExchange(server.port(), bytes);
        CHECK(answer.end != beast::error::timeout);
        CHECK(answer.received.find("HTTP/1.1") == std::string::npos);
    }
    CHECK(server.settledClientCount() == 1);
    expectTlsEcho(open, "unaffected");
    TlsTestClient later(server.port(), {authority.caFile()});
    expectTlsEcho(later, "new one");
}

TEST_CASE("wss: https requests reach the HttpHandler on the TLS port", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    TlsServer server;
    auto& manager = server.create({}, tlsEchoRoutes());
    manager.setHttpHandler([](const finch::Request& request) {
        finch::Response response{http::status::ok, request.version()};
        response.body() = "hello over tls";
        response.prepare_payload();
        return response;
    });
    manager.listen(loopback(), "/ws", tls);
    RawTlsConnection connection(server.port(), authority.caFile());
    connection.write("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const auto end = connection.readUntil([](const std::string&) { return false; });
    CHECK(connection.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(connection.received.find("\r\n\r\nhello over tls") != std::string::npos);
    CHECK(end == net::error::eof);  // close_notify, then the end
}

TEST_CASE("wss: stop() closes wss clients with 1001, then TLS's close_notify", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    TlsServer server(2);
    auto& manager = server.create({}, tlsEchoRoutes());
    manager.listen(loopback(), "/ws", tls);
    TlsTestClient beastClient(server.port(), {authority.caFile()});
    RawTlsConnection raw(server.port(), authority.caFile());
    raw.write(upgradeRequestText(server.port()));
    raw.readUntil([](const std::string& bytes) { return bytes.find("\r\n\r\n") != std::string::npos; });
    REQUIRE(raw.received.rfind("HTTP/1.1 101", 0) == 0);
    server.waitConnection(1);
    raw.received.clear();

    manager.stop();
    CHECK(beastClient.expectClose().code == websocket::close_code::going_away);

    const std::string closeFrame("\x88\x02\x03\xe9", 4);  // 1001, unmasked from the server
    raw.readUntil([&](const std::string& bytes) { return bytes.find(closeFrame) != std::string::npos; });
    REQUIRE(raw.received.find(closeFrame) != std::string::npos);
    raw.write(maskedFrameWithOpcode(0x8, std::string("\x03\xe9", 2)));  // the client's answer
    const auto end = raw.readUntil([](const std::string&) { return false; });
    CHECK(end == net::error::eof);  // not ssl::error::stream_truncated: close_notify came
}

TEST_CASE("wss: broadcasts from several threads reach every TLS client once, each sender's order kept", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    TlsServer server(4);
    auto& manager = server.create();
    finch::TlsSocketManager::EventType all;
    all.onMessage = [&manager](finch::TlsSocket& socket, const json& message) {
        manager.sendToAll({{"from", socket.id()}, {"seq", message["data"]}}, "all");
    };
    manager.addRoute("all", all);
    manager.listen(loopback(), "/ws", tls);

    constexpr int clients = 4;
    constexpr int perClient = 40;
    std::vector<std::unique_ptr<TlsTestClient>> connections;
    for (int i = 0; i < clients; ++i)
        connections.push_back(std::make_unique<TlsTestClient>(server.port(), TlsClientSettings{authority.caFile()}));
    REQUIRE(server.connected.waitForCount(clients));

    std::vector<std::thread> senders;
    for (auto& connection : connections)
        senders.emplace_back([&connection] {
            for (int seq = 0; seq < perClient; ++seq)
                connection->send({{"path", "all"}, {"data", seq}});
        });
    for (auto& sender : senders)
        sender.join();
    for (auto& connection : connections) {
        std::map<std::string, int> next;
        for (int i = 0; i < clients * perClient; ++i) {
            const json message = connection->receive();
            const std::string from = message["data"]["from"];
            REQUIRE(message["data"]["seq"] == next[from]);
            ++next[from];
        }
        CHECK(next.size() == static_cast<std::size_t>(clients));
    }
}
