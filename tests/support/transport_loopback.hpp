#ifndef FINCH_TESTS_SUPPORT_TRANSPORT_LOOPBACK_HPP
#define FINCH_TESTS_SUPPORT_TRANSPORT_LOOPBACK_HPP

// Test support for the tests of a transport on its own (tcp_transport_test,
// tls_transport_test): TCP connections on loopback whose accepted end is on
// a strand of its own, as finch's listener accepts it, ready to become a
// transport; one io_context for both ends, run by the test's thread. Declare
// the loop before the client sockets and transports: they must be destroyed
// before its io_context.

#include <finch/tcp_transport.hpp>

#include "support/test_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace finch::test {

class TransportLoopback {
public:
    // The accepted end: a TCP socket on the connection's strand.
    using AcceptedSocket = net::basic_stream_socket<tcp, TcpTransport::executor_type>;

    TransportLoopback() : acceptor_(context, loopback(0)) { }

    // Connects `client` and returns the other end.
    AcceptedSocket connect(tcp::socket& client)
    {
        client.connect(acceptor_.local_endpoint());
        AcceptedSocket accepted(net::make_strand(net::any_io_executor(context.get_executor())));
        acceptor_.accept(accepted);
        return accepted;
    }

    // Runs the io_context until `done()`, which a completion makes true.
    template <class Done>
    void runUntil(Done done)
    {
        context.restart();
        const auto deadline = std::chrono::steady_clock::now() + waitLimit;
        while (!done() && std::chrono::steady_clock::now() < deadline)
            context.run_one_until(deadline);
        if (!done())
            throw std::runtime_error("transport loopback: nothing completed within the wait limit");
    }

    // Reads `size` bytes from `transport` with readSome, waiting for
    // readiness whenever a read would block.
    template <class Transport>
    std::string read(Transport& transport, std::size_t size)
    {
        std::string received;
        std::array<char, 256> chunk{};
        while (received.size() < size) {
            boost::system::error_code ec;
            const std::size_t count = transport.readSome(net::buffer(chunk), ec);
            if (ec == net::error::would_block) {
                bool readable = false;
                transport.asyncWaitReadable([&](boost::system::error_code) { readable = true; });
                runUntil([&] { return readable; });
                continue;
            }
            if (ec)
                throw boost::system::system_error(ec, "transport loopback: readSome");
            received.append(chunk.data(), count);
        }
        return received;
    }

    // Writes all of `bytes` to `transport` with writeSome, waiting for room
    // whenever a write would block.
    template <class Transport>
    void write(Transport& transport, const std::string& bytes)
    {
        std::size_t written = 0;
        while (written < bytes.size()) {
            boost::system::error_code ec;
            written += transport.writeSome(net::buffer(bytes.data() + written, bytes.size() - written), ec);
            if (ec == net::error::would_block) {
                bool writable = false;
                transport.asyncWaitWritable([&](boost::system::error_code) { writable = true; });
                runUntil([&] { return writable; });
                continue;
            }
            if (ec)
                throw boost::system::system_error(ec, "transport loopback: writeSome");
        }
    }

    net::io_context context;

private:
    tcp::acceptor acceptor_;
};

}  // namespace finch::test

#endif
