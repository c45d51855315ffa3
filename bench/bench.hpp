// The sections of sockscope_bench (the project's issue 7), one file each.
#pragma once

#include "bench_util.hpp"

namespace sockscope::bench {

struct Options {
    int DumpSockets[3] = {10, 1000, 10000}; // lab sockets per dump (2 per connection)
    int NoiseSockets = 10000;               // held by the second process
    int RateConnections = 10000;            // connect + accept rate, memory
    int LagTrials = 50;
    double WorldBudget = 20;                // seconds the World may spend in section 5
    int UiConnections[3] = {10, 1000, 10000}; // connections in the World a frame draws
    double IdleSeconds = 10;                // the GUI measured while nothing changes
    double BusySeconds = 5;                 // ... and while it draws continuously
    int HistorySteps = 1000;                // lesson steps the GUI's history keeps in [5b]
};

// [1-3] DumpSockets for the lab's port with 10 / 1,000 / 10,000 sockets, the same with
// 10,000 unrelated sockets in a second process, and `ss` doing the same dump. Forks: run
// it while the process has no other threads.
void RunDumpSection(Report& report, const Options& options);

// [4] The lab's connect + accept rate against bare loops making the same calls.
void RunRateSection(Report& report, const Options& options);

// [5] Resident memory of a headless lab + World holding many connections, each measured
// in a fresh copy of this program (so no earlier section's heap counts).
void RunMemorySection(Report& report, const Options& options);
// The fresh copy's side: `sockscope_bench --memory-child lab|world N budget`. Prints
// key=value lines for the parent.
int MemoryChildMain(int argc, char** argv);

// [5b] The GUI's history (every moment kept) after HistorySteps lesson steps, in a fresh
// copy of this program; its side is `sockscope_bench --history-child STEPS`.
void RunHistorySection(Report& report, const Options& options);
int HistoryChildMain(int argc, char** argv);

// [6] From a connect() returning to the World showing the ESTABLISHED row.
void RunLagSection(Report& report, const Options& options);

// [7] The GUI: CPU time to build a frame of the whole layout at 10 / 1,000 / 10,000
// connections (no OpenGL), and the real binary under Xvfb: time to the first frame, CPU
// while idle, frames per second. Only in a build with the GUI (SOCKSCOPE_BENCH_UI).
void RunUiSection(Report& report, const Options& options);
// Only with --only playground (minutes): a 10,000-connection playground script in the GUI.
void RunPlaygroundSection(Report& report, const Options& options);

} // namespace sockscope::bench
