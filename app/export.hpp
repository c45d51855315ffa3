// --export-svg DIR: a lesson run headless to a step, then its three diagrams written as
// SVG (ui/svg_export.hpp). Only in builds with the GUI's library (SOCKSCOPE_BUILD_GUI).
#pragma once

#include "cli.hpp"

namespace sockscope {

// 0: the files are written; 1: written, but a step did not show what it claims (said on
// stderr); 2: bad input (no such lesson, a step out of range, DIR not writable): one line.
int RunExport(const Options& options);

} // namespace sockscope
