#ifndef FINCH_DETAIL_WEBSOCKET_UTF8_HPP
#define FINCH_DETAIL_WEBSOCKET_UTF8_HPP

#include <cstdint>
#include <cstring>
#include <string_view>

namespace finch::detail {

// What a UTF-8 lead byte (0x80 or above) announces: how many bytes its
// sequence has, and the range its second byte must lie in, which is where
// RFC 3629 excludes overlong forms, surrogates and code points above
// U+10FFFF. `length` is 0 for a byte that cannot lead a sequence.
struct Utf8Lead {
    int length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
};

constexpr Utf8Lead utf8Lead(unsigned char lead) noexcept
{
    if (lead >= 0xC2 && lead <= 0xDF)
        return {2, 0x80, 0xBF};
    if (lead >= 0xE0 && lead <= 0xEF)
        return {3, static_cast<unsigned char>(lead == 0xE0 ? 0xA0 : 0x80),
            static_cast<unsigned char>(lead == 0xED ? 0x9F : 0xBF)};
    if (lead >= 0xF0 && lead <= 0xF4)
        return {4, static_cast<unsigned char>(lead == 0xF0 ? 0x90 : 0x80),
            static_cast<unsigned char>(lead == 0xF4 ? 0x8F : 0xBF)};
    return {};
}

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). A text frame that is not must close the
// connection with 1007 (RFC 6455 8.1). ASCII, the common case of JSON, is
// skipped eight bytes at a time.
inline bool isValidUtf8(std::string_view text) noexcept
{
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = p + text.size();
    while (p < end) {
        if (end - p >= 8) {
            std::uint64_t chunk;
            std::memcpy(&chunk, p, 8);
            if ((chunk & 0x8080808080808080ull) == 0) {
                p += 8;
                continue;
            }
        }
        const unsigned char lead = *p;
        if (lead < 0x80) {
            ++p;
            continue;
        }
        const Utf8Lead sequence = utf8Lead(lead);
        const int length = sequence.length;
        if (length == 0)
            return false;
        if (end - p < length)
            return false;
        if (p[1] < sequence.low || p[1] > sequence.high)
            return false;
        for (int i = 2; i < length; ++i)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += length;
    }
    return true;
}

}  // namespace finch::detail

#endif
