#ifndef FINCH_TESTS_SUPPORT_TEST_SERVER_HPP
#define FINCH_TESTS_SUPPORT_TEST_SERVER_HPP

// Test support that needs finch: a manager on its own io_context threads that
// records what its root callbacks saw, and a small "application" HTTP server
// that hands its upgrade requests to requestHandle(). Include after
// <finch/finch.hpp> and "support/test_client.hpp". Nothing here sleeps.

#include <finch/finch.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace finch::test {

// What the root onError received.
struct ErrorEvent {
    std::string id;
    finch::Error error;
};

// A manager whose io_context runs on its own threads. The root callbacks given
// to start() are wrapped so that the server also records every connection
// (`connected`, after the test's onConnect returned or threw), every end
// (`disconnected`, ids, after the test's onDisconnect) and every root error
// (`errors`, before the test's onError runs).
//
// Declare the logs that callbacks write to before the TestServer, and
// TestClients after it: the destructor stops the threads first, so no callback
// outlives what it refers to. Socket copies kept by the test must be
// destroyed before the TestServer (the io_context); those in `connected` are.
// `UserData` is the manager's per-connection data (TestServer: none);
// `Transport`, what its connections run over (TlsServer: TLS or TCP).
template <class UserData, class Transport = TcpTransport>
class BasicTestServer {
public:
    using Manager = BasicSocketManager<Transport, UserData>;
    using Event = typename Manager::EventType;
    using Socket = typename Manager::SocketType;

    explicit BasicTestServer(int threadCount = 1)
        : threads(threadCount)
    {
    }

    ~BasicTestServer()
    {
        threads.join();
        connected.clear();
        manager_.reset();
    }

    BasicTestServer(const BasicTestServer&) = delete;
    BasicTestServer& operator=(const BasicTestServer&) = delete;

    // Creates the manager without listening (for requestHandle).
    Manager& create(Event root = {}, typename Manager::Routes routes = {}, Options options = {})
    {
        manager_.emplace(threads.context, wrap(std::move(root)), std::move(routes), options);
        return *manager_;
    }

    // Creates the manager and listens on 127.0.0.1:0 for `target`.
    Manager& start(
        Event root = {}, typename Manager::Routes routes = {}, Options options = {}, std::string target = "/ws")
    {
        create(std::move(root), std::move(routes), options);
        manager_->listen(loopback(), std::move(target));
        return *manager_;
    }

    Manager& manager() { return *manager_; }
    unsigned short port() const { return manager_->port(); }

    // The socket of the `index`th connection (in onConnect order), once its onConnect has run.
    Socket waitConnection(std::size_t index)
    {
        if (!connected.waitForCount(index + 1))
            throw std::runtime_error("no connection #" + std::to_string(index) + " within the wait limit");
        return connected.snapshot()[index];
    }

    // Waits until the connection `id` has ended (its onDisconnect returned).
    bool waitDisconnected(const std::string& id)
    {
        return disconnected.waitFor(
            [&](const std::vector<std::string>& ids) { return std::find(ids.begin(), ids.end(), id) != ids.end(); });
    }

    // Runs `call` on the server's io_context and returns its result. With one
    // server thread this is also a barrier: whatever that thread was running
    // when this was called (the rest of a connection's ending after its
    // onDisconnect, a posted stop) has finished when `call` runs.
    template <class Call>
    auto onServerThread(Call call) -> std::invoke_result_t<Call&>
    {
        using Result = std::invoke_result_t<Call&>;
        auto promise = std::make_shared<std::promise<Result>>();
        auto future = promise->get_future();
        net::post(threads.context, [promise, call]() mutable {
            if constexpr (std::is_void_v<Result>) {
                call();
                promise->set_value();
            } else {
                promise->set_value(call());
            }
        });
        if (future.wait_for(waitLimit) != std::future_status::ready)
            throw std::runtime_error("the server thread did not run a task within the wait limit");
        return future.get();
    }

    // The number of connections the manager counts, read on the server thread
    // (see onServerThread).
    std::size_t settledClientCount()
    {
        return onServerThread([this] { return manager_->countClients(); });
    }

    EventLog<Socket> connected;
    EventLog<std::string> disconnected;
    EventLog<ErrorEvent> errors;
    ServerThreads threads;

private:
    Event wrap(Event root)
    {
        Event wrapped = root;
        wrapped.onConnect = [this, user = std::move(root.onConnect)](Socket& socket) {
            try {
                if (user)
                    user(socket);
            } catch (...) {
                connected.push(socket);
                throw;
            }
            connected.push(socket);
        };
        wrapped.onDisconnect = [this, user = std::move(root.onDisconnect)](Socket& socket) {
            try {
                if (user)
                    user(socket);
            } catch (...) {
                disconnected.push(socket.id());
                throw;
            }
            disconnected.push(socket.id());
        };
        wrapped.onError = [this, user = std::move(root.onError)](Socket& socket, const finch::Error& error) {
            errors.push({socket.id(), error});
            if (user)
                user(socket, error);
        };
        return wrapped;
    }

    std::optional<Manager> manager_;
};

// The server of a manager that keeps no per-connection data.
using TestServer = BasicTestServer<NoUserData>;

// Empties `log` when it goes out of scope. A log that callbacks fill must be
// declared before the TestServer, but what it holds (Socket handles, upgrade
// completions) must not outlive the server's io_context: one of these,
// declared after the server, lets go of them first, however the test ends.
template <class T>
class ClearOnExit {
public:
    explicit ClearOnExit(EventLog<T>& log)
        : log_(log)
    {
    }
    ~ClearOnExit() { log_.clear(); }
    ClearOnExit(const ClearOnExit&) = delete;
    ClearOnExit& operator=(const ClearOnExit&) = delete;

private:
    EventLog<T>& log_;
};

// How many root errors were recorded for connection `id` with this code.
inline std::size_t countErrors(
    const std::vector<ErrorEvent>& errors, const std::string& id, const boost::system::error_code& code)
{
    return static_cast<std::size_t>(std::count_if(errors.begin(), errors.end(),
        [&](const ErrorEvent& event) { return event.id == id && event.error.code == code; }));
}

// A small HTTP server of "the application", on the manager's io_context: its
// own acceptor on 127.0.0.1:0, answering GET /hello itself (200 "hello") and
// handing every request for /ws to the manager's requestHandle (or accept),
// with the user id taken from the query ("?user=alice") or the X-User header.
class AppServer {
public:
    // How a /ws request is handed over.
    enum class Handoff { socket, stream, acceptSocket, acceptStream };

    AppServer(net::io_context& context, SocketManager& manager, Handoff handoff)
        : state_(std::make_shared<State>(context, manager, handoff))
    {
        state_->acceptor.open(tcp::v4());
        state_->acceptor.bind(loopback());
        state_->acceptor.listen();
        port_ = state_->acceptor.local_endpoint().port();
        net::post(state_->acceptor.get_executor(), [state = state_] { accept(state); });
    }

    ~AppServer()
    {
        net::post(state_->acceptor.get_executor(), [state = state_] {
            boost::system::error_code ignored;
            state->acceptor.close(ignored);
        });
    }

    AppServer(const AppServer&) = delete;
    AppServer& operator=(const AppServer&) = delete;

    unsigned short port() const { return port_; }

private:
    struct State {
        State(net::io_context& context_, SocketManager& manager_, Handoff handoff_)
            : context(context_)
            , acceptor(net::make_strand(context_))
            , manager(manager_)
            , handoff(handoff_)
        {
        }
        net::io_context& context;
        tcp::acceptor acceptor;
        SocketManager& manager;
        const Handoff handoff;
    };

    static tcp::socket& rawSocket(tcp::socket& socket) { return socket; }
    static tcp::socket& rawSocket(beast::tcp_stream& stream) { return stream.socket(); }

    // One accepted connection, read with a tcp::socket or a tcp_stream, and a
    // string_body or an empty_body request: requestHandle is a template on both.
    template <class Connection, class Body>
    struct Session : std::enable_shared_from_this<Session<Connection, Body>> {
        Session(std::shared_ptr<State> state_, tcp::socket socket)
            : state(std::move(state_))
            , connection(std::move(socket))
        {
        }

        void read()
        {
            http::async_read(connection, buffer, request,
                [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                    if (!ec)
                        self->route();
                });
        }

        void route()
        {
            const std::string target(request.target());
            const std::string path = target.substr(0, target.find('?'));
            if (path == "/ws")
                return handOver(userIdOf(target));
            auto response = std::make_shared<http::response<http::string_body>>(
                path == "/hello" ? http::status::ok : http::status::not_found, request.version());
            response->body() = path == "/hello" ? "hello" : "app: not found";
            response->keep_alive(false);
            response->prepare_payload();
            http::async_write(connection, *response,
                [self = this->shared_from_this(), response](boost::system::error_code, std::size_t) {
                    boost::system::error_code ignored;
                    rawSocket(self->connection).shutdown(tcp::socket::shutdown_send, ignored);
                });
        }

        std::string userIdOf(const std::string& target) const
        {
            const auto query = target.find("?user=");
            if (query != std::string::npos)
                return target.substr(query + 6, target.find('&', query) - (query + 6));
            const auto header = request.find("X-User");
            return header == request.end() ? std::string() : std::string(header->value());
        }

        void handOver(std::string userId)
        {
            switch (state->handoff) {
            case Handoff::socket:
            case Handoff::stream:
                state->manager.requestHandle(std::move(connection), request, std::move(userId));
                break;
            case Handoff::acceptSocket:
            case Handoff::acceptStream:
                state->manager.accept(std::move(connection), request, std::move(userId));
                break;
            }
        }

        std::shared_ptr<State> state;
        Connection connection;
        beast::flat_buffer buffer;
        http::request<Body> request;
    };

    static void accept(std::shared_ptr<State> state)
    {
        // The plain executor of the io_context: requestHandle moves the
        // connection to a strand of its own.
        state->acceptor.async_accept(state->context, [state](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                return;  // closed
            switch (state->handoff) {
            case Handoff::socket:
            case Handoff::acceptSocket:
                std::make_shared<Session<tcp::socket, http::string_body>>(state, std::move(socket))->read();
                break;
            case Handoff::stream:
            case Handoff::acceptStream:
                std::make_shared<Session<beast::tcp_stream, http::empty_body>>(state, std::move(socket))->read();
                break;
            }
            accept(state);
        });
    }

    std::shared_ptr<State> state_;
    unsigned short port_ = 0;
};

inline const char* nameOf(AppServer::Handoff handoff)
{
    switch (handoff) {
    case AppServer::Handoff::socket:
        return "requestHandle(tcp::socket)";
    case AppServer::Handoff::stream:
        return "requestHandle(tcp_stream)";
    case AppServer::Handoff::acceptSocket:
        return "accept(tcp::socket)";
    case AppServer::Handoff::acceptStream:
        return "accept(tcp_stream)";
    }
    return "?";
}

// Whether `text` is 32 lowercase hexadecimal digits.
inline bool isSocketId(const std::string& text)
{
    return text.size() == 32 &&
        std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Milliseconds since the epoch, read independently of finch.
inline std::int64_t epochMilliseconds()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

inline std::string reasonText(const websocket::close_reason& reason)
{
    return std::string(reason.reason.data(), reason.reason.size());
}

// The "echo" route: answers with the message's data on path "echo".
inline SocketEvent echoEvent()
{
    SocketEvent echo;
    echo.onMessage = [](Socket& socket, const nlohmann::json& message) {
        socket.send(message.value("data", nlohmann::json()), "echo");
    };
    return echo;
}

inline SocketManager::Routes echoRoutes()
{
    return {{"echo", echoEvent()}};
}

// Sends `data` to the echo route and checks the answer.
inline void expectEcho(TestClient& client, const nlohmann::json& data)
{
    client.send({{"path", "echo"}, {"data", data}});
    const nlohmann::json reply = client.receive();
    CHECK(reply["path"] == "echo");
    CHECK(reply["status"] == 200);
    CHECK(reply["data"] == data);
}

}  // namespace finch::test

#endif
