// shootout: the server side of Hashrocket's websocket-shootout benchmark, a
// published protocol that many WebSocket servers implement, on finch.
//
//   shootout [--port N] [--threads N] [--address A]   (default 127.0.0.1:3334)
//
// Upgrades WebSocket requests on any target path. Messages are JSON text
// frames {"type": ..., "payload": ...} (finch's EnvelopeFormat::typeAndPayload):
//   echo       the sender gets {"type": "echo", "payload": <payload>}
//   broadcast  every client, the sender included, gets
//              {"type": "broadcast", "payload": <payload>}; then the sender
//              gets {"type": "broadcastResult", "payload": <payload>}
// Any other type is an error: {"type": "error", "payload": {"message", "type"}}.
//
// The broadcast is serialized and framed once for all its receivers.

#include "../common/server_main.hpp"

#include <finch/finch.hpp>

#include <exception>
#include <iostream>

namespace {

const nlohmann::json& payloadOf(const nlohmann::json& message)
{
    static const nlohmann::json none;
    const auto payload = message.find("payload");
    return payload == message.end() ? none : *payload;
}

finch::SocketManager::Routes routes(finch::SocketManager& manager)
{
    finch::SocketManager::Routes routes;
    routes["echo"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.send(payloadOf(message), "echo");
    };
    routes["broadcast"].onMessage = [&manager](finch::Socket& socket, const nlohmann::json& message) {
        const auto& payload = payloadOf(message);
        manager.sendToAll(payload, "broadcast");
        // Queued after the broadcast on the sender's connection, so it arrives after it.
        socket.send(payload, "broadcastResult");
    };
    return routes;
}

int run(const examples::ServerSettings& settings)
{
    finch::Options options = examples::serverOptions(settings);
    options.envelope = finch::EnvelopeFormat::typeAndPayload();
    boost::asio::io_context context(static_cast<int>(settings.threads));
    finch::SocketManager manager(context, {}, routes(manager), options);
    const auto host = examples::listen(manager, settings, "*");
    if (!host)
        return 1;
    // Flushed: a script that started us reads this line to learn the port.
    std::cout << "shootout listening on ws://" << *host << "/" << std::endl;
    examples::runUntilStopped(context, manager, settings);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    examples::ServerSettings settings;
    settings.program = "shootout";
    settings.address = "127.0.0.1";
    settings.port = 3334;
    if (const auto exitCode = examples::parseServerArguments(argc, argv, settings))
        return *exitCode;
    try {
        return run(settings);
    } catch (const std::exception& e) {
        std::cerr << "shootout: " << e.what() << '\n';
        return 1;
    }
}
