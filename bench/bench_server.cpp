// bench_server: finch under load, through its full path (JSON decode, route
// lookup, envelope encode, write queue), written the way the README shows a
// user to write a server, so that the benchmark measures what users get: a
// plain `boost::asio::io_context io;` (whatever the thread count), default
// Options, listen(..., "*"), routes that read message["data"]; and built
// like the other servers, in CMake's plain Release (scripts/bench.sh).
// docs/performance.md says what each of these choices weighs.
//
//   bench_server [--port N] [--threads N] [--compression] [--compression-takeover]
//                [--tls-cert FILE --tls-key FILE] [--redis HOST:PORT]
//
// --compression sets Options::compression to finch::permessageDeflate() with
// its defaults (the benchmark's compression points); --compression-takeover
// also lets clients keep their context (PerMessageDeflate::clientContextTakeover),
// which costs each connection the client's last window.
//
// --tls-cert and --tls-key serve wss:// on the port instead, with
// finch::TlsSocketManager and a finch::TlsContext made from the two PEM
// files, as <finch/tls.hpp> shows. Without them the server is the plain
// finch::SocketManager (TcpTransport), the same code as before TLS existed:
// a ws:// server has no reason to carry TlsTransport's branch per operation.
//
// --redis joins the cluster of every bench_server given the same Redis
// (finch::RedisBackplane, default RedisOptions and ClusterOptions, as
// docs/cluster.md's quick start) before listening: the cluster mode's nodes.
// Such a node announces that it listens only once the backplane reports
// `connected`, which it does once its channels are live, so that the runner
// never starts a load whose first broadcasts another node could miss.
//
// bench_server_counting is the same server with a counting operator new
// (allocation_counter.cpp): it counts the allocations and the messages its
// routes handle, and prints both to stderr when it stops, the benchmark's
// figure of allocations per message. A binary of its own, because users'
// programs do not replace operator new.
//
// With FINCH_BENCH_HANDLER_US=N the echo route computes for about N
// microseconds before it answers, like an application whose handlers do real
// work: the thread comparison uses it to load the server more than the load
// generator, so that a second thread has something to take on.
//
// Routes, the same on every server of the benchmark:
//   echo       replies the message's data to the sender, on "echo"
//   broadcast  sends the message's data to every connection, on "broadcast"
// and one for the large-message mode, which only finch and the raw Beast
// floor answer:
//   size       replies the length of the message's data (a string), on "size":
//              a small answer, so that receiving the message is what costs

#include "server_runner.hpp"

#ifdef FINCH_BENCH_COUNTING
#include "allocation_counter.hpp"
#endif

#include <finch/finch.hpp>
#include <finch/permessage_deflate.hpp>
#include <finch/redis_backplane.hpp>
#include <finch/tls.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace {

#ifdef FINCH_BENCH_COUNTING
std::atomic<std::uint64_t> handled{0};

void countHandled()
{
    if (bench::countingAllocations.load(std::memory_order_relaxed))
        handled.fetch_add(1, std::memory_order_relaxed);
}
#else
void countHandled() {}
#endif

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

// message["data"] as the README writes it. Every message of the load
// generator has data: on a const object, a missing key would be undefined
// behaviour. A template so that the wss:// server has the same routes; for
// finch::SocketManager, Socket is finch::Socket.
template <class Manager>
typename Manager::Routes routes(Manager& manager)
{
    using Socket = typename Manager::SocketType;
    typename Manager::Routes routes;
    routes["echo"].onMessage = [](Socket& socket, const nlohmann::json& message) {
        countHandled();
        if (handlerRounds != 0)
            doHandlerWork();
        socket.send(message["data"], "echo");
    };
    routes["broadcast"].onMessage = [&manager](Socket&, const nlohmann::json& message) {
        countHandled();
        manager.sendToAll(message["data"], "broadcast");
    };
    // get_ref: the length of the string in place, where get<std::string>()
    // would copy up to a mebibyte per message.
    routes["size"].onMessage = [](Socket& socket, const nlohmann::json& message) {
        countHandled();
        socket.send(message["data"].get_ref<const std::string&>().size(), "size");
    };
    return routes;
}

// --redis HOST:PORT, taken out of the command line before the options that
// every benchmark server shares are parsed (server_runner.hpp does not know it).
struct ClusterSettings {
    std::optional<finch::RedisOptions> redis;
};

[[noreturn]] void badRedis(std::string_view value)
{
    std::cerr << "bench_server: --redis takes HOST:PORT (an IP address), not '" << value << "'\n";
    std::exit(2);
}

ClusterSettings takeClusterArguments(int& argc, char** argv)
{
    ClusterSettings cluster;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) != "--redis") {
            argv[kept++] = argv[i];
            continue;
        }
        if (i + 1 == argc)
            badRedis("");
        const std::string_view value = argv[++i];
        const auto colon = value.rfind(':');
        if (colon == std::string_view::npos || colon == 0)
            badRedis(value);
        const auto port = bench::parseNumber(value.substr(colon + 1), 1, 65535);
        if (!port)
            badRedis(value);
        finch::RedisOptions redis;
        redis.host = std::string(value.substr(0, colon));
        redis.port = static_cast<unsigned short>(*port);
        cluster.redis = std::move(redis);
    }
    argc = kept;
    return cluster;
}

// The server on `Manager`, listening with `listenConfig` (nothing for
// ws://, the TlsContext for wss://) until signalled; with --redis, a node of
// the cluster.
template <class Manager, class... ListenConfig>
void serve(const bench::ServerSettings& settings, const ClusterSettings& cluster, const finch::Options& options,
    ListenConfig... listenConfig)
{
    boost::asio::io_context io;
    Manager manager(io, {}, routes(manager), options);
    bool announced = false;
    if (cluster.redis) {
        finch::ClusterOptions clusterOptions;
        // Runs on io's thread, after listen() below has set the port.
        clusterOptions.onEvent = [&manager, &announced](const finch::BackplaneEvent& event) {
            if (event.status == finch::BackplaneStatus::connected && !announced) {
                announced = true;
                bench::announceListening("bench_server", manager.port());
            } else if (event.status == finch::BackplaneStatus::disconnected || event.dropped != 0) {
                // A lost link or dropped messages would show as lost deliveries;
                // this says why.
                std::cerr << "bench_server: redis " << (event.error ? event.error.message() : "dropped messages")
                          << ", " << event.dropped << " messages dropped so far" << std::endl;
            }
        };
        manager.joinCluster(
            std::make_shared<finch::RedisBackplane>(io.get_executor(), *cluster.redis), std::move(clusterOptions));
    }
    manager.listen({boost::asio::ip::make_address("127.0.0.1"), settings.port}, "*", std::move(listenConfig)...);
    if (!cluster.redis)
        bench::announceListening("bench_server", manager.port());
#ifdef FINCH_BENCH_COUNTING
    bench::countingAllocations = true;
#endif
    bench::runUntilSignalled(io, settings.threads);
#ifdef FINCH_BENCH_COUNTING
    bench::countingAllocations = false;
    std::cerr << "bench_server_counting: " << bench::allocationCount.load() << " allocations, " << handled.load()
              << " messages handled\n";
#endif
}

}  // namespace

int main(int argc, char** argv)
{
    const auto cluster = takeClusterArguments(argc, argv);
    const auto settings = bench::parseServerArguments(argc, argv, "bench_server", true, true);
    try {
        if (const char* const work = std::getenv("FINCH_BENCH_HANDLER_US"))
            handlerRounds = calibrateRounds(std::strtoul(work, nullptr, 10));
        finch::Options options;
        if (settings.compression) {
            finch::PerMessageDeflate deflate;
            deflate.clientContextTakeover = settings.clientContextTakeover;
            options.compression = finch::permessageDeflate(deflate);
        }
        if (settings.tls())
            serve<finch::TlsSocketManager>(settings, cluster, options,
                std::make_shared<finch::TlsContext>(finch::TlsCertificate{settings.tlsCert, settings.tlsKey}));
        else
            serve<finch::SocketManager>(settings, cluster, options);
    } catch (const std::exception& e) {
        std::cerr << "bench_server: " << e.what() << '\n';
        return 1;
    }
}
