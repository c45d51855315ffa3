// SIGINT and SIGTERM as a request to stop: while a StopSignals lives, either sets
// StopSignal (which a loop looks at) instead of ending the process; the old actions come
// back on destruction. One at a time (the headless runs and the GUI use it).
#pragma once

#include <atomic>
#include <csignal>

namespace sockscope {

inline std::atomic<int> StopSignal{0};

inline void OnStopSignal(int sig) { StopSignal = sig; }

struct StopSignals {
    struct sigaction OldInt {}, OldTerm {};
    StopSignals()
    {
        StopSignal = 0;
        struct sigaction sa {};
        sa.sa_handler = OnStopSignal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &OldInt);
        sigaction(SIGTERM, &sa, &OldTerm);
    }
    ~StopSignals()
    {
        sigaction(SIGINT, &OldInt, nullptr);
        sigaction(SIGTERM, &OldTerm, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
};

} // namespace sockscope
