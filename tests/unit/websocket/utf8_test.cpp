#include <finch/detail/websocket/utf8.hpp>

#include <catch2/catch.hpp>

#include <string>

// UTF-8 validation as RFC 3629 defines it, whole and in pieces cut anywhere.

using namespace finch::detail;

TEST_CASE("UTF-8 validation follows RFC 3629", "[unit][websocket]")
{
    CHECK(isValidUtf8(""));
    CHECK(isValidUtf8("plain ASCII, longer than eight bytes"));
    CHECK(isValidUtf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa6"));  // été € 🐦
    CHECK(isValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
    CHECK_FALSE(isValidUtf8("\x80"));  // lone continuation
    CHECK_FALSE(isValidUtf8("\xc0\xaf"));  // overlong
    CHECK_FALSE(isValidUtf8("\xe0\x80\xaf"));  // overlong
    CHECK_FALSE(isValidUtf8("\xed\xa0\x80"));  // surrogate
    CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(isValidUtf8("abcdefgh\xe2\x82"));  // cut short
}

TEST_CASE("Utf8Validator gives the same verdict for every split, and fails at the first bad byte", "[unit][websocket]")
{
    const std::string texts[] = {
        "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa6 and ASCII",
        "\xf4\x8f\xbf\xbf\xed\x9f\xbf",
        "abc\xed\xa0\x80xyz",
        "abc\xf0\x80\x80\x80",
        "\xe2\x82",
    };
    for (const std::string& text : texts) {
        const bool valid = isValidUtf8(text);
        for (std::size_t cut = 0; cut <= text.size(); ++cut) {
            Utf8Validator validator;
            const bool ok = validator.feed(std::string_view(text).substr(0, cut)) &&
                validator.feed(std::string_view(text).substr(cut)) && validator.complete();
            CAPTURE(text, cut);
            CHECK(ok == valid);
        }
    }
    // The surrogate's second byte is the first that cannot be UTF-8.
    Utf8Validator validator;
    CHECK(validator.feed("abc\xed"));
    CHECK_FALSE(validator.complete());
    CHECK_FALSE(validator.feed("\xa0"));
}
