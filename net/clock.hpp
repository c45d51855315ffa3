// The lab's single clock. Events, snapshots and segments are stamped with it so the
// world model can put them in one order, whichever thread produced them.
#pragma once

namespace sockscope {

// Seconds on a monotonic clock since the process started (or since the first call, if
// that came earlier, e.g. from another file's static initialiser). Never goes back,
// unaffected by changes to the wall clock. Safe from any thread.
double MonotonicSeconds();
// The origin on the system-wide monotonic clock (CLOCK_MONOTONIC), in nanoseconds: the
// same clock in every process, so another process's times can be put on this one's.
long long ClockOriginNs();
// CPU time the calling thread has used, in seconds (CLOCK_THREAD_CPUTIME_ID): what a
// piece of work cost, whatever else the machine was doing meanwhile.
double ThreadCpuSeconds();

} // namespace sockscope
