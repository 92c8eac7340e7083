#ifndef FINCH_TESTS_SUPPORT_TLS_TEST_CLIENT_HPP
#define FINCH_TESTS_SUPPORT_TLS_TEST_CLIENT_HPP

// Test support: a wss:// client (Beast's WebSocket over Asio's ssl_stream) on
// its own io_context, driven from the test's thread like TestClient, with
// the TLS settings a test needs to vary: the authority it trusts, the host
// name it sends (SNI) and verifies, ALPN, the highest protocol version.
// Include after "support/test_client.hpp".

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>
#include <utility>
#include <vector>

namespace finch::test {

namespace ssl = boost::asio::ssl;

struct TlsClientSettings {
    TlsClientSettings(std::string caFile_ = {}, std::string serverName_ = "localhost")
        : caFile(std::move(caFile_))
        , serverName(std::move(serverName_))
    {
    }

    std::string caFile;             // the authority to trust; empty: verify nothing
    std::string serverName;         // sent by SNI and verified; empty: no SNI
    std::vector<std::string> alpn;  // protocols offered, in order
    int maxVersion = 0;             // TLS1_1_VERSION ...; 0: OpenSSL's highest
};

// A TLS context for clients with `settings`.
inline ssl::context clientContext(const TlsClientSettings& settings)
{
    ssl::context context(ssl::context::tls_client);
    if (settings.caFile.empty()) {
        context.set_verify_mode(ssl::verify_none);
    } else {
        context.load_verify_file(settings.caFile);
        context.set_verify_mode(ssl::verify_peer);
    }
    if (settings.maxVersion != 0) {
        SSL_CTX_set_min_proto_version(context.native_handle(), 0);
        SSL_CTX_set_max_proto_version(context.native_handle(), settings.maxVersion);
        // TLS 1.0 and 1.1 need SHA-1, which OpenSSL 3's default level refuses.
        SSL_CTX_set_security_level(context.native_handle(), 0);
    }
    if (!settings.alpn.empty()) {
        std::string wire;
        for (const auto& protocol : settings.alpn)
            wire += static_cast<char>(protocol.size()) + protocol;
        SSL_CTX_set_alpn_protos(context.native_handle(), reinterpret_cast<const unsigned char*>(wire.data()),
            static_cast<unsigned>(wire.size()));
    }
    return context;
}

// Sets SNI and host name verification on one client connection.
inline void nameServer(SSL* ssl, const TlsClientSettings& settings)
{
    if (settings.serverName.empty())
        return;
    SSL_set_tlsext_host_name(ssl, settings.serverName.c_str());
    if (!settings.caFile.empty())
        SSL_set1_host(ssl, settings.serverName.c_str());
}

// The common name of the certificate the server presented on `ssl`.
inline std::string peerCommonName(SSL* ssl)
{
    X509* const peer = SSL_get1_peer_certificate(ssl);
    if (!peer)
        return {};
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name, sizeof name);
    X509_free(peer);
    return name;
}

// The protocol ALPN settled on `ssl`, empty for none.
inline std::string negotiatedAlpn(SSL* ssl)
{
    const unsigned char* data = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(ssl, &data, &length);
    return std::string(reinterpret_cast<const char*>(data), length);
}

class TlsTestClient {
public:
    using Stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

    // Connects, handshakes TLS and upgrades; throws std::runtime_error (with
    // the TLS or HTTP failure) when any of it fails.
    explicit TlsTestClient(unsigned short port, const TlsClientSettings& settings = {}, std::string target = "/ws")
        : tls_(clientContext(settings))
        , ws_(context_, tls_)
    {
        nameServer(ws_.next_layer().native_handle(), settings);
        runUntil([&](bool& done, boost::system::error_code& result) {
            beast::get_lowest_layer(ws_).async_connect(loopback(port), [&](boost::system::error_code ec) {
                result = ec;
                done = true;
            });
        });
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.next_layer().async_handshake(ssl::stream_base::client, [&](boost::system::error_code ec) {
                result = ec;
                done = true;
            });
        });
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_handshake(response_, "localhost:" + std::to_string(port), target,
                [&](boost::system::error_code ec) {
                    result = ec;
                    done = true;
                });
        });
    }

    TlsTestClient(const TlsTestClient&) = delete;
    TlsTestClient& operator=(const TlsTestClient&) = delete;

    void sendText(const std::string& text)
    {
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_write(net::buffer(text), [&](boost::system::error_code ec, std::size_t) {
                result = ec;
                done = true;
            });
        });
    }

    void send(const nlohmann::json& message) { sendText(message.dump()); }

    std::string receiveText()
    {
        beast::flat_buffer buffer;
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_read(buffer, [&](boost::system::error_code ec, std::size_t) {
                result = ec;
                done = true;
            });
        });
        return beast::buffers_to_string(buffer.data());
    }

    nlohmann::json receive() { return nlohmann::json::parse(receiveText()); }

    // Reads until the server's close frame; its code and reason.
    websocket::close_reason expectClose()
    {
        beast::flat_buffer buffer;
        boost::system::error_code end;
        for (int messages = 0; messages < 100000 && !end; ++messages) {
            runUntil(
                [&](bool& done, boost::system::error_code& result) {
                    ws_.async_read(buffer, [&](boost::system::error_code ec, std::size_t) {
                        result = ec;
                        done = true;
                    });
                },
                false, &end);
            buffer.clear();
        }
        if (end != websocket::error::closed)
            throw std::runtime_error("tls test client: ended with " + end.message() + ", not a close frame");
        return ws_.reason();
    }

    void close()
    {
        runUntil([&](bool& done, boost::system::error_code& result) {
            ws_.async_close(websocket::close_code::normal, [&](boost::system::error_code ec) {
                result = ec;
                done = true;
            });
        });
    }

    SSL* nativeHandle() { return ws_.next_layer().native_handle(); }
    std::string peerName() { return peerCommonName(nativeHandle()); }

private:
    template <class Start>
    void runUntil(Start start, bool throwOnError = true, boost::system::error_code* outcome = nullptr)
    {
        const auto result = runOperation(
            context_, start,
            [this] {
                boost::system::error_code ignored;
                beast::get_lowest_layer(ws_).socket().cancel(ignored);
            },
            "tls test client", throwOnError);
        if (outcome)
            *outcome = result;
    }

    net::io_context context_;
    ssl::context tls_;
    Stream ws_;
    websocket::response_type response_;
};

}  // namespace finch::test

#endif
