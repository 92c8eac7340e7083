// The example servers that offer TLS (finch_demo, chat): a manager on
// finch::TlsTransport (finch::TlsSocketManager) serves plain TCP or TLS from
// the same binary; with --tls-cert and --tls-key, --port serves TLS only
// (https:// for the HttpHandler, wss:// for WebSockets). Link finch::tls.
#ifndef FINCH_EXAMPLES_COMMON_TLS_SERVER_HPP
#define FINCH_EXAMPLES_COMMON_TLS_SERVER_HPP

#include "server_main.hpp"

#include <finch/tls.hpp>

#include <boost/system/system_error.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace examples {

// Where a server listens: "host:port", and whether with TLS.
struct Listening {
    std::string host;
    bool secure = false;

    // "http://host:port/path", or "https://..." with TLS.
    std::string httpUrl(std::string_view path) const
    {
        return (secure ? "https://" : "http://") + host + std::string(path);
    }

    // "ws://host:port/path", or "wss://..." with TLS.
    std::string webSocketUrl(std::string_view path) const
    {
        return (secure ? "wss://" : "ws://") + host + std::string(path);
    }
};

// The certificate and key of --tls-cert and --tls-key, or null after
// printing why they did not load (a missing file, a file that is not PEM, a
// key that does not belong to the certificate: finch's message names the
// file and OpenSSL's reason).
inline std::shared_ptr<finch::TlsContext> loadTls(const ServerSettings& settings)
{
    try {
        return std::make_shared<finch::TlsContext>(finch::TlsCertificate{settings.tlsCert, settings.tlsKey});
    } catch (const boost::system::system_error& failure) {
        std::cerr << settings.program << ": " << failure.what() << '\n';
        return nullptr;
    }
}

// Listens like listen() in server_main.hpp: with TLS when the settings have
// a certificate and key, else plain TCP. Returns nothing after printing why
// it could not (then the program should exit with 1).
template <class Manager>
std::optional<Listening> listenMaybeTls(Manager& manager, const ServerSettings& settings, std::string target)
{
    if (!settings.tls()) {
        auto host = listen(manager, settings, std::move(target));
        if (!host)
            return std::nullopt;
        return Listening{std::move(*host), false};
    }
    auto context = loadTls(settings);
    if (!context)
        return std::nullopt;
    auto host = listen(manager, settings, std::move(target), std::move(context));
    if (!host)
        return std::nullopt;
    return Listening{std::move(*host), true};
}

}  // namespace examples

#endif
