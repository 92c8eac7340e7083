// finch_demo: the example of Finch's guide, on finch.
//
// Serves a browser page at "/", finch's JavaScript client at "/finch.js" and
// WebSockets at "/ws". The page has a button per route and shows every
// envelope the server sends back.
//
//   finch_demo [--port N] [--threads N] [--address A] [--compression] [--tls-cert FILE --tls-key FILE]
//              [--redis HOST:PORT]
//
// With --tls-cert and --tls-key the port serves TLS only: the page at
// https://<host>/ and WebSockets at wss://<host>/ws (the page picks wss://
// itself when it was loaded over https). The manager is a
// finch::TlsSocketManager either way, so one binary serves both.
//
// With --redis, the servers given the same Redis form a cluster: each
// announces its connections to the clients of all, "clients" lists every
// node's clients, and "toclient" reaches a client of any node.
//
// Routes (a client sends {"path": "<route>", "data": ...}):
//   test      replies the headers of the client's upgrade request, on "test"
//   time      replies the current UTC time, on "output"
//   clients   replies the ids of all connected clients (of every node), on "clients"
//   toclient  data {"id", "message"}: sends the message to that client, on "output"
//   close     closes the sender's connection
// Any other path gets finch's error envelope (path "error", status 404).

#include "page.hpp"

#include "../common/client_script.hpp"
#include "../common/cluster_server.hpp"
#include "../common/tls_server.hpp"

#include <finch/tls.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = boost::beast::http;

// The current time as ISO-8601 in UTC with milliseconds: "2024-05-01T12:34:56.789Z".
std::string utcNow()
{
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t seconds = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm parts{};
#ifdef _WIN32
    gmtime_s(&parts, &seconds);
#else
    gmtime_r(&seconds, &parts);
#endif
    char text[32];
    const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis));
    return std::string(text, length) + fraction;
}

// The request's headers as a JSON object. A header sent more than once is
// joined with ", ", which is what HTTP says such a list means (RFC 9110 5.3).
nlohmann::json headersOf(const finch::Request& request)
{
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& field : request) {
        const std::string name(field.name_string());
        const std::string value(field.value());
        auto found = headers.find(name);
        if (found == headers.end())
            headers[name] = value;
        else
            found->get_ref<std::string&>() += ", " + value;
    }
    return headers;
}

// The lifecycle callbacks. `manager` is only stored here: the callbacks run
// once connections arrive, long after the manager has been constructed.
finch::TlsSocketManager::EventType rootEvent(finch::TlsSocketManager& manager)
{
    finch::TlsSocketManager::EventType root;
    root.onConnect = [&manager](finch::TlsSocket& socket) {
        // countClients() already counts the new connection, which also
        // receives this broadcast.
        manager.sendToAll("New user connected! count: " + std::to_string(manager.countClients()), "output");
        // The id lets the page tell its own entry apart in the "clients" list.
        socket.send({{"message", "Welcome to the finch demo!"}, {"id", socket.id()}}, "connected");
    };
    root.onDisconnect = [&manager](finch::TlsSocket&) {
        // The leaving socket is still counted until this callback returns.
        manager.sendToAll("User disconnected! count: " + std::to_string(manager.countClients() - 1), "output");
    };
    root.onError = [](finch::TlsSocket& socket, const finch::Error& error) {
        // Client mistakes are already answered with an error envelope; this
        // log is for whoever runs the demo.
        std::cerr << "finch_demo: client " << socket.id() << ": " << error.message << '\n';
    };
    return root;
}

finch::TlsSocketManager::Routes routes(finch::TlsSocketManager& manager)
{
    finch::TlsSocketManager::Routes routes;

    routes["test"].onMessage = [](finch::TlsSocket& socket, const nlohmann::json&) {
        socket.send(headersOf(socket.request()), "test");
    };

    routes["time"].onMessage = [](finch::TlsSocket& socket, const nlohmann::json&) { socket.send(utcNow(), "output"); };

    // Every node's clients in a cluster (--redis), this server's otherwise.
    routes["clients"].onMessage = [&manager](finch::TlsSocket& socket, const nlohmann::json&) {
        manager.getAllClientsKeys(
            [socket](std::vector<std::string> ids, bool) { socket.send(ids, "clients"); }, std::chrono::seconds(2));
    };

    routes["toclient"].onMessage = [&manager](finch::TlsSocket& socket, const nlohmann::json& message) {
        const auto data = message.find("data");
        if (data == message.end() || !data->is_object() || !data->contains("id") || !(*data)["id"].is_string() ||
            !data->contains("message")) {
            socket.send({{"message", R"(expected data {"id": "<client id>", "message": ...})"}}, "output", 400);
            return;
        }
        if (!manager.sendToClient((*data)["id"].get<std::string>(), (*data)["message"], "output"))
            socket.send({{"message", "no such client"}}, "output", 404);
    };

    routes["close"].onMessage = [](finch::TlsSocket& socket, const nlohmann::json&) { socket.close(); };

    return routes;
}

finch::Response serveHttp(const finch::Request& request)
{
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (request.method() == http::verb::get && path == "/") {
        finch::Response response{http::status::ok, request.version()};
        response.set(http::field::content_type, "text/html; charset=utf-8");
        response.body() = demoPage;
        return response;
    }
    if (auto script = examples::serveClientScript(request))
        return std::move(*script);
    finch::Response response{http::status::not_found, request.version()};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "Not Found\n";
    return response;
}

// The host part of a URL a browser on this machine can open: "[::1]" for IPv6,
// "localhost" for a wildcard address.
int run(const examples::ServerSettings& settings)
{
    boost::asio::io_context context(static_cast<int>(settings.threads));
    // Declared after the context, so destroyed before it: the manager must go
    // first, once run() has returned on every thread.
    finch::TlsSocketManager manager(context, rootEvent(manager), routes(manager), examples::serverOptions(settings));
    manager.setHttpHandler(serveHttp);
    // Plain TCP, or TLS only with --tls-cert and --tls-key.
    // Before listening: the connections' ids then carry the node's.
    examples::joinClusterIfAsked(manager, context, settings);
    const auto listening = examples::listenMaybeTls(manager, settings, "/ws");
    if (!listening)
        return 1;
    // Flushed: a script that started us reads this line to learn the port.
    std::cout << "finch_demo listening on " << listening->httpUrl("/") << " (WebSocket at "
              << listening->webSocketUrl("/ws") << ")" << std::endl;
    examples::runUntilStopped(context, manager, settings);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    examples::ServerSettings settings;
    settings.program = "finch_demo";
    settings.offersTls = true;
    settings.offersRedis = true;
    if (const auto exitCode = examples::parseServerArguments(argc, argv, settings))
        return *exitCode;
    try {
        return run(settings);
    } catch (const std::exception& e) {
        std::cerr << "finch_demo: " << e.what() << '\n';
        return 1;
    }
}
