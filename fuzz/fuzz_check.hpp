// What the fuzz harnesses assert. Unlike assert() it holds in every build type (the
// fuzzers are built with NDEBUG too): a broken invariant aborts, and libFuzzer reports
// it as a crash and keeps the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace sockscope {

inline void FuzzCheck(bool holds, const char* what)
{
    if (!holds) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

} // namespace sockscope
