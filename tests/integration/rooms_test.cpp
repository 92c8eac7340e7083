#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/lists.hpp"
#include "support/test_server.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

// Rooms: who a room broadcast reaches, what join, leave and the queries
// report, the onJoin and onLeave callbacks (on the connection's strand, in
// order, never after onDisconnect), leaving on disconnect, and all of it from
// many threads at once.

using namespace finch::test;
using nlohmann::json;

namespace {

// Routes through which a client manages its own rooms, answering with reply().
finch::SocketManager::Routes roomRoutes(finch::SocketManager*& manager)
{
    finch::SocketManager::Routes routes;
    routes["join"].onMessage = [](finch::Socket& socket, const json& message) {
        socket.reply(message, socket.join(message["data"].get<std::string>()));
    };
    routes["leave"].onMessage = [](finch::Socket& socket, const json& message) {
        socket.reply(message, socket.leave(message["data"].get<std::string>()));
    };
    // data {"room", "text"}: to the room's other members; the author's answer
    // says how many it reached.
    routes["say"].onMessage = [&manager](finch::Socket& socket, const json& message) {
        const json& data = message["data"];
        const auto reached = manager->sendToRoomExcept(
            data["room"].get<std::string>(), socket, {{"from", socket.id()}, {"text", data["text"]}}, "said");
        socket.reply(message, reached);
    };
    return routes;
}

// Sends a request to a route of roomRoutes and returns the answer's data.
json askForData(TestClient& client, const std::string& path, const json& data, int id)
{
    client.send({{"path", path}, {"id", id}, {"data", data}});
    const json answer = client.receive();
    INFO(answer.dump());
    CHECK(answer["path"] == path);
    CHECK(answer["id"] == id);
    CHECK(answer["replyTo"] == id);
    return answer["data"];
}

}  // namespace

TEST_CASE("a room broadcast reaches exactly the room's members, once each", "[rooms]")
{
    finch::SocketManager* manager = nullptr;
    TestServer server;
    manager = &server.start({}, roomRoutes(manager));
    TestClient a(server.port());
    const finch::Socket socketA = server.waitConnection(0);
    TestClient b(server.port());
    const finch::Socket socketB = server.waitConnection(1);
    TestClient c(server.port());
    server.waitConnection(2);

    CHECK(askForData(a, "join", "general", 1) == true);
    CHECK(askForData(a, "join", "general", 2) == false);
    CHECK(askForData(b, "join", "general", 3) == true);
    CHECK(askForData(c, "join", "random", 4) == true);

    CHECK(manager->sendToRoom("general", {{"n", 1}}, "news") == 2);
    for (TestClient* member : {&a, &b}) {
        const json message = member->receive();
        CHECK(message["path"] == "news");
        CHECK(message["data"]["n"] == 1);
        CHECK_FALSE(message.contains("id"));
    }
    CHECK(manager->sendToRoom("nowhere", 1, "news") == 0);

    // Per connection, messages from one thread keep their order: c's first
    // message after the room broadcasts is this one, so c got none of them.
    CHECK(manager->sendToAll("marker", "marker") == 3);
    CHECK(c.receive()["path"] == "marker");
    CHECK(a.receive()["path"] == "marker");
    CHECK(b.receive()["path"] == "marker");

    SECTION("sendToRoomExcept skips the author")
    {
        CHECK(askForData(a, "say", {{"room", "general"}, {"text", "hi"}}, 5) == 1);
        const json said = b.receive();
        CHECK(said["path"] == "said");
        CHECK(said["data"] == json{{"from", socketA.id()}, {"text", "hi"}});
        CHECK(manager->sendToRoomExcept("general", socketB, "only a", "news") == 1);
        CHECK(a.receive()["data"] == "only a");
    }
    SECTION("after a leave, the room's broadcasts pass the leaver by")
    {
        CHECK(askForData(b, "leave", "general", 6) == true);
        CHECK(askForData(b, "leave", "general", 7) == false);
        CHECK(manager->sendToRoom("general", "to a", "news") == 1);
        CHECK(a.receive()["data"] == "to a");
        CHECK(manager->sendToAll("marker", "marker") == 3);
        CHECK(b.receive()["path"] == "marker");
    }
}

TEST_CASE("join, leave and the room queries agree, and a connection leaves every room when it ends", "[rooms]")
{
    TestServer server;
    auto& manager = server.start();
    std::optional<TestClient> a(std::in_place, server.port());
    const finch::Socket socketA = server.waitConnection(0);
    TestClient b(server.port());
    const finch::Socket socketB = server.waitConnection(1);

    // From the test's thread: every member is callable from any thread.
    CHECK(socketA.join("staff"));
    CHECK(socketA.join("general"));
    CHECK_FALSE(socketA.join("general"));
    CHECK(socketB.join("general"));
    CHECK(socketA.rooms() == std::vector<std::string>{"general", "staff"});
    CHECK(socketA.inRoom("staff"));
    CHECK_FALSE(socketB.inRoom("staff"));
    CHECK(manager.countRoom("general") == 2);
    CHECK(manager.countRoom("staff") == 1);
    CHECK(manager.countRoom("nowhere") == 0);
    CHECK(sorted(manager.getRoomClients("general")) == sorted({socketA.id(), socketB.id()}));
    CHECK(manager.getRoomClients("nowhere").empty());
    CHECK(sorted(manager.rooms()) == std::vector<std::string>{"general", "staff"});

    CHECK(socketB.leave("general"));
    CHECK_FALSE(socketB.leave("general"));
    CHECK(socketB.rooms().empty());
    CHECK(manager.getRoomClients("general") == std::vector<std::string>{socketA.id()});

    a->close();
    REQUIRE(server.waitDisconnected(socketA.id()));
    CHECK(manager.countRoom("general") == 0);
    CHECK(manager.countRoom("staff") == 0);
    CHECK(manager.rooms().empty());
    CHECK(socketA.rooms().empty());
    CHECK_FALSE(socketA.join("general"));  // ended
    CHECK(manager.rooms().empty());
    a.reset();

    // A closing socket cannot join either, but may still leave.
    CHECK(socketB.join("general"));
    CHECK(socketB.close());
    CHECK_FALSE(socketB.join("other"));
    CHECK(socketB.leave("general"));
    CHECK(b.expectClose().code == websocket::close_code::normal);
    REQUIRE(server.waitDisconnected(socketB.id()));
    CHECK(manager.rooms().empty());
}

TEST_CASE("onJoin and onLeave run in order after the call, and an ending connection leaves each room before onDisconnect",
    "[rooms]")
{
    EventLog<std::string> log;
    TestServer server;
    finch::SocketEvent root;
    // By the time onJoin runs, a later leave from another thread may have
    // happened already; a leave's onLeave always finds the room left.
    root.onJoin = [&](finch::Socket&, const std::string& room) { log.push("+" + room); };
    root.onLeave = [&](finch::Socket& socket, const std::string& room) {
        log.push("-" + room + " in:" + std::to_string(socket.inRoom(room)) +
            " count:" + std::to_string(server.manager().countRoom(room)));
    };
    root.onDisconnect = [&](finch::Socket& socket) {
        log.push("disconnect rooms:" + std::to_string(socket.rooms().size()));
    };
    finch::SocketEvent enter;
    enter.onMessage = [&](finch::Socket& socket, const json& message) {
        socket.join(message["data"].get<std::string>());
        log.push("handler returns");
    };
    server.start(root, {{"enter", enter}});

    std::optional<TestClient> client(std::in_place, server.port());
    const finch::Socket socket = server.waitConnection(0);

    // From inside a handler: onJoin runs once the handler has returned.
    client->send({{"path", "enter"}, {"data", "c"}});
    REQUIRE(log.waitForCount(2));
    CHECK(log.snapshot() == std::vector<std::string>{"handler returns", "+c"});

    // From another thread, in the order of the calls.
    CHECK(socket.join("b"));
    CHECK(socket.join("a"));
    CHECK(socket.leave("b"));
    REQUIRE(log.waitForCount(5));
    client->close();
    REQUIRE(server.waitDisconnected(socket.id()));
    CHECK(log.snapshot() ==
        std::vector<std::string>{"handler returns", "+c", "+b", "+a", "-b in:0 count:0", "-a in:0 count:0",
            "-c in:0 count:0", "disconnect rooms:0"});
    client.reset();
}

TEST_CASE("an application announces a departure from onLeave to the members who stay", "[rooms]")
{
    finch::SocketManager* manager = nullptr;
    TestServer server;
    finch::SocketEvent root;
    root.onJoin = [&](finch::Socket& socket, const std::string& room) {
        manager->sendToRoomExcept(
            room, socket, {{"joined", socket.id()}, {"count", manager->countRoom(room)}}, "presence");
    };
    root.onLeave = [&](finch::Socket& socket, const std::string& room) {
        manager->sendToRoom(room, {{"left", socket.id()}, {"count", manager->countRoom(room)}}, "presence");
    };
    manager = &server.start(root, roomRoutes(manager));

    TestClient stays(server.port());
    const finch::Socket staysSocket = server.waitConnection(0);
    std::optional<TestClient> goes(std::in_place, server.port());
    const finch::Socket goesSocket = server.waitConnection(1);
    CHECK(askForData(stays, "join", "lobby", 1) == true);
    CHECK(askForData(*goes, "join", "lobby", 2) == true);
    CHECK(stays.receive()["data"] == json{{"joined", goesSocket.id()}, {"count", 2}});

    SECTION("by leaving")
    {
        CHECK(askForData(*goes, "leave", "lobby", 3) == true);
    }
    SECTION("by disconnecting")
    {
        goes->close();
    }
    CHECK(stays.receive()["data"] == json{{"left", goesSocket.id()}, {"count", 1}});
    CHECK(manager->countRoom("lobby") == 1);
    goes.reset();
}

TEST_CASE("4 io threads: joins, leaves and room broadcasts from many threads stay exact", "[rooms][threading]")
{
    constexpr std::size_t clientCount = 8;
    constexpr int churnThreads = 4;
    constexpr int churnRounds = 300;
    constexpr int broadcastRounds = 300;
    const std::vector<std::string> roomNames{"r0", "r1", "r2", "r3"};

    // Thread-safe notes of what went wrong off the test's thread.
    std::mutex complaintsMutex;
    std::vector<std::string> complaints;
    const auto complain = [&](const std::string& what) {
        std::lock_guard lock(complaintsMutex);
        complaints.push_back(what);
    };

    // Per connection: joins minus leaves seen by the callbacks, overlapping
    // callbacks, callbacks after onDisconnect.
    struct Track {
        std::atomic<int> balance{0};
        std::atomic<bool> inside{false};
        std::atomic<bool> ended{false};
    };
    std::mutex tracksMutex;
    std::map<std::string, std::shared_ptr<Track>> tracks;
    const auto track = [&](const finch::Socket& socket) {
        std::lock_guard lock(tracksMutex);
        auto& entry = tracks[socket.id()];
        if (!entry)
            entry = std::make_shared<Track>();
        return entry;
    };
    const auto enter = [&](const finch::Socket& socket, const char* what) {
        auto entry = track(socket);
        if (entry->inside.exchange(true))
            complain(std::string("overlapping callbacks in ") + what);
        if (entry->ended)
            complain(std::string(what) + " after onDisconnect");
        return entry;
    };

    TestServer server(4);
    finch::SocketEvent root;
    root.onJoin = [&](finch::Socket& socket, const std::string&) {
        const auto entry = enter(socket, "onJoin");
        ++entry->balance;
        entry->inside = false;
    };
    root.onLeave = [&](finch::Socket& socket, const std::string&) {
        const auto entry = enter(socket, "onLeave");
        --entry->balance;
        entry->inside = false;
    };
    root.onDisconnect = [&](finch::Socket& socket) {
        const auto entry = enter(socket, "onDisconnect");
        entry->ended = true;
        entry->inside = false;
    };
    auto& manager = server.start(root);

    std::vector<std::unique_ptr<TestClient>> clients;
    std::vector<finch::Socket> sockets;
    for (std::size_t i = 0; i < clientCount; ++i) {
        clients.push_back(std::make_unique<TestClient>(server.port()));
        sockets.push_back(server.waitConnection(i));
    }

    // Each client reads until the "end" marker, counting room messages.
    std::vector<std::size_t> received(clientCount, 0);
    std::vector<std::set<std::string>> roomsHeard(clientCount);
    std::vector<std::thread> readers;
    const auto startReaders = [&] {
        for (std::size_t i = 0; i < clientCount; ++i)
            readers.emplace_back([&, i] {
                try {
                    for (;;) {
                        const json message = clients[i]->receive();
                        if (message["path"] == "end")
                            return;
                        ++received[i];
                        roomsHeard[i].insert(message["data"]["room"].get<std::string>());
                    }
                } catch (const std::exception& e) {
                    complain(std::string("reader: ") + e.what());
                }
            });
    };
    const auto stopReaders = [&] {
        if (manager.sendToAll("end", "end") != clientCount)
            complain("the end marker did not reach every client");
        for (auto& reader : readers)
            reader.join();
        readers.clear();
    };

    // Phase 1: churn. Threads join and leave at random while another
    // broadcasts; every message queued for a member must arrive, so the
    // clients' total is the sum of what sendToRoom reported.
    startReaders();
    std::atomic<std::size_t> queued{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < churnThreads; ++t)
        threads.emplace_back([&, t] {
            std::mt19937 random(static_cast<unsigned>(t));
            for (int round = 0; round < churnRounds; ++round) {
                const auto& socket = sockets[random() % clientCount];
                const auto& room = roomNames[random() % roomNames.size()];
                if (random() % 2)
                    socket.join(room);
                else
                    socket.leave(room);
                manager.countRoom(room);
                manager.getRoomClients(room);
            }
        });
    threads.emplace_back([&] {
        for (int round = 0; round < broadcastRounds; ++round) {
            const auto& room = roomNames[static_cast<std::size_t>(round) % roomNames.size()];
            queued += manager.sendToRoom(room, {{"room", room}, {"round", round}}, "room");
        }
    });
    for (auto& thread : threads)
        thread.join();
    threads.clear();
    stopReaders();

    std::size_t total = 0;
    for (const auto count : received)
        total += count;
    CHECK(total == queued);

    // Phase 2: a fixed membership (client i is in room r(i % 4), and the odd
    // ones in r3 too) and one broadcast per room from four threads: each
    // client hears exactly its rooms, once each.
    for (std::size_t i = 0; i < clientCount; ++i) {
        for (const auto& room : roomNames)
            sockets[i].leave(room);
        sockets[i].join(roomNames[i % roomNames.size()]);
        if (i % 2)
            sockets[i].join("r3");
    }
    CHECK(manager.countRoom("r0") == 2);  // 0 and 4
    CHECK(manager.countRoom("r3") == 4);  // 1, 3, 5 and 7
    std::fill(received.begin(), received.end(), 0);
    for (auto& heard : roomsHeard)
        heard.clear();
    startReaders();
    for (const auto& room : roomNames)
        threads.emplace_back([&, room] {
            if (manager.sendToRoom(room, {{"room", room}}, "room") != manager.countRoom(room))
                complain("a fixed room's broadcast missed members");
        });
    for (auto& thread : threads)
        thread.join();
    stopReaders();
    for (std::size_t i = 0; i < clientCount; ++i) {
        std::set<std::string> expected{roomNames[i % roomNames.size()]};
        if (i % 2)
            expected.insert("r3");
        INFO("client " << i);
        CHECK(roomsHeard[i] == expected);
        CHECK(received[i] == expected.size());
    }

    // Everyone leaves, half by disconnecting: no room is left, and every
    // connection's onJoin and onLeave balance out.
    for (std::size_t i = 0; i < clientCount; ++i) {
        if (i % 2) {
            clients[i]->close();
        } else {
            sockets[i].close();
            clients[i]->expectClose();
        }
    }
    REQUIRE(server.disconnected.waitForCount(clientCount));
    // A connection leaves the registry right after its onDisconnect returns,
    // which with four io threads may still be under way for the last one
    // here. stop() reports once every onDisconnect has returned and every
    // connection has left.
    std::promise<void> stopped;
    manager.stop([&stopped] { stopped.set_value(); });
    REQUIRE(stopped.get_future().wait_for(waitLimit) == std::future_status::ready);
    CHECK(manager.countClients() == 0);
    CHECK(manager.rooms().empty());
    for (const auto& room : roomNames)
        CHECK(manager.countRoom(room) == 0);
    {
        std::lock_guard lock(tracksMutex);
        CHECK(tracks.size() == clientCount);
        for (const auto& entry : tracks) {
            INFO(entry.first);
            CHECK(entry.second->balance == 0);
            CHECK(entry.second->ended);
        }
    }
    std::lock_guard lock(complaintsMutex);
    INFO((complaints.empty() ? std::string() : complaints.front()));
    CHECK(complaints.empty());
    CHECK(server.errors.size() == 0);
}
