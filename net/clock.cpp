#include "clock.hpp"

#include <chrono>

#include <time.h>

namespace sockscope {
namespace {

using Clock = std::chrono::steady_clock;

// A function-local static is initialised on first use, so a call made during another
// file's static initialisation still finds a valid origin.
Clock::time_point Origin()
{
    static const Clock::time_point origin = Clock::now();
    return origin;
}

// Pins the origin at process start when nobody asked earlier.
[[maybe_unused]] const Clock::time_point kStartup = Origin();

} // namespace

double MonotonicSeconds()
{
    return std::chrono::duration<double>(Clock::now() - Origin()).count();
}

long long ClockOriginNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Origin().time_since_epoch()).count();
}

double ThreadCpuSeconds()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

} // namespace sockscope
