#ifndef FINCH_TLS_CONTEXT_HPP
#define FINCH_TLS_CONTEXT_HPP

#include <finch/detail/tls/openssl_error.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace finch {

/// A certificate chain and its private key, as PEM files.
struct TlsCertificate {
    /// The server's certificate first, then the intermediate certificates
    /// that lead to the authority clients trust (what `SSL_CTX_use_certificate_chain_file` reads).
    std::string chainFile;
    /// The private key of the first certificate; not encrypted.
    std::string keyFile;
};

/// What a TLS listener serves: certificates (one by default, more chosen by
/// the host name a client asks for, SNI), protocol versions and ALPN. Pass
/// it to `BasicSocketManager::listen()` of a manager on `finch::TlsTransport`
/// (`finch::TlsSocketManager`); share one between listeners if they serve
/// the same names. Include `<finch/tls.hpp>` and link `finch::tls`.
///
/// A context made from files accepts TLS 1.2 and 1.3 with OpenSSL's default
/// ciphers, refuses renegotiation, answers ALPN with `http/1.1` when the
/// client offers it (and with nothing otherwise: a client that offers only
/// `h2` still gets HTTP/1.1, which WebSocket needs), and treats a peer that
/// ends the TCP connection without TLS's close_notify like one that sent it
/// (finch's WebSocket framing shows whether a message was cut short).
///
/// @par Certificate reload
/// `reload()` swaps a certificate while the server runs: the handshakes that
/// start afterwards use the new pair, connections already open keep theirs.
/// Nothing is swapped if the new files fail to load.
///
/// @par Thread Safety
/// Every member may be called from any thread, also while connections
/// handshake with the context.
///
/// @par Errors
/// A file that cannot be read, a certificate or key that does not parse, or
/// a key that does not belong to its certificate throws
/// `boost::system::system_error` (or sets `ec` in the overloads that take
/// one) with OpenSSL's error and the file's name: configuration mistakes
/// show when the server starts, not at the first client.
class TlsContext {
public:
    /// Serves `certificate` to every client (and to clients whose host name
    /// matches none of the names added with `addServerName()`).
    /// @throws boost::system::system_error as the class's Errors say.
    explicit TlsContext(const TlsCertificate& certificate) : current_(makeContext(certificate)) { }

    /// Serves with a context the application configured itself (its
    /// certificate, ciphers, versions, ALPN, client verification). finch
    /// takes a reference to it (the application may free its own) and adds
    /// nothing to it, so `addServerName()` and `reload(TlsCertificate)` do
    /// not apply; to change it, `reload(SSL_CTX*)` with another one.
    /// @pre `native` is not null and has a certificate and key.
    explicit TlsContext(SSL_CTX* native) : current_(adopt(native)), native_(true) { }

    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    /// Serves `certificate` to clients that ask for `hostName` by SNI (case
    /// insensitive; `*.example.com` matches one label in front of
    /// `example.com`). Adding a name again replaces its certificate, as
    /// `reload(hostName, ...)` does.
    /// @throws boost::system::system_error as the class's Errors say, or
    /// with `invalid_argument` on a context made from an `SSL_CTX`.
    void addServerName(std::string hostName, const TlsCertificate& certificate)
    {
        requireOwnContexts();
        auto context = makeContext(certificate);
        std::lock_guard lock(mutex_);
        named_[lowerCase(std::move(hostName))] = std::move(context);
    }

    /// Replaces the default certificate for the handshakes that start from
    /// now on.
    /// @throws boost::system::system_error as the class's Errors say; the
    /// old certificate stays then.
    void reload(const TlsCertificate& certificate)
    {
        requireOwnContexts();
        auto context = makeContext(certificate);
        std::lock_guard lock(mutex_);
        current_ = std::move(context);
    }

    /// As above, reporting failure in `ec` instead of throwing (for a
    /// signal handler that reloads on SIGHUP and must not end the server).
    void reload(const TlsCertificate& certificate, boost::system::error_code& ec) noexcept
    {
        ec = {};
        try {
            reload(certificate);
        } catch (const boost::system::system_error& failure) {
            ec = failure.code();
        } catch (const std::exception&) {
            ec = make_error_code(boost::system::errc::not_enough_memory);
        }
    }

    /// Replaces the certificate served for `hostName` (see `addServerName()`).
    void reload(const std::string& hostName, const TlsCertificate& certificate)
    {
        addServerName(hostName, certificate);
    }

    /// Replaces an application's context (made with `TlsContext(SSL_CTX*)`)
    /// for the handshakes that start from now on.
    /// @pre `native` is not null.
    void reload(SSL_CTX* native)
    {
        auto context = adopt(native);
        std::lock_guard lock(mutex_);
        current_ = std::move(context);
    }

    /// The context new handshakes start with, for reading its settings. It
    /// stays valid while the `TlsContext` exists and is not reloaded.
    SSL_CTX* nativeHandle() const
    {
        std::lock_guard lock(mutex_);
        return current_.get();
    }

    /// A new server-side `SSL` for one connection, or null with `ec` set.
    /// Used by `TlsTransport`; an application has no need to call it.
    SSL* newConnection(boost::system::error_code& ec) const
    {
        ERR_clear_error();
        SSL* ssl = nullptr;
        {
            std::lock_guard lock(mutex_);
            ssl = SSL_new(current_.get());
        }
        if (!ssl) {
            ec = detail::lastOpenSslError();
            return nullptr;
        }
        // Idle connections give their record buffers back (about 34 KiB
        // each); writes may come from a queue that moved (the retry of a
        // write never needs the same address: finch's BIO never blocks one).
        SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        // Several records per recv(): without it OpenSSL reads a header, then
        // the record, two system calls for each.
        SSL_set_read_ahead(ssl, 1);
        SSL_set_accept_state(ssl);
        if (!native_)
            SSL_set_app_data(ssl, const_cast<TlsContext*>(this));
        return ssl;
    }

private:
    struct ContextDeleter {
        void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
    };
    using ContextPointer = std::shared_ptr<SSL_CTX>;

    static ContextPointer adopt(SSL_CTX* native)
    {
        if (!native)
            throw boost::system::system_error(make_error_code(boost::system::errc::invalid_argument),
                "finch: TlsContext needs an SSL_CTX, not null");
        SSL_CTX_up_ref(native);
        return ContextPointer(native, ContextDeleter{});
    }

    void requireOwnContexts() const
    {
        if (native_)
            throw boost::system::system_error(make_error_code(boost::system::errc::invalid_argument),
                "finch: a TlsContext made from an application's SSL_CTX serves that context only");
    }

    static std::string lowerCase(std::string text)
    {
        std::transform(text.begin(), text.end(), text.begin(),
            [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
        return text;
    }

    [[noreturn]] static void fail(const std::string& what)
    {
        const boost::system::error_code ec = detail::lastOpenSslError();
        throw boost::system::system_error(ec, "finch: " + what);
    }

    ContextPointer makeContext(const TlsCertificate& certificate) const
    {
        ERR_clear_error();
        ContextPointer context(SSL_CTX_new(TLS_server_method()), ContextDeleter{});
        if (!context)
            fail("cannot create a TLS context");
        SSL_CTX* const ctx = context.get();
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
        if (SSL_CTX_use_certificate_chain_file(ctx, certificate.chainFile.c_str()) != 1)
            fail("cannot load the certificate chain " + certificate.chainFile);
        if (SSL_CTX_use_PrivateKey_file(ctx, certificate.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
            // OpenSSL compares the key with the certificate while loading it.
            if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
                fail("cannot load the private key " + certificate.keyFile);
            fail("the private key " + certificate.keyFile + " does not belong to the certificate " +
                 certificate.chainFile);
        }
        if (SSL_CTX_check_private_key(ctx) != 1)
            fail("the private key " + certificate.keyFile + " does not belong to the certificate " +
                 certificate.chainFile);
        SSL_CTX_set_alpn_select_cb(ctx, &selectAlpn, nullptr);
        SSL_CTX_set_tlsext_servername_callback(ctx, &selectServerName);
        return context;
    }

    // ALPN: http/1.1 if offered, else no answer (RFC 7301 allows a server
    // to ignore protocols it does not know; refusing would end the handshake).
    static int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
        unsigned int inLength, void*)
    {
        static constexpr unsigned char http11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
        for (unsigned int at = 0; at < inLength;) {
            const unsigned int length = in[at];
            if (at + 1 + length > inLength)
                break;
            if (length == sizeof http11 && std::memcmp(in + at + 1, http11, sizeof http11) == 0) {
                *out = in + at + 1;
                *outLength = static_cast<unsigned char>(length);
                return SSL_TLSEXT_ERR_OK;
            }
            at += 1 + length;
        }
        return SSL_TLSEXT_ERR_NOACK;
    }

    // SNI: switches the connection to the context of the name it asked for.
    static int selectServerName(SSL* ssl, int*, void*)
    {
        const char* const name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        auto* const self = static_cast<TlsContext*>(SSL_get_app_data(ssl));
        if (!name || !self)
            return SSL_TLSEXT_ERR_OK;
        if (auto context = self->find(lowerCase(name)))
            SSL_set_SSL_CTX(ssl, context.get());
        return SSL_TLSEXT_ERR_OK;
    }

    ContextPointer find(const std::string& name) const
    {
        std::lock_guard lock(mutex_);
        if (named_.empty())
            return nullptr;
        if (const auto exact = named_.find(name); exact != named_.end())
            return exact->second;
        // A wildcard covers exactly one label (RFC 6125 6.4.3).
        if (const auto dot = name.find('.'); dot != std::string::npos && dot > 0) {
            if (const auto wildcard = named_.find("*" + name.substr(dot)); wildcard != named_.end())
                return wildcard->second;
        }
        return nullptr;
    }

    mutable std::mutex mutex_;
    ContextPointer current_;
    std::map<std::string, ContextPointer, std::less<>> named_;
    bool native_ = false;
};

}  // namespace finch

#endif
