// chat: rooms, nicknames and acknowledgements on finch.
//
// Serves a browser page at "/", finch's JavaScript client at "/finch.js" and
// WebSockets at "/ws?nick=<nickname>".
//
//   chat [--port N] [--threads N] [--address A] [--compression] [--tls-cert FILE --tls-key FILE]
//        [--redis HOST:PORT]
//
// With --tls-cert and --tls-key the port serves TLS only: the page at
// https://<host>/ and WebSockets at wss://<host>/ws (the page picks wss://
// itself when it was loaded over https).
//
// With --redis, the chat servers given the same Redis share their rooms:
// messages, "joined" and "left" reach the members on every server, and the
// counts are the cluster's. A nickname is unique on its server only; a
// room's "members" lists the members on the server that answers, and
// "delivered" counts that server's receivers.
//
// The upgrade handler admits a connection only with a valid nickname (1 to
// 20 letters, digits, '_', '-' or '.'; else 400) that nobody online uses
// (else 409), and keeps it in the connection's data. A browser cannot see the
// status of a refused WebSocket upgrade, so GET /check?nick=<nickname>
// answers the same statuses for the page to explain.
//
// Every request below carries an "id" and is answered with Socket::reply:
//   join     data "<room>": joins it; answers {"room", "members": [nicknames]}
//   leave    data "<room>": leaves it; answers {"room"}
//   say      data {"room", "text"}: only for the room's members (a route
//            guard; others get 403); sends {"room", "from", "text", "at"} on
//            "message" to the room's other members; answers {"delivered": n}
//   whisper  data {"to", "text"}: sends {"from", "text", "at"} on "whisper" to
//            every connection of that nickname; answers {"delivered": n}
//   rooms    answers [{"name", "count"}] for every room that has members
//   latency  the server asks the client "ping" (Socket::request) and answers
//            {"ms": <round trip>}, or status 504 if no answer came in time
// The server announces {"room", "nick", "count"} on "joined" and "left" to a
// room's members (from onJoin and onLeave), also when a member disconnects.

#include "page.hpp"

#include "../common/client_script.hpp"
#include "../common/cluster_server.hpp"
#include "../common/tls_server.hpp"

#include <finch/tls.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = boost::beast::http;
using nlohmann::json;

// What each connection keeps: set by the upgrade handler, read and written
// by that connection's callbacks only (see Socket::data()).
struct Member {
    std::string nick;
    std::uint64_t said = 0;
};

// On finch::TlsTransport: the same binary serves ws:// or, with
// --tls-cert and --tls-key, wss://.
using Manager = finch::TlsSocketManagerWith<Member>;
using Socket = Manager::SocketType;
using Event = Manager::EventType;
using Decision = Manager::UpgradeDecisionType;

// The value of `key` in a request target's query string, as sent. Nicknames
// and room names are restricted to characters that need no percent-encoding,
// so anything encoded is simply invalid.
std::string queryValue(std::string_view target, std::string_view key)
{
    const auto query = target.find('?');
    if (query == std::string_view::npos)
        return {};
    std::string_view rest = target.substr(query + 1);
    for (;;) {
        const auto end = rest.find('&');
        const auto pair = rest.substr(0, end);
        const auto equals = pair.find('=');
        if (equals != std::string_view::npos && pair.substr(0, equals) == key)
            return std::string(pair.substr(equals + 1));
        if (end == std::string_view::npos)
            return {};
        rest = rest.substr(end + 1);
    }
}

bool isNameCharacter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
        c == '.';
}

bool validName(std::string_view name, std::size_t maxLength)
{
    if (name.empty() || name.size() > maxLength)
        return false;
    for (const char c : name)
        if (!isNameCharacter(c))
            return false;
    return true;
}

bool validNick(std::string_view nick)
{
    return validName(nick, 20);
}

bool validRoom(std::string_view room)
{
    return validName(room, 30);
}

// The nicknames online, each with the connection that holds it. The upgrade
// handler only looks (a refused or failed upgrade must not hold a name);
// onConnect claims, so two upgrades racing for one name cannot both win.
class Nicknames {
public:
    bool taken(const std::string& nick) const
    {
        std::lock_guard lock(mutex_);
        return owners_.count(nick) != 0;
    }

    bool claim(const std::string& nick, const std::string& socketId)
    {
        std::lock_guard lock(mutex_);
        return owners_.emplace(nick, socketId).second;
    }

    void release(const std::string& nick, const std::string& socketId)
    {
        std::lock_guard lock(mutex_);
        const auto found = owners_.find(nick);
        if (found != owners_.end() && found->second == socketId)
            owners_.erase(found);
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string> owners_;
};

// Why `nick` cannot join, as an HTTP status; ok if it can.
http::status nickStatus(const Nicknames& nicknames, const std::string& nick)
{
    if (!validNick(nick))
        return http::status::bad_request;
    if (nicknames.taken(nick))
        return http::status::conflict;
    return http::status::ok;
}

std::string nickProblem(http::status status)
{
    return status == http::status::conflict ? "that nickname is taken\n"
                                            : "a nickname is 1 to 20 letters, digits, '_', '-' or '.'\n";
}

// The nicknames of a room's members.
json membersOf(const Manager& manager, const std::string& room)
{
    json nicks = json::array();
    for (const auto& id : manager.getRoomClients(room))
        if (const auto member = manager.getClient(id))
            nicks.push_back(member->userId());
    return nicks;
}

std::int64_t nowMilliseconds()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The room named by a request's data, which is either the name or an object
// with a "room" member; empty if there is none, or it is not a valid name.
std::string roomOf(const json& message)
{
    const auto data = message.find("data");
    if (data == message.end())
        return {};
    const json* room = &*data;
    if (data->is_object()) {
        const auto inner = data->find("room");
        if (inner == data->end())
            return {};
        room = &*inner;
    }
    if (!room->is_string() || !validRoom(room->get_ref<const std::string&>()))
        return {};
    return room->get<std::string>();
}

Event rootEvent(Manager& manager, Nicknames& nicknames)
{
    Event root;
    root.onConnect = [&nicknames](Socket& socket) {
        if (!nicknames.claim(socket.data().nick, socket.id())) {
            // Another upgrade with this name got in between our check and now.
            socket.send({{"message", "that nickname is taken"}}, "error", 409);
            socket.close(finch::CloseCode{4009}, "nickname taken");
            return;
        }
        socket.send({{"nick", socket.data().nick}}, "welcome");
    };
    root.onDisconnect = [&nicknames](Socket& socket) { nicknames.release(socket.data().nick, socket.id()); };
    root.onJoin = [&manager](Socket& socket, const std::string& room) {
        manager.sendToRoomExcept(
            room, socket, {{"room", room}, {"nick", socket.data().nick}, {"count", manager.countRoom(room)}}, "joined");
    };
    // Also for every room of a connection that ends, before onDisconnect.
    root.onLeave = [&manager](Socket& socket, const std::string& room) {
        manager.sendToRoom(
            room, {{"room", room}, {"nick", socket.data().nick}, {"count", manager.countRoom(room)}}, "left");
    };
    root.onError = [](Socket& socket, const finch::Error& error) {
        std::cerr << "chat: " << socket.data().nick << ": " << error.message << '\n';
    };
    return root;
}

Manager::Routes routes(Manager& manager)
{
    Manager::Routes routes;

    routes["join"].onMessage = [&manager](Socket& socket, const json& message) {
        const std::string room = roomOf(message);
        if (room.empty())
            return void(
                socket.reply(message, {{"message", "a room name is 1 to 30 letters, digits, '_', '-' or '.'"}}, 400));
        socket.join(room);
        socket.reply(message, {{"room", room}, {"members", membersOf(manager, room)}});
    };

    routes["leave"].onMessage = [](Socket& socket, const json& message) {
        const std::string room = roomOf(message);
        if (!socket.leave(room))
            return void(socket.reply(message, {{"message", "you are not in that room"}}, 404));
        socket.reply(message, {{"room", room}});
    };

    // The guard runs first: a message to a room its author is not in gets 403.
    routes["say"].guard = [](Socket& socket, const json& message) {
        const std::string room = roomOf(message);
        return !room.empty() && socket.inRoom(room);
    };
    routes["say"].onMessage = [&manager](Socket& socket, const json& message) {
        const std::string room = roomOf(message);
        const json& data = message["data"];  // an object with a valid room: the guard checked
        const json text = data.value("text", json());
        if (!text.is_string() || text.get_ref<const std::string&>().empty() ||
            text.get_ref<const std::string&>().size() > 2000)
            return void(socket.reply(message, {{"message", "text must be 1 to 2000 characters"}}, 400));
        ++socket.data().said;
        const auto delivered = manager.sendToRoomExcept(room, socket,
            {{"room", room}, {"from", socket.data().nick}, {"text", text}, {"at", nowMilliseconds()}}, "message");
        socket.reply(message, {{"delivered", delivered}, {"said", socket.data().said}});
    };

    // To every connection of one nickname (the connection's user id), on
    // every server of a cluster.
    routes["whisper"].onMessage = [&manager](Socket& socket, const json& message) {
        const json& data = message["data"];
        const json to = data.is_object() ? data.value("to", json()) : json();
        const json text = data.is_object() ? data.value("text", json()) : json();
        if (!to.is_string() || !text.is_string() || text.get_ref<const std::string&>().empty() ||
            text.get_ref<const std::string&>().size() > 2000)
            return void(socket.reply(message, {{"message", "expected data {\"to\": nick, \"text\": 1 to 2000 characters}"}}, 400));
        const auto delivered = manager.sendToUser(
            to.get<std::string>(), {{"from", socket.data().nick}, {"text", text}, {"at", nowMilliseconds()}}, "whisper");
        socket.reply(message, {{"delivered", delivered}});
    };

    routes["rooms"].onMessage = [&manager](Socket& socket, const json& message) {
        json rooms = json::array();
        for (const auto& name : manager.rooms())
            rooms.push_back({{"name", name}, {"count", manager.countRoom(name)}});
        socket.reply(message, rooms);
    };

    // The callback holds a handle to the socket, and the socket holds the
    // callback until it has run, which it does exactly once (answer, timeout
    // or disconnect): the cycle always breaks.
    routes["latency"].onMessage = [](Socket& socket, const json& message) {
        const auto start = std::chrono::steady_clock::now();
        socket.request("ping", nullptr, std::chrono::seconds(5),
            [socket, message, start](boost::system::error_code ec, const json&) {
                if (ec)
                    return void(socket.reply(message, {{"message", ec.message()}}, 504));
                const auto elapsed = std::chrono::steady_clock::now() - start;
                socket.reply(
                    message, {{"ms", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() / 1000.0}});
            });
    };

    return routes;
}

finch::Response textResponse(const finch::Request& request, http::status status, std::string body)
{
    finch::Response response{status, request.version()};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = std::move(body);
    return response;
}

finch::HttpHandler httpHandler(const Nicknames& nicknames)
{
    return [&nicknames](const finch::Request& request) {
        const std::string_view target = request.target();
        const std::string_view path = target.substr(0, target.find('?'));
        if (request.method() == http::verb::get && path == "/") {
            finch::Response response{http::status::ok, request.version()};
            response.set(http::field::content_type, "text/html; charset=utf-8");
            response.body() = chatPage;
            return response;
        }
        if (request.method() == http::verb::get && path == "/check") {
            const auto status = nickStatus(nicknames, queryValue(target, "nick"));
            return textResponse(request, status, status == http::status::ok ? "ok\n" : nickProblem(status));
        }
        if (auto script = examples::serveClientScript(request))
            return std::move(*script);
        return textResponse(request, http::status::not_found, "Not Found\n");
    };
}

int run(const examples::ServerSettings& settings)
{
    boost::asio::io_context context(static_cast<int>(settings.threads));
    Nicknames nicknames;
    // After the context and the nicknames, so destroyed before them.
    Manager manager(context, rootEvent(manager, nicknames), routes(manager), examples::serverOptions(settings));
    manager.setHttpHandler(httpHandler(nicknames));
    manager.setUpgradeHandler([&nicknames](const finch::Request& request) {
        const std::string nick = queryValue(request.target(), "nick");
        const auto status = nickStatus(nicknames, nick);
        if (status != http::status::ok)
            return Decision::refuse(status, nickProblem(status));
        return Decision::accept(nick, Member{nick});
    });
    // Plain TCP, or TLS only with --tls-cert and --tls-key.
    // Before listening: the connections' ids then carry the node's.
    examples::joinClusterIfAsked(manager, context, settings);
    const auto listening = examples::listenMaybeTls(manager, settings, "/ws");
    if (!listening)
        return 1;
    // Flushed: a script that started us reads this line to learn the port.
    std::cout << "chat listening on " << listening->httpUrl("/") << " (WebSocket at "
              << listening->webSocketUrl("/ws?nick=...") << ")" << std::endl;
    examples::runUntilStopped(context, manager, settings);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    examples::ServerSettings settings;
    settings.program = "chat";
    settings.offersTls = true;
    settings.offersRedis = true;
    if (const auto exitCode = examples::parseServerArguments(argc, argv, settings))
        return *exitCode;
    try {
        return run(settings);
    } catch (const std::exception& e) {
        std::cerr << "chat: " << e.what() << '\n';
        return 1;
    }
}
