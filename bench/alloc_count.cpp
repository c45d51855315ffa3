// Counts the program's heap allocations (operator new), so a benchmark can say how many
// a connection through the lab costs. One relaxed atomic increment per allocation.
#include "alloc_count.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::uint64_t> Allocations{0};
}

namespace sockscope::bench {
std::uint64_t HeapAllocations() { return Allocations.load(std::memory_order_relaxed); }
} // namespace sockscope::bench

void* operator new(std::size_t size)
{
    Allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    throw std::bad_alloc();
}

void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
