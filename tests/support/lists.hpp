#ifndef FINCH_TESTS_SUPPORT_LISTS_HPP
#define FINCH_TESTS_SUPPORT_LISTS_HPP

// Test support: questions tests ask of the lists of ids and events they
// recorded, where the order a server produced them in is not the point.

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace finch::test {

// The same values in ascending order, to compare sets of ids whose arrival
// order is up to the threads.
inline std::vector<std::string> sorted(std::vector<std::string> values)
{
    std::sort(values.begin(), values.end());
    return values;
}

// How many times `value` occurs in `values`.
inline std::size_t countOf(const std::vector<std::string>& values, const std::string& value)
{
    return static_cast<std::size_t>(std::count(values.begin(), values.end(), value));
}

}  // namespace finch::test

#endif  // FINCH_TESTS_SUPPORT_LISTS_HPP
