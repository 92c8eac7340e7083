#include <finch/version.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// finch's version macros agree with each other, and with the version of
// CMake's project(), which the installed package's version file carries
// (FINCH_TEST_PROJECT_VERSION, defined for this file by tests/CMakeLists.txt).

namespace {

// "1.2.3" -> {1, 2, 3}; empty unless the text is three numbers joined by dots.
std::vector<int> versionNumbers(const std::string& text)
{
    std::vector<int> numbers{0};
    bool digit = false;
    for (const char c : text) {
        if (c >= '0' && c <= '9') {
            numbers.back() = numbers.back() * 10 + (c - '0');
            digit = true;
        } else if (c == '.' && digit) {
            numbers.push_back(0);
            digit = false;
        } else {
            return {};
        }
    }
    if (!digit || numbers.size() != 3)
        return {};
    return numbers;
}

}  // namespace

TEST_CASE("FINCH_VERSION is FINCH_VERSION_STRING as major * 10000 + minor * 100 + patch", "[version]")
{
    const auto numbers = versionNumbers(FINCH_VERSION_STRING);
    REQUIRE(numbers.size() == 3);
    // Past 99, minor and patch would run into the next field.
    CHECK(numbers[1] < 100);
    CHECK(numbers[2] < 100);
    CHECK(FINCH_VERSION == numbers[0] * 10000 + numbers[1] * 100 + numbers[2]);
}

TEST_CASE("the version macros are the CMake project's version", "[version]")
{
    CHECK(std::string(FINCH_VERSION_STRING) == FINCH_TEST_PROJECT_VERSION);
}
