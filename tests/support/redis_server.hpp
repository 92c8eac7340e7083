#ifndef FINCH_TESTS_SUPPORT_REDIS_SERVER_HPP
#define FINCH_TESTS_SUPPORT_REDIS_SERVER_HPP

// Test support: a real redis-server (Debian's /usr/bin/redis-server) on a
// loopback port, for the Redis backplane's tests. It binds 127.0.0.1 only,
// keeps nothing on disk, and is ready when the constructor returns: the
// constructor reads the server's log until it says it accepts connections
// (or 10 s pass, or the log ends because the server exited). stop() and
// restart() keep the port, to make an outage.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
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
        if (!awaitExit(std::chrono::seconds(10))) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
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
            "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice", "--logfile", ""};
        words.insert(words.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& word : words)
            argv.push_back(word.data());
        argv.push_back(nullptr);

        // Its log comes through a pipe, for the line that says it is ready.
        int log[2];
        if (::pipe2(log, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, log[1], STDOUT_FILENO);
        pid_t pid = -1;
        const int failed = posix_spawn(&pid, program, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(log[1]);
        if (failed != 0) {
            ::close(log[0]);
            throw std::runtime_error(std::string("cannot run ") + program + ": " + std::strerror(failed));
        }
        pid_ = pid;
        try {
            awaitReady(log[0]);
        } catch (...) {
            ::close(log[0]);
            throw;
        }
        // Redis ignores SIGPIPE: what it logs later is dropped, not a failure.
        ::close(log[0]);
    }

    // Reads the server's log from `fd` until it says it accepts connections;
    // fails after 10 s, or when the log ends: the server exited (a port taken
    // meanwhile, say), and what it logged says why.
    void awaitReady(int fd)
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        std::string logged;
        while (logged.find("Ready to accept connections") == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                throw std::runtime_error("redis-server did not accept connections on 127.0.0.1:" +
                    std::to_string(port_) + " within 10 s; it logged: " + logged);
            pollfd readable{fd, POLLIN, 0};
            if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0)
                continue;  // the deadline is checked again
            char chunk[512];
            const ssize_t size = ::read(fd, chunk, sizeof chunk);
            if (size <= 0) {
                int status = 0;
                if (::waitpid(pid_, &status, 0) == pid_)
                    pid_ = -1;
                throw std::runtime_error("redis-server exited before accepting connections on port " +
                    std::to_string(port_) + "; it logged: " + logged);
            }
            logged.append(chunk, static_cast<std::size_t>(size));
        }
    }

    // Waits until the process has ended (and reaps it), at most `limit`:
    // whether it has. A pidfd becomes readable when the process ends.
    bool awaitExit(std::chrono::milliseconds limit)
    {
        const int process = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (process >= 0) {
            pollfd ended{process, POLLIN, 0};
            ::poll(&ended, 1, static_cast<int>(limit.count()));
            ::close(process);
        }
        int status = 0;
        return ::waitpid(pid_, &status, WNOHANG) == pid_;
    }

    unsigned short port_;
    std::vector<std::string> extra_;
    pid_t pid_ = -1;
};

}  // namespace finch::test

#endif
