#ifndef FINCH_DETAIL_WEBSOCKET_SHA1_HPP
#define FINCH_DETAIL_WEBSOCKET_SHA1_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace finch::detail {

// SHA-1 (FIPS 180-4), for the one place the WebSocket handshake needs it:
// Sec-WebSocket-Accept. Not for anything that needs a secure hash.
inline std::array<std::uint8_t, 20> sha1(std::string_view message) noexcept
{
    std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    const auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
    const auto compress = [&](const std::uint8_t* block) {
        std::uint32_t w[80];
        for (int i = 0; i < 16; ++i)
            w[i] = std::uint32_t(block[4 * i]) << 24 | std::uint32_t(block[4 * i + 1]) << 16 |
                std::uint32_t(block[4 * i + 2]) << 8 | std::uint32_t(block[4 * i + 3]);
        for (int i = 16; i < 80; ++i)
            w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i) {
            std::uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            const std::uint32_t next = rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = next;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    };

    const auto* bytes = reinterpret_cast<const std::uint8_t*>(message.data());
    std::size_t remaining = message.size();
    for (; remaining >= 64; remaining -= 64, bytes += 64)
        compress(bytes);
    // The tail, the 0x80 marker and the length in bits fill one or two blocks.
    std::uint8_t tail[128] = {};
    for (std::size_t i = 0; i < remaining; ++i)
        tail[i] = bytes[i];
    tail[remaining] = 0x80;
    const std::size_t tailSize = remaining + 9 <= 64 ? 64 : 128;
    const std::uint64_t bits = std::uint64_t(message.size()) * 8;
    for (int i = 0; i < 8; ++i)
        tail[tailSize - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
    compress(tail);
    if (tailSize == 128)
        compress(tail + 64);

    std::array<std::uint8_t, 20> digest{};
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 4; ++j)
            digest[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
    return digest;
}

}  // namespace finch::detail

#endif
