#ifndef FINCH_DETAIL_WEBSOCKET_CLOSE_HPP
#define FINCH_DETAIL_WEBSOCKET_CLOSE_HPP

#include <finch/detail/websocket/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace finch::detail {

// Close codes finch sends itself (RFC 6455 7.4.1, and 1013 from the IANA
// registry the RFC set up).
namespace closeCode {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t goingAway = 1001;
inline constexpr std::uint16_t protocolError = 1002;
inline constexpr std::uint16_t noStatus = 1005;  // received only: a close frame without a code
inline constexpr std::uint16_t invalidPayload = 1007;
inline constexpr std::uint16_t policyViolation = 1008;
inline constexpr std::uint16_t tooBig = 1009;
inline constexpr std::uint16_t internalError = 1011;
inline constexpr std::uint16_t tryAgainLater = 1013;
}  // namespace closeCode

// The longest reason a close frame can hold: control frames carry at most
// 125 bytes of payload, two of which are the code.
inline constexpr std::size_t maxCloseReason = 123;

// Whether `code` may appear in a close frame (RFC 6455 7.4): the codes the
// RFC and the IANA registry define for use on the wire (1000-1003,
// 1007-1014), and those left to libraries and applications (3000-4999).
// 1004 is reserved; 1005, 1006 and 1015 only report what happened and must
// never be sent; 1016-2999 belong to future protocol revisions. The same set
// applies in both directions: a peer that sends another code fails with 1002.
constexpr bool isValidCloseCode(std::uint16_t code) noexcept
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// Whether a server may close with `code` and `reason`: the reason must be
// UTF-8 and fit the frame.
inline bool isValidClose(std::uint16_t code, std::string_view reason) noexcept
{
    return isValidCloseCode(code) && reason.size() <= maxCloseReason && isValidUtf8(reason);
}

// The payload of a close frame: the code in network order, then the reason.
inline std::string closePayload(std::uint16_t code, std::string_view reason)
{
    std::string payload;
    payload.reserve(2 + reason.size());
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xFF);
    payload += reason;
    return payload;
}

}  // namespace finch::detail

#endif
