// user_server: the benchmark's two routes written as a user following the
// README would write them: a plain io_context, default Options, any target,
// the payload read as message["data"]. Temporary, for the experiment that
// compares it with bench_server one difference at a time; each difference
// is a switch in the environment, so that every variant but the build flags
// runs the same binary:
//
//   FINCH_USER_HINT=1         io_context(1) instead of io_context()
//   FINCH_USER_TARGET=/       listen(..., "/") instead of "*"
//   FINCH_USER_DATA=find      the data through find() (bench_server's dataOf)
//   FINCH_USER_DATA=value     message.value("data", nlohmann::json()), a copy
//   FINCH_USER_SIGNALS=1      a signal_set that stops the io_context

#include "server_runner.hpp"

#include <finch/finch.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

std::string_view setting(const char* name)
{
    const char* const value = std::getenv(name);
    return value ? value : "";
}

const nlohmann::json& dataOf(const nlohmann::json& message)
{
    static const nlohmann::json none;
    const auto data = message.find("data");
    return data == message.end() ? none : *data;
}

finch::SocketManager::Routes readmeRoutes(finch::SocketManager& manager)
{
    finch::SocketManager::Routes routes;
    routes["echo"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.send(message["data"], "echo");
    };
    routes["broadcast"].onMessage = [&manager](finch::Socket&, const nlohmann::json& message) {
        manager.sendToAll(message["data"], "broadcast");
    };
    return routes;
}

finch::SocketManager::Routes findRoutes(finch::SocketManager& manager)
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

finch::SocketManager::Routes valueRoutes(finch::SocketManager& manager)
{
    finch::SocketManager::Routes routes;
    routes["echo"].onMessage = [](finch::Socket& socket, const nlohmann::json& message) {
        socket.send(message.value("data", nlohmann::json()), "echo");
    };
    routes["broadcast"].onMessage = [&manager](finch::Socket&, const nlohmann::json& message) {
        manager.sendToAll(message.value("data", nlohmann::json()), "broadcast");
    };
    return routes;
}

}  // namespace

int main(int argc, char** argv)
{
    const auto settings = bench::parseServerArguments(argc, argv, "user_server");
    boost::asio::io_context plain;
    boost::asio::io_context hinted(static_cast<int>(settings.threads));
    boost::asio::io_context& io = setting("FINCH_USER_HINT") == "1" ? hinted : plain;
    {
        finch::SocketManager manager(io);
        const auto data = setting("FINCH_USER_DATA");
        manager.addEvents(data == "find" ? findRoutes(manager) : data == "value" ? valueRoutes(manager)
                                                                                 : readmeRoutes(manager));
        const auto target = setting("FINCH_USER_TARGET");
        manager.listen({boost::asio::ip::make_address("127.0.0.1"), settings.port},
            target.empty() ? std::string("*") : std::string(target));
        bench::announceListening("user_server", manager.port());
        if (setting("FINCH_USER_SIGNALS") == "1") {
            bench::runUntilSignalled(io, settings.threads);
        } else {
            std::vector<std::thread> pool;
            for (unsigned i = 1; i < settings.threads; ++i)
                pool.emplace_back([&io] { io.run(); });
            io.run();
            for (auto& thread : pool)
                thread.join();
        }
    }
}
