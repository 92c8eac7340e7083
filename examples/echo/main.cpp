// finch_echo: every message goes back to its sender exactly as it came, text
// as text and binary as binary, with no envelope (Options::rawMessages). It
// is the server that conformance suites drive (scripts/autobahn.sh), and the
// smallest example of finch without JSON.
//
//   finch_echo [--port N] [--threads N] [--address A] [--compression]   (default 127.0.0.1:9001)
//
// Upgrades WebSocket requests on any target path. Messages of any size are
// echoed: there is no per-message limit (maxMessageSize 0), only the manager's
// bound on the bytes that all messages still arriving may hold together
// (Options::maxIncomingBytes).

#include "../common/server_main.hpp"

#include <finch/finch.hpp>

#include <exception>
#include <iostream>

namespace {

int run(const examples::ServerSettings& settings)
{
    finch::Options options = examples::serverOptions(settings);
    options.rawMessages = true;
    options.maxMessageSize = 0;
    finch::SocketEvent root;
    root.onRawMessage = [](finch::Socket& socket, std::string_view data, finch::MessageKind kind) {
        if (kind == finch::MessageKind::text)
            socket.sendText(data);
        else
            socket.sendBinary(data);
    };
    boost::asio::io_context context(static_cast<int>(settings.threads));
    finch::SocketManager manager(context, root, {}, options);
    const auto host = examples::listen(manager, settings, "*");
    if (!host)
        return 1;
    // Flushed: a script that started us reads this line to learn the port.
    std::cout << "finch_echo listening on " << *host << std::endl;
    examples::runUntilStopped(context, manager, settings);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    examples::ServerSettings settings;
    settings.program = "finch_echo";
    settings.address = "127.0.0.1";
    settings.port = 9001;
    if (const auto exitCode = examples::parseServerArguments(argc, argv, settings))
        return *exitCode;
    try {
        return run(settings);
    } catch (const std::exception& e) {
        std::cerr << "finch_echo: " << e.what() << '\n';
        return 1;
    }
}
