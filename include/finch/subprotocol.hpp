#ifndef FINCH_SUBPROTOCOL_HPP
#define FINCH_SUBPROTOCOL_HPP

#include <finch/http.hpp>

#include <string>
#include <vector>

namespace finch {

/// The subprotocols a WebSocket upgrade request offers (RFC 6455 1.9, 4.1):
/// the tokens of every `Sec-WebSocket-Protocol` header field, in the
/// client's order of preference, the fields' order first. A field's value is
/// split on commas and each token trimmed of spaces and tabs; empty tokens
/// are skipped. Tokens are returned as the client wrote them: subprotocol
/// names compare case-sensitively.
///
/// @code
/// // Sec-WebSocket-Protocol: finch.cbor, finch.json
/// // Sec-WebSocket-Protocol: chat
/// offeredSubprotocols(request) == std::vector<std::string>{"finch.cbor", "finch.json", "chat"};
/// @endcode
///
/// For an upgrade handler that picks a subprotocol itself
/// (`BasicUpgradeDecision::withSubprotocol`).
///
/// @return the offered subprotocols; empty when the request offers none.
///
/// @par Thread Safety
/// Safe to call from any thread; it only reads `request`, which must not be
/// modified concurrently.
std::vector<std::string> offeredSubprotocols(const Request& request);

}  // namespace finch

#include <finch/impl/subprotocol.hpp>

#endif
