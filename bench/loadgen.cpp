// loadgen: the load generator of finch's benchmark. One io_context on one
// thread drives every connection, so its own cost is one core at most.
//
//   loadgen --port N|--ports N,N.. --mode echo|broadcast|idle|connect|large [--connections N]
//           [--duration S] [--warmup S] [--payload B] [--sizes B,B..] [--chunk B] [--sources N]
//           [--window N] [--settle S] [--server-pid PID[,PID..]] [--backplane-pid PID] [--host A]
//           [--target T] [--handshakes N] [--messages N] [--content pad|json] [--deflate off|on|bare]
//           [--idle-echoes N] [--tls [--ca FILE]]
//
// The server must be on this machine: --host takes loopback addresses only
// (127.0.0.0/8), since a load generator is not something to point elsewhere.
//
// Modes (see docs/benchmarks.md for what each one measures):
//   echo       N connections, each with one {"path":"echo"} message in flight.
//   broadcast  N connections; the first also sends {"path":"broadcast"}, and
//              sends the next one once every connection has received the
//              previous ones (at most --window broadcasts in flight).
//   idle       N connections opened and held; then every one of them must
//              answer an echo. Reports the server's memory growth.
//   connect    N workers, each opening a connection (TCP + upgrade) and
//              closing it (closing handshake), again and again.
//   large      one connection (--connections does not apply) sends
//              {"path":"size","data":"xx.."}, exactly --payload bytes in all
//              (or each of the --sizes in turn, message by message), and
//              waits for the answer, the length of its data, before it sends
//              the next one. With --chunk B the frame goes out B bytes per
//              send() (TCP_NODELAY), each sent only once the server has read
//              the previous one out of its socket (see writeChunked), so that
//              every chunk is a TCP segment of its own and reaches the server
//              in a read of its own, as from a client behind a link slower
//              than the server. Without it the whole frame is handed to the
//              kernel in one write. The server's CPU time is read around
//              every message (its process CPU clock, to the nanosecond, while
//              it waits for the next message), so each size has the median of
//              its messages, and sizes measured in turn in one run share
//              whatever else the machine was doing. Also reports the data
//              segments the server's socket received per message, which the
//              kernel counts.
//
// Every message of the other modes carries {"seq":S,"t":T,"pad":"xx.."} as
// its data, T being the send time, padded to --payload bytes. With --content
// json the padding is instead "items":[...], records of an application's
// state (ids, names, statuses, numbers, tags) drawn from a fixed vocabulary,
// about --payload bytes of repetitive JSON as a real application sends;
// messages take turns among 64 such arrays, so that no two in a row are the
// same. A reply is accepted in finch's envelope or as plain {"path","data"}
// in any member order: the generator looks for "path", then for "seq" and
// "t" inside "data". Every reply and every delivery is checked for its
// sequence number (large: for the length of the data it answers).
//
// --deflate on offers permessage-deflate as Beast's client does
// (server_max_window_bits=15; client_max_window_bits=15, which lets the
// server choose the client's window, as browsers' offers do); --deflate bare
// offers "permessage-deflate" with no parameter, so that a client allowed to
// keep its context uses a window of 32 KiB. Either way every connection must
// get permessage-deflate in the 101, or it counts as an error. The client
// compresses messages of 1 KiB and more. In echo and broadcast modes the
// bytes the connections sent and received over TCP in the window (the
// kernel's tcpi_bytes_acked and tcpi_bytes_received: WebSocket frames, no
// TCP/IP headers) are reported, the bytes on the wire.
//
// --tls speaks wss://: a TLS handshake (Asio's ssl::stream, OpenSSL's
// defaults: TLS 1.3 when the server offers it) before the upgrade of every
// connection, and the messages in TLS records; the report names the version
// and the cipher negotiated. Modes echo, broadcast and idle (connect and
// large are plain only: large writes the frame to the socket itself). The
// server's certificate is not verified unless --ca names the authority (the
// certificate itself, for a self-signed one), since the load generator only
// ever talks to a server on this machine that the runner has just started;
// with --ca the chain and the address (the certificate's IP
// subjectAltName) are checked, on the handshake only. No SNI: the host is an
// address, which SNI may not carry.
//
// idle with --idle-echoes N: every connection sends N echoes (one
// connection and one message at a time, so that their buffers are reused
// rather than all held at once) before the memory is read, so that what a
// connection keeps after traffic (a client's compression window) is counted.
//
// With --messages N the load ends after N operations (messages, broadcasts
// or connections, the warm-up's included) have completed, or when the window
// ends, whichever comes first; the window then closes with the last answer.
// A fixed amount of work, for instruments that count what the server does
// (callgrind's instructions, system calls) rather than time it.
//
// With --server-pid the generator reads the server's CPU time
// (/proc/PID/stat, utime + stime) at the exact start and end of the measuring
// window, after the warm-up, and its memory (/proc/PID/status) in idle mode.
//
// --ports N,N.. (echo and broadcast) spreads the connections over the
// servers of a cluster, one port per node: connection i goes to the
// (i mod n)th port, so the broadcast's sender (connection 0) is on the
// first. --server-pid then names each node's process in the same order, and
// the report adds "nodes", per node its receivers, the deliveries in the
// window to its connections and its CPU per delivery; the top-level server
// figures are the sums over the nodes. --backplane-pid names the broker's
// process (redis-server), whose CPU in the window is reported per broadcast.
//
// Prints one JSON object on one line to stdout; progress goes to stderr.
// Everything is bounded: the warm-up, the window and the drain have fixed
// lengths, and a watchdog ends the process if the server stops answering.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/option.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

enum class Mode { echo, broadcast, idle, connect, large };
enum class Content { pad, json };
enum class Deflate { off, on, bare };

struct Settings {
    std::string host = "127.0.0.1";
    unsigned short port = 0;  // the first of `ports`
    std::vector<unsigned short> ports;  // one per node; connection i goes to ports[i % size]
    std::string target = "/";
    Mode mode = Mode::echo;
    unsigned connections = 50;
    double duration = 5;  // seconds of measuring window
    double warmup = 1;  // seconds of load before the window opens
    unsigned payload = 64;  // bytes of "data" in each message; large: of the whole message
    std::vector<unsigned> sizes;  // large: message sizes sent in turn; empty: --payload
    unsigned chunk = 0;  // large: bytes per send(), each once the server has read the last; 0: one write
    unsigned sources = 1;  // client addresses 127.0.0.1 .. 127.0.0.<sources>
    unsigned window = 1;  // broadcasts in flight
    double settle = 1;  // idle: seconds between the last connection and the memory reading
    int serverPid = 0;  // the first of `serverPids`
    std::vector<int> serverPids;  // none, or one per port
    int backplanePid = 0;
    unsigned handshakes = 128;  // connections being opened at once
    std::uint64_t messages = 0;  // operations in all; 0: as many as the window allows
    Content content = Content::pad;  // what fills "data" up to --payload bytes
    Deflate deflate = Deflate::off;  // the permessage-deflate offer
    unsigned idleEchoes = 0;  // idle: echoes per connection before the memory reading
    bool tls = false;  // wss://
    std::string ca;  // with --tls: the authority to verify the server against; empty: no verification
};

// Bounds of the command line. They keep a typo from starting a run that would
// not end or that would need more than the machine has.
constexpr unsigned maxConnections = 200000;
constexpr double maxSeconds = 600;
constexpr unsigned maxPayload = 1 << 20;
// "data" needs room for {"seq":..,"t":..,"pad":""}.
constexpr unsigned minPayload = 48;
constexpr std::uint64_t maxMessages = 1'000'000'000;
constexpr std::size_t maxNodes = 64;

void printUsage(std::ostream& out)
{
    out << "usage: loadgen --port N|--ports N,N.. --mode echo|broadcast|idle|connect|large [--connections N]\n"
           "               [--duration S] [--warmup S] [--payload B] [--sizes B,B..] [--chunk B] [--sources N]\n"
           "               [--window N] [--settle S] [--server-pid PID[,PID..]] [--backplane-pid PID] [--host A]\n"
           "               [--target T] [--handshakes N]\n"
           "               [--messages N] [--content pad|json] [--deflate off|on|bare] [--idle-echoes N]\n"
           "               [--tls [--ca FILE]]\n";
}

std::optional<double> parseSeconds(std::string_view text)
{
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !(value >= 0 && value <= maxSeconds))
        return std::nullopt;
    return value;
}

std::optional<unsigned long> parseCount(std::string_view text, unsigned long min, unsigned long max)
{
    unsigned long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        return std::nullopt;
    return value;
}

// "N,N,.." of numbers in [min, max], at most maxNodes of them.
template <class Number>
std::optional<std::vector<Number>> parseList(std::string_view text, unsigned long min, unsigned long max)
{
    std::vector<Number> values;
    for (std::string_view rest = text; !rest.empty();) {
        const auto comma = std::min(rest.find(','), rest.size());
        const auto value = parseCount(rest.substr(0, comma), min, max);
        if (!value || values.size() == maxNodes)
            return std::nullopt;
        values.push_back(static_cast<Number>(*value));
        rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
    if (values.empty() || text.back() == ',')
        return std::nullopt;
    return values;
}

std::optional<Settings> parseArguments(int argc, char** argv)
{
    Settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            printUsage(std::cout);
            std::exit(0);
        }
        if (flag == "--tls") {
            s.tls = true;
            continue;
        }
        if (i + 1 == argc) {
            std::cerr << "loadgen: " << flag << " needs a value\n";
            return std::nullopt;
        }
        const std::string_view value = argv[++i];
        bool ok = true;
        const auto count = [&](auto& field, unsigned long min, unsigned long max) {
            const auto parsed = parseCount(value, min, max);
            ok = parsed.has_value();
            if (ok)
                field = static_cast<std::remove_reference_t<decltype(field)>>(*parsed);
        };
        const auto list = [&](auto& field, unsigned long min, unsigned long max) {
            auto parsed = parseList<typename std::remove_reference_t<decltype(field)>::value_type>(value, min, max);
            ok = parsed.has_value();
            if (ok)
                field = std::move(*parsed);
        };
        const auto seconds = [&](double& field) {
            const auto parsed = parseSeconds(value);
            ok = parsed.has_value();
            if (ok)
                field = *parsed;
        };
        if (flag == "--host")
            s.host = value;
        else if (flag == "--ca")
            s.ca = value;
        else if (flag == "--target")
            s.target = value;
        else if (flag == "--port") {
            unsigned short port = 0;
            count(port, 1, 65535);
            s.ports.assign(1, port);
        } else if (flag == "--ports")
            list(s.ports, 1, 65535);
        else if (flag == "--connections")
            count(s.connections, 1, maxConnections);
        else if (flag == "--duration")
            seconds(s.duration);
        else if (flag == "--warmup")
            seconds(s.warmup);
        else if (flag == "--settle")
            seconds(s.settle);
        else if (flag == "--payload")
            count(s.payload, minPayload, maxPayload);
        else if (flag == "--chunk")
            count(s.chunk, 0, maxPayload);
        else if (flag == "--sizes") {
            s.sizes.clear();
            for (std::string_view rest = value; ok && !rest.empty();) {
                const auto comma = std::min(rest.find(','), rest.size());
                const auto size = parseCount(rest.substr(0, comma), minPayload, maxPayload);
                ok = size.has_value() && s.sizes.size() < 16;
                if (ok)
                    s.sizes.push_back(static_cast<unsigned>(*size));
                rest.remove_prefix(std::min(comma + 1, rest.size()));
            }
        } else if (flag == "--sources")
            count(s.sources, 1, 254);
        else if (flag == "--window")
            count(s.window, 1, 1024);
        else if (flag == "--handshakes")
            count(s.handshakes, 1, 10000);
        else if (flag == "--messages")
            count(s.messages, 1, maxMessages);
        else if (flag == "--server-pid")
            list(s.serverPids, 1, 1 << 22);
        else if (flag == "--backplane-pid")
            count(s.backplanePid, 1, 1 << 22);
        else if (flag == "--idle-echoes")
            count(s.idleEchoes, 0, 16);
        else if (flag == "--content") {
            ok = value == "pad" || value == "json";
            s.content = value == "json" ? Content::json : Content::pad;
        } else if (flag == "--deflate") {
            ok = value == "off" || value == "on" || value == "bare";
            s.deflate = value == "on" ? Deflate::on : value == "bare" ? Deflate::bare : Deflate::off;
        } else if (flag == "--mode") {
            if (value == "echo")
                s.mode = Mode::echo;
            else if (value == "broadcast")
                s.mode = Mode::broadcast;
            else if (value == "idle")
                s.mode = Mode::idle;
            else if (value == "connect")
                s.mode = Mode::connect;
            else if (value == "large")
                s.mode = Mode::large;
            else
                ok = false;
        } else {
            std::cerr << "loadgen: unknown argument '" << flag << "'\n";
            return std::nullopt;
        }
        if (!ok) {
            std::cerr << "loadgen: bad value '" << value << "' for " << flag << '\n';
            return std::nullopt;
        }
    }
    if (s.ports.empty()) {
        std::cerr << "loadgen: --port is required\n";
        return std::nullopt;
    }
    s.port = s.ports.front();
    if (s.ports.size() > 1 && s.mode != Mode::echo && s.mode != Mode::broadcast) {
        std::cerr << "loadgen: --ports with several ports works in modes echo and broadcast\n";
        return std::nullopt;
    }
    if (!s.serverPids.empty()) {
        if (s.serverPids.size() != s.ports.size()) {
            std::cerr << "loadgen: --server-pid names one process per port\n";
            return std::nullopt;
        }
        s.serverPid = s.serverPids.front();
    }
    if (!s.ca.empty() && !s.tls) {
        std::cerr << "loadgen: --ca goes with --tls\n";
        return std::nullopt;
    }
    if (s.tls && (s.mode == Mode::connect || s.mode == Mode::large)) {
        std::cerr << "loadgen: --tls works in modes echo, broadcast and idle\n";
        return std::nullopt;
    }
    beast::error_code ec;
    const auto host = net::ip::make_address(s.host, ec);
    if (ec || !host.is_v4() || !host.is_loopback()) {
        std::cerr << "loadgen: --host must be a loopback address 127.x.x.x, not '" << s.host << "'\n";
        return std::nullopt;
    }
    return s;
}

const char* modeName(Mode mode)
{
    switch (mode) {
    case Mode::echo:
        return "echo";
    case Mode::broadcast:
        return "broadcast";
    case Mode::idle:
        return "idle";
    case Mode::connect:
        return "connect";
    case Mode::large:
        return "large";
    }
    return "?";
}

// CPU time split by where it was spent: the kernel's share tells how much of
// an operation's cost is the system calls and the loopback's packet handling,
// which no change in user space can remove.
struct CpuTime {
    double user = 0;
    double kernel = 0;

    double total() const noexcept { return user + kernel; }
    CpuTime operator-(const CpuTime& earlier) const noexcept { return {user - earlier.user, kernel - earlier.kernel}; }
};

// What /proc says about another process. Every reading is optional: the
// server may have died, and the report must say so rather than invent a number.
class ProcessProbe {
public:
    explicit ProcessProbe(int pid)
        : pid_(pid)
    {
    }

    bool enabled() const noexcept { return pid_ != 0; }

    // CPU time of all its threads, in seconds.
    std::optional<CpuTime> cpuTime() const
    {
        std::ifstream in(path("stat"));
        std::string text;
        if (!pid_ || !std::getline(in, text))
            return std::nullopt;
        // The command name (field 2) may hold spaces; the fields after it do not.
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string skipped;
        for (int field = 3; field < 14; ++field)
            fields >> skipped;
        unsigned long long user = 0, system = 0;
        if (!(fields >> user >> system))
            return std::nullopt;
        const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
        return CpuTime{static_cast<double>(user) / tick, static_cast<double>(system) / tick};
    }

    // A "kB" line of /proc/PID/status (VmRSS, RssAnon), in KiB.
    std::optional<long> statusKiB(std::string_view key) const
    {
        std::ifstream in(path("status"));
        std::string line;
        while (pid_ && std::getline(in, line))
            if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':')
                return std::atol(line.c_str() + key.size() + 1);
        return std::nullopt;
    }

    // How long its threads have been ready to run but waiting for a CPU, in
    // seconds (the second field of each thread's schedstat): the direct
    // measure of other work taking its core.
    std::optional<double> runQueueWaitSeconds() const
    {
        std::error_code ec;
        unsigned long long waited = 0;
        for (std::filesystem::directory_iterator it(path("task"), ec), end; !ec && it != end; it.increment(ec)) {
            std::ifstream in(it->path() / "schedstat");
            unsigned long long running = 0, waiting = 0;
            if (in >> running >> waiting)
                waited += waiting;
        }
        if (!pid_ || ec)
            return std::nullopt;
        return static_cast<double>(waited) / 1e9;
    }

    // CPU time of all its threads in seconds, to the nanosecond and counting
    // the slice a thread is running at this very moment (the kernel's process
    // CPU clock), where /proc/PID/stat counts clock ticks of 10 ms and
    // schedstat lags behind a running thread: for one message at a time.
    std::optional<double> cpuClockSeconds() const
    {
        clockid_t clock{};
        timespec now{};
        if (!pid_ || clock_getcpuclockid(pid_, &clock) != 0 || clock_gettime(clock, &now) != 0)
            return std::nullopt;
        return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
    }

    // Whether none of its threads is running or ready to run (all wait in a
    // system call, epoll_wait for a server between two messages), or nothing
    // if /proc would not say.
    std::optional<bool> idle() const
    {
        std::error_code ec;
        bool idle = true;
        for (std::filesystem::directory_iterator it(path("task"), ec), end; !ec && it != end; it.increment(ec)) {
            std::ifstream in(it->path() / "stat");
            std::string text;
            if (!std::getline(in, text))
                continue;  // a thread that just ended
            const auto state = text.rfind(')');
            if (state == std::string::npos || state + 2 >= text.size())
                return std::nullopt;
            idle = idle && text[state + 2] != 'R';
        }
        if (!pid_ || ec)
            return std::nullopt;
        return idle;
    }

    std::optional<long> openFiles() const
    {
        std::error_code ec;
        long count = 0;
        for (std::filesystem::directory_iterator it(path("fd"), ec), end; !ec && it != end; it.increment(ec))
            ++count;
        if (!pid_ || ec)
            return std::nullopt;
        return count;
    }

private:
    std::string path(std::string_view entry) const
    {
        return "/proc/" + std::to_string(pid_) + "/" + std::string(entry);
    }

    int pid_;
};

// The whole machine's CPU time by kind, from the first line of /proc/stat, in
// seconds summed over all cores. Lets the runner see how much of the window
// went to other processes (a build next door, say), to interrupt handling,
// or to the hypervisor.
struct MachineCpu {
    double processes = 0;  // user + nice + system: what some process was charged
    double softirq = 0;  // deferred interrupt work, the loopback's packet handling among it
    double steal = 0;  // time the hypervisor gave our virtual CPUs to someone else
};

std::optional<MachineCpu> machineCpu()
{
    std::ifstream in("/proc/stat");
    std::string name;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (!(in >> name >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || name != "cpu")
        return std::nullopt;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    return MachineCpu{static_cast<double>(user + nice + system) / tick, static_cast<double>(irq + softirq) / tick,
        static_cast<double>(steal) / tick};
}

CpuTime ownCpuTime()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

// Latencies in nanoseconds, to about 0.1 % from 2 us up, in fixed memory:
// below 2048 every value has its own bucket; above, each power of two is
// split into 1024 buckets.
class LatencyHistogram {
public:
    void record(std::uint64_t nanoseconds)
    {
        ++buckets_[index(nanoseconds)];
        ++count_;
    }

    void clear()
    {
        std::fill(buckets_.begin(), buckets_.end(), 0);
        count_ = 0;
    }

    std::uint64_t count() const noexcept { return count_; }

    // The value below which a fraction `q` of the samples lie, in nanoseconds.
    std::uint64_t quantile(double q) const
    {
        if (count_ == 0)
            return 0;
        const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            seen += buckets_[i];
            if (seen >= rank)
                return lowest(i);
        }
        return lowest(buckets_.size() - 1);
    }

private:
    static constexpr std::size_t exact = 2048;
    static constexpr std::size_t perOctave = 1024;
    static constexpr std::size_t octaves = 53;  // up to 2^63 ns

    static std::size_t index(std::uint64_t v)
    {
        if (v < exact)
            return static_cast<std::size_t>(v);
        const unsigned shift = 64 - static_cast<unsigned>(__builtin_clzll(v)) - 11;
        return exact + (shift - 1) * perOctave + static_cast<std::size_t>((v >> shift) - perOctave);
    }

    static std::uint64_t lowest(std::size_t i)
    {
        if (i < exact)
            return i;
        const std::size_t shift = (i - exact) / perOctave + 1;
        return (static_cast<std::uint64_t>((i - exact) % perOctave) + perOctave) << shift;
    }

    std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(exact + octaves * perOctave);
    std::uint64_t count_ = 0;
};

// Writes {"path":"<path>","data":{"seq":S,"t":T,"pad":"xx..."}} into `out`,
// with "data" exactly `payload` bytes long (or as short as it can be).
void writeFrame(std::string& out, std::string_view path, std::uint64_t seq, std::uint64_t t, std::size_t payload)
{
    char numbers[48];
    char* p = numbers;
    p = std::to_chars(p, numbers + sizeof numbers, seq).ptr;
    const std::size_t seqLength = static_cast<std::size_t>(p - numbers);
    p = std::to_chars(p, numbers + sizeof numbers, t).ptr;
    const std::size_t tLength = static_cast<std::size_t>(p - numbers) - seqLength;
    // {"seq":  ,"t":  ,"pad":"  "}
    const std::size_t fixed = 7 + seqLength + 5 + tLength + 9 + 2;
    const std::size_t pad = payload > fixed ? payload - fixed : 0;
    out.clear();
    out.append(R"({"path":")").append(path).append(R"(","data":{"seq":)");
    out.append(numbers, seqLength).append(R"(,"t":)").append(numbers + seqLength, tLength);
    out.append(R"(,"pad":")").append(pad, 'x').append(R"("}})");
}

// --content json: arrays of records that fill "items" with about `bytes`
// bytes, `count` of them, each different (a fixed pseudo-random sequence),
// from the vocabulary an application's state has: the same keys in every
// record, names, statuses and tags from short lists, numbers of any value.
// No key is "seq" or "t", which the replies are searched for.
std::vector<std::string> makeJsonItems(std::size_t bytes, std::size_t count)
{
    static constexpr std::string_view first[] = {"Ada", "Alan", "Barbara", "Dennis", "Edsger", "Frances", "Grace",
        "Guido", "Ken", "Linus", "Margaret", "Niklaus", "Radia", "Sophie", "Tim", "Yukihiro"};
    static constexpr std::string_view last[] = {"Lovelace", "Turing", "Liskov", "Ritchie", "Dijkstra", "Allen",
        "Hopper", "van Rossum", "Thompson", "Torvalds", "Hamilton", "Wirth", "Perlman", "Wilson", "Berners-Lee",
        "Matsumoto"};
    static constexpr std::string_view statuses[] = {"online", "away", "busy", "offline"};
    static constexpr std::string_view rooms[] = {"lobby", "general", "random", "support", "dev", "ops"};
    static constexpr std::string_view tags[] = {"admin", "beta", "mobile", "desktop", "premium", "new", "bot", "eu"};
    std::uint64_t state = 0x2545f4914f6cdd1dull;
    const auto next = [&state](std::uint64_t bound) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state % bound;
    };
    std::vector<std::string> pool(count);
    for (std::string& items : pool) {
        items = "[";
        while (items.size() < bytes) {
            if (items.size() > 1)
                items += ',';
            const std::uint64_t id = 100000 + next(900000);
            items += R"({"id":)" + std::to_string(id) + R"(,"name":")" + std::string(first[next(16)]) + ' ' +
                std::string(last[next(16)]) + R"(","status":")" + std::string(statuses[next(4)]) + R"(","room":")" +
                std::string(rooms[next(6)]) + '-' + std::to_string(next(10)) + R"(","score":)" +
                std::to_string(next(100000)) + R"(,"ratio":0.)" + std::to_string(100 + next(900)) + R"(,"active":)" +
                (next(2) ? "true" : "false") + R"(,"tags":[")" + std::string(tags[next(8)]) + R"(",")" +
                std::string(tags[next(8)]) + R"("],"updated":)" + std::to_string(1733500000 + next(100000)) + '}';
        }
        items += ']';
    }
    return pool;
}

// {"path":"<path>","data":{"seq":S,"t":T,"items":[...]}}
void writeJsonFrame(std::string& out, std::string_view path, std::uint64_t seq, std::uint64_t t, std::string_view items)
{
    out.clear();
    out.append(R"({"path":")").append(path).append(R"(","data":{"seq":)").append(std::to_string(seq));
    out.append(R"(,"t":)").append(std::to_string(t)).append(R"(,"items":)").append(items).append("}}");
}

struct Reply {
    std::uint64_t seq = 0;
    std::uint64_t t = 0;
};

std::optional<std::uint64_t> numberAfter(std::string_view text, std::string_view key)
{
    const auto at = text.find(key);
    if (at == std::string_view::npos)
        return std::nullopt;
    std::uint64_t value = 0;
    const char* begin = text.data() + at + key.size();
    const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
    if (ec != std::errc() || end == begin)
        return std::nullopt;
    return value;
}

// `pathMember` is the whole member, "path":"echo", as every server writes it
// (no spaces: finch, nlohmann's dump(), JSON.stringify and the raw echo).
std::optional<Reply> parseReply(std::string_view frame, std::string_view pathMember)
{
    const auto data = frame.find(R"("data":)");
    if (data == std::string_view::npos || frame.find(pathMember) == std::string_view::npos)
        return std::nullopt;
    const auto rest = frame.substr(data);
    const auto seq = numberAfter(rest, R"("seq":)");
    const auto t = numberAfter(rest, R"("t":)");
    if (!seq || !t)
        return std::nullopt;
    return Reply{*seq, *t};
}

// The large mode's message, {"path":"size","data":"xx.."}, exactly `size`
// bytes long, as the masked frame a client sends. Every message of a run is
// the same, so it is built and masked once and costs the generator nothing
// per message.
struct LargeMessage {
    std::string frame;
    std::size_t dataLength = 0;  // what the server must answer
};

LargeMessage makeLargeMessage(std::size_t size)
{
    constexpr std::string_view head = R"({"path":"size","data":")";
    constexpr std::string_view tail = R"("})";
    LargeMessage message;
    message.dataLength = size - head.size() - tail.size();
    std::string text;
    text.reserve(size);
    text.append(head).append(message.dataLength, 'x').append(tail);
    std::string& frame = message.frame;
    frame.push_back(static_cast<char>(0x81));  // FIN, text
    if (size < 126) {
        frame.push_back(static_cast<char>(0x80 | size));
    } else if (size <= 0xffff) {
        frame.push_back(static_cast<char>(0x80 | 126));
        for (int shift = 8; shift >= 0; shift -= 8)
            frame.push_back(static_cast<char>((size >> shift) & 0xff));
    } else {
        frame.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            frame.push_back(static_cast<char>((size >> shift) & 0xff));
    }
    constexpr std::array<unsigned char, 4> key{0x5a, 0x1c, 0xe3, 0x97};
    for (const unsigned char byte : key)
        frame.push_back(static_cast<char>(byte));
    for (std::size_t i = 0; i < text.size(); ++i)
        frame.push_back(static_cast<char>(static_cast<unsigned char>(text[i]) ^ key[i % 4]));
    return message;
}

// The start of the kernel's struct tcp_info (linux/tcp.h, whose names clash
// with glibc's netinet/tcp.h that Asio includes), as far as the member read here.
struct KernelTcpInfo {
    std::uint8_t flags[8];
    std::uint32_t counters[24];  // tcpi_rto .. tcpi_total_retrans
    std::uint64_t rates[4];  // tcpi_pacing_rate .. tcpi_bytes_received
    std::uint32_t segsOut, segsIn, notsentBytes, minRtt, dataSegsIn, dataSegsOut;
};

// The server's end of one connection, as the kernel sees it (sock_diag, what
// `ss` shows): how many bytes it has received and not yet read, and how many
// data segments it has received. One query costs a few microseconds.
class ServerSocketProbe {
public:
    ServerSocketProbe() = default;
    ServerSocketProbe(const ServerSocketProbe&) = delete;
    ServerSocketProbe& operator=(const ServerSocketProbe&) = delete;

    ~ServerSocketProbe()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }

    // `server` and `client` are the two ends of the connection; false when
    // this kernel does not answer such queries (no inet_diag).
    bool open(const tcp::endpoint& server, const tcp::endpoint& client)
    {
        fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        request_.sdiag_family = AF_INET;
        request_.sdiag_protocol = IPPROTO_TCP;
        request_.idiag_states = ~0u;
        request_.id.idiag_sport = htons(server.port());
        request_.id.idiag_dport = htons(client.port());
        request_.id.idiag_src[0] = htonl(server.address().to_v4().to_uint());
        request_.id.idiag_dst[0] = htonl(client.address().to_v4().to_uint());
        request_.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
        request_.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
        return fd_ >= 0 && unread().has_value();
    }

    std::optional<std::uint32_t> unread() const
    {
        const auto answer = query(false);
        if (!answer)
            return std::nullopt;
        return answer->first;
    }

    std::optional<std::uint32_t> dataSegmentsIn() const
    {
        const auto answer = query(true);
        if (!answer)
            return std::nullopt;
        return answer->second;
    }

private:
    // (unread bytes, data segments received, or 0 without `withInfo`)
    std::optional<std::pair<std::uint32_t, std::uint32_t>> query(bool withInfo) const
    {
        if (fd_ < 0)
            return std::nullopt;
        struct {
            nlmsghdr header;
            inet_diag_req_v2 request;
        } message{};
        message.header.nlmsg_len = sizeof message;
        message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        message.header.nlmsg_flags = NLM_F_REQUEST;
        message.request = request_;
        if (withInfo)
            message.request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
        if (::send(fd_, &message, sizeof message, 0) != static_cast<ssize_t>(sizeof message))
            return std::nullopt;
        alignas(nlmsghdr) char answer[4096];
        const ssize_t size = ::recv(fd_, answer, sizeof answer, 0);
        const auto* header = reinterpret_cast<const nlmsghdr*>(answer);
        if (size < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(inet_diag_msg))) || !NLMSG_OK(header, size) ||
            header->nlmsg_type != SOCK_DIAG_BY_FAMILY)
            return std::nullopt;
        const auto* diag = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
        std::uint32_t segments = 0;
        int rest = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof(inet_diag_msg)));
        for (auto* attribute = reinterpret_cast<const rtattr*>(diag + 1); withInfo && RTA_OK(attribute, rest);
             attribute = RTA_NEXT(attribute, rest)) {
            if (attribute->rta_type != INET_DIAG_INFO)
                continue;
            KernelTcpInfo info{};
            // An older kernel's tcp_info ends before the member.
            if (RTA_PAYLOAD(attribute) < offsetof(KernelTcpInfo, dataSegsIn) + sizeof info.dataSegsIn)
                return std::nullopt;
            std::memcpy(&info, RTA_DATA(attribute), std::min<std::size_t>(RTA_PAYLOAD(attribute), sizeof info));
            segments = info.dataSegsIn;
        }
        return std::pair{diag->idiag_rqueue, segments};
    }

    int fd_ = -1;
    inet_diag_req_v2 request_{};
};

// What a client's websocket::stream runs on: ws:// or wss://.
using PlainLayer = beast::tcp_stream;
using TlsLayer = beast::ssl_stream<beast::tcp_stream>;

template <class NextLayer>
struct Client {
    // `layer`: what the stream's next layer is made from (the io_context,
    // and the TLS context for wss://).
    template <class... Layer>
    explicit Client(unsigned number, Layer&&... layer)
        : ws(std::forward<Layer>(layer)...)
        , index(number)
    {
    }

    websocket::stream<NextLayer> ws;
    beast::flat_buffer buffer;
    std::string out;  // the frame being written: it must live until the write is done
    const unsigned index;
    std::uint64_t expected = 1;  // the sequence number of the next reply or delivery
    bool open = false;
    bool writing = false;
    bool sendWhenWritten = false;  // a reply overtook our own write's completion
    Clock::time_point started;  // connect mode: when this connection was begun
};

template <class NextLayer>
class LoadGenerator {
public:
    using Client = ::Client<NextLayer>;
    static constexpr bool secure = std::is_same_v<NextLayer, TlsLayer>;

    explicit LoadGenerator(const Settings& settings)
        : settings_(settings)
        , context_(1)
        , probe_(settings.serverPid)
        , backplaneProbe_(settings.backplanePid)
        , self_(static_cast<int>(getpid()))
        , phaseTimer_(context_)
        , watchdog_(context_)
        , epoch_(Clock::now())
        , tls_(net::ssl::context::tls_client)
    {
        // "data" is {"seq":S,"t":T,"items":[..]}: the numbers and the names
        // take about 45 bytes of --payload.
        if (settings.content == Content::json)
            jsonItems_ = makeJsonItems(settings.payload > 90 ? settings.payload - 45 : 45, 64);
        if (!settings.ca.empty()) {
            tls_.load_verify_file(settings.ca);
            tls_.set_verify_mode(net::ssl::verify_peer);
        }
        const auto address = net::ip::make_address(settings.host);
        for (std::size_t node = 0; node < settings.ports.size(); ++node) {
            const unsigned short port = settings.ports[node];
            servers_.emplace_back(address, port);
            hostHeaders_.push_back(settings.host + ":" + std::to_string(port));
            nodeProbes_.emplace_back(node < settings.serverPids.size() ? settings.serverPids[node] : 0);
        }
        nodes_.resize(settings.ports.size());
    }

    // Runs the mode to its end and returns the report.
    nlohmann::json run()
    {
        // The longest a healthy run can take, generously: connecting at a
        // few hundred per second, then every phase, then a margin.
        const double limit = settings_.connections / 200.0 * (1 + settings_.idleEchoes) + settings_.warmup +
            settings_.duration + settings_.settle + drainSeconds + verifySeconds + 30;
        watchdog_.expires_after(std::chrono::milliseconds(static_cast<long>(limit * 1000)));
        watchdog_.async_wait([this](beast::error_code ec) {
            if (ec)
                return;
            report_["watchdog"] = "the run did not finish in time; the server stopped answering";
            ++errors_;
            context_.stop();
        });
        switch (settings_.mode) {
        case Mode::echo:
        case Mode::broadcast:
            // The pause lets the server finish registering the last
            // connection (a client may see the 101 answer first), so that
            // the first broadcast reaches every client.
            openClients(0, settings_.connections, [this] { after(0.1, [this] { startLoad(); }); });
            break;
        case Mode::idle:
            startIdle();
            break;
        case Mode::connect:
            startConnect();
            break;
        case Mode::large:
            openClients(0, 1, [this] { after(0.1, [this] { startLarge(); }); });
            break;
        }
        context_.run();
        return finishReport();
    }

private:
    static constexpr double drainSeconds = 2;
    // A backstop besides the clock: no run starts more messages, broadcasts
    // or connections than this (a 600 s window at 200,000 a second is 1.2e8).
    static constexpr std::uint64_t maxStarts = 1'000'000'000;

    // Whether the load may start one more operation, and counts it. Past
    // --messages the load is over, as when the window ends.
    bool startAnother()
    {
        if (!running_ || started_ >= maxStarts)
            return false;
        if (settings_.messages != 0 && started_ >= settings_.messages) {
            running_ = false;
            return false;
        }
        ++started_;
        return true;
    }

    static constexpr double verifySeconds = 10;

    std::uint64_t nowNanoseconds() const
    {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch_).count());
    }

    void after(double seconds, std::function<void()> then)
    {
        phaseTimer_.expires_after(std::chrono::microseconds(static_cast<long>(seconds * 1e6)));
        phaseTimer_.async_wait([then = std::move(then)](beast::error_code ec) {
            if (!ec)
                then();
        });
    }

    void fail(std::string_view what, const beast::error_code& ec)
    {
        ++errors_;
        if (firstError_.empty())
            firstError_ = std::string(what) + ": " + ec.message();
    }

    void badFrame(std::string_view why, std::string_view frame)
    {
        ++errors_;
        if (firstError_.empty())
            firstError_ = std::string(why) + ": " + std::string(frame.substr(0, 200));
    }

    // ---- opening connections --------------------------------------------

    std::unique_ptr<Client> makeClient(unsigned number)
    {
        if constexpr (secure)
            return std::make_unique<Client>(number, context_, tls_);
        else
            return std::make_unique<Client>(number, context_);
    }

    // Opens clients [first, first + count), at most `handshakes` at a time so
    // that the server's accept queue never overflows (an overflow costs a
    // one-second SYN retry and would be measured as the server's slowness),
    // and calls `done` when each has opened or failed.
    void openClients(unsigned first, unsigned count, std::function<void()> done)
    {
        for (unsigned i = 0; i < count; ++i)
            clients_.push_back(makeClient(first + i));
        nextToOpen_ = first;
        openEnd_ = first + count;
        openingDone_ = std::move(done);
        openStarted_ = Clock::now();
        pendingOpens_ = count;
        const unsigned burst = std::min(settings_.handshakes, count);
        for (unsigned i = 0; i < burst; ++i)
            openNext();
    }

    void openNext()
    {
        if (nextToOpen_ == openEnd_)
            return;
        Client& client = *clients_[nextToOpen_++];
        connect(client, [this, &client](bool ok) {
            if (ok) {
                read(client);
                ++openCount_;
            }
            openNext();
            if (--pendingOpens_ == 0) {
                openSeconds_ = std::chrono::duration<double>(Clock::now() - openStarted_).count();
                std::cerr << "loadgen: " << openCount_ << " connections open\n";
                openingDone_();
            }
        });
    }

    // TCP connect from 127.0.0.<1 + index % sources>, then the upgrade.
    void connect(Client& client, std::function<void(bool)> done)
    {
        auto& socket = beast::get_lowest_layer(client.ws).socket();
        beast::error_code ec;
        socket.open(tcp::v4(), ec);
        if (!ec) {
            // Let connect() choose the port for the whole 4-tuple: a bind()
            // alone would reserve one of the ~28,000 ephemeral ports per
            // source address whatever the destination.
            const int on = 1;
            ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
            const auto source = net::ip::address_v4((127u << 24) | (1u + client.index % settings_.sources));
            socket.bind(tcp::endpoint(source, 0), ec);
        }
        if (ec) {
            fail("socket", ec);
            return net::post(context_, [done = std::move(done)] { done(false); });
        }
        client.started = Clock::now();
        beast::get_lowest_layer(client.ws).async_connect(
            servers_[nodeOf(client)], [this, &client, done = std::move(done)](beast::error_code ec) mutable {
                if (ec) {
                    fail("connect", ec);
                    return done(false);
                }
                beast::get_lowest_layer(client.ws).socket().set_option(tcp::no_delay(true), ec);
                if constexpr (secure)
                    handshakeTls(client, std::move(done));
                else
                    upgrade(client, std::move(done));
            });
    }

    // wss://: the TLS handshake, under a deadline of its own (the WebSocket
    // timeouts start with the upgrade), then the upgrade.
    void handshakeTls(Client& client, std::function<void(bool)> done)
    {
        if (!settings_.ca.empty())
            client.ws.next_layer().set_verify_callback(net::ssl::host_name_verification(settings_.host));
        beast::get_lowest_layer(client.ws).expires_after(std::chrono::seconds(30));
        client.ws.next_layer().async_handshake(
            net::ssl::stream_base::client, [this, &client, done = std::move(done)](beast::error_code ec) mutable {
                if (ec) {
                    fail("TLS handshake", ec);
                    return done(false);
                }
                beast::get_lowest_layer(client.ws).expires_never();
                if (!report_.contains("tls")) {
                    SSL* const ssl = client.ws.next_layer().native_handle();
                    report_["tls"] = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
                }
                upgrade(client, std::move(done));
            });
    }

    void upgrade(Client& client, std::function<void(bool)> done)
    {
        client.ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        // The mask of client frames needs no cryptographic quality here,
        // and the default generator would make the client slower.
        client.ws.secure_prng(false);
        client.ws.auto_fragment(false);
        client.ws.text(true);
        offerDeflate(client);
        // The 101 is kept until the handler has looked at its extensions.
        auto response = std::make_unique<websocket::response_type>();
        auto& answer = *response;
        client.ws.async_handshake(answer, hostHeaders_[nodeOf(client)], settings_.target,
            [this, &client, response = std::move(response), done = std::move(done)](beast::error_code ec) {
                if (ec) {
                    fail("upgrade", ec);
                    return done(false);
                }
                if (settings_.deflate != Deflate::off &&
                    (*response)[beast::http::field::sec_websocket_extensions].find("permessage-deflate") ==
                        beast::string_view::npos) {
                    ++errors_;
                    if (firstError_.empty())
                        firstError_ = "the server did not accept permessage-deflate";
                    return done(false);
                }
                client.open = true;
                done(true);
            });
    }

    // permessage-deflate as --deflate asks: Beast's client offer, or a bare
    // one put in place of it. Beast's client compresses with what the 101
    // answers (a window, whether it keeps its context).
    void offerDeflate(Client& client)
    {
        if (settings_.deflate == Deflate::off)
            return;
        websocket::permessage_deflate deflate;
        deflate.client_enable = true;
        deflate.compLevel = 6;
        // Beast's default, not the servers' 8: the idle mode's 10,000 clients
        // each keep a deflater in this process, and the client's memLevel
        // changes nothing the server does.
        deflate.memLevel = 4;
        deflate.msg_size_threshold = 1024;
        client.ws.set_option(deflate);
        if (settings_.deflate == Deflate::bare)
            client.ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
                request.set(beast::http::field::sec_websocket_extensions, "permessage-deflate");
            }));
    }

    // The bytes every open connection has sent (and had acknowledged) and
    // received over TCP so far, as the kernel counts them: the frames, their
    // headers and the control frames, without TCP/IP headers.
    std::pair<std::uint64_t, std::uint64_t> wireBytes()
    {
        std::uint64_t sent = 0, received = 0;
        for (const auto& client : clients_) {
            if (!client || !client->open)
                continue;
            KernelTcpInfo info{};
            socklen_t size = sizeof info;
            const int fd = beast::get_lowest_layer(client->ws).socket().native_handle();
            if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 ||
                size < offsetof(KernelTcpInfo, rates) + sizeof info.rates)
                return {0, 0};
            sent += info.rates[2];  // tcpi_bytes_acked
            received += info.rates[3];  // tcpi_bytes_received
        }
        return {sent, received};
    }

    // ---- reading and writing ----------------------------------------------

    // Every open client keeps a read pending, which also answers the server's pings.
    void read(Client& client)
    {
        client.ws.async_read(client.buffer, [this, &client](beast::error_code ec, std::size_t) {
            if (ec) {
                client.open = false;
                if (!stopped_)
                    fail("read", ec);
                return;
            }
            const auto bytes = client.buffer.cdata();
            onFrame(client, {static_cast<const char*>(bytes.data()), bytes.size()});
            client.buffer.consume(client.buffer.size());
            read(client);
        });
    }

    // Sends a message of `path` with the next sequence number for this client.
    // One write at a time per stream: if the previous one has not completed,
    // this one goes out when it does.
    void send(Client& client, std::string_view path, std::uint64_t seq)
    {
        if (client.writing) {
            client.sendWhenWritten = true;
            return;
        }
        if (settings_.content == Content::json)
            writeJsonFrame(client.out, path, seq, nowNanoseconds(), jsonItems_[seq % jsonItems_.size()]);
        else
            writeFrame(client.out, path, seq, nowNanoseconds(), settings_.payload);
        sentMessageBytes_ += client.out.size();
        ++sentMessages_;
        client.writing = true;
        client.ws.async_write(net::buffer(client.out), [this, &client](beast::error_code ec, std::size_t) {
            client.writing = false;
            if (ec)
                return fail("write", ec);
            if (settings_.mode == Mode::broadcast) {
                sendBroadcasts();
            } else if (settings_.mode == Mode::large) {
                return;
            } else if (client.sendWhenWritten) {
                client.sendWhenWritten = false;
                send(client, "echo", client.expected);
            }
        });
    }

    void onFrame(Client& client, std::string_view frame)
    {
        switch (settings_.mode) {
        case Mode::echo:
        case Mode::idle:
            return onEcho(client, frame);
        case Mode::broadcast:
            return onDelivery(client, frame);
        case Mode::connect:
            return badFrame("unexpected frame", frame);
        case Mode::large:
            return onSize(client, frame);
        }
    }

    // ---- echo and broadcast -----------------------------------------------

    void startLoad()
    {
        if (openCount_ == 0)
            return context_.stop();
        running_ = true;
        if (settings_.mode == Mode::echo) {
            for (auto& client : clients_)
                if (client->open && startAnother()) {
                    ++inFlight_;
                    send(*client, "echo", client->expected);
                }
            if (inFlight_ == 0)
                return finish();
        } else {
            receivers_ = openCount_;
            remaining_.assign(settings_.window, 0);
            sendBroadcasts();
        }
        after(settings_.warmup, [this] {
            openWindow();
            after(settings_.duration, [this] {
                closeWindow();
                running_ = false;
                drainOrFinish();
            });
        });
    }

    void onEcho(Client& client, std::string_view frame)
    {
        const auto reply = parseReply(frame, R"("path":"echo")");
        if (!reply)
            return badFrame("not an echo reply", frame);
        if (reply->seq != client.expected)
            return badFrame("echo reply out of sequence", frame);
        ++client.expected;
        if (settings_.mode == Mode::idle)
            return onIdleEcho();
        --inFlight_;
        if (measuring_) {
            ++operations_;
            ++nodes_[nodeOf(client)].deliveries;
            latencies_.record(nowNanoseconds() - reply->t);
        }
        if (startAnother()) {
            ++inFlight_;
            send(client, "echo", client.expected);
        } else if (!running_ && inFlight_ == 0) {
            finish();
        }
    }

    // The first client sends broadcast number `nextBroadcast_` while fewer than
    // `window` broadcasts have not reached every receiver.
    void sendBroadcasts()
    {
        Client& sender = *clients_.front();
        while (
            sender.open && nextBroadcast_ - oldestBroadcast_ < settings_.window && !sender.writing && startAnother()) {
            remaining_[nextBroadcast_ % settings_.window] = receivers_;
            send(sender, "broadcast", nextBroadcast_++);
        }
    }

    void onDelivery(Client& client, std::string_view frame)
    {
        const auto delivery = parseReply(frame, R"("path":"broadcast")");
        if (!delivery)
            return badFrame("not a broadcast", frame);
        const std::uint64_t seq = delivery->seq;
        if (seq != client.expected || seq < oldestBroadcast_ || seq >= nextBroadcast_) {
            // Out of order, repeated or never sent: count it, and follow the
            // stream so that one fault is not reported on every later delivery.
            badFrame("broadcast out of sequence", frame);
            client.expected = seq + 1;
            return;
        }
        ++client.expected;
        if (measuring_) {
            ++operations_;
            ++nodes_[nodeOf(client)].deliveries;
            latencies_.record(nowNanoseconds() - delivery->t);
        }
        // Every receiver gets the broadcasts in order, so they complete in order.
        if (--remaining_[seq % settings_.window] == 0 && seq == oldestBroadcast_) {
            ++oldestBroadcast_;
            if (measuring_)
                ++broadcasts_;
            sendBroadcasts();
            if (!running_ && oldestBroadcast_ == nextBroadcast_)
                finish();
        }
    }

    void openWindow()
    {
        operations_ = 0;
        broadcasts_ = 0;
        for (auto& node : nodes_)
            node.deliveries = 0;
        latencies_.clear();
        windowStart_ = Clock::now();
        readNodes(&NodeWindow::cpuStart, &NodeWindow::waitStart);
        serverCpuStart_ = serverCpu(&NodeWindow::cpuStart);
        backplaneCpuStart_ = backplaneProbe_.cpuTime();
        backplaneClockStart_ = backplaneProbe_.cpuClockSeconds();
        ownCpuStart_ = ownCpuTime();
        machineStart_ = machineCpu();
        serverWaitStart_ = serverWait(&NodeWindow::waitStart);
        ownWaitStart_ = self_.runQueueWaitSeconds();
        wireStart_ = wireBytes();
        measuring_ = true;
    }

    void closeWindow()
    {
        measuring_ = false;
        windowSeconds_ = std::chrono::duration<double>(Clock::now() - windowStart_).count();
        readNodes(&NodeWindow::cpuEnd, &NodeWindow::waitEnd);
        serverCpuEnd_ = serverCpu(&NodeWindow::cpuEnd);
        backplaneCpuEnd_ = backplaneProbe_.cpuTime();
        backplaneClockEnd_ = backplaneProbe_.cpuClockSeconds();
        ownCpuEnd_ = ownCpuTime();
        machineEnd_ = machineCpu();
        serverWaitEnd_ = serverWait(&NodeWindow::waitEnd);
        ownWaitEnd_ = self_.runQueueWaitSeconds();
        wireEnd_ = wireBytes();
    }

    // ---- the nodes of a cluster (--ports) --------------------------------------

    struct NodeWindow {
        std::uint64_t deliveries = 0;  // in the window, to this node's connections (echo: replies)
        std::optional<CpuTime> cpuStart, cpuEnd;
        std::optional<double> waitStart, waitEnd;
    };

    std::size_t nodeOf(const Client& client) const { return client.index % servers_.size(); }

    void readNodes(std::optional<CpuTime> NodeWindow::*cpu, std::optional<double> NodeWindow::*wait)
    {
        for (std::size_t node = 0; node < nodes_.size(); ++node) {
            nodes_[node].*cpu = nodeProbes_[node].cpuTime();
            nodes_[node].*wait = nodeProbes_[node].runQueueWaitSeconds();
        }
    }

    // The nodes' sum: one server's figure when there is one node, the
    // cluster's otherwise; nothing if any node could not be read.
    std::optional<CpuTime> serverCpu(std::optional<CpuTime> NodeWindow::*cpu) const
    {
        CpuTime sum;
        for (const auto& node : nodes_) {
            if (!(node.*cpu))
                return std::nullopt;
            sum.user += (node.*cpu)->user;
            sum.kernel += (node.*cpu)->kernel;
        }
        return sum;
    }

    std::optional<double> serverWait(std::optional<double> NodeWindow::*wait) const
    {
        double sum = 0;
        for (const auto& node : nodes_) {
            if (!(node.*wait))
                return std::nullopt;
            sum += *(node.*wait);
        }
        return sum;
    }

    // Per node: its connections, the deliveries to them in the window, and
    // its CPU per delivery; with --backplane-pid the broker's CPU per broadcast.
    void reportNodes(nlohmann::json& r) const
    {
        r["nodes"] = nlohmann::json::array();
        for (std::size_t index = 0; index < nodes_.size(); ++index) {
            const NodeWindow& node = nodes_[index];
            unsigned receivers = 0;
            for (const auto& client : clients_)
                receivers += client && client->open && nodeOf(*client) == index ? 1 : 0;
            nlohmann::json n = {
                {"port", settings_.ports[index]}, {"receivers", receivers}, {"deliveries", node.deliveries}};
            if (node.cpuStart && node.cpuEnd && windowSeconds_ > 0) {
                const CpuTime cpu = *node.cpuEnd - *node.cpuStart;
                n["server_cpu_seconds"] = cpu.total();
                n["server_cpu_utilisation"] = cpu.total() / windowSeconds_;
                if (node.deliveries > 0) {
                    const double perDelivery = 1e6 / static_cast<double>(node.deliveries);
                    n["server_cpu_us_per_delivery"] = cpu.total() * perDelivery;
                    n["server_kernel_us_per_delivery"] = cpu.kernel * perDelivery;
                }
            }
            if (node.waitStart && node.waitEnd && windowSeconds_ > 0)
                n["server_run_queue_wait"] = (*node.waitEnd - *node.waitStart) / windowSeconds_;
            r["nodes"].push_back(std::move(n));
        }
        // The broker uses a few per cent of a core: a window holds a few
        // dozen of /proc/PID/stat's 10 ms ticks of it, so its figure comes
        // from the process CPU clock (to the nanosecond) when the kernel lets
        // us read it, and the ticks are kept beside it.
        std::optional<double> backplane;
        if (backplaneCpuStart_ && backplaneCpuEnd_) {
            const CpuTime cpu = *backplaneCpuEnd_ - *backplaneCpuStart_;
            r["backplane_stat_cpu_seconds"] = cpu.total();
            r["backplane_stat_kernel_seconds"] = cpu.kernel;
            backplane = cpu.total();
        }
        if (backplaneClockStart_ && backplaneClockEnd_)
            backplane = *backplaneClockEnd_ - *backplaneClockStart_;
        if (backplane && windowSeconds_ > 0) {
            r["backplane_cpu_seconds"] = *backplane;
            r["backplane_cpu_utilisation"] = *backplane / windowSeconds_;
            if (broadcasts_ > 0)
                r["backplane_cpu_us_per_broadcast"] = *backplane * 1e6 / static_cast<double>(broadcasts_);
        }
    }

    // Waits a bounded time for the answers still in flight, to check that
    // nothing was lost; then ends.
    void drainOrFinish()
    {
        const bool drained = settings_.mode == Mode::echo ? inFlight_ == 0 : oldestBroadcast_ == nextBroadcast_;
        if (drained)
            return finish();
        after(drainSeconds, [this] { finish(); });
    }

    void finish()
    {
        if (stopped_)
            return;
        stopped_ = true;
        // The last of --messages answered before the window's end.
        if (measuring_)
            closeWindow();
        if (settings_.mode == Mode::echo || settings_.mode == Mode::idle || settings_.mode == Mode::large)
            lost_ = inFlight_;
        if (settings_.mode == Mode::broadcast)
            for (std::uint64_t seq = oldestBroadcast_; seq < nextBroadcast_; ++seq)
                lost_ += remaining_[seq % settings_.window];
        context_.stop();
    }

    // ---- idle ---------------------------------------------------------------

    // One probe connection and one echo first, so that what the server does
    // once (its first accept, first upgrade, first message, the code pages
    // they touch) is in the "before" reading and not counted per connection.
    void startIdle()
    {
        openClients(0, 1, [this] {
            if (openCount_ == 0)
                return context_.stop();
            idlePhase_ = IdlePhase::probe;
            // What the first message costs the server (its first buffers,
            // permessage-deflate's zlib state on its thread) is this reading
            // against the one after it.
            anonOpened_ = probe_.statusKiB("RssAnon");
            inFlight_ = 1;
            send(*clients_.front(), "echo", 1);
        });
    }

    enum class IdlePhase { probe, warm, verify };

    void onIdleEcho()
    {
        if (--inFlight_ != 0)
            return;
        if (idlePhase_ == IdlePhase::probe) {
            rssBefore_ = probe_.statusKiB("VmRSS");
            anonBefore_ = probe_.statusKiB("RssAnon");
            filesBefore_ = probe_.openFiles();
            openCount_ = 0;
            openClients(1, settings_.connections, [this] {
                if (settings_.idleEchoes == 0)
                    return after(settings_.settle, [this] { measureIdle(); });
                idlePhase_ = IdlePhase::warm;
                warmClient_ = 1;
                warmNext();
            });
            return;
        }
        if (idlePhase_ == IdlePhase::warm)
            return warmNext();
        alive_ = openCount_;
        finish();
    }

    // --idle-echoes: the next echo of the connection being warmed, or of the
    // next one; the memory reading once every connection has had its echoes.
    void warmNext()
    {
        while (warmClient_ < clients_.size()) {
            Client& client = *clients_[warmClient_];
            // client.expected is 1 + the echoes it has had.
            if (client.open && client.expected <= settings_.idleEchoes) {
                ++inFlight_;
                return send(client, "echo", client.expected);
            }
            ++warmClient_;
        }
        after(settings_.settle, [this] { measureIdle(); });
    }

    void measureIdle()
    {
        rssAfter_ = probe_.statusKiB("VmRSS");
        anonAfter_ = probe_.statusKiB("RssAnon");
        filesAfter_ = probe_.openFiles();
        // Then every connection must still work: an echo on each, all at once.
        idlePhase_ = IdlePhase::verify;
        for (auto& client : clients_)
            if (client->index != 0 && client->open) {
                ++inFlight_;
                send(*client, "echo", client->expected);
            }
        if (inFlight_ == 0)
            return finish();
        after(verifySeconds, [this] {
            alive_ = openCount_ - inFlight_;
            finish();
        });
    }

    // ---- connect ------------------------------------------------------------

    void startConnect()
    {
        running_ = true;
        for (unsigned i = 0; i < settings_.connections; ++i) {
            clients_.push_back(nullptr);
            if (startAnother())
                cycle(i);
        }
        after(settings_.warmup, [this] {
            openWindow();
            after(settings_.duration, [this] {
                closeWindow();
                running_ = false;
                if (cycling_ == 0)
                    return finish();
                after(drainSeconds, [this] { finish(); });
            });
        });
    }

    // One connection's life: open, close, and again in the same slot (a
    // different source address each time) until the window is over.
    void cycle(unsigned slot)
    {
        ++cycling_;
        clients_[slot] = makeClient(++connectionsBegun_);
        Client& client = *clients_[slot];
        connect(client, [this, &client, slot](bool ok) {
            if (!ok)
                return restart(slot);
            if (measuring_)
                latencies_.record(static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - client.started).count()));
            client.ws.async_close(websocket::close_code::normal, [this, slot](beast::error_code ec) {
                if (ec)
                    fail("close", ec);
                else if (measuring_)
                    ++operations_;
                restart(slot);
            });
        });
    }

    // Posted: the old client is destroyed here, after its last handler has returned.
    void restart(unsigned slot)
    {
        net::post(context_, [this, slot] {
            --cycling_;
            clients_[slot].reset();
            if (startAnother())
                cycle(slot);
            else if (!running_ && cycling_ == 0 && !stopped_)
                finish();
        });
    }

    // ---- large ----------------------------------------------------------------

    void startLarge()
    {
        if (openCount_ == 0)
            return context_.stop();
        for (const unsigned size : settings_.sizes.empty() ? std::vector<unsigned>{settings_.payload} : settings_.sizes)
            large_.push_back({makeLargeMessage(size), size, {}, {}, 0});
        // Opened for one write too, for the count of segments the server received.
        auto& socket = beast::get_lowest_layer(clients_.front()->ws).socket();
        beast::error_code ec1, ec2;
        const auto server = socket.remote_endpoint(ec1);
        const auto client = socket.local_endpoint(ec2);
        probing_ = !ec1 && !ec2 && serverSocket_.open(server, client);
        paced_ = settings_.chunk != 0 && probing_;
        if (settings_.chunk != 0 && !probing_)
            std::cerr << "loadgen: the kernel does not say what the server has read (sock_diag); chunks are "
                         "paced by a fixed gap of "
                      << fallbackGap.count() << " us instead\n";
        running_ = true;
        loadStarted_ = Clock::now();
        if (startAnother())
            sendLarge(*clients_.front());
    }

    void sendLarge(Client& client)
    {
        if (client.writing) {
            client.sendWhenWritten = true;
            return;
        }
        ++inFlight_;
        current_ = sentLarge_++ % large_.size();
        awaitServerIdle();
        messageCpu_ = probe_.cpuClockSeconds();
        messageSegments_ = probing_ ? serverSocket_.dataSegmentsIn() : std::nullopt;
        client.started = Clock::now();
        if (settings_.chunk != 0)
            return writeChunked(client);
        client.writing = true;
        net::async_write(beast::get_lowest_layer(client.ws).socket(), net::buffer(large_[current_].message.frame),
            [this, &client](beast::error_code ec, std::size_t) {
                client.writing = false;
                if (ec)
                    return fail("write", ec);
                // The answer came before this completion was run.
                if (client.sendWhenWritten) {
                    client.sendWhenWritten = false;
                    sendLarge(client);
                }
            });
    }

    // The frame, `chunk` bytes per send(), each chunk once the server has
    // read the one before out of its socket. Without that wait the loopback
    // would hand the server chunks faster than it reads them, and one read
    // would take several; and a chunk written while the one before still
    // waited to leave would join its segment. So every chunk is a segment
    // of its own and a read of its own, as from a client behind a link
    // slower than the server, which is when a server reads a large message
    // in the most pieces. This runs to the end of the frame before it
    // returns: with one connection there is nothing else to do meanwhile.
    void writeChunked(Client& client)
    {
        const int fd = beast::get_lowest_layer(client.ws).socket().native_handle();
        const std::string& frame = large_[current_].message.frame;
        for (std::size_t at = 0; at < frame.size();) {
            if (at != 0 && !awaitServerRead())
                return giveUp("chunked write: the server did not read a chunk within 2 s");
            const std::size_t size = std::min<std::size_t>(settings_.chunk, frame.size() - at);
            const ssize_t sent = ::send(fd, frame.data() + at, size, MSG_NOSIGNAL);
            if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd writable{fd, POLLOUT, 0};
                if (::poll(&writable, 1, 1000) <= 0)
                    return giveUp("chunked write: the socket stayed full for 1 s");
                continue;
            }
            if (sent < 0)
                return giveUp(std::string("chunked write: ") + std::strerror(errno));
            at += static_cast<std::size_t>(sent);
        }
    }

    // A message that cannot be sent whole ends the run: its answer would never come.
    void giveUp(std::string why)
    {
        ++errors_;
        if (firstError_.empty())
            firstError_ = std::move(why);
        finish();
    }

    // Waits until the server's socket holds no unread byte: a few queries at
    // once (the server usually reads within microseconds), then with short
    // sleeps, so that a slow server does not cost the generator a spinning core.
    bool awaitServerRead()
    {
        if (!paced_) {
            std::this_thread::sleep_for(fallbackGap);
            return true;
        }
        const auto deadline = Clock::now() + std::chrono::seconds(2);
        for (int query = 0;; ++query) {
            const auto unread = serverSocket_.unread();
            if (unread && *unread == 0)
                return true;
            if (!unread || Clock::now() > deadline)
                return false;
            if (query >= 16)
                std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    }

    // A server may still be at work on a message after it has answered it
    // (freeing it, say: a millisecond after a message of 1 MiB): its CPU
    // time is read only once it waits again, so that all of a message's cost
    // is counted as that message's, and none of it as the next one's.
    void awaitServerIdle()
    {
        if (!probe_.enabled())
            return;
        const auto deadline = Clock::now() + std::chrono::seconds(1);
        for (int query = 0; Clock::now() < deadline; ++query) {
            const auto idle = probe_.idle();
            if (!idle || *idle)
                return;
            if (query >= 16)
                std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
        ++busyServer_;
    }

    // The answer, {"path":"size",...,"data":<length of the data>}. The window
    // opens and closes here, at the end of a turn of every size, so that it
    // holds as many messages of each.
    void onSize(Client& client, std::string_view frame)
    {
        LargeSize& size = large_[current_];
        const auto length = numberAfter(frame, R"("data":)");
        if (frame.find(R"("path":"size")") == std::string_view::npos || !length || *length != size.message.dataLength)
            return badFrame("not the size of the large message", frame);
        --inFlight_;
        const auto now = Clock::now();
        awaitServerIdle();
        const auto cpu = probe_.cpuClockSeconds();
        const auto segments = probing_ ? serverSocket_.dataSegmentsIn() : std::nullopt;
        if (measuring_) {
            ++operations_;
            const auto took = now - client.started;
            latencies_.record(
                static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
            size.latencies.push_back(std::chrono::duration<double>(took).count());
            if (cpu && messageCpu_)
                size.cpu.push_back(*cpu - *messageCpu_);
            if (segments && messageSegments_)
                size.segments += *segments - *messageSegments_;
        }
        if (current_ + 1 == large_.size()) {
            if (measuring_ && now - windowStart_ >= std::chrono::duration<double>(settings_.duration)) {
                closeWindow();
                running_ = false;
            } else if (!measuring_ && running_ &&
                now - loadStarted_ >= std::chrono::duration<double>(settings_.warmup)) {
                openWindow();
            }
        }
        if (startAnother())
            sendLarge(client);
        else if (!running_ && inFlight_ == 0)
            finish();
    }

    // ---- the report -----------------------------------------------------------

    nlohmann::json finishReport()
    {
        auto& r = report_;
        r["mode"] = modeName(settings_.mode);
        r["connections"] = settings_.connections;
        r["payload"] = settings_.payload;
        r["errors"] = errors_;
        r["lost"] = lost_;
        if (!firstError_.empty())
            r["first_error"] = firstError_;
        r["open"] = openCount_;
        r["open_seconds"] = openSeconds_;
        r["content"] = settings_.content == Content::json ? "json" : "pad";
        r["deflate"] = settings_.deflate == Deflate::on ? "on" : settings_.deflate == Deflate::bare ? "bare" : "off";
        if (sentMessages_ > 0)
            r["message_bytes"] = static_cast<double>(sentMessageBytes_) / static_cast<double>(sentMessages_);
        if (settings_.mode == Mode::idle) {
            r["idle_echoes"] = settings_.idleEchoes;
            r["alive"] = alive_;
            const auto put = [&](const char* name, const std::optional<long>& value) {
                if (value)
                    r[name] = *value;
            };
            put("rss_before_kib", rssBefore_);
            put("rss_after_kib", rssAfter_);
            put("anon_opened_kib", anonOpened_);
            put("anon_before_kib", anonBefore_);
            put("anon_after_kib", anonAfter_);
            put("server_files_before", filesBefore_);
            put("server_files_after", filesAfter_);
            const double opened = std::max(1u, openCount_);
            if (anonBefore_ && anonAfter_)
                r["anon_bytes_per_connection"] = static_cast<double>(*anonAfter_ - *anonBefore_) * 1024 / opened;
            if (rssBefore_ && rssAfter_)
                r["rss_bytes_per_connection"] = static_cast<double>(*rssAfter_ - *rssBefore_) * 1024 / opened;
            return r;
        }
        r["window_seconds"] = windowSeconds_;
        r["operations"] = operations_;
        r["operations_per_second"] = windowSeconds_ > 0 ? static_cast<double>(operations_) / windowSeconds_ : 0.0;
        r["latency_p50_us"] = static_cast<double>(latencies_.quantile(0.50)) / 1000;
        r["latency_p99_us"] = static_cast<double>(latencies_.quantile(0.99)) / 1000;
        if (settings_.mode == Mode::broadcast) {
            r["receivers"] = receivers_;
            r["broadcasts"] = broadcasts_;
        }
        if (settings_.ports.size() > 1 || settings_.backplanePid != 0)
            reportNodes(r);
        if ((settings_.mode == Mode::echo || settings_.mode == Mode::broadcast) && wireEnd_.first >= wireStart_.first &&
            wireEnd_.second > wireStart_.second) {
            // To the server: the echoes, or the broadcasts (the first
            // connection's); from it: the replies, or the deliveries.
            const std::uint64_t toServer = wireEnd_.first - wireStart_.first;
            const std::uint64_t fromServer = wireEnd_.second - wireStart_.second;
            r["wire_bytes_to_server"] = toServer;
            r["wire_bytes_from_server"] = fromServer;
            const std::uint64_t sent = settings_.mode == Mode::broadcast ? broadcasts_ : operations_;
            if (sent > 0)
                r["wire_bytes_to_server_per_message"] = static_cast<double>(toServer) / static_cast<double>(sent);
            if (operations_ > 0)
                r["wire_bytes_from_server_per_operation"] =
                    static_cast<double>(fromServer) / static_cast<double>(operations_);
        }
        if (windowSeconds_ <= 0)
            return r;
        const double perOperation = operations_ > 0 ? 1e6 / static_cast<double>(operations_) : 0.0;
        const CpuTime own = ownCpuEnd_ - ownCpuStart_;
        r["loadgen_cpu_utilisation"] = own.total() / windowSeconds_;
        if (operations_ > 0) {
            r["loadgen_cpu_us_per_operation"] = own.total() * perOperation;
            r["loadgen_kernel_us_per_operation"] = own.kernel * perOperation;
        }
        if (machineStart_ && machineEnd_) {
            // In cores: 1.0 is one core busy for the whole window.
            r["machine_process_cores"] = (machineEnd_->processes - machineStart_->processes) / windowSeconds_;
            r["machine_softirq_cores"] = (machineEnd_->softirq - machineStart_->softirq) / windowSeconds_;
            r["machine_steal_cores"] = (machineEnd_->steal - machineStart_->steal) / windowSeconds_;
        }
        // Shares of the window spent ready to run but without a CPU.
        if (serverWaitStart_ && serverWaitEnd_)
            r["server_run_queue_wait"] = (*serverWaitEnd_ - *serverWaitStart_) / windowSeconds_;
        if (ownWaitStart_ && ownWaitEnd_)
            r["loadgen_run_queue_wait"] = (*ownWaitEnd_ - *ownWaitStart_) / windowSeconds_;
        if (serverCpuStart_ && serverCpuEnd_) {
            const CpuTime server = *serverCpuEnd_ - *serverCpuStart_;
            r["server_cpu_seconds"] = server.total();
            r["server_cpu_utilisation"] = server.total() / windowSeconds_;
            if (operations_ > 0) {
                r["server_cpu_us_per_operation"] = server.total() * perOperation;
                r["server_kernel_us_per_operation"] = server.kernel * perOperation;
            }
        }
        if (settings_.mode == Mode::large)
            reportLarge(r);
        return r;
    }

    static double median(std::vector<double> values)
    {
        if (values.empty())
            return 0;
        const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
        std::nth_element(values.begin(), middle, values.end());
        if (values.size() % 2 == 1)
            return *middle;
        return (*middle + *std::max_element(values.begin(), middle)) / 2;
    }

    // Per size: the server's CPU of its messages (the median, which one
    // disturbed message does not move, and the mean), per message and per
    // MiB received.
    void reportLarge(nlohmann::json& r)
    {
        r["chunk"] = settings_.chunk;
        r["pacing"] = settings_.chunk == 0 ? "none" : paced_ ? "server read" : "fixed gap";
        r["server_busy_after_answer"] = busyServer_;
        r["sizes"] = nlohmann::json::array();
        for (const LargeSize& size : large_) {
            nlohmann::json s = {{"bytes", size.bytes}, {"frame_bytes", size.message.frame.size()},
                {"messages", size.cpu.size()},
                {"chunks_per_message",
                    settings_.chunk == 0 ? 1 : (size.message.frame.size() + settings_.chunk - 1) / settings_.chunk}};
            if (!size.cpu.empty()) {
                const double messages = static_cast<double>(size.cpu.size());
                const double mebibytes = static_cast<double>(size.bytes) / (1024.0 * 1024.0);
                const double middle = median(size.cpu);
                double sum = 0;
                for (const double cpu : size.cpu)
                    sum += cpu;
                s["server_cpu_us_median"] = middle * 1e6;
                s["server_cpu_us_mean"] = sum / messages * 1e6;
                s["server_cpu_ms_per_mib"] = middle * 1e3 / mebibytes;
                s["latency_p50_us"] = median(size.latencies) * 1e6;
                if (probing_)
                    s["server_segments_per_message"] = static_cast<double>(size.segments) / messages;
            }
            r["sizes"].push_back(std::move(s));
        }
    }

    const Settings settings_;
    net::io_context context_;
    std::vector<tcp::endpoint> servers_;  // one per node
    std::vector<std::string> hostHeaders_;
    const ProcessProbe probe_;  // the first node's
    std::vector<ProcessProbe> nodeProbes_;
    const ProcessProbe backplaneProbe_;
    std::vector<NodeWindow> nodes_;
    const ProcessProbe self_;
    net::steady_timer phaseTimer_;
    net::steady_timer watchdog_;
    const Clock::time_point epoch_;
    // After the io_context: the streams go before the services they use.
    // Before the clients, whose TLS streams use it; unused for ws://.
    net::ssl::context tls_;
    std::vector<std::unique_ptr<Client>> clients_;

    // Opening.
    unsigned nextToOpen_ = 0;
    unsigned openEnd_ = 0;
    unsigned pendingOpens_ = 0;
    unsigned openCount_ = 0;
    std::function<void()> openingDone_;
    Clock::time_point openStarted_;
    double openSeconds_ = 0;

    // The load.
    bool running_ = false;  // new messages or connections may start
    bool measuring_ = false;  // inside the measuring window
    bool stopped_ = false;
    std::uint64_t inFlight_ = 0;
    std::uint64_t started_ = 0;
    std::uint64_t operations_ = 0;
    std::uint64_t errors_ = 0;
    std::uint64_t lost_ = 0;
    std::string firstError_;
    LatencyHistogram latencies_;

    // Broadcast.
    unsigned receivers_ = 0;
    std::uint64_t nextBroadcast_ = 1;
    std::uint64_t oldestBroadcast_ = 1;  // the oldest broadcast some receiver still lacks
    std::uint64_t broadcasts_ = 0;
    std::vector<unsigned> remaining_;  // receivers still lacking broadcast s, at s % window

    // Idle.
    IdlePhase idlePhase_ = IdlePhase::probe;
    unsigned alive_ = 0;
    std::size_t warmClient_ = 0;  // --idle-echoes: the connection whose echoes are being sent
    std::optional<long> rssBefore_, rssAfter_, anonOpened_, anonBefore_, anonAfter_, filesBefore_, filesAfter_;

    // What is sent: --content json's arrays, and the size of every message.
    std::vector<std::string> jsonItems_;
    std::uint64_t sentMessageBytes_ = 0;
    std::uint64_t sentMessages_ = 0;

    // Large.
    struct LargeSize {
        LargeMessage message;
        unsigned bytes = 0;
        std::vector<double> cpu;  // the server's CPU seconds for each message in the window
        std::vector<double> latencies;  // seconds from the first byte sent to the answer
        std::uint64_t segments = 0;  // data segments the server received for them
    };
    static constexpr std::chrono::microseconds fallbackGap{100};
    std::vector<LargeSize> large_;
    std::size_t current_ = 0;  // the size of the message in flight
    std::uint64_t sentLarge_ = 0;
    std::optional<double> messageCpu_;
    std::optional<std::uint32_t> messageSegments_;
    ServerSocketProbe serverSocket_;
    bool probing_ = false;
    bool paced_ = false;
    std::uint64_t busyServer_ = 0;  // answers after which the server did not go idle within a second
    Clock::time_point loadStarted_;

    // Connect.
    unsigned cycling_ = 0;
    unsigned connectionsBegun_ = 0;

    // The window.
    Clock::time_point windowStart_;
    double windowSeconds_ = 0;
    std::optional<CpuTime> serverCpuStart_, serverCpuEnd_, backplaneCpuStart_, backplaneCpuEnd_;
    std::optional<double> backplaneClockStart_, backplaneClockEnd_;
    CpuTime ownCpuStart_, ownCpuEnd_;
    std::optional<MachineCpu> machineStart_, machineEnd_;
    std::optional<double> serverWaitStart_, serverWaitEnd_, ownWaitStart_, ownWaitEnd_;
    std::pair<std::uint64_t, std::uint64_t> wireStart_, wireEnd_;  // (sent, received)

    nlohmann::json report_ = nlohmann::json::object();
};

}  // namespace

int main(int argc, char** argv)
{
    const auto settings = parseArguments(argc, argv);
    if (!settings) {
        printUsage(std::cerr);
        return 2;
    }
    try {
        const auto report =
            settings->tls ? LoadGenerator<TlsLayer>(*settings).run() : LoadGenerator<PlainLayer>(*settings).run();
        std::cout << report.dump() << std::endl;
        return report.value("errors", 0) == 0 && report.value("lost", 0) == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "loadgen: " << e.what() << '\n';
        return 1;
    }
}
