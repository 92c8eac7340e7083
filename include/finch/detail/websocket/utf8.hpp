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

// Checks UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF) as it arrives, in pieces of any size: a sequence may be cut
// between two pieces. RFC 6455 8.1 wants a text message that is not UTF-8
// failed with 1007, and Autobahn's 6.4 cases want it failed at the first bad
// byte, before the rest of the message (or of the frame) has arrived.
// ASCII, the common case of JSON, is skipped eight bytes at a time.
class Utf8Validator {
public:
    // Takes the next piece; false once the text can no longer be UTF-8,
    // whatever follows.
    bool feed(std::string_view piece) noexcept
    {
        const auto* p = reinterpret_cast<const unsigned char*>(piece.data());
        const auto* const end = p + piece.size();
        // The rest of a sequence cut by the previous piece.
        if (!continueSequence(p, end))
            return false;
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
            if (sequence.length == 0)
                return false;
            if (end - p >= sequence.length) {
                if (p[1] < sequence.low || p[1] > sequence.high)
                    return false;
                for (int i = 2; i < sequence.length; ++i)
                    if ((p[i] & 0xC0) != 0x80)
                        return false;
                p += sequence.length;
                continue;
            }
            // Cut: check what is here, remember what the rest must be.
            needed_ = static_cast<unsigned char>(sequence.length - 1);
            low_ = sequence.low;
            high_ = sequence.high;
            ++p;
            if (!continueSequence(p, end))
                return false;
        }
        return true;
    }

    // Whether the text fed so far ends on a character boundary: a message
    // that ends inside a sequence is not UTF-8.
    bool complete() const noexcept { return needed_ == 0; }

    void reset() noexcept
    {
        needed_ = 0;
        low_ = 0x80;
        high_ = 0xBF;
    }

private:
    // Checks the continuation bytes a sequence still needs, as far as the
    // piece goes; false at the first one out of range.
    bool continueSequence(const unsigned char*& p, const unsigned char* end) noexcept
    {
        for (; needed_ > 0 && p < end; --needed_, ++p) {
            if (*p < low_ || *p > high_)
                return false;
            low_ = 0x80;
            high_ = 0xBF;
        }
        return true;
    }

    unsigned char needed_ = 0;  // continuation bytes still to come
    unsigned char low_ = 0x80;  // the range the next one must lie in
    unsigned char high_ = 0xBF;
};

// Whether `text` is well-formed UTF-8, whole.
inline bool isValidUtf8(std::string_view text) noexcept
{
    Utf8Validator validator;
    return validator.feed(text) && validator.complete();
}

}  // namespace finch::detail

#endif
