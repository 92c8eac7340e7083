#include <finch/tls_context.hpp>
#include <finch/tls.hpp>

#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include "support/test_certificates.hpp"
#include "support/test_server.hpp"
#include "support/tls_test_client.hpp"
#include "support/tls_test_server.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <map>
#include <memory>
#include <string>

// finch::TlsContext, what a TLS listener serves: a certificate checked when
// the context is made, reloaded while serving, chosen by SNI; an
// application's own SSL_CTX; ALPN and the oldest protocol version accepted.
// Through a TlsSocketManager and Beast's client on Asio's ssl_stream, over
// loopback, with an authority made for the test.

using namespace finch::test;
using nlohmann::json;

namespace {

// The common name of the certificate a context serves.
std::string servedName(SSL_CTX* context)
{
    X509* const certificate = SSL_CTX_get0_certificate(context);
    if (!certificate)
        return {};
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, name, sizeof name);
    return name;
}

}  // namespace

TEST_CASE("TlsContext: nativeHandle is the context new handshakes start with, TLS 1.2 at least, replaced by a reload",
    "[tls]")
{
    TestAuthority authority;
    finch::TlsContext context(authority.issue("first"));
    SSL_CTX* const first = context.nativeHandle();
    REQUIRE(first != nullptr);
    CHECK(servedName(first) == "first");
    CHECK(SSL_CTX_get_min_proto_version(first) == TLS1_2_VERSION);
    CHECK((SSL_CTX_get_options(first) & SSL_OP_NO_RENEGOTIATION) != 0);

    boost::system::error_code ec;
    SSL* const ssl = context.newConnection(ec);
    REQUIRE(ssl != nullptr);
    CHECK_FALSE(ec);
    CHECK(SSL_is_server(ssl) == 1);
    CHECK(SSL_get_SSL_CTX(ssl) == first);

    // Held here, so that the next context cannot take its address.
    REQUIRE(SSL_CTX_up_ref(first) == 1);
    context.reload(authority.issue("second"));
    SSL_CTX* const second = context.nativeHandle();
    CHECK(second != first);
    CHECK(servedName(second) == "second");
    // A connection made before the reload keeps its context.
    CHECK(SSL_get_SSL_CTX(ssl) == first);
    SSL_free(ssl);
    SSL_CTX_free(first);

    // A reload that fails changes nothing.
    context.reload(finch::TlsCertificate{authority.path("missing.pem"), authority.path("missing.key")}, ec);
    CHECK(ec);
    CHECK(context.nativeHandle() == second);
}

TEST_CASE("wss: a certificate reloaded while serving is used by new handshakes, and open connections keep working",
    "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("first"));
    TlsServer server;
    server.create({}, tlsEchoRoutes()).listen(loopback(), "/ws", tls);

    TlsTestClient before(server.port(), {authority.caFile()});
    CHECK(before.peerName() == "first");

    tls->reload(authority.issue("second"));
    TlsTestClient after(server.port(), {authority.caFile()});
    CHECK(after.peerName() == "second");
    expectTlsEcho(before, "old connection");
    expectTlsEcho(after, "new connection");

    // A reload that fails keeps what was served.
    CHECK_THROWS_AS(tls->reload(finch::TlsCertificate{authority.path("missing.pem"), authority.path("missing.key")}),
        boost::system::system_error);
    boost::system::error_code ec;
    const finch::TlsCertificate third = authority.issue("third");
    tls->reload(finch::TlsCertificate{third.chainFile, authority.issue("other").keyFile}, ec);
    CHECK(ec);
    CHECK(TlsTestClient(server.port(), {authority.caFile()}).peerName() == "second");
    tls->reload(third, ec);
    CHECK_FALSE(ec);
    CHECK(TlsTestClient(server.port(), {authority.caFile()}).peerName() == "third");
}

TEST_CASE("wss: configuration mistakes show when the context is made, not at the first client", "[tls]")
{
    TestAuthority authority;
    const finch::TlsCertificate one = authority.issue("one");
    const finch::TlsCertificate two = authority.issue("two");
    CHECK_NOTHROW(finch::TlsContext(one));
    CHECK_THROWS_WITH(finch::TlsContext(finch::TlsCertificate{one.chainFile, two.keyFile}),
        Catch::Contains("does not belong to the certificate"));
    CHECK_THROWS_WITH(finch::TlsContext(finch::TlsCertificate{authority.path("none.pem"), one.keyFile}),
        Catch::Contains("none.pem"));
    CHECK_THROWS_WITH(finch::TlsContext(finch::TlsCertificate{one.chainFile, authority.path("none.key")}),
        Catch::Contains("none.key"));
    // A key file that is a certificate.
    CHECK_THROWS_AS(finch::TlsContext(finch::TlsCertificate{one.chainFile, one.chainFile}), boost::system::system_error);

    // An application's own SSL_CTX is served as it is, and cannot take names.
    SSL_CTX* native = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(native, one.chainFile.c_str());
    SSL_CTX_use_PrivateKey_file(native, one.keyFile.c_str(), SSL_FILETYPE_PEM);
    auto adopted = std::make_shared<finch::TlsContext>(native);
    SSL_CTX_free(native);  // finch holds its own reference
    CHECK_THROWS_AS(adopted->addServerName("x.test", two), boost::system::system_error);
    TlsServer server;
    server.create({}, tlsEchoRoutes()).listen(loopback(), "/ws", adopted);
    TlsTestClient client(server.port(), {authority.caFile()});
    CHECK(client.peerName() == "one");
    expectTlsEcho(client, "own context");
}

TEST_CASE("wss: SNI picks the certificate by the host name the client asks for", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("default"));
    tls->addServerName("a.test", authority.issue("a", "DNS:a.test"));
    tls->addServerName("*.b.test", authority.issue("b", "DNS:*.b.test"));
    TlsServer server;
    server.create({}, tlsEchoRoutes()).listen(loopback(), "/ws", tls);

    const std::map<std::string, std::string> expected{
        {"a.test", "a"}, {"A.Test", "a"}, {"x.b.test", "b"}, {"localhost", "default"}};
    for (const auto& [name, certificate] : expected) {
        INFO(name);
        TlsTestClient client(server.port(), {authority.caFile(), name});
        CHECK(client.peerName() == certificate);
        expectTlsEcho(client, name);
    }
    // A wildcard covers one label only; without SNI the default is served.
    TlsClientSettings deeper{"", "y.x.b.test"};
    CHECK(TlsTestClient(server.port(), deeper).peerName() == "default");
    TlsClientSettings noName{"", ""};
    CHECK(TlsTestClient(server.port(), noName).peerName() == "default");

    // Reloading a name replaces its certificate.
    tls->reload("a.test", authority.issue("a2", "DNS:a.test"));
    CHECK(TlsTestClient(server.port(), {authority.caFile(), "a.test"}).peerName() == "a2");
}

TEST_CASE("wss: ALPN answers http/1.1 when offered, and TLS 1.2 is the oldest version accepted", "[tls]")
{
    TestAuthority authority;
    auto tls = std::make_shared<finch::TlsContext>(authority.issue("server"));
    TlsServer server;
    server.create({}, tlsEchoRoutes()).listen(loopback(), "/ws", tls);

    TlsClientSettings both{authority.caFile()};
    both.alpn = {"h2", "http/1.1"};
    TlsTestClient offered(server.port(), both);
    CHECK(negotiatedAlpn(offered.nativeHandle()) == "http/1.1");
    expectTlsEcho(offered, "alpn");

    TlsClientSettings h2Only{authority.caFile()};
    h2Only.alpn = {"h2"};
    TlsTestClient noMatch(server.port(), h2Only);
    CHECK(negotiatedAlpn(noMatch.nativeHandle()).empty());
    expectTlsEcho(noMatch, "no alpn");

    TlsClientSettings tls12{authority.caFile()};
    tls12.maxVersion = TLS1_2_VERSION;
    TlsTestClient older(server.port(), tls12);
    CHECK(SSL_version(older.nativeHandle()) == TLS1_2_VERSION);
    expectTlsEcho(older, "tls 1.2");

    TlsClientSettings tls11{authority.caFile()};
    tls11.maxVersion = TLS1_1_VERSION;
    CHECK_THROWS_AS(TlsTestClient(server.port(), tls11), std::runtime_error);
    CHECK(server.settledClientCount() == 3);
}
