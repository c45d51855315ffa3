// The headless runner: runs lessons without a window and prints, per step, the calls
// made and the kernel's view (or JSON lines in the trace contract's shape).
#pragma once

#include "cli.hpp"
#include "player.hpp"
#include "world.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sockscope {

// Returns the process exit code: 0 if every step showed what it claims, 1 if not.
int RunHeadless(const Options& options);

// --headless --script FILE [--save-lesson OUT.json] (script.cpp): runs the playground
// command lines of FILE, printing per step what a lesson prints. 0: ran (and saved);
// 1: a call did not return or block in time; 2: a bad line or file (nothing ran).
int RunScript(const Options& options);
// Read a script and check every line (nothing runs). false: `error` is one line,
// "FILE:LINE: what". `steps`: how many steps it marks (calls after the last `step` are one).
bool LoadScript(const std::string& path, std::vector<std::string>& lines, int& steps, std::string& error);

class TraceWriter;
// --trace FILE opened into `trace` (nothing without --trace); false: said on stderr.
bool OpenTrace(const Options& options, TraceWriter& trace);

// What the runners print: every call made, and every moment of a lane's life shown with
// them, since id `after`, in the order the lab numbered them; one of them; the kernel's view.
std::vector<LaneReport> CallsSince(const World& world, std::uint64_t after);
void PrintCall(const CallEvent& call);
void PrintLaneEvent(const LaneEvent& event);
void PrintReport(const LaneReport& report);
void PrintKernelView(const World& world);

// What the headless runner prints after a step, live or from a recording (--replay).
struct StepReport {
    const Lesson* Of = nullptr;
    int Index = 0;                      // from 0
    const World* Model = nullptr;
    std::vector<LaneReport> Calls;      // made during the step
    StepStatus Status = StepStatus::Idle;
    std::vector<CheckResult> Results;
    std::vector<std::string> Retries;
    bool Done = true;                   // the step finished in time
    double T = 0;
    TraceLesson Trace;                  // the --json line's lesson, step and port
};
void PrintStepReport(const Options& options, const StepReport& report);
// "packets: N captured on lo" or "packets: inferred (why)".
void PrintPackets(bool capturing, std::uint64_t captured, bool via_helper, const Phrase& error);

// --replay FILE --headless: the recording's per-step output (a lesson), or its trace lines.
int RunReplayHeadless(const Options& options);

} // namespace sockscope
