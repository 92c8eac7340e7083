#ifndef FINCH_TESTS_SUPPORT_TLS_TEST_SERVER_HPP
#define FINCH_TESTS_SUPPORT_TLS_TEST_SERVER_HPP

// Test support for the wss:// tests (tls_test, tls_context_test,
// tls_transport_test): a test server of TLS and TCP connections, an echo
// route that says whether the message came over TLS, and the bytes of a real
// ClientHello. Include after "support/test_client.hpp".

#include <finch/tls.hpp>

#include <catch2/catch.hpp>

#include "support/test_server.hpp"
#include "support/tls_test_client.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <string>

namespace finch::test {

using TlsServer = BasicTestServer<NoUserData, TlsTransport>;

// "echo" answers {"data": <the message's data>, "secure": Socket::secure()}.
inline TlsSocketManager::Routes tlsEchoRoutes()
{
    TlsServer::Event echo;
    echo.onMessage = [](TlsSocket& socket, const nlohmann::json& message) {
        socket.send({{"data", message["data"]}, {"secure", socket.secure()}}, "echo");
    };
    return {{"echo", echo}};
}

inline void expectTlsEcho(TlsTestClient& client, const std::string& text)
{
    client.send({{"path", "echo"}, {"data", text}});
    const nlohmann::json answer = client.receive();
    CHECK(answer["path"] == "echo");
    CHECK(answer["data"]["data"] == text);
    CHECK(answer["data"]["secure"] == true);
}

// The bytes of a real ClientHello for "localhost", made with OpenSSL over a
// memory BIO: what a client's first flight looks like on the wire.
inline std::string clientHello()
{
    SSL_CTX* const context = SSL_CTX_new(TLS_client_method());
    SSL* const ssl = SSL_new(context);
    BIO* const in = BIO_new(BIO_s_mem());
    BIO* const out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_connect(ssl);  // wants to read the ServerHello: the hello is out
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    std::string hello(data, static_cast<std::size_t>(size));
    SSL_free(ssl);
    SSL_CTX_free(context);
    return hello;
}

}  // namespace finch::test

#endif
