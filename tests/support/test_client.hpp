#ifndef FINCH_TESTS_SUPPORT_TEST_CLIENT_HPP
#define FINCH_TESTS_SUPPORT_TEST_CLIENT_HPP

// Test support: a WebSocket client over real loopback sockets whose every wait
// has a deadline (a failing test fails, it never hangs), an HTTP helper, the
// threads that run a server's io_context, and a thread-safe event log to wait
// on what a server's callbacks saw. Nothing here sleeps.

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace finch::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// How long any single wait may take before the test fails. Generous: it is a
// guard against hangs under sanitizers, not a performance claim.
inline constexpr std::chrono::seconds waitLimit{20};

// Starts one operation of a client that runs its own io_context on the
// test's thread, and runs `context` until the operation completes or
// waitLimit passes; then `cancel()` ends it and we throw. `start(done,
// result)` sets `done` when it completes, and `result` to its error. Returns
// the error, and throws it too when `throwOnError`. `who` names the client in
// what is thrown.
template <class Start, class Cancel>
boost::system::error_code runOperation(
    net::io_context& context, Start start, Cancel cancel, const char* who, bool throwOnError = true)
{
    bool done = false;
    boost::system::error_code result;
    start(done, result);
    context.restart();
    const auto deadline = std::chrono::steady_clock::now() + waitLimit;
    while (!done && std::chrono::steady_clock::now() < deadline)
        context.run_one_until(deadline);
    if (!done) {
        cancel();
        context.restart();
        context.run();
        throw std::runtime_error(std::string(who) + ": no answer within the wait limit");
    }
    if (throwOnError && result)
        throw std::runtime_error(std::string(who) + ": " + result.message());
    return result;
}

inline tcp::endpoint loopback(unsigned short port = 0)
{
    return {net::ip::make_address("127.0.0.1"), port};
}

// Runs an io_context on `count` threads until destroyed.
class ServerThreads {
public:
    explicit ServerThreads(int count = 1)
        : work_(net::make_work_guard(context))
    {
        for (int i = 0; i < count; ++i)
            threads_.emplace_back([this] {
                context.run();
                {
                    std::lock_guard lock(mutex_);
                    ++returned_;
                }
                changed_.notify_all();
            });
    }
    ~ServerThreads() { join(); }

    ServerThreads(const ServerThreads&) = delete;
    ServerThreads& operator=(const ServerThreads&) = delete;

    // Lets the threads return once the io_context is out of work, and waits for them.
    void drain()
    {
        work_.reset();
        for (auto& thread : threads_)
            if (thread.joinable())
                thread.join();
    }

    // Lets the threads return once the io_context is out of work; whether they
    // all did within `limit`. If not, they keep running until join().
    bool drainFor(std::chrono::seconds limit = waitLimit)
    {
        work_.reset();
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return returned_ == threads_.size(); });
    }

    void join()
    {
        work_.reset();
        context.stop();
        for (auto& thread : threads_)
            if (thread.joinable())
                thread.join();
    }

    net::io_context context;

private:
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t returned_ = 0;  // guarded by mutex_
};

// A thread-safe record of what happened, that a test can wait on.
template <class T>
class EventLog {
public:
    // Notifies under the lock: a waiter that sees the event may destroy the
    // log at once (a log declared after the server), and must not do so
    // while this thread is still inside notify_all.
    void push(T value)
    {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(value));
        changed_.notify_all();
    }

    // Waits until `predicate(events)` holds; false if it did not within the limit.
    template <class Predicate>
    bool waitFor(Predicate predicate, std::chrono::seconds limit = waitLimit) const
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return predicate(events_); });
    }

    bool waitForCount(std::size_t count, std::chrono::seconds limit = waitLimit) const
    {
        return waitFor([count](const std::vector<T>& events) { return events.size() >= count; }, limit);
    }

    std::vector<T> snapshot() const
    {
        std::lock_guard lock(mutex_);
        return events_;
    }

    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return events_.size();
    }

    void clear()
    {
        std::lock_guard lock(mutex_);
        events_.clear();
    }

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<T> events_;
};

// A WebSocket client on its own io_context, driven from the test's thread.
class TestClient {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;

    // `deflate`: Beast's permessage-deflate settings, to offer it (client_enable).
    explicit TestClient(unsigned short port, std::string target = "/ws", Headers headers = {},
        std::optional<websocket::permessage_deflate> deflate = std::nullopt)
        : ws_(context_)
    {
        if (deflate)
            ws_.set_option(*deflate);
        runUntil([&](bool& done, boost::system::error_code& result) {
            beast::get_lowest_layer(ws_).async_connect(loopback(port), [&](boost::system::error_code ec) {
                result = ec;
                done = true;
            });
        });
        ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
            for (const auto& header : headers)
                request.set(header.first, header.second);
        }));
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_handshake(
                response_, "127.0.0.1:" + std::to_string(port), target, [&](boost::system::error_code ec) {
                    result = ec;
                    done = true;
                });
        });
    }

    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    const websocket::response_type& handshakeResponse() const { return response_; }

    void sendText(const std::string& text) { write(text, true); }
    void sendBinary(const std::string& bytes) { write(bytes, false); }
    void send(const nlohmann::json& message) { sendText(message.dump()); }

    // The next text frame. Throws if none arrives in time or the connection ends.
    std::string receiveText()
    {
        beast::flat_buffer buffer;
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_read(buffer, [&](boost::system::error_code ec, std::size_t) {
                result = ec;
                done = true;
            });
        });
        return beast::buffers_to_string(buffer.data());
    }

    nlohmann::json receive() { return nlohmann::json::parse(receiveText()); }

    // The next text frame, or nothing once the server has closed the
    // connection cleanly (then closeReason() tells why). Throws on any other
    // end, or if nothing happens in time.
    std::optional<std::string> receiveOrClose()
    {
        beast::flat_buffer buffer;
        boost::system::error_code readError;
        runUntil(
            [&](bool& done, boost::system::error_code&) {
                ws_.async_read(buffer, [&](boost::system::error_code ec, std::size_t) {
                    readError = ec;
                    done = true;
                });
            },
            false);
        if (readError == websocket::error::closed)
            return std::nullopt;
        if (readError)
            throw std::runtime_error("expected a message or a close, got " + readError.message());
        return beast::buffers_to_string(buffer.data());
    }

    // Reads until the connection ends in any way; the error that ended it
    // (websocket::error::closed for a closing handshake).
    boost::system::error_code readUntilEnd()
    {
        beast::flat_buffer buffer;
        boost::system::error_code readError;
        while (!readError) {
            buffer.clear();
            runUntil(
                [&](bool& done, boost::system::error_code&) {
                    ws_.async_read(buffer, [&](boost::system::error_code ec, std::size_t) {
                        readError = ec;
                        done = true;
                    });
                },
                false);
        }
        return readError;
    }

    websocket::close_reason closeReason() const { return ws_.reason(); }

    // Shrinks the kernel's receive buffer, so that a client that stops
    // reading stops the server's writes after a few kilobytes.
    void setReceiveBuffer(int bytes)
    {
        beast::get_lowest_layer(ws_).socket().set_option(net::socket_base::receive_buffer_size(bytes));
    }

    // Reads until the server closes; returns the reason it gave. Throws if a
    // message arrives instead, or nothing happens in time.
    websocket::close_reason expectClose()
    {
        beast::flat_buffer buffer;
        boost::system::error_code readError;
        runUntil(
            [&](bool& done, boost::system::error_code&) {
                ws_.async_read(buffer, [&](boost::system::error_code ec, std::size_t) {
                    readError = ec;
                    done = true;
                });
            },
            false);
        if (readError != websocket::error::closed)
            throw std::runtime_error("expected a close, got " +
                (readError ? readError.message() : "a message: " + beast::buffers_to_string(buffer.data())));
        return ws_.reason();
    }

    // A clean closing handshake started by the client.
    void close(websocket::close_code code = websocket::close_code::normal)
    {
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_close(code, [&](boost::system::error_code ec) {
                result = ec;
                done = true;
            });
        });
    }

    // Drops the TCP connection without a closing handshake.
    void abort()
    {
        boost::system::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    // Drops the TCP connection with a reset (RST), as a crashed peer would.
    void reset()
    {
        boost::system::error_code ignored;
        auto& socket = beast::get_lowest_layer(ws_).socket();
        socket.set_option(net::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
    }

    // Writes bytes to the TCP connection as they are, bypassing the WebSocket
    // framing (see maskedFrame).
    void sendRaw(const std::string& bytes)
    {
        runUntil([&](bool& done, boost::system::error_code& result) {
            net::async_write(
                beast::get_lowest_layer(ws_), net::buffer(bytes), [&](boost::system::error_code ec, std::size_t) {
                    result = ec;
                    done = true;
                });
        });
    }

    unsigned short localPort() const { return beast::get_lowest_layer(ws_).socket().local_endpoint().port(); }

    bool noDelay() const
    {
        tcp::no_delay option;
        beast::get_lowest_layer(ws_).socket().get_option(option);
        return option.value();
    }

    websocket::stream<beast::tcp_stream>& stream() { return ws_; }

private:
    void write(const std::string& payload, bool text)
    {
        ws_.text(text);
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_write(net::buffer(payload), [&](boost::system::error_code ec, std::size_t) {
                result = ec;
                done = true;
            });
        });
    }

    template <class Start>
    void runUntil(Start start, bool throwOnError = true)
    {
        runOperation(
            context_, start,
            [this] {
                boost::system::error_code ignored;
                beast::get_lowest_layer(ws_).socket().cancel(ignored);
            },
            "test client", throwOnError);
    }

    net::io_context context_;
    websocket::stream<beast::tcp_stream> ws_;
    websocket::response_type response_;
};

// One HTTP/1.1 request over a fresh connection; the server's answer.
inline http::response<http::string_body> httpRequest(unsigned short port, http::request<http::string_body> request)
{
    net::io_context context;
    beast::tcp_stream stream(context);
    stream.expires_after(waitLimit);
    std::optional<http::response<http::string_body>> answer;
    boost::system::error_code failure;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (request.find(http::field::host) == request.end())
        request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    request.prepare_payload();
    stream.async_connect(loopback(port), [&](boost::system::error_code ec) {
        if (ec) {
            failure = ec;
            return;
        }
        http::async_write(stream, request, [&](boost::system::error_code writeError, std::size_t) {
            if (writeError) {
                failure = writeError;
                return;
            }
            http::async_read(stream, buffer, response, [&](boost::system::error_code readError, std::size_t) {
                if (readError)
                    failure = readError;
                else
                    answer = std::move(response);
            });
        });
    });
    context.run();
    if (!answer)
        throw std::runtime_error("http request failed: " + failure.message());
    return *answer;
}

// The member names of a JSON object, to compare an envelope's shape.
inline std::set<std::string> keysOf(const nlohmann::json& object)
{
    std::set<std::string> keys;
    for (const auto& item : object.items())
        keys.insert(item.key());
    return keys;
}

inline http::response<http::string_body> httpGet(
    unsigned short port, const std::string& target, const TestClient::Headers& headers = {})
{
    http::request<http::string_body> request{http::verb::get, target, 11};
    for (const auto& header : headers)
        request.set(header.first, header.second);
    return httpRequest(port, std::move(request));
}

// The headers of a valid WebSocket upgrade request, plus `extra`.
inline TestClient::Headers upgradeHeaders(TestClient::Headers extra = {})
{
    TestClient::Headers headers{{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return headers;
}

// A WebSocket upgrade request for `target`, as bytes, for rawExchange().
inline std::string upgradeRequestText(unsigned short port, const std::string& target = "/ws")
{
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
}

// Sends a WebSocket upgrade request and returns the server's HTTP answer
// (101 when it upgraded; the connection is then dropped).
inline http::response<http::string_body> upgradeRequest(
    unsigned short port, const std::string& target = "/ws", TestClient::Headers extra = {})
{
    return httpGet(port, target, upgradeHeaders(std::move(extra)));
}

// Connects, writes `bytes` and reads until the server closes the connection
// or the wait limit passes. What the server sent, and how the read ended.
struct RawExchange {
    std::string received;
    boost::system::error_code end;
};

inline RawExchange rawExchange(unsigned short port, const std::string& bytes)
{
    net::io_context context;
    beast::tcp_stream stream(context);
    stream.expires_after(waitLimit);
    RawExchange result;
    std::array<char, 4096> chunk{};
    std::function<void()> readMore = [&] {
        stream.async_read_some(net::buffer(chunk), [&](boost::system::error_code ec, std::size_t size) {
            result.received.append(chunk.data(), size);
            if (ec) {
                result.end = ec;
                return;
            }
            readMore();
        });
    };
    stream.async_connect(loopback(port), [&](boost::system::error_code ec) {
        if (ec) {
            result.end = ec;
            return;
        }
        net::async_write(stream, net::buffer(bytes), [&](boost::system::error_code, std::size_t) {});
        readMore();
    });
    context.run();
    return result;
}

// A client-to-server frame (masked, FIN set) with a payload under 126 bytes
// and the opcode `opcode` (0x9 for a ping, say).
inline std::string maskedFrameWithOpcode(unsigned char opcode, const std::string& payload)
{
    if (payload.size() >= 126)
        throw std::invalid_argument("maskedFrame: payload too long");
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    std::string frame;
    frame += static_cast<char>(0x80 | opcode);
    frame += static_cast<char>(0x80 | payload.size());
    for (unsigned char byte : mask)
        frame += static_cast<char>(byte);
    for (std::size_t i = 0; i < payload.size(); ++i)
        frame += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);
    return frame;
}

// A client-to-server text (or binary) frame with a payload under 126 bytes.
inline std::string maskedFrame(const std::string& payload, bool text = true)
{
    return maskedFrameWithOpcode(text ? 0x1 : 0x2, payload);
}

// The descriptor, in this process, of the IPv4 TCP socket whose local port is
// `localPort` and whose peer's port is `peerPort`; -1 if there is none. Lets a
// test inspect the server side of a loopback connection that the library owns.
inline int findTcpSocket(unsigned short localPort, unsigned short peerPort)
{
    const long limit = std::min(::sysconf(_SC_OPEN_MAX), 65536L);
    for (int fd = 0; fd < limit; ++fd) {
        sockaddr_in local{};
        socklen_t size = sizeof local;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0 || local.sin_family != AF_INET)
            continue;
        sockaddr_in peer{};
        size = sizeof peer;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0)
            continue;
        if (ntohs(local.sin_port) == localPort && ntohs(peer.sin_port) == peerPort)
            return fd;
    }
    return -1;
}

// Whether TCP_NODELAY is set on socket `fd`.
inline bool noDelayOf(int fd)
{
    int value = 0;
    socklen_t size = sizeof value;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size) != 0)
        throw std::runtime_error("getsockopt(TCP_NODELAY) failed");
    return value != 0;
}

}  // namespace finch::test

#endif
