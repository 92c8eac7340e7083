#ifndef FINCH_DETAIL_MEMORY_PREFETCH_HPP
#define FINCH_DETAIL_MEMORY_PREFETCH_HPP

#include <cstddef>
#include <cstdint>

namespace finch::detail {

// The cache line of the x86-64 and AArch64 machines finch runs on; on a
// machine with longer lines, prefetchLines() asks for some twice.
inline constexpr std::size_t cacheLineSize = 64;

// Asks the CPU to bring the cache lines of [begin, begin + bytes) in, without
// waiting for them. A broadcast writes to a thousand connections whose state
// is cold: fetched ahead, their cache misses overlap the system call of the
// write before instead of stalling the one after. A hint only: it never
// faults, and it compiles to nothing where the compiler has no builtin.
inline void prefetchLines(const void* begin, std::size_t bytes) noexcept
{
#if defined(__GNUC__) || defined(__clang__)
    const auto first = reinterpret_cast<std::uintptr_t>(begin) & ~(std::uintptr_t{cacheLineSize} - 1);
    const auto end = reinterpret_cast<std::uintptr_t>(begin) + bytes;
    for (std::uintptr_t line = first; line < end; line += cacheLineSize)
        __builtin_prefetch(reinterpret_cast<const void*>(line));
    // GCC counts a prefetch as no side effect, finds the callers pure and
    // drops them (seen at -O2: none was left in a broadcast's loop). An
    // empty volatile asm is a side effect that emits no instruction.
    __asm__ __volatile__("");
#else
    (void)begin;
    (void)bytes;
#endif
}

}  // namespace finch::detail

#endif
