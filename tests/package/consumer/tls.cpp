// Proves that finch::tls brings OpenSSL to a user who serves wss://: a TLS
// manager listens on an ephemeral loopback port, and a certificate file
// that does not exist is reported by OpenSSL, through finch, by its name.
#include <finch/tls.hpp>

#include <iostream>
#include <string>

int main()
{
    boost::asio::io_context io;
    finch::TlsSocketManager manager(io);
    manager.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    const bool listening = manager.port() != 0;
    manager.stop();
    io.run();
    bool reported = false;
    try {
        finch::TlsContext context(finch::TlsCertificate{"/nonexistent/chain.pem", "/nonexistent/key.pem"});
    } catch (const boost::system::system_error& failure) {
        reported = std::string(failure.what()).find("/nonexistent/chain.pem") != std::string::npos;
    }
    std::cout << "finch::tls " << (listening ? "listened" : "did not listen") << ", "
              << (reported ? "missing certificate reported" : "missing certificate not reported") << "\n";
    return listening && reported ? 0 : 1;
}
