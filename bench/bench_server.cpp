// bench_server: finch under load, through its full path (JSON decode, route
// lookup, envelope encode, write queue).
//
//   bench_server [--port N] [--threads N]
//
// With FINCH_BENCH_COUNT_ALLOCATIONS=1 in its environment it counts calls of
// operator new and the messages its routes handle, and prints both to stderr
// when it stops: the benchmark's figure of allocations per message. Off by
// default, so the CPU measurements do not pay for the counting.
//
// Routes, the same on every server of the benchmark:
//   echo       replies the message's data to the sender, on "echo"
//   broadcast  sends the message's data to every connection, on "broadcast"

#include "allocation_counter.hpp"
#include "server_runner.hpp"

#include <finch/finch.hpp>

#include <boost/asio/ip/address.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <exception>
#include <iostream>

namespace {

std::atomic<std::uint64_t> handled{0};

void countHandled()
{
    if (bench::countingAllocations.load(std::memory_order_relaxed))
        handled.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

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
        countHandled();
        socket.send(dataOf(message), "echo");
    };
    routes["broadcast"].onMessage = [&manager](finch::Socket&, const nlohmann::json& message) {
        countHandled();
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
        const char* const count = std::getenv("FINCH_BENCH_COUNT_ALLOCATIONS");
        const bool report = count != nullptr && std::string_view(count) == "1";
        bench::countingAllocations = report;
        bench::runUntilSignalled(context, settings.threads);
        bench::countingAllocations = false;
        if (report)
            std::cerr << "bench_server: " << bench::allocationCount.load() << " allocations, " << handled.load()
                      << " messages handled\n";
    } catch (const std::exception& e) {
        std::cerr << "bench_server: " << e.what() << '\n';
        return 1;
    }
}
