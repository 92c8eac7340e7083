#ifndef FINCH_TESTS_SUPPORT_REDIS_SERVER_HPP
#define FINCH_TESTS_SUPPORT_REDIS_SERVER_HPP

// Test support: a real redis-server (Debian's /usr/bin/redis-server) on a
// loopback port, for the Redis backplane's tests. It binds 127.0.0.1 only,
// keeps nothing on disk, and is ready when the constructor returns: the
// constructor polls a connection in a bounded loop until the server accepts
// one. stop() and restart() keep the port, to make an outage.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace finch::test {

class RedisServer {
public:
    static constexpr const char* program = "/usr/bin/redis-server";

    // A port nobody listens on now: the kernel's choice for port 0.
    static unsigned short freePort()
    {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor acceptor(
            io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
        return acceptor.local_endpoint().port();
    }

    // Starts a server on a free port; `extra` are more arguments
    // ("--requirepass", "secret").
    explicit RedisServer(std::vector<std::string> extra = {})
        : RedisServer(freePort(), std::move(extra))
    {
    }

    RedisServer(unsigned short port, std::vector<std::string> extra)
        : port_(port)
        , extra_(std::move(extra))
    {
        start();
    }

    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    ~RedisServer()
    {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }

    unsigned short port() const { return port_; }
    bool running() const { return pid_ > 0; }

    // SIGTERM, then waits for the process to end (SIGKILL after 10 s).
    void stop()
    {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        pid_ = -1;
    }

    // Starts again on the same port, with the same arguments.
    void restart()
    {
        stop();
        start();
    }

private:
    void start()
    {
        std::vector<std::string> words{program, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", "--logfile", ""};
        words.insert(words.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& word : words)
            argv.push_back(word.data());
        argv.push_back(nullptr);

        // Its log (warnings only) goes to /dev/null, not into the test's output.
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        pid_t pid = -1;
        const int failed = posix_spawn(&pid, program, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (failed != 0)
            throw std::runtime_error(std::string("cannot run ") + program + ": " + std::strerror(failed));
        pid_ = pid;
        awaitAccepting();
    }

    // Polls a connection until the server accepts one, or fails after 10 s,
    // or at once if the server exits (a port taken meanwhile, say).
    void awaitAccepting()
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        boost::asio::io_context io;
        const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port_);
        for (;;) {
            boost::asio::ip::tcp::socket socket(io);
            boost::system::error_code ec;
            socket.connect(endpoint, ec);
            if (!ec)
                return;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error(
                    "redis-server exited before accepting connections on port " + std::to_string(port_));
            }
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("redis-server did not accept connections on 127.0.0.1:" +
                    std::to_string(port_) + " within 10 s (" + ec.message() + ")");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    unsigned short port_;
    std::vector<std::string> extra_;
    pid_t pid_ = -1;
};

}  // namespace finch::test

#endif
