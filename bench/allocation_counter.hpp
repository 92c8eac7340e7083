#ifndef FINCH_BENCH_ALLOCATION_COUNTER_HPP
#define FINCH_BENCH_ALLOCATION_COUNTER_HPP

// A replacement of the global operator new that counts its calls while
// `countingAllocations` is set (allocation_counter.cpp). In a translation
// unit of its own, so that the compiler cannot inline it into its callers.

#include <atomic>
#include <cstdint>

namespace bench {

extern std::atomic<bool> countingAllocations;
extern std::atomic<std::uint64_t> allocationCount;

}  // namespace bench

#endif
