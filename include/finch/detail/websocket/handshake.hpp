#ifndef FINCH_DETAIL_WEBSOCKET_HANDSHAKE_HPP
#define FINCH_DETAIL_WEBSOCKET_HANDSHAKE_HPP

#include <finch/detail/websocket/sha1.hpp>
#include <finch/http.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace finch::detail {

inline std::string base64Encode(const std::uint8_t* data, std::size_t size)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t group = std::uint32_t(data[i]) << 16 | std::uint32_t(data[i + 1]) << 8 | data[i + 2];
        out += alphabet[group >> 18 & 63];
        out += alphabet[group >> 12 & 63];
        out += alphabet[group >> 6 & 63];
        out += alphabet[group & 63];
    }
    if (i < size) {
        const std::uint32_t group = std::uint32_t(data[i]) << 16 | (i + 1 < size ? std::uint32_t(data[i + 1]) << 8 : 0);
        out += alphabet[group >> 18 & 63];
        out += alphabet[group >> 12 & 63];
        out += i + 1 < size ? alphabet[group >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

// RFC 6455 4.2.2: base64(SHA-1(key + the protocol's GUID)).
inline std::string secWebSocketAccept(std::string_view key)
{
    std::string input(key);
    input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    const auto digest = sha1(input);
    return base64Encode(digest.data(), digest.size());
}

// Whether `key` is 16 bytes in base64 (24 characters ending in "=="), as
// RFC 6455 4.1 requires of a client.
inline bool isValidWebSocketKey(std::string_view key) noexcept
{
    if (key.size() != 24 || key.substr(22) != "==")
        return false;
    for (std::size_t i = 0; i < 22; ++i) {
        const char c = key[i];
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!ok)
            return false;
    }
    return true;
}

// Checks the parts of an upgrade request that `beast::websocket::is_upgrade`
// leaves out. The status to refuse it with, or nothing if it is acceptable.
inline std::optional<boost::beast::http::status> upgradeRefusal(const Request& request)
{
    namespace http = boost::beast::http;
    const auto version = request.find(http::field::sec_websocket_version);
    if (version == request.end() || version->value() != "13")
        return http::status::upgrade_required;  // with the version we speak
    const auto key = request.find(http::field::sec_websocket_key);
    if (key == request.end() || !isValidWebSocketKey(key->value()))
        return http::status::bad_request;
    return std::nullopt;
}

// The 101 answer to an acceptable upgrade request, as bytes; with the
// chosen subprotocol, when there is one (it comes from the client's own
// header, so it holds no line break), and the accepted extensions, when
// there are (finch writes them).
inline std::string switchingProtocolsResponse(
    const Request& request, std::string_view subprotocol = {}, std::string_view extensions = {})
{
    std::string out = "HTTP/1.1 101 Switching Protocols\r\n"
                      "Upgrade: websocket\r\n"
                      "Connection: Upgrade\r\n"
                      "Server: finch\r\n"
                      "Sec-WebSocket-Accept: ";
    out += secWebSocketAccept(request[boost::beast::http::field::sec_websocket_key]);
    if (!subprotocol.empty()) {
        out += "\r\nSec-WebSocket-Protocol: ";
        out += subprotocol;
    }
    if (!extensions.empty()) {
        out += "\r\nSec-WebSocket-Extensions: ";
        out += extensions;
    }
    out += "\r\n\r\n";
    return out;
}

}  // namespace finch::detail

#endif
