// Proves that finch::compression brings zlib to a user who compresses: a
// manager with permessage-deflate listens on an ephemeral loopback port, and
// the codec compresses and inflates a message.
#include <finch/finch.hpp>
#include <finch/permessage_deflate.hpp>

#include <iostream>
#include <string>

int main()
{
    boost::asio::io_context io;
    finch::Options options;
    options.compression = finch::permessageDeflate();
    finch::SocketManager manager(io, {}, {}, options);
    manager.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    const bool listening = manager.port() != 0;
    manager.stop();
    io.run();
    const std::string message(4096, 'x');
    std::string compressed;
    std::string inflated;
    const bool roundTrip = options.compression->compress(message, 15, compressed) &&
        options.compression->inflate(compressed, 0, inflated, nullptr, 15) == finch::InflateResult::ok &&
        inflated == message;
    std::cout << "finch::compression " << (listening ? "listened" : "did not listen") << ", "
              << (roundTrip ? "round trip ok" : "round trip failed") << "\n";
    return listening && roundTrip ? 0 : 1;
}
