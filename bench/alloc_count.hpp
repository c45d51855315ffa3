// The number of heap allocations (operator new) the program has made so far.
#pragma once

#include <cstdint>

namespace sockscope::bench {
std::uint64_t HeapAllocations();
} // namespace sockscope::bench
