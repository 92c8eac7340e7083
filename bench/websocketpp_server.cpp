// websocketpp_server: the benchmark's two routes on websocketpp (Debian's
// libwebsocketpp-dev, Asio transport without TLS, run on Boost.Asio), written
// the way websocketpp's documentation writes a broadcast server: the open
// connections in a set of handles under a mutex, one server.send() per receiver.
//
//   websocketpp_server [--port N] [--threads N]
//
// Messages are parsed with nlohmann/json; {"path":"echo","data":D} is
// answered with {"data":D,"path":"echo"}, {"path":"broadcast","data":D}
// sends {"data":D,"path":"broadcast"} to everyone.

#include "server_runner.hpp"

#include <nlohmann/json.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <boost/asio/ip/address.hpp>

#include <exception>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

using Server = websocketpp::server<websocketpp::config::asio>;
using Handle = websocketpp::connection_hdl;

class Routes {
public:
    explicit Routes(Server& server)
        : server_(server)
    {
    }

    void open(Handle handle)
    {
        std::lock_guard lock(mutex_);
        connections_.insert(std::move(handle));
    }

    void close(Handle handle)
    {
        std::lock_guard lock(mutex_);
        connections_.erase(handle);
    }

    void message(Handle handle, const Server::message_ptr& frame)
    {
        const auto message = nlohmann::json::parse(frame->get_payload(), nullptr, false);
        if (!message.is_object())
            return;
        const auto path = message.find("path");
        if (path == message.end() || !path->is_string())
            return;
        const auto data = message.find("data");
        const bool echo = *path == "echo";
        if (!echo && *path != "broadcast")
            return;
        const nlohmann::json answer = {{"path", *path}, {"data", data == message.end() ? nlohmann::json() : *data}};
        const std::string text = answer.dump();
        websocketpp::lib::error_code ignored;  // the receiver is gone: nothing to do about it
        if (echo) {
            server_.send(handle, text, websocketpp::frame::opcode::text, ignored);
            return;
        }
        // A copy of the set, so that sends (which may fail and close a
        // connection, whose handler takes the lock) run without the lock.
        std::vector<Handle> receivers;
        {
            std::lock_guard lock(mutex_);
            receivers.assign(connections_.begin(), connections_.end());
        }
        for (const auto& receiver : receivers)
            server_.send(receiver, text, websocketpp::frame::opcode::text, ignored);
    }

private:
    Server& server_;
    std::mutex mutex_;
    std::set<Handle, std::owner_less<Handle>> connections_;
};

}  // namespace

int main(int argc, char** argv)
{
    const auto settings = bench::parseServerArguments(argc, argv, "websocketpp_server");
    try {
        boost::asio::io_context context(static_cast<int>(settings.threads));
        Server server;
        Routes routes(server);
        // Logging to stdout on every connection would be measured too.
        server.clear_access_channels(websocketpp::log::alevel::all);
        server.clear_error_channels(websocketpp::log::elevel::all);
        server.init_asio(&context);
        server.set_reuse_addr(true);
        server.set_listen_backlog(boost::asio::socket_base::max_listen_connections);
        server.set_open_handler([&routes](Handle handle) { routes.open(std::move(handle)); });
        server.set_close_handler([&routes](Handle handle) { routes.close(std::move(handle)); });
        server.set_message_handler(
            [&routes](Handle handle, Server::message_ptr frame) { routes.message(std::move(handle), frame); });
        // Like the other servers: small messages leave at once.
        server.set_socket_init_handler([](Handle, boost::asio::ip::tcp::socket& socket) {
            boost::system::error_code ignored;
            socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
        });
        server.listen(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), settings.port));
        server.start_accept();
        boost::system::error_code ec;
        const auto local = server.get_local_endpoint(ec);
        if (ec)
            throw boost::system::system_error(ec);
        bench::announceListening("websocketpp_server", local.port());
        bench::runUntilSignalled(context, settings.threads);
    } catch (const std::exception& e) {
        std::cerr << "websocketpp_server: " << e.what() << '\n';
        return 1;
    }
}
