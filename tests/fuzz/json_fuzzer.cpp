#include <finch/detail/json/json_reader.hpp>

#include <nlohmann/json.hpp>

#include "../support/json_shape.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

// libFuzzer target for finch's JSON reader, against nlohmann::json::parse as
// the reference: both must accept the same inputs and build the same values.
//
// Allowed differences: nlohmann takes a NUL byte outside a string for the end
// of the input (and may accept what precedes it), and it has no nesting limit.
//
// A broken invariant traps, which libFuzzer reports as a crash with the input.

namespace {

using nlohmann::json;
using finch::test::depthOf;
using finch::test::sameTypes;

constexpr std::size_t maxDepth = 128;

[[noreturn]] void violated(
    const char* what, std::string_view text, const finch::detail::JsonReadFailure* failure = nullptr)
{
    std::fprintf(stderr, "json_fuzzer: %s\n", what);
    if (failure)
        std::fprintf(stderr, "readJson: %.*s at %zu%s\n", static_cast<int>(failure->reason.size()),
            failure->reason.data(), failure->offset, failure->tooDeep ? " (too deep)" : "");
    std::fprintf(stderr, "input (%zu bytes): %.*s\n", text.size(), static_cast<int>(text.size()), text.data());
    __builtin_trap();
}

// How many arrays and objects are open just before `offset`, the text before
// it being valid JSON so far (readJson got that far), so that brackets in
// strings are the only ones not to count.
std::size_t openBefore(std::string_view text, std::size_t offset)
{
    std::size_t depth = 0;
    bool inString = false;
    bool escaped = false;
    for (std::size_t i = 0; i < offset; ++i) {
        const char c = text[i];
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return depth;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(bytes), size);

    json ours;
    finch::detail::JsonReadFailure failure;
    bool accepted = false;
    try {
        accepted = finch::detail::readJson(text, ours, maxDepth, failure);
    } catch (...) {
        violated("readJson threw", text);
    }
    const json theirs = json::parse(text.begin(), text.end(), nullptr, false);

    if (!accepted) {
        if (failure.reason.empty() || failure.offset > size)
            violated("a refusal without a reason, or with an offset past the end", text, &failure);
        if (failure.tooDeep) {
            const bool opening = failure.offset < size && (text[failure.offset] == '[' || text[failure.offset] == '{');
            if (!opening || openBefore(text, failure.offset) != maxDepth)
                violated("refused as too deep, but not at an array or object opening beyond the limit", text, &failure);
        }
        if (!theirs.is_discarded() && depthOf(theirs) <= maxDepth && text.find('\0') == std::string_view::npos)
            violated("nlohmann accepts within the depth limit, readJson refuses", text, &failure);
        if (!theirs.is_discarded() && depthOf(theirs) > maxDepth && !failure.tooDeep &&
            text.find('\0') == std::string_view::npos)
            violated("a value too deep was refused, but not as too deep", text, &failure);
        return 0;
    }
    if (theirs.is_discarded())
        violated("readJson accepts, nlohmann refuses", text);
    if (depthOf(ours) > maxDepth)
        violated("readJson accepted a value deeper than the limit", text);
    if (ours != theirs || ours.dump() != theirs.dump() || !sameTypes(ours, theirs))
        violated("readJson and nlohmann build different values", text);
    return 0;
}
