#ifndef FINCH_TLS_HPP
#define FINCH_TLS_HPP

/// @file
/// `wss://`: finch with TLS, on OpenSSL. Include this header (instead of, or
/// beside, `<finch/finch.hpp>`) and link the CMake target `finch::tls`, which
/// adds OpenSSL; a program that does not serve TLS needs neither.
///
/// @code
/// finch::TlsSocketManager manager(io, root);
/// auto tls = std::make_shared<finch::TlsContext>(finch::TlsCertificate{"chain.pem", "key.pem"});
/// manager.listen({boost::asio::ip::make_address("0.0.0.0"), 8443}, "/ws", tls);  // wss://
/// manager.listen({boost::asio::ip::make_address("0.0.0.0"), 8080});              // ws://, same manager
/// @endcode

#include <finch/finch.hpp>
#include <finch/tls_context.hpp>
#include <finch/tls_transport.hpp>

namespace finch {

/// A manager whose listeners may serve TLS (`wss://`) beside plain TCP: its
/// `listen(endpoint, target, std::shared_ptr<TlsContext>)` opens a TLS port.
using TlsSocketManager = BasicSocketManager<TlsTransport>;

/// `TlsSocketManager` with the application's data in each connection
/// (`Socket::data()`).
template <class UserData>
using TlsSocketManagerWith = BasicSocketManager<TlsTransport, UserData>;

/// The handle of a `TlsSocketManager`'s connections.
using TlsSocket = TlsSocketManager::SocketType;

}  // namespace finch

#endif
