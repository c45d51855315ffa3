// The headless runner: runs lessons without a window and prints, per step, the calls
// made and the kernel's view (or JSON lines in the trace contract's shape).
#pragma once

#include "cli.hpp"

namespace sockscope {

// Returns the process exit code: 0 if every step showed what it claims, 1 if not.
int RunHeadless(const Options& options);

class TraceWriter;
// Opens options.Trace, if given, into `trace`; false after saying why on stderr.
bool OpenTrace(const Options& options, TraceWriter& trace);

} // namespace sockscope
