// bench_server: finch under load, through its full path (JSON decode, route
// lookup, envelope encode, write queue).
//
//   bench_server [--port N] [--threads N]
//
// Routes, the same on every server of the benchmark:
//   echo       replies the message's data to the sender, on "echo"
//   broadcast  sends the message's data to every connection, on "broadcast"

#include "server_runner.hpp"

#include <finch/finch.hpp>

#include <boost/asio/ip/address.hpp>

#include <exception>
#include <iostream>

namespace {

// The data member of a message, or null when it has none, so that a message
// without data still gets its answer.
const nlohmann::json& dataOf(const nlohmann::json& message)
{
    static const nlohmann::json none;
    const auto data = message.find("data");
    return data == message.end() ? none : *data;
}

finch::SocketManager::Routes routes(finch::SocketManager& manager)
{
    finch::SocketManager::Routes routes;
    routes["echo"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.send(dataOf(message), "echo");
    };
    routes["broadcast"].onMessage = [&manager](finch::Socket&, const nlohmann::json& message) {
        manager.sendToAll(dataOf(message), "broadcast");
    };
    return routes;
}

}  // namespace

int main(int argc, char** argv)
{
    const auto settings = bench::parseServerArguments(argc, argv, "bench_server");
    try {
        boost::asio::io_context context(static_cast<int>(settings.threads));
        finch::SocketManager manager(context, {}, routes(manager));
        // "/" because that is what the load generator asks every server for;
        // the others accept any target.
        manager.listen({boost::asio::ip::make_address("127.0.0.1"), settings.port}, "/");
        bench::announceListening("bench_server", manager.port());
        bench::runUntilSignalled(context, settings.threads);
    } catch (const std::exception& e) {
        std::cerr << "bench_server: " << e.what() << '\n';
        return 1;
    }
}
