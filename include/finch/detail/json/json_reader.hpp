#ifndef FINCH_DETAIL_JSON_JSON_READER_HPP
#define FINCH_DETAIL_JSON_JSON_READER_HPP

#include <finch/detail/websocket/utf8.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace finch::detail {

// Why readJson refused a text.
struct JsonReadFailure {
    std::size_t offset = 0;  // byte offset in the text where the problem was found
    bool tooDeep = false;  // the nesting limit was exceeded (nothing else wrong found before)
    std::string_view reason;  // a short static English phrase
};

namespace jsonReader {

using Json = nlohmann::json;

// What the string scanner must stop at. Everything else is copied as it is.
enum ByteClass : unsigned char { plain, quote, backslash, control, nonAscii };

struct ByteClasses {
    ByteClass of[256];
    constexpr ByteClasses()
        : of()
    {
        for (int c = 0; c < 256; ++c)
            of[c] = c < 0x20 ? control : c >= 0x80 ? nonAscii : c == '"' ? quote : c == '\\' ? backslash : plain;
    }
};

inline constexpr ByteClasses byteClasses{};

// Whether any of the eight bytes of `chunk` is one the string scanner must
// look at: a quote, a backslash, a control character or a non-ASCII byte.
// The usual "has a zero byte" bit trick, which never misses one; which byte it
// was is left to the byte-wise loop, so the byte order does not matter.
constexpr bool needsAttention(std::uint64_t chunk) noexcept
{
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    const auto hasZero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    const std::uint64_t belowSpace = (chunk - ones * 0x20) & ~chunk & highs;
    return ((hasZero(chunk ^ (ones * '"')) | hasZero(chunk ^ (ones * '\\')) | belowSpace | chunk) & highs) != 0;
}

constexpr bool isDigit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

constexpr bool isWhitespace(char c) noexcept
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// The value of a hexadecimal digit, or -1.
constexpr int hexValue(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Where readValue constructs a value, from nlohmann::json's constructor
// arguments; each returns the value, for arrays and objects to be filled.
// Concrete types, not lambdas local to the reading functions: those would
// make a new type, hence a new instantiation, at every level of nesting.
struct ResultPlace {
    Json& out;
    template <class... Value>
    Json& operator()(Value&&... value) const
    {
        return out = Json(std::forward<Value>(value)...);
    }
};

struct ElementPlace {
    Json::array_t& elements;
    template <class... Value>
    Json& operator()(Value&&... value) const
    {
        return elements.emplace_back(std::forward<Value>(value)...);
    }
};

struct MemberPlace {
    Json::object_t& members;
    std::string& key;
    template <class... Value>
    Json& operator()(Value&&... value) const
    {
        // try_emplace leaves the key and the value alone when the key is there.
        const auto [member, added] = members.try_emplace(std::move(key), std::forward<Value>(value)...);
        // A repeated key: the last value wins, as with nlohmann's parser.
        if (!added)
            member->second = Json(std::forward<Value>(value)...);
        return member->second;
    }
};

// Recursive descent over a pointer into the text. Every member function
// returns false once `failure` is set, and the callers pass that on at once.
class Reader {
public:
    Reader(std::string_view text, std::size_t maxDepth, JsonReadFailure& failure) noexcept
        : begin_(text.data())
        , p_(text.data())
        , end_(text.data() + text.size())
        , maxDepth_(maxDepth)
        , failure_(failure)
    {
    }

    bool readDocument(Json& out)
    {
        // nlohmann skips a UTF-8 byte order mark at the very start (and only
        // there), so a client whose messages begin with one was always served.
        if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0)
            p_ += 3;
        skipWhitespace();
        if (!readValue(ResultPlace{out}, 0))
            return false;
        skipWhitespace();
        // Unlike nlohmann's parser, which takes a NUL byte outside a string
        // for the end of the input and so accepts `{"a":1}` followed by a NUL
        // and anything at all, a NUL here is a trailing character like any
        // other: the text is the whole message, not a C string.
        if (p_ != end_)
            return fail(p_, "trailing characters after the value");
        return true;
    }

private:
    bool fail(const char* at, const char* reason) noexcept
    {
        failure_ = JsonReadFailure{static_cast<std::size_t>(at - begin_), false, reason};
        failed_ = true;
        return false;
    }

    bool endOfInput() noexcept { return fail(end_, "unexpected end of input"); }

    void skipWhitespace() noexcept
    {
        while (p_ != end_ && isWhitespace(*p_))
            ++p_;
    }

    // `place(args...)` constructs the value where it belongs (an array's new
    // element, an object's member, the result) from nlohmann::json's
    // constructor arguments and returns it: each value is constructed once,
    // with no temporary json value to move and destroy. `depth`: how many arrays and
    // objects enclose the value.
    template <class Place>
    bool readValue(const Place& place, std::size_t depth)
    {
        if (p_ == end_)
            return endOfInput();
        switch (*p_) {
        case '{':
            return readObject(place, depth);
        case '[':
            return readArray(place, depth);
        case '"': {
            ++p_;
            std::string text = readString();
            if (failed_)
                return false;
            place(std::move(text));
            return true;
        }
        case 't':
            if (!readLiteral("true"))
                return false;
            place(true);
            return true;
        case 'f':
            if (!readLiteral("false"))
                return false;
            place(false);
            return true;
        case 'n':
            if (!readLiteral("null"))
                return false;
            place(nullptr);
            return true;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
            return readNumber(place);
        default:
            return fail(p_, "expected a value");
        }
    }

    // The nesting limit is checked here, as each array or object opens,
    // rather than by a scan of the whole text beforehand: the recursion never
    // goes deeper than the limit, and valid messages are read only once.
    bool enter(std::size_t depth) noexcept
    {
        if (depth < maxDepth_)
            return true;
        failure_ = JsonReadFailure{static_cast<std::size_t>(p_ - begin_), true, "nested too deeply"};
        failed_ = true;
        return false;
    }

    template <class Place>
    bool readObject(const Place& place, std::size_t depth)
    {
        if (!enter(depth))
            return false;
        ++p_;
        auto& members = *place(Json::value_t::object).template get_ptr<Json::object_t*>();
        skipWhitespace();
        if (p_ != end_ && *p_ == '}') {
            ++p_;
            return true;
        }
        for (;;) {
            if (p_ == end_)
                return endOfInput();
            if (*p_ != '"')
                return fail(p_, "expected a string as an object key");
            ++p_;
            std::string key = readString();
            if (failed_)
                return false;
            skipWhitespace();
            if (p_ == end_)
                return endOfInput();
            if (*p_ != ':')
                return fail(p_, "expected ':' after an object key");
            ++p_;
            skipWhitespace();
            if (!readValue(MemberPlace{members, key}, depth + 1))
                return false;
            skipWhitespace();
            if (p_ == end_)
                return endOfInput();
            if (*p_ == '}') {
                ++p_;
                return true;
            }
            if (*p_ != ',')
                return fail(p_, "expected ',' or '}' after an object member");
            ++p_;
            skipWhitespace();
        }
    }

    template <class Place>
    bool readArray(const Place& place, std::size_t depth)
    {
        if (!enter(depth))
            return false;
        ++p_;
        auto& elements = *place(Json::value_t::array).template get_ptr<Json::array_t*>();
        skipWhitespace();
        if (p_ != end_ && *p_ == ']') {
            ++p_;
            return true;
        }
        // Arrays in messages are mostly short: room for four saves the
        // reallocations of the first elements (measured: 6% of the
        // instructions of a chat envelope's parse), yet wastes at most 48
        // bytes per array, so that a message of many tiny arrays does not take
        // much more memory than with nlohmann's parser. Room for eight saved
        // 4% more, at up to 112 bytes per array.
        elements.reserve(4);
        for (;;) {
            if (!readValue(ElementPlace{elements}, depth + 1))
                return false;
            skipWhitespace();
            if (p_ == end_)
                return endOfInput();
            if (*p_ == ']') {
                ++p_;
                return true;
            }
            if (*p_ != ',')
                return fail(p_, "expected ',' or ']' after an array element");
            ++p_;
            skipWhitespace();
        }
    }

    bool readLiteral(std::string_view literal) noexcept
    {
        for (const char expected : literal) {
            if (p_ == end_)
                return endOfInput();
            if (*p_ != expected)
                return fail(p_, "invalid literal");
            ++p_;
        }
        return true;
    }

    // After the opening quote. Most strings have neither escapes nor anything
    // to decode: those are found by one scan and copied once, at their final
    // size. Only escapes make the string grow piece by piece.
    // Returned by value, so that the string is constructed where the caller
    // keeps it; on failure it is unspecified and failed_ is set.
    std::string readString()
    {
        const char* run = p_;
        if (!scanRun())
            return {};
        std::string text(run, p_);
        while (*p_ == '\\') {
            if (!readEscape(text))
                return text;
            run = p_;
            if (!scanRun())
                return text;
            text.append(run, p_);
        }
        ++p_;  // the closing quote
        return text;
    }

    // Moves over ASCII and well-formed UTF-8 up to a quote or a backslash.
    // UTF-8 is checked here because nothing before guarantees it (nlohmann
    // checks it too), and strings are the only place it may appear.
    bool scanRun() noexcept
    {
        for (;;) {
            while (end_ - p_ >= 8) {
                std::uint64_t chunk;
                std::memcpy(&chunk, p_, 8);
                if (needsAttention(chunk))
                    break;
                p_ += 8;
            }
            // Within eight bytes of something to look at, or of the end.
            while (p_ != end_ && byteClasses.of[static_cast<unsigned char>(*p_)] == plain)
                ++p_;
            if (p_ == end_)
                return endOfInput();
            switch (byteClasses.of[static_cast<unsigned char>(*p_)]) {
            case plain:
                break;
            case quote:
            case backslash:
                return true;
            case control:
                // Including a NUL: JSON wants it escaped, as \u0000.
                return fail(p_, "control character in a string");
            case nonAscii:
                if (!skipUtf8())
                    return false;
                break;
            }
        }
    }

    // One UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing
    // above U+10FFFF).
    bool skipUtf8() noexcept
    {
        const auto* bytes = reinterpret_cast<const unsigned char*>(p_);
        const Utf8Lead sequence = utf8Lead(bytes[0]);
        const int length = sequence.length;
        if (length == 0)
            return fail(p_, "invalid UTF-8 in a string");
        for (int i = 1; i < length; ++i) {
            if (p_ + i == end_)
                return endOfInput();
            const bool valid =
                i == 1 ? bytes[1] >= sequence.low && bytes[1] <= sequence.high : (bytes[i] & 0xC0) == 0x80;
            if (!valid)
                return fail(p_, "invalid UTF-8 in a string");
        }
        p_ += length;
        return true;
    }

    bool readEscape(std::string& into)
    {
        const char* const escape = p_;
        if (end_ - p_ < 2)
            return endOfInput();
        char decoded;
        switch (p_[1]) {
        case '"':
            decoded = '"';
            break;
        case '\\':
            decoded = '\\';
            break;
        case '/':
            decoded = '/';
            break;
        case 'b':
            decoded = '\b';
            break;
        case 'f':
            decoded = '\f';
            break;
        case 'n':
            decoded = '\n';
            break;
        case 'r':
            decoded = '\r';
            break;
        case 't':
            decoded = '\t';
            break;
        case 'u':
            return readUnicodeEscape(into);
        default:
            return fail(escape, "invalid escape");
        }
        into.push_back(decoded);
        p_ += 2;
        return true;
    }

    // The four hex digits of a \u escape at p_, which it passes.
    bool readHexQuad(std::uint32_t& unit) noexcept
    {
        const char* const escape = p_;
        p_ += 2;
        unit = 0;
        for (int i = 0; i < 4; ++i, ++p_) {
            if (p_ == end_)
                return endOfInput();
            const int digit = hexValue(*p_);
            if (digit < 0)
                return fail(escape, "invalid \\u escape");
            unit = unit << 4 | static_cast<std::uint32_t>(digit);
        }
        return true;
    }

    // A \u escape, or two for a surrogate pair, written as UTF-8. A surrogate
    // that is not half of a pair has no UTF-8 form, so it is an error (as for
    // nlohmann) rather than a replacement character.
    bool readUnicodeEscape(std::string& into)
    {
        const char* const escape = p_;
        std::uint32_t code;
        if (!readHexQuad(code))
            return false;
        if (code >= 0xDC00 && code <= 0xDFFF)
            return fail(escape, "lone surrogate in a \\u escape");
        if (code >= 0xD800 && code <= 0xDBFF) {
            if (end_ - p_ < 2)
                return p_ == end_ || *p_ == '\\' ? endOfInput() : fail(escape, "lone surrogate in a \\u escape");
            if (p_[0] != '\\' || p_[1] != 'u')
                return fail(escape, "lone surrogate in a \\u escape");
            std::uint32_t low;
            if (!readHexQuad(low))
                return false;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail(escape, "lone surrogate in a \\u escape");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        char utf8[4];
        std::size_t length;
        if (code < 0x80) {
            utf8[0] = static_cast<char>(code);
            length = 1;
        } else if (code < 0x800) {
            utf8[0] = static_cast<char>(0xC0 | code >> 6);
            utf8[1] = static_cast<char>(0x80 | (code & 0x3F));
            length = 2;
        } else if (code < 0x10000) {
            utf8[0] = static_cast<char>(0xE0 | code >> 12);
            utf8[1] = static_cast<char>(0x80 | (code >> 6 & 0x3F));
            utf8[2] = static_cast<char>(0x80 | (code & 0x3F));
            length = 3;
        } else {
            utf8[0] = static_cast<char>(0xF0 | code >> 18);
            utf8[1] = static_cast<char>(0x80 | (code >> 12 & 0x3F));
            utf8[2] = static_cast<char>(0x80 | (code >> 6 & 0x3F));
            utf8[3] = static_cast<char>(0x80 | (code & 0x3F));
            length = 4;
        }
        into.append(utf8, length);
        return true;
    }

    // Passes a run of at least one digit.
    bool readDigits() noexcept
    {
        if (p_ == end_)
            return endOfInput();
        if (!isDigit(*p_))
            return fail(p_, "invalid number");
        do
            ++p_;
        while (p_ != end_ && isDigit(*p_));
        return true;
    }

    // The types are nlohmann's: an integer without fraction or exponent is
    // number_unsigned if it is not negative, number_integer if it is (-0
    // included), and number_float only when it does not fit in 64 bits.
    template <class Place>
    bool readNumber(const Place& place)
    {
        const char* const start = p_;
        const bool negative = *p_ == '-';
        if (negative)
            ++p_;
        const char* const integer = p_;
        if (p_ != end_ && *p_ == '0')
            ++p_;
        else if (!readDigits())
            return false;
        const char* const integerEnd = p_;
        bool isFloat = false;
        if (p_ != end_ && *p_ == '.') {
            ++p_;
            if (!readDigits())
                return false;
            isFloat = true;
        }
        const char* const exponent = p_;
        if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
            ++p_;
            if (p_ != end_ && (*p_ == '+' || *p_ == '-'))
                ++p_;
            if (!readDigits())
                return false;
            isFloat = true;
        }

        if (!isFloat) {
            const auto digits = integerEnd - integer;
            if (digits <= 20) {
                std::uint64_t value = 0;
                const char* d = integer;
                // 19 digits cannot overflow; only the 20th needs a check.
                for (const char* const safe = digits == 20 ? integerEnd - 1 : integerEnd; d != safe; ++d)
                    value = value * 10 + static_cast<std::uint64_t>(*d - '0');
                bool fits = true;
                if (d != integerEnd) {
                    const auto digit = static_cast<std::uint64_t>(*d - '0');
                    fits = value <= (std::numeric_limits<std::uint64_t>::max() - digit) / 10;
                    value = value * 10 + digit;
                }
                constexpr auto lowest = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
                if (fits && !negative) {
                    place(static_cast<Json::number_unsigned_t>(value));
                    return true;
                }
                if (fits && value <= lowest) {
                    place(value == lowest ? std::numeric_limits<Json::number_integer_t>::min()
                                          : -static_cast<Json::number_integer_t>(value));
                    return true;
                }
            }
            // Too big for 64 bits: a double, as nlohmann's strtod fallback gives.
        }

        // from_chars rounds correctly, as glibc's strtod (nlohmann's) does,
        // without a locale or a NUL-terminated copy.
        double value = 0;
        const auto result = std::from_chars(start, p_, value);
        if (result.ptr != p_)
            return fail(start, "invalid number");
        if (result.ec == std::errc::result_out_of_range) {
            // strtod gives +-HUGE_VAL or +-0 here; nlohmann keeps the zero and
            // refuses the infinity.
            if (overflows(integer, integerEnd, exponent))
                return fail(start, "number out of range");
            value = negative ? -0.0 : 0.0;
        } else if (result.ec != std::errc()) {
            return fail(start, "invalid number");
        }
        place(static_cast<Json::number_float_t>(value));
        return true;
    }

    // For a number out of the range of double, whether it is too big rather
    // than too small: the two are hundreds of orders of magnitude apart, so
    // the position of the first significant digit and the exponent suffice.
    bool overflows(const char* integer, const char* integerEnd, const char* exponent) const noexcept
    {
        long long magnitude;
        if (*integer != '0') {
            magnitude = integerEnd - integer;
        } else {
            magnitude = 0;
            for (const char* d = integerEnd + 1; d < exponent && *d == '0'; ++d)
                --magnitude;
        }
        if (exponent != p_) {
            const char* d = exponent + 1;
            const bool negativeExponent = *d == '-';
            if (*d == '+' || *d == '-')
                ++d;
            long long value = 0;
            constexpr long long cap = 1'000'000'000'000;  // far beyond any double, far below overflow
            for (; d != p_; ++d)
                value = value >= cap ? cap : value * 10 + (*d - '0');
            magnitude += negativeExponent ? -value : value;
        }
        return magnitude > 0;
    }

    const char* const begin_;
    const char* p_;
    const char* const end_;
    const std::size_t maxDepth_;
    JsonReadFailure& failure_;
    bool failed_ = false;
};

}  // namespace jsonReader

/// Parses `text` as exactly one JSON value (RFC 8259), with optional
/// whitespace (space, \t, \n, \r) around it, into `out`. Arrays and objects
/// may nest at most `maxDepth` levels (the outermost one counting as 1).
/// On failure returns false, leaves `out` unspecified (it may be partially
/// built) and sets `failure`.
///
/// It exists because every incoming message is parsed, and
/// nlohmann::json::parse spends most of that time in its lexer (a push_back per
/// character, a second UTF-8 check, strtod). This reader builds the same DOM
/// as nlohmann::json::parse for everything that accepts, with the same number
/// types and the same "last duplicate key wins", in one pass: strings are
/// copied once at their final size, numbers converted without a copy. It is as
/// strict (UTF-8 checked, lone surrogates and control characters refused) and
/// enforces the nesting limit as it goes, instead of a separate scan, so its
/// recursion is bounded by `maxDepth`. Only std::bad_alloc escapes; bad input
/// never throws.
///
/// One known difference: nlohmann stops at a NUL byte outside a string as if
/// the input ended there, and accepts what came before; this refuses it.
inline bool readJson(std::string_view text, nlohmann::json& out, std::size_t maxDepth, JsonReadFailure& failure)
{
    jsonReader::Reader reader(text, maxDepth, failure);
    return reader.readDocument(out);
}

}  // namespace finch::detail

#endif
