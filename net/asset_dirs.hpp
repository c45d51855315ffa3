// Where sockscope looks for its data files (lessons, translations), in order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sockscope {

// `first` (when not empty, e.g. from an environment variable); beside the executable,
// ../share/sockscope/KIND (an installed or relocated copy) and assets/KIND (the build
// tree); then `source` and `install` (the source tree's and the install prefix's folder,
// from the build; skipped when null).
std::vector<std::string> AssetDirs(const std::string& first, std::string_view kind, const char* source,
                                   const char* install);

// The folder of the example programs lessons run ("$examples"): $SOCKSCOPE_EXAMPLES when
// set; else the first that exists of ../lib/sockscope/examples beside the executable (an
// installed or relocated copy), ../examples and examples beside it (the build tree), then
// the build's and the install prefix's (from the build). "" when none exists.
std::string ExamplesDir();

} // namespace sockscope
