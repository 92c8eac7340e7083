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
// With FINCH_BENCH_HANDLER_US=N the echo route computes for about N
// microseconds before it answers, like an application whose handlers do real
// work: the thread comparison uses it to load the server more than the load
// generator, so that a second thread has something to take on.
//
// Routes, the same on every server of the benchmark:
//   echo       replies the message's data to the sender, on "echo"
//   broadcast  sends the message's data to every connection, on "broadcast"

#include "allocation_counter.hpp"
#include "server_runner.hpp"

#include <finch/finch.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
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

// Integer mixing (xorshift); a result is kept only when it hits one value, so
// the compiler cannot drop the loop and threads do not share a cache line.
std::atomic<std::uint64_t> workSink{0};

std::uint64_t mix(std::uint64_t rounds, std::uint64_t state)
{
    for (std::uint64_t i = 0; i < rounds; ++i) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
    }
    return state;
}

// Rounds of mix() that take `microseconds` on this machine, measured once at
// start (the fastest of a few samples, so a preempted sample does not count):
// a fixed amount of work per message afterwards, whatever the scheduler does
// (a loop on the clock would stop early when preempted).
std::uint64_t calibrateRounds(unsigned long microseconds)
{
    if (microseconds == 0)
        return 0;
    using Clock = std::chrono::steady_clock;
    constexpr std::uint64_t sample = 1u << 20;
    double fastest = 0;
    for (int i = 0; i < 5; ++i) {
        const auto start = Clock::now();
        if (mix(sample, 88172645463325252ull + static_cast<std::uint64_t>(i)) == 1)
            workSink.fetch_add(1, std::memory_order_relaxed);
        const double elapsed = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        fastest = i == 0 ? elapsed : std::min(fastest, elapsed);
    }
    return static_cast<std::uint64_t>(static_cast<double>(sample) * static_cast<double>(microseconds) / fastest);
}

std::uint64_t handlerRounds = 0;  // set before the io_context runs, read-only afterwards

void doHandlerWork()
{
    thread_local std::uint64_t state = 0x9e3779b97f4a7c15ull;
    state = mix(handlerRounds, state);
    if (state == 1)
        workSink.fetch_add(1, std::memory_order_relaxed);
}

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
        if (handlerRounds != 0)
            doHandlerWork();
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
        if (const char* const work = std::getenv("FINCH_BENCH_HANDLER_US"))
            handlerRounds = calibrateRounds(std::strtoul(work, nullptr, 10));
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
