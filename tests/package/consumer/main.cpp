// Proves that finch::finch brings everything a user needs: the headers, Boost,
// nlohmann/json and threads. Listens on an ephemeral loopback port, stops.
#include <finch/finch.hpp>

#include <iostream>

int main()
{
    boost::asio::io_context io;
    finch::SocketManager manager(io);
    manager.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    const bool listening = manager.port() != 0;
    manager.stop();
    io.run();
    std::cout << "finch " << FINCH_VERSION_STRING << (listening ? " listened" : " did not listen") << "\n";
    return listening ? 0 : 1;
}
