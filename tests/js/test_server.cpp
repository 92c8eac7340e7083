// finch_js_test_server: the server the JavaScript client's tests
// (tests/js/client) and the protocol's schema test (tests/js/protocol) talk to.
//
//   finch_js_test_server [--port N] [--threads N] [--address A] [--compression] [--subprotocols a,b]
//                        [--encodings json,msgpack,cbor] [--redis HOST:PORT]
//
// With --redis, the manager joins the cluster of the servers given the same
// Redis (tests/e2e/cluster_test.py starts several), and a client names its
// user with ?user=<id> in the WebSocket URL.
//
// WebSockets at "/ws". With --subprotocols, the manager speaks those
// subprotocols (Options::subprotocols, refusing clients that offer only
// others with 400), and the "subprotocol" route replies the connection's.
// With --encodings, the manager speaks those envelope encodings
// (Options::encodings: finch.json, finch.msgpack, finch.cbor). Routes (a client sends {"path": "<route>",
// "data": ...}):
//   echo    replies the message's data (with its id, when it has one)
//   fail    replies status 422 with data {"message": "refused"}
//   push    data {"path", "data"}: sends that data on that path
//   ask     asks the client "question" with the message's data (2 s), and
//           sends its whole answer object, or {"error": <message>}, on "answered"
//   note    records the data (no answer)
//   notes   replies the list of recorded notes, in arrival order
//   kick    closes the connection with 1008 (policy violation), reason "kicked"
//   bye     closes the connection normally (1000)
//   silent  does nothing, so a request on it times out
//   guarded its guard refuses every message (403)
//   throw   its handler throws (500)
//   subprotocol replies Socket::subprotocol() ("" for none)
//   encoding replies the subprotocol name of Socket::encoding() ("finch.json" ...)
//   compressed replies Socket::compressed(): whether permessage-deflate was agreed
//   broadcast data {"path", "data"}: sends that data on that path to every
//           connection (sendToAll), then replies how many it reached
//   whoami  replies {"id", "user"} of the connection
//   join    data "<room>": joins it; replies whether it was not in it yet
//   send    data {"kind", "to", "path", "data"}: sendToAll ("all"),
//           sendToAllExcept the sender ("allExcept"), sendToRoom ("room"),
//           sendToRoomExcept the sender ("roomExcept"), sendToUser ("user"),
//           sendToClient ("client"), or closeClient with 4000 ("close"), "to"
//           naming the room, user or connection; replies what it returned
// Any other path gets finch's error envelope (path "error", status 404).

#include "../../examples/common/cluster_server.hpp"
#include "../../examples/common/server_main.hpp"

#include <finch/finch.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// The notes of every connection: the offline buffer's tests send them while
// disconnected and read them back, in order, after reconnecting.
std::mutex notesMutex;
nlohmann::json notes = nlohmann::json::array();

// The manager, for the "broadcast" route; set before it listens.
finch::SocketManager* theManager = nullptr;

finch::SocketManager::Routes routes()
{
    finch::SocketManager::Routes routes;

    routes["echo"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.reply(message, message.value("data", nlohmann::json()));
    };

    routes["fail"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.reply(message, {{"message", "refused"}}, 422);
    };

    routes["push"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        const auto data = message.value("data", nlohmann::json::object());
        if (!data.is_object() || !data.contains("path") || !data["path"].is_string()) {
            socket.reply(message, {{"message", R"(expected data {"path": "...", "data": ...})"}}, 400);
            return;
        }
        socket.send(data.value("data", nlohmann::json()), data["path"].get<std::string>());
    };

    routes["ask"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.request("question", message.value("data", nlohmann::json()), std::chrono::seconds(2),
            [socket](boost::system::error_code ec, const nlohmann::json& answer) {
                if (ec)
                    socket.send({{"error", ec.message()}}, "answered");
                else
                    socket.send(answer, "answered");
            });
    };

    routes["note"].onMessage = [](finch::Socket&, const nlohmann::json& message) {
        const std::lock_guard<std::mutex> lock(notesMutex);
        notes.push_back(message.value("data", nlohmann::json()));
    };

    routes["notes"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        nlohmann::json copy;
        {
            const std::lock_guard<std::mutex> lock(notesMutex);
            copy = notes;
        }
        socket.reply(message, copy);
    };

    routes["kick"].onMessage = [](finch::Socket& socket, const nlohmann::json&) {
        socket.close(finch::CloseCode::policyViolation, "kicked");
    };

    routes["bye"].onMessage = [](finch::Socket& socket, const nlohmann::json&) { socket.close(); };

    // Registered so that it is not a 404: the request simply never gets an answer.
    routes["silent"].onMessage = [](finch::Socket&, const nlohmann::json&) {};

    routes["guarded"].guard = [](finch::Socket&, const nlohmann::json&) { return false; };
    routes["guarded"].onMessage = [](finch::Socket&, const nlohmann::json&) {};

    routes["throw"].onMessage = [](finch::Socket&, const nlohmann::json&) {
        throw std::runtime_error("thrown on purpose");
    };

    routes["subprotocol"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.reply(message, socket.subprotocol());
    };

    routes["encoding"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.reply(message, std::string(finch::subprotocolOf(socket.encoding())));
    };

    routes["compressed"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.reply(message, socket.compressed());
    };

    routes["whoami"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.reply(message, {{"id", socket.id()}, {"user", socket.userId()}});
    };

    routes["join"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        const auto room = message.value("data", nlohmann::json());
        if (!room.is_string())
            return void(socket.reply(message, {{"message", "expected data \"<room>\""}}, 400));
        socket.reply(message, socket.join(room.get<std::string>()));
    };

    // data {"kind", "to", "path", "data"}: one of the manager's sends, as the
    // cluster tests drive them (tests/e2e/cluster_test.py); answers what it
    // returned. "to" is the room, the user or the connection id.
    routes["send"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        const auto request = message.value("data", nlohmann::json::object());
        if (!request.is_object())
            return void(socket.reply(message, {{"message", "expected data {\"kind\", ...}"}}, 400));
        const std::string kind = request.value("kind", "");
        const std::string to = request.value("to", "");
        const std::string path = request.value("path", "sent");
        const nlohmann::json data = request.value("data", nlohmann::json());
        nlohmann::json result;
        if (kind == "all")
            result = theManager->sendToAll(data, path);
        else if (kind == "allExcept")
            result = theManager->sendToAllExcept(socket, data, path);
        else if (kind == "room")
            result = theManager->sendToRoom(to, data, path);
        else if (kind == "roomExcept")
            result = theManager->sendToRoomExcept(to, socket, data, path);
        else if (kind == "user")
            result = theManager->sendToUser(to, data, path);
        else if (kind == "client")
            result = theManager->sendToClient(to, data, path);
        else if (kind == "close")
            result = theManager->closeClient(to, finch::CloseCode{4000}, "closed by " + socket.id());
        else
            return void(socket.reply(message, {{"message", "unknown kind \"" + kind + "\""}}, 400));
        socket.reply(message, result);
    };

    routes["broadcast"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        const auto data = message.value("data", nlohmann::json::object());
        if (!data.is_object() || !data.contains("path") || !data["path"].is_string()) {
            socket.reply(message, {{"message", R"(expected data {"path": "...", "data": ...})"}}, 400);
            return;
        }
        const auto reached =
            theManager->sendToAll(data.value("data", nlohmann::json()), data["path"].get<std::string>());
        socket.reply(message, reached);
    };

    return routes;
}

// "a,b" -> {"a", "b"}; empty names are dropped.
std::vector<std::string> splitNames(std::string_view list)
{
    std::vector<std::string> names;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto name = list.substr(0, comma);
        if (!name.empty())
            names.emplace_back(name);
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return names;
}

int run(const examples::ServerSettings& settings, const finch::Options& options)
{
    boost::asio::io_context context(static_cast<int>(settings.threads));
    // Declared after the context, so destroyed before it.
    finch::SocketManager manager(context, {}, routes(), options);
    theManager = &manager;
    if (!settings.redisHost.empty()) {
        // In a cluster, a client names its user in the query: ?user=<id>.
        manager.setUpgradeHandler([](const finch::Request& request) {
            const std::string_view target = request.target();
            const auto at = target.find("user=");
            return finch::UpgradeDecision::accept(
                at == std::string_view::npos ? std::string() : std::string(target.substr(at + 5)));
        });
        examples::joinClusterIfAsked(manager, context, settings);
    }
    const auto host = examples::listen(manager, settings, "/ws");
    if (!host)
        return 1;
    // Flushed: tests/js/support/server.mjs reads this line to learn the port.
    std::cout << "finch_js_test_server listening on http://" << *host << "/" << std::endl;
    examples::runUntilStopped(context, manager, settings);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    examples::ServerSettings settings;
    settings.program = "finch_js_test_server";
    settings.address = "127.0.0.1";
    settings.offersRedis = true;
    // --subprotocols and --encodings are this server's own; the shared parser reads the rest.
    finch::Options options;
    std::vector<char*> shared{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--subprotocols") {
            if (i + 1 == argc) {
                std::cerr << "finch_js_test_server: --subprotocols needs a value\n";
                return 2;
            }
            options.subprotocols = splitNames(argv[++i]);
        } else if (std::string_view(argv[i]) == "--encodings") {
            if (i + 1 == argc) {
                std::cerr << "finch_js_test_server: --encodings needs a value\n";
                return 2;
            }
            options.encodings.clear();
            for (const auto& name : splitNames(argv[++i])) {
                const auto encoding = finch::encodingOf("finch." + name);
                if (!encoding) {
                    std::cerr << "finch_js_test_server: unknown encoding \"" << name << "\" (json, msgpack, cbor)\n";
                    return 2;
                }
                options.encodings.push_back(*encoding);
            }
        } else {
            shared.push_back(argv[i]);
        }
    }
    if (const auto exitCode = examples::parseServerArguments(static_cast<int>(shared.size()), shared.data(), settings))
        return *exitCode;
    try {
        return run(settings, examples::serverOptions(settings, options));
    } catch (const std::exception& e) {
        std::cerr << "finch_js_test_server: " << e.what() << '\n';
        return 1;
    }
}
