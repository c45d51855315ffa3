// The lab's single clock. Events, snapshots and segments are stamped with it so the
// world model can put them in one order, whichever thread produced them.
#pragma once

namespace sockscope {

// Seconds on a monotonic clock since the process started (or since the first call, if
// that came earlier, e.g. from another file's static initialiser). Never goes back,
// unaffected by changes to the wall clock. Safe from any thread.
double MonotonicSeconds();

} // namespace sockscope
