#ifndef FINCH_BENCH_SERVER_RUNNER_HPP
#define FINCH_BENCH_SERVER_RUNNER_HPP

// What every C++ server of the benchmark shares: the command line
// (`--port N --threads N [--address 127.0.0.1] [--compression]
// [--compression-takeover] [--tls-cert FILE --tls-key FILE]`), the line that
// tells the runner the server is ready, and the threads that run the
// io_context until SIGINT or SIGTERM.
//
// The servers differ only in how they handle connections, so that a
// difference in the measurements is a difference of design, not of set-up.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace bench {

struct ServerSettings {
    unsigned short port = 0;  // 0: any free port, reported by announceListening()
    unsigned threads = 1;
    // permessage-deflate for clients that offer it (--compression), and
    // whether a client may keep its compression context between messages
    // (--compression-takeover, which implies --compression).
    bool compression = false;
    bool clientContextTakeover = false;
    // wss:// on the port instead of ws:// (--tls-cert and --tls-key, PEM
    // files): both or neither, since a certificate without its key serves nothing.
    std::string tlsCert;
    std::string tlsKey;

    bool tls() const noexcept { return !tlsCert.empty(); }
};

// The settings of permessage-deflate that every server of the benchmark
// uses, finch's defaults: the same work per message on each, so that a
// difference is one of design (which context is kept, how often a broadcast
// is compressed), not of settings.
struct DeflateSettings {
    static constexpr int level = 6;
    static constexpr int memLevel = 8;
    static constexpr int windowBits = 15;
    static constexpr std::size_t threshold = 1024;  // smaller messages go plain
};

// A whole decimal number in [min, max], or nothing: "--port 80x" is an error,
// not port 80.
inline std::optional<unsigned long> parseNumber(std::string_view text, unsigned long min, unsigned long max)
{
    unsigned long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        return std::nullopt;
    return value;
}

// Parses `--port N --threads N [--address 127.0.0.1]`, and with
// `compressing` (a server that can do permessage-deflate) `--compression`
// and `--compression-takeover`, and with `secure` (a server that can serve
// wss://) `--tls-cert FILE --tls-key FILE`; on a mistake prints the usage and
// exits, since a benchmark server that guessed its settings would measure the
// wrong thing (one that cannot compress refuses --compression, one without
// TLS refuses the certificate).
//
// `--address` exists so that these servers take the command line of
// finch_echo, which scripts/autobahn.sh starts with an explicit loopback
// address (and `--compression` for cases 12 and 13). They all bind to
// 127.0.0.1, so any other address is refused rather than silently ignored.
inline ServerSettings parseServerArguments(
    int argc, char** argv, std::string_view name, bool compressing = false, bool secure = false)
{
    const auto usage = [&](std::ostream& out) {
        out << "usage: " << name << " [--port N] [--threads N] [--address 127.0.0.1]"
            << (compressing ? " [--compression] [--compression-takeover]" : "")
            << (secure ? " [--tls-cert FILE --tls-key FILE]" : "") << "\n"
            << "  listens on 127.0.0.1 only; --port 0 (the default) picks a free port\n";
        if (compressing)
            out << "  --compression: permessage-deflate for clients that offer it\n"
                << "  --compression-takeover: the same, clients may keep their context between messages\n";
        if (secure)
            out << "  --tls-cert, --tls-key: serve wss:// with this certificate chain and key (PEM), both or neither\n";
    };
    ServerSettings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            usage(std::cout);
            std::exit(0);
        }
        const auto bad = [&] {
            std::cerr << name << ": bad argument '" << flag << "'\n";
            usage(std::cerr);
            std::exit(2);
        };
        if (compressing && (flag == "--compression" || flag == "--compression-takeover")) {
            settings.compression = true;
            settings.clientContextTakeover = settings.clientContextTakeover || flag == "--compression-takeover";
            continue;
        }
        if (secure && (flag == "--tls-cert" || flag == "--tls-key")) {
            if (i + 1 == argc || std::string_view(argv[i + 1]).empty())
                bad();
            (flag == "--tls-cert" ? settings.tlsCert : settings.tlsKey) = argv[++i];
            continue;
        }
        const bool known = flag == "--port" || flag == "--threads" || flag == "--address";
        const auto value = known && i + 1 < argc ? std::optional<std::string_view>(argv[++i]) : std::nullopt;
        if (flag == "--address") {
            if (value != "127.0.0.1")
                bad();
            continue;
        }
        const auto number =
            value ? parseNumber(*value, flag == "--port" ? 0 : 1, flag == "--port" ? 65535 : 64) : std::nullopt;
        if (!number)
            bad();
        if (flag == "--port")
            settings.port = static_cast<unsigned short>(*number);
        else
            settings.threads = static_cast<unsigned>(*number);
    }
    if (settings.tlsCert.empty() != settings.tlsKey.empty()) {
        std::cerr << name << ": --tls-cert and --tls-key go together\n";
        usage(std::cerr);
        std::exit(2);
    }
    return settings;
}

// The runner waits for this exact line to learn the port; flushed, because
// stdout is a pipe and would otherwise hold it back.
inline void announceListening(std::string_view name, unsigned short port)
{
    std::cout << name << " listening on 127.0.0.1:" << port << std::endl;
}

// Runs `context` on `threads` threads until SIGINT or SIGTERM. A signal stops
// the io_context at once instead of closing every connection politely: the
// measurements are over when the runner sends it, and a graceful close of
// 20,000 connections would only delay the next measurement.
inline void runUntilSignalled(boost::asio::io_context& context, unsigned threads)
{
    boost::asio::signal_set signals(context, SIGINT, SIGTERM);
    signals.async_wait([&context](const boost::system::error_code&, int) { context.stop(); });
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i)
        pool.emplace_back([&context] { context.run(); });
    context.run();
    for (auto& thread : pool)
        thread.join();
}

}  // namespace bench

#endif
