#include <finch/finch.hpp>

#include <iostream>

int main()
{
    boost::asio::io_context io;
    finch::SocketManager manager(io,
        {   // the root event: every connection's lifecycle
            .onConnect = [&](finch::Socket& socket) {
                manager.sendToAllExcept(socket, "someone joined", "output");
                socket.send({{"id", socket.id()}}, "connected");
            },
        },
        {   // routes: {"path": "chat", "data": "hi"} goes to everyone
            {"chat", {.onMessage = [&](finch::Socket& socket, const nlohmann::json& message) {
                manager.sendToAll({{"from", socket.id()}, {"text", message.value("data", "")}}, "chat");
            }}},
        });
    manager.listen({boost::asio::ip::make_address("127.0.0.1"), 8080}, "/ws");
    std::cout << "listening on ws://127.0.0.1:8080/ws\n";
    io.run();
}
