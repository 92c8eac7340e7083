#ifndef FINCH_DETAIL_DEFLATE_DEFLATE_OFFER_HPP
#define FINCH_DETAIL_DEFLATE_DEFLATE_OFFER_HPP

#include <finch/compression.hpp>

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finch::detail {

// What a connection agreed on for permessage-deflate: nothing (`accepted`
// false), or how each side compresses.
struct DeflateAgreement {
    bool accepted = false;
    // The window the server compresses with (9 to 15): the client may have asked for less.
    std::uint8_t serverWindowBits = 15;
    // Whether the client keeps its context between messages, and then how
    // large a window it uses (the connection keeps that much history).
    bool clientTakeover = false;
    std::uint8_t clientWindowBits = 15;
    // The value of the 101's Sec-WebSocket-Extensions.
    std::string response;
};

// One extension of a Sec-WebSocket-Extensions list (RFC 6455 9.1): a name
// and its parameters, with the quotes of quoted values taken off.
struct ExtensionOffer {
    std::string name;
    std::vector<std::pair<std::string, std::optional<std::string>>> params;
};

namespace offerText {

inline bool isTokenChar(char c) noexcept
{
    if (c <= 32 || c >= 127)
        return false;
    return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

inline void skipSpace(std::string_view text, std::size_t& at) noexcept
{
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t'))
        ++at;
}

inline std::optional<std::string> token(std::string_view text, std::size_t& at)
{
    const std::size_t begin = at;
    while (at < text.size() && isTokenChar(text[at]))
        ++at;
    if (at == begin)
        return std::nullopt;
    return std::string(text.substr(begin, at - begin));
}

// A token or a quoted string (RFC 7230 3.2.6), unquoted.
inline std::optional<std::string> value(std::string_view text, std::size_t& at)
{
    if (at >= text.size() || text[at] != '"')
        return token(text, at);
    std::string out;
    for (++at; at < text.size(); ++at) {
        char c = text[at];
        if (c == '"') {
            ++at;
            return out;
        }
        if (c == '\\') {
            if (++at == text.size())
                return std::nullopt;
            c = text[at];
        }
        out += c;
    }
    return std::nullopt;  // no closing quote
}

}  // namespace offerText

// Parses a Sec-WebSocket-Extensions value into its offers. Nothing when the
// text breaks the grammar anywhere: a client that sends such a header gets
// no extension, and its handshake goes on.
inline std::optional<std::vector<ExtensionOffer>> parseExtensionOffers(std::string_view text)
{
    using namespace offerText;
    std::vector<ExtensionOffer> offers;
    std::size_t at = 0;
    for (;;) {
        skipSpace(text, at);
        if (at == text.size())
            break;
        if (text[at] == ',') {  // empty list elements are allowed (RFC 7230 7)
            ++at;
            continue;
        }
        ExtensionOffer offer;
        auto name = token(text, at);
        if (!name)
            return std::nullopt;
        offer.name = std::move(*name);
        for (;;) {
            skipSpace(text, at);
            if (at == text.size() || text[at] == ',')
                break;
            if (text[at] != ';')
                return std::nullopt;
            ++at;
            skipSpace(text, at);
            auto key = token(text, at);
            if (!key)
                return std::nullopt;
            skipSpace(text, at);
            std::optional<std::string> val;
            if (at < text.size() && text[at] == '=') {
                ++at;
                skipSpace(text, at);
                val = value(text, at);
                if (!val)
                    return std::nullopt;
            }
            offer.params.emplace_back(std::move(*key), std::move(val));
        }
        offers.push_back(std::move(offer));
    }
    return offers;
}

// A window size parameter's value: 8 to 15, digits only.
inline std::optional<int> windowBitsOf(const std::string& text) noexcept
{
    if (text.empty() || text.size() > 2 || !std::all_of(text.begin(), text.end(), [](char c) {
            return c >= '0' && c <= '9';
        }))
        return std::nullopt;
    if (text.size() == 2 && text[0] == '0')
        return std::nullopt;
    const int bits = std::stoi(text);
    if (bits < 8 || bits > 15)
        return std::nullopt;
    return bits;
}

// The agreement for one permessage-deflate offer, or nothing when finch must
// decline it: an unknown or repeated parameter, a value out of range (RFC
// 7692 5: decline, do not fail), or a server window of 8 bytes, which zlib
// cannot compress with.
inline std::optional<DeflateAgreement> acceptDeflateOffer(const ExtensionOffer& offer, const PerMessageDeflate& settings)
{
    bool serverNoTakeover = false;
    bool clientNoTakeover = false;
    std::optional<int> serverMax;
    bool clientMaxGiven = false;
    std::optional<int> clientMax;
    std::vector<std::string_view> seen;
    for (const auto& [key, val] : offer.params) {
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            return std::nullopt;
        seen.push_back(key);
        if (key == "server_no_context_takeover" || key == "client_no_context_takeover") {
            if (val)
                return std::nullopt;
            (key[0] == 's' ? serverNoTakeover : clientNoTakeover) = true;
        } else if (key == "server_max_window_bits") {
            if (!val || !(serverMax = windowBitsOf(*val)))
                return std::nullopt;
        } else if (key == "client_max_window_bits") {
            clientMaxGiven = true;
            if (val && !(clientMax = windowBitsOf(*val)))
                return std::nullopt;
        } else {
            return std::nullopt;
        }
    }
    (void)serverNoTakeover;  // finch never keeps its context: it says so whether asked or not
    if (serverMax && *serverMax < 9)
        return std::nullopt;
    DeflateAgreement agreement;
    agreement.accepted = true;
    agreement.serverWindowBits = static_cast<std::uint8_t>(std::min(settings.serverMaxWindowBits, serverMax.value_or(15)));
    agreement.response = "permessage-deflate; server_no_context_takeover";
    if (serverMax)
        agreement.response += "; server_max_window_bits=" + std::to_string(agreement.serverWindowBits);
    if (!settings.clientContextTakeover || clientNoTakeover) {
        agreement.response += "; client_no_context_takeover";
    } else {
        agreement.clientTakeover = true;
        // The smallest window the client allows: it keeps that much history
        // here. One that lets the server choose (client_max_window_bits)
        // gets 9, zlib's smallest; one that does not uses 15 (RFC 7692 7.1.2.2).
        if (clientMaxGiven) {
            agreement.clientWindowBits = static_cast<std::uint8_t>(std::min(clientMax.value_or(15), 9));
            agreement.response += "; client_max_window_bits=" + std::to_string(agreement.clientWindowBits);
        }
    }
    return agreement;
}

// Whether `userAgent` is Safari 15.0 to 15.3, whose permessage-deflate keeps
// its context even when the server asks it not to (fixed in 15.4): finch
// would then fail its messages with 1007, so such a browser is answered
// without compression. Its User-Agent reads "... Version/15.2
// Safari/605.1.15" (or "Mobile/... Safari/" on iOS).
inline bool hasBrokenContextReset(std::string_view userAgent) noexcept
{
    constexpr std::string_view marker = "Version/15.";
    const auto at = userAgent.find(marker);
    if (at == std::string_view::npos)
        return false;
    std::size_t end = at + marker.size();
    unsigned minor = 0;
    const std::size_t digits = end;
    while (end < userAgent.size() && userAgent[end] >= '0' && userAgent[end] <= '9' && end - digits < 3)
        minor = minor * 10 + static_cast<unsigned>(userAgent[end++] - '0');
    if (end == digits || minor > 3)
        return false;
    return userAgent.find("Safari/", end) != std::string_view::npos;
}

// Picks the first permessage-deflate offer finch can accept, among every
// Sec-WebSocket-Extensions value of a request (`values`, in order). Declines
// everything when a value breaks the grammar.
inline DeflateAgreement negotiateDeflate(const std::vector<std::string_view>& values, const PerMessageDeflate& settings)
{
    for (const std::string_view text : values) {
        const auto offers = parseExtensionOffers(text);
        if (!offers)
            return {};
        for (const auto& offer : *offers)
            if (boost::beast::iequals(offer.name, "permessage-deflate"))
                if (auto agreement = acceptDeflateOffer(offer, settings))
                    return std::move(*agreement);
    }
    return {};
}

}  // namespace finch::detail

#endif
