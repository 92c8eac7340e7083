#include <finch/message_kind.hpp>
#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/client_frames.hpp"
#include "support/test_server.hpp"

#include <string>
#include <string_view>
#include <utility>

// finch::MessageKind, as onRawMessage (Options::rawMessages) is told it: a
// text message has been checked to be UTF-8 before any handler sees it, and
// a client that sends other bytes as text is failed with 1007; a binary
// message may hold any bytes.

using namespace finch::test;

TEST_CASE("MessageKind: text arrives checked as UTF-8, binary as any bytes, and text that is not UTF-8 gets 1007",
    "[message_kind][raw]")
{
    EventLog<std::pair<finch::MessageKind, std::string>> messages;
    TestServer server;
    finch::SocketEvent root;
    root.onRawMessage = [&](finch::Socket&, std::string_view data, finch::MessageKind kind) {
        messages.push({kind, std::string(data)});
    };
    finch::Options options;
    options.rawMessages = true;
    server.start(root, {}, options);
    TestClient client(server.port());
    const finch::Socket socket = server.waitConnection(0);

    const std::string text = "h\xc3\xa9llo, \xf0\x9f\x90\xa6";  // "héllo, " and a bird: two and four bytes a character
    std::string everyByte;
    for (int value = 0; value < 256; ++value)
        everyByte.push_back(static_cast<char>(value));
    client.sendText(text);
    client.sendBinary(everyByte);
    REQUIRE(messages.waitForCount(2));
    const auto received = messages.snapshot();
    CHECK(received[0].first == finch::MessageKind::text);
    CHECK(received[0].second == text);
    CHECK(received[1].first == finch::MessageKind::binary);
    CHECK(received[1].second == everyByte);

    // The same bytes, sent as text.
    client.sendRaw(textFrame(everyByte));
    CHECK(client.expectClose().code == websocket::close_code::bad_payload);
    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(messages.size() == 2);
    CHECK(countErrors(server.errors.snapshot(), socket.id(), finch::ErrorCode::invalidUtf8) == 1);
}
