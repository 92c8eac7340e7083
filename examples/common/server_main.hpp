// What every example server does the same way: read --port, --threads,
// --address and --compression (and --tls-cert and --tls-key in the servers
// that offer TLS), listen, run the io_context on that many threads, and stop
// gracefully on SIGINT or SIGTERM. Loading the certificate and listening with
// TLS is in tls_server.hpp, so that the servers without TLS need no OpenSSL.
#ifndef FINCH_EXAMPLES_COMMON_SERVER_MAIN_HPP
#define FINCH_EXAMPLES_COMMON_SERVER_MAIN_HPP

#include <finch/options.hpp>
#include <finch/permessage_deflate.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace examples {

struct ServerSettings {
    std::string program;  // for messages: "chat: bad port ..."
    std::string address = "0.0.0.0";
    unsigned short port = 8080;
    unsigned threads = 1;
    bool compression = false;  // permessage-deflate (Options::compression)
    // Whether the program takes --tls-cert and --tls-key (it listens with
    // tls_server.hpp); set by the program before parsing. Without it the
    // flags are unknown arguments.
    bool offersTls = false;
    std::string tlsCert;  // --tls-cert: PEM certificate chain, the server's first
    std::string tlsKey;  // --tls-key: PEM private key of that certificate
    // Whether the program takes --redis (it joins a cluster with
    // cluster_server.hpp); set by the program before parsing.
    bool offersRedis = false;
    std::string redisHost;  // --redis HOST:PORT: empty for no cluster
    unsigned short redisPort = 6379;

    // Whether --port serves TLS (https:// and wss://) instead of plain TCP.
    bool tls() const { return !tlsCert.empty(); }
};

inline void printUsage(std::ostream& out, const ServerSettings& defaults)
{
    out << "usage: " << defaults.program << " [--port N] [--threads N] [--address A] [--compression]"
        << (defaults.offersTls ? " [--tls-cert FILE --tls-key FILE]" : "")
        << (defaults.offersRedis ? " [--redis HOST:PORT]" : "") << "\n"
        << "  --port N     TCP port to listen on, 0 for any free one (default " << defaults.port << ")\n"
        << "  --threads N  threads running the server (default 1)\n"
        << "  --address A  address to listen on (default " << defaults.address
        << (defaults.address == "0.0.0.0" ? ", every interface" : "") << ")\n"
        << "  --compression  compress messages of 1 KiB and more for clients that offer\n"
        << "               permessage-deflate (browsers do)\n";
    if (defaults.offersTls)
        out << "  --tls-cert FILE  PEM certificate chain (the server's certificate first) and\n"
            << "  --tls-key FILE   its unencrypted PEM private key: --port then serves only\n"
            << "               TLS, https:// and wss:// (give both, or neither)\n";
    if (defaults.offersRedis)
        out << "  --redis HOST:PORT  join the cluster of the servers given the same Redis:\n"
            << "               sends, rooms, users and counts span them (docs/cluster.md)\n";
    out << "  --help       show this text\n";
}

// A whole decimal number in [min, max]; nothing else is accepted, so a typo
// such as "--port 80x" is reported instead of silently becoming 80.
inline std::optional<unsigned long> parseNumber(std::string_view text, unsigned long min, unsigned long max)
{
    if (text.empty() || text.size() > 9)
        return std::nullopt;
    unsigned long value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value < min || value > max)
        return std::nullopt;
    return value;
}

// Reads the command line into `settings`, which holds the defaults. Returns
// the exit code when the program should not run (0 after --help, 2 after a
// bad argument, with the usage printed), nothing when it should.
inline std::optional<int> parseServerArguments(int argc, char** argv, ServerSettings& settings)
{
    const ServerSettings defaults = settings;
    const auto bad = [&](const std::string& problem) {
        std::cerr << settings.program << ": " << problem << '\n';
        printUsage(std::cerr, defaults);
        return 2;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            printUsage(std::cout, defaults);
            return 0;
        }
        if (flag == "--compression") {
            settings.compression = true;
            continue;
        }
        const bool tlsFlag = settings.offersTls && (flag == "--tls-cert" || flag == "--tls-key");
        const bool redisFlag = settings.offersRedis && flag == "--redis";
        if (flag != "--port" && flag != "--threads" && flag != "--address" && !tlsFlag && !redisFlag)
            return bad("unknown argument '" + std::string(flag) + "'");
        if (i + 1 == argc)
            return bad(std::string(flag) + " needs a value");
        const std::string_view value = argv[++i];
        if (flag == "--port") {
            const auto port = parseNumber(value, 0, 65535);
            if (!port)
                return bad("bad port '" + std::string(value) + "'");
            settings.port = static_cast<unsigned short>(*port);
        } else if (flag == "--threads") {
            const auto threads = parseNumber(value, 1, 256);
            if (!threads)
                return bad("bad thread count '" + std::string(value) + "' (1 to 256)");
            settings.threads = static_cast<unsigned>(*threads);
        } else if (redisFlag) {
            const auto colon = value.rfind(':');
            const auto port = colon == std::string_view::npos ? std::nullopt : parseNumber(value.substr(colon + 1), 1, 65535);
            if (!port || colon == 0)
                return bad("bad Redis address '" + std::string(value) + "' (HOST:PORT)");
            settings.redisHost = value.substr(0, colon);
            settings.redisPort = static_cast<unsigned short>(*port);
        } else if (tlsFlag) {
            if (value.empty())
                return bad(std::string(flag) + " needs a file name");
            (flag == "--tls-cert" ? settings.tlsCert : settings.tlsKey) = value;
        } else {
            settings.address = value;
        }
    }
    if (settings.tlsCert.empty() != settings.tlsKey.empty())
        return bad(std::string(settings.tlsCert.empty() ? "--tls-key" : "--tls-cert") + " needs " +
            (settings.tlsCert.empty() ? "--tls-cert" : "--tls-key") + ": TLS takes a certificate and its key");
    boost::system::error_code ec;
    boost::asio::ip::make_address(settings.address, ec);
    if (ec)
        return bad("bad address '" + settings.address + "'");
    return std::nullopt;
}

// The manager's options as the command line asks: permessage-deflate with
// finch's defaults after --compression.
inline finch::Options serverOptions(const ServerSettings& settings, finch::Options options = {})
{
    if (settings.compression)
        options.compression = finch::permessageDeflate();
    return options;
}

// How a browser should write the listening address in a URL.
inline std::string urlHost(const boost::asio::ip::address& address)
{
    if (address.is_unspecified())
        return "localhost";
    return address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
}

// Listens with `manager` on the settings' address and port, on `target`
// (with `transportConfig`, if given: a TlsContext makes the port TLS, see
// tls_server.hpp). Returns the address and port as "host:port", or nothing
// after printing why it could not listen.
template <class Manager, class... TransportConfig>
std::optional<std::string> listen(
    Manager& manager, const ServerSettings& settings, std::string target, TransportConfig&&... transportConfig)
{
    const auto address = boost::asio::ip::make_address(settings.address);
    boost::system::error_code ec;
    manager.listen({address, settings.port}, std::move(target), std::forward<TransportConfig>(transportConfig)..., ec);
    if (ec) {
        std::cerr << settings.program << ": cannot listen on " << urlHost(address) << ':' << settings.port << ": "
                  << ec.message() << '\n';
        return std::nullopt;
    }
    return urlHost(address) + ':' + std::to_string(manager.port());
}

// Runs `context` on the settings' number of threads until it runs out of
// work. No work guard: the listener and the signal wait keep it busy. On
// SIGINT or SIGTERM, stop() closes the port and sends 1001 to every client,
// each having Options::closeTimeout to answer; run() returns once the last
// one has said goodbye.
template <class Manager>
void runUntilStopped(boost::asio::io_context& context, Manager& manager, const ServerSettings& settings)
{
    boost::asio::signal_set signals(context, SIGINT, SIGTERM);
    signals.async_wait([&manager, program = settings.program](const boost::system::error_code& error, int) {
        if (!error)
            manager.stop([program] { std::cout << program << " stopped: every connection has ended" << std::endl; });
    });
    std::vector<std::thread> threads;
    threads.reserve(settings.threads - 1);
    for (unsigned i = 1; i < settings.threads; ++i)
        threads.emplace_back([&context] { context.run(); });
    context.run();
    for (auto& thread : threads)
        thread.join();
}

}  // namespace examples

#endif
