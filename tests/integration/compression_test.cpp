#include <finch/compression.hpp>
#include <finch/finch.hpp>
#include <finch/permessage_deflate.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// permessage-deflate (Options::compression) over real sockets with Beast's
// client: what the 101 answers, messages both ways above and below the
// threshold, RSV1 on the wire, a broadcast compressed once for many
// receivers and per encoding, a compression bomb (1009), data that does not
// inflate (1007), offers finch must decline, a client that keeps its
// context, and broadcasts from several threads.

using namespace finch::test;
using finch::Encoding;
using nlohmann::json;

namespace {

constexpr const char* noTakeoverAnswer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

// finch's codec, counting how often it compresses: a broadcast must compress
// once, not once per receiver.
class CountingCodec final : public finch::Compression {
public:
    explicit CountingCodec(const finch::PerMessageDeflate& settings = {})
        : Compression(settings)
        , inner_(finch::permessageDeflate(settings))
    {
    }

    bool compress(std::string_view payload, int windowBits, std::string& out) const override
    {
        ++compressions;
        return inner_->compress(payload, windowBits, out);
    }

    finch::InflateResult inflate(std::string_view compressed, std::size_t limit, std::string& out,
        std::string* window, int windowBits) const override
    {
        ++inflations;
        return inner_->inflate(compressed, limit, out, window, windowBits);
    }

    mutable std::atomic<int> compressions{0};
    mutable std::atomic<int> inflations{0};

private:
    std::shared_ptr<const finch::Compression> inner_;
};

finch::Options compressingOptions(std::shared_ptr<const finch::Compression> codec = finch::permessageDeflate())
{
    finch::Options options;
    options.compression = std::move(codec);
    return options;
}

// Beast's client, offering permessage-deflate.
websocket::permessage_deflate beastOffer()
{
    websocket::permessage_deflate offer;
    offer.client_enable = true;
    return offer;
}

// Repetitive JSON, as feeds send: it shrinks several times.
json feedData(std::size_t items)
{
    json rows = json::array();
    for (std::size_t i = 0; i < items; ++i)
        rows.push_back({{"symbol", "ACME"}, {"price", 100 + static_cast<int>(i % 7)}, {"volume", 1000}});
    return rows;
}

struct WireFrame {
    bool rsv1 = false;
    unsigned opcode = 0;
    std::string payload;
};

// The frames a server wrote, after its HTTP answer; `head` gets the answer.
std::vector<WireFrame> wireFrames(const std::string& received, std::string& head)
{
    const auto end = received.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    head = received.substr(0, end + 4);
    std::vector<WireFrame> frames;
    std::size_t at = end + 4;
    while (at + 2 <= received.size()) {
        const auto b0 = static_cast<unsigned char>(received[at]);
        std::uint64_t length = static_cast<unsigned char>(received[at + 1]) & 0x7F;
        std::size_t header = 2;
        if (length == 126) {
            length = static_cast<std::uint64_t>(static_cast<unsigned char>(received[at + 2])) << 8 |
                static_cast<unsigned char>(received[at + 3]);
            header = 4;
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = length << 8 | static_cast<unsigned char>(received[at + 2 + static_cast<std::size_t>(i)]);
            header = 10;
        }
        REQUIRE(at + header + length <= received.size());
        frames.push_back({(b0 & 0x40) != 0, b0 & 0x0Fu, received.substr(at + header, length)});
        at += header + length;
    }
    return frames;
}

std::string offerRequest(unsigned short port, const std::string& offer)
{
    std::string request = upgradeRequestText(port);
    request.insert(request.size() - 2, "Sec-WebSocket-Extensions: " + offer + "\r\n");
    return request;
}

std::string answeredExtensions(const websocket::response_type& response)
{
    return std::string(response[http::field::sec_websocket_extensions]);
}

}  // namespace

TEST_CASE("a client that offers permessage-deflate gets it, and messages round-trip both ways", "[compression]")
{
    TestServer server;
    server.start({}, echoRoutes(), compressingOptions());

    TestClient client(server.port(), "/ws", {}, beastOffer());
    // Beast offers server_max_window_bits=15, which is echoed.
    CHECK(answeredExtensions(client.handshakeResponse()) ==
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=15; client_no_context_takeover");
    CHECK(server.waitConnection(0).compressed());

    // Above the threshold both ways (Beast compresses what it sends), then below.
    const json large = feedData(400);
    REQUIRE(large.dump().size() > 8 * 1024);
    for (const json& data : {large, json("small"), large}) {
        client.send({{"path", "echo"}, {"id", 1}, {"data", data}});
        const json answer = client.receive();
        CHECK(answer["data"] == data);
        CHECK(answer["status"] == 200);
    }
}

TEST_CASE("a manager without compression, or a client that does not offer it, speaks plain", "[compression]")
{
    SECTION("the manager does not compress: the offer is ignored")
    {
        TestServer server;
        server.start({}, echoRoutes());
        TestClient client(server.port(), "/ws", {}, beastOffer());
        CHECK(answeredExtensions(client.handshakeResponse()).empty());
        CHECK_FALSE(server.waitConnection(0).compressed());
        client.send({{"path", "echo"}, {"data", feedData(200)}});
        CHECK(client.receive()["data"] == feedData(200));
    }
    SECTION("the client does not offer it")
    {
        TestServer server;
        server.start({}, echoRoutes(), compressingOptions());
        TestClient client(server.port());
        CHECK(answeredExtensions(client.handshakeResponse()).empty());
        CHECK_FALSE(server.waitConnection(0).compressed());
        client.send({{"path", "echo"}, {"data", feedData(200)}});
        CHECK(client.receive()["data"] == feedData(200));
    }
}

TEST_CASE("on the wire, messages from the threshold on carry RSV1 and inflate to the envelope", "[compression]")
{
    TestServer server;
    finch::SocketManager::Routes routes;
    routes["sized"].onMessage = [](finch::Socket& socket, const json& message) {
        socket.send(std::string(message["data"].get<std::size_t>(), 'x'), "sized");
    };
    routes["raw"].onMessage = [](finch::Socket& socket, const json&) { socket.sendBinary(std::string(3000, 'b')); };
    const auto codec = finch::permessageDeflate();
    server.start({}, routes, compressingOptions(codec));

    const std::string messages = maskedFrame(R"({"path":"sized","data":100})") +
        maskedFrame(R"({"path":"sized","data":5000})") + maskedFrame(R"({"path":"raw"})") +
        maskedFrameWithOpcode(0x8, std::string("\x03\xe8", 2));
    const RawExchange exchange =
        rawExchange(server.port(), offerRequest(server.port(), "permessage-deflate; client_max_window_bits") + messages);
    std::string head;
    const auto frames = wireFrames(exchange.received, head);
    CHECK(head.find("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                    "client_no_context_takeover\r\n") != std::string::npos);
    REQUIRE(frames.size() == 4);
    // Under 1 KiB: plain.
    CHECK_FALSE(frames[0].rsv1);
    CHECK(json::parse(frames[0].payload)["data"] == std::string(100, 'x'));
    // Over it: compressed, each message on its own (no context kept).
    for (int i : {1, 2}) {
        CHECK(frames[static_cast<std::size_t>(i)].rsv1);
        CHECK(frames[static_cast<std::size_t>(i)].payload.size() < 200);
    }
    std::string inflated;
    REQUIRE(codec->inflate(frames[1].payload, 0, inflated, nullptr, 15) == finch::InflateResult::ok);
    CHECK(json::parse(inflated)["data"] == std::string(5000, 'x'));
    CHECK(frames[2].opcode == 2);  // Socket::sendBinary, compressed like any message
    inflated.clear();
    REQUIRE(codec->inflate(frames[2].payload, 0, inflated, nullptr, 15) == finch::InflateResult::ok);
    CHECK(inflated == std::string(3000, 'b'));
    // Control frames never are.
    CHECK(frames[3].opcode == 8);
    CHECK_FALSE(frames[3].rsv1);
}

TEST_CASE("a threshold of 0 compresses every message that shrinks", "[compression]")
{
    TestServer server;
    finch::PerMessageDeflate settings;
    settings.threshold = 0;
    server.start({}, echoRoutes(), compressingOptions(finch::permessageDeflate(settings)));
    const RawExchange exchange = rawExchange(server.port(),
        offerRequest(server.port(), "permessage-deflate") +
            maskedFrame(R"({"path":"echo","data":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})") +
            maskedFrameWithOpcode(0x8, std::string("\x03\xe8", 2)));
    std::string head;
    const auto frames = wireFrames(exchange.received, head);
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].rsv1);
}

TEST_CASE("a broadcast compresses once for all its compressed receivers, once per encoding", "[compression]")
{
    TestServer server;
    const auto codec = std::make_shared<CountingCodec>();
    finch::Options options = compressingOptions(codec);
    options.encodings = {Encoding::json, Encoding::msgpack, Encoding::cbor};
    server.start({}, {}, options);

    std::vector<std::unique_ptr<TestClient>> compressed;
    for (int i = 0; i < 4; ++i)
        compressed.push_back(std::make_unique<TestClient>(server.port(), "/ws", TestClient::Headers{}, beastOffer()));
    TestClient plain(server.port());
    TestClient msgpack(server.port(), "/ws", {{"Sec-WebSocket-Protocol", "finch.msgpack"}}, beastOffer());
    TestClient cbor(server.port(), "/ws", {{"Sec-WebSocket-Protocol", "finch.cbor"}});
    server.connected.waitForCount(7);

    const json data = feedData(300);
    CHECK(server.manager().sendToAll(data, "feed") == 7);
    for (auto& client : compressed)
        CHECK(client->receive()["data"] == data);
    CHECK(plain.receive()["data"] == data);
    CHECK(json::from_msgpack(msgpack.receiveText())["data"] == data);
    CHECK(json::from_cbor(cbor.receiveText())["data"] == data);
    // JSON's frame for the four compressed JSON receivers, MessagePack's for
    // its one; plain and CBOR receivers need none.
    CHECK(codec->compressions == 2);

    // A room is a broadcast too.
    for (int i = 0; i < 4; ++i)
        server.waitConnection(static_cast<std::size_t>(i)).join("r");
    CHECK(server.manager().sendToRoom("r", data, "room") == 4);
    for (auto& client : compressed)
        CHECK(client->receive()["path"] == "room");
    CHECK(codec->compressions == 3);
}

TEST_CASE("a client that limits the server's window gets a frame of that window", "[compression]")
{
    TestServer server;
    const auto codec = std::make_shared<CountingCodec>();
    server.start({}, {}, compressingOptions(codec));
    websocket::permessage_deflate small = beastOffer();
    small.server_max_window_bits = 10;
    TestClient limited(server.port(), "/ws", {}, small);
    CHECK(answeredExtensions(limited.handshakeResponse()).find("server_max_window_bits=10") != std::string::npos);
    TestClient a(server.port(), "/ws", {}, beastOffer());
    TestClient b(server.port(), "/ws", {}, beastOffer());
    server.connected.waitForCount(3);

    const json data = feedData(500);
    CHECK(server.manager().sendToAll(data, "feed") == 3);
    CHECK(limited.receive()["data"] == data);
    CHECK(a.receive()["data"] == data);
    CHECK(b.receive()["data"] == data);
    CHECK(codec->compressions == 2);  // one frame per window size in use
}

TEST_CASE("a compression bomb closes the connection with 1009 at the inflated limit", "[compression]")
{
    TestServer server;
    finch::Options options = compressingOptions();
    options.maxMessageSize = 64 * 1024;
    server.start({}, echoRoutes(), options);
    TestClient client(server.port(), "/ws", {}, beastOffer());
    const auto socket = server.waitConnection(0);

    // 8 MiB of spaces inside a string: a few KiB once Beast compresses it.
    client.sendText(R"({"path":"echo","data":")" + std::string(8 * 1024 * 1024, ' ') + "\"}");
    CHECK(client.expectClose().code == 1009);
    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(countErrors(server.errors.snapshot(), socket.id(), finch::ErrorCode::messageTooBig) == 1);
}

TEST_CASE("compressed data that does not inflate closes with 1007", "[compression]")
{
    TestServer server;
    server.start({}, echoRoutes(), compressingOptions());
    TestClient client(server.port(), "/ws", {}, beastOffer());
    const auto socket = server.waitConnection(0);
    // FIN, RSV1, text: a block type that DEFLATE does not have.
    client.sendRaw(maskedFrameWithOpcode(0x41, "\xff\xff\xff"));
    CHECK(client.expectClose().code == 1007);
    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(countErrors(server.errors.snapshot(), socket.id(), finch::ErrorCode::invalidCompressedData) == 1);
}

TEST_CASE("offers finch must decline leave the upgrade uncompressed, never refused", "[compression]")
{
    TestServer server;
    server.start({}, echoRoutes(), compressingOptions());
    for (const char* offer : {"permessage-deflate; foo=1", "permessage-deflate; server_max_window_bits=8",
             "permessage-deflate; client_max_window_bits=20", "permessage-deflate;;", "x-webkit-deflate-frame"}) {
        INFO(offer);
        const auto response = upgradeRequest(server.port(), "/ws", {{"Sec-WebSocket-Extensions", offer}});
        CHECK(response.result() == http::status::switching_protocols);
        CHECK(response[http::field::sec_websocket_extensions].empty());
    }
    // Several offers: the first finch can accept, in one header or several.
    const auto several = upgradeRequest(server.port(), "/ws",
        {{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=8, permessage-deflate; "
                                      "server_max_window_bits=12"}});
    CHECK(several[http::field::sec_websocket_extensions] ==
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_no_context_takeover");
    // Safari 15.0 to 15.3 would keep its context anyway: no compression for it.
    const auto safari = upgradeRequest(server.port(), "/ws",
        {{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"},
            {"User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                           "Version/15.3 Safari/605.1.15"}});
    CHECK(safari.result() == http::status::switching_protocols);
    CHECK(safari[http::field::sec_websocket_extensions].empty());
    // Offers in two header lines are one list (RFC 7230 3.2.2).
    std::string request = offerRequest(server.port(), "x-webkit-deflate-frame");
    request.insert(request.size() - 2, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    const RawExchange exchange =
        rawExchange(server.port(), request + maskedFrameWithOpcode(0x8, std::string("\x03\xe8", 2)));
    CHECK(exchange.received.find(std::string("Sec-WebSocket-Extensions: ") + noTakeoverAnswer + "\r\n") !=
        std::string::npos);
}

TEST_CASE("with clientContextTakeover, a client that keeps its context is read right", "[compression]")
{
    TestServer server;
    finch::PerMessageDeflate settings;
    settings.clientContextTakeover = true;
    server.start({}, echoRoutes(), compressingOptions(finch::permessageDeflate(settings)));
    TestClient client(server.port(), "/ws", {}, beastOffer());
    const std::string answered = answeredExtensions(client.handshakeResponse());
    CHECK(answered.find("client_no_context_takeover") == std::string::npos);
    CHECK(answered.find("server_no_context_takeover") != std::string::npos);
    // The same large message again and again: Beast's client refers back
    // into the previous ones, which the server must have kept.
    const json data = feedData(100);
    for (int i = 0; i < 5; ++i) {
        client.send({{"path", "echo"}, {"data", data}});
        CHECK(client.receive()["data"] == data);
    }
}

TEST_CASE("broadcasts from several threads reach compressed receivers whole and in order", "[compression]")
{
    TestServer server(2);
    server.start({}, {}, compressingOptions());
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 3; ++i)
        clients.push_back(std::make_unique<TestClient>(server.port(), "/ws", TestClient::Headers{}, beastOffer()));
    server.connected.waitForCount(3);

    constexpr int perThread = 40;
    std::vector<std::thread> senders;
    for (int t = 0; t < 3; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; i < perThread; ++i) {
                json data = feedData(60);
                data.push_back({{"thread", t}, {"n", i}});
                server.manager().sendToAll(data, "feed");
            }
        });
    for (auto& sender : senders)
        sender.join();
    for (auto& client : clients) {
        std::vector<int> next(3, 0);
        for (int i = 0; i < 3 * perThread; ++i) {
            const json data = client->receive()["data"];
            const json& mark = data.back();
            const int thread = mark["thread"];
            // Each thread's broadcasts arrive in the order it sent them.
            CHECK(mark["n"] == next[static_cast<std::size_t>(thread)]++);
        }
    }
}

TEST_CASE("a handler that re-enters the io_context keeps its inflated message while others inflate",
    "[compression]")
{
    // One server thread: the second client's message is read and inflated
    // inside the first handler's run_one_for(), on the same thread, into a
    // buffer of its own. It is larger than the thread's kept buffer, so
    // sharing that buffer would also free the first handler's bytes.
    TestServer server(1);
    const std::string first(2000, 'a');
    const std::string second(100000, 'b');
    std::promise<void> firstStarted;
    std::atomic<bool> secondSeen{false};
    std::atomic<bool> firstIntact{false};
    finch::Options options = compressingOptions();
    options.rawMessages = true;
    finch::SocketEvent root;
    root.onRawMessage = [&](finch::Socket&, std::string_view data, finch::MessageKind) {
        if (data.size() == second.size()) {
            secondSeen = true;
            return;
        }
        firstStarted.set_value();
        const auto deadline = std::chrono::steady_clock::now() + waitLimit;
        while (!secondSeen && std::chrono::steady_clock::now() < deadline)
            server.threads.context.run_one_for(std::chrono::milliseconds(50));
        firstIntact = secondSeen && data == first;
    };
    server.start(root, {}, options);
    TestClient a(server.port(), "/ws", {}, beastOffer());
    TestClient b(server.port(), "/ws", {}, beastOffer());
    a.sendText(first);
    REQUIRE(firstStarted.get_future().wait_for(waitLimit) == std::future_status::ready);
    b.sendText(second);
    a.close();
    b.close();
    CHECK(secondSeen);
    CHECK(firstIntact);
}
