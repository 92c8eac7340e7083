#ifndef FINCH_TESTS_SUPPORT_JSON_SHAPE_HPP
#define FINCH_TESTS_SUPPORT_JSON_SHAPE_HPP

// Questions about a JSON value's shape that tests and fuzz targets ask of
// what a parser built. Only the standard library and nlohmann/json, so that
// the clang fuzz build can include it too.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace finch::test {

// How many arrays and objects `value` nests, itself included, counted without
// recursion: values built by nlohmann's parser may be far deeper than finch
// allows.
inline std::size_t depthOf(const nlohmann::json& value)
{
    std::size_t deepest = 0;
    std::vector<std::pair<const nlohmann::json*, std::size_t>> pending{{&value, 1}};
    while (!pending.empty()) {
        const auto [next, depth] = pending.back();
        pending.pop_back();
        if (!next->is_structured())
            continue;
        deepest = std::max(deepest, depth);
        for (const auto& child : *next)
            pending.emplace_back(&child, depth + 1);
    }
    return deepest;
}

// nlohmann's == holds 1 and 1.0 equal, and dump() writes 1 for both an
// unsigned and a signed 1: whether two values have the same types all the
// way down is a question of its own. Recursive: for values within finch's
// nesting limit.
inline bool sameTypes(const nlohmann::json& a, const nlohmann::json& b)
{
    if (a.type() != b.type() || a.size() != b.size())
        return false;
    if (a.is_object()) {
        for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
            if (ia.key() != ib.key() || !sameTypes(*ia, *ib))
                return false;
    } else if (a.is_array()) {
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!sameTypes(a[i], b[i]))
                return false;
    }
    return true;
}

}  // namespace finch::test

#endif
