#include "allocation_counter.hpp"

#include <cstdlib>
#include <new>

namespace bench {

std::atomic<bool> countingAllocations{false};
std::atomic<std::uint64_t> allocationCount{0};

}  // namespace bench

void* operator new(std::size_t size)
{
    if (bench::countingAllocations.load(std::memory_order_relaxed))
        bench::allocationCount.fetch_add(1, std::memory_order_relaxed);
    if (void* memory = std::malloc(size == 0 ? 1 : size))
        return memory;
    throw std::bad_alloc();
}

void operator delete(void* memory) noexcept
{
    std::free(memory);
}

void operator delete(void* memory, std::size_t) noexcept
{
    std::free(memory);
}
