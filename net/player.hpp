// Steps through a lesson on a lab: submits each step's calls in order, waits for each
// to return (or to block, when the lesson says it blocks), then waits for the kernel's
// view to satisfy the step's checks. Non-blocking: Tick() advances it, so the GUI's
// frame loop and the headless runner drive it the same way. Single-threaded: use it
// on the thread that owns the World.
#pragma once

#include "lab.hpp"
#include "lesson.hpp"
#include "world.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sockscope {

// Values a lesson file can name: "$port" (the listener's port) and "$backlog" (the
// backlog passed to listen()). A string that is exactly "$name" becomes the number.
using LessonVars = std::map<std::string, long>;

enum class StepStatus : std::uint8_t { Idle, Running, Checking, Passed, Failed };
std::string_view StepStatusName(StepStatus s);

struct CheckResult {
    std::string What;      // "call" or the check's What
    Phrase Claim;          // in words: a call's verdict, or verbatim the lesson's Says.En (or a description)
    bool Ok = false;
    Phrase Seen;           // what was seen instead, when not Ok
};

struct PlayerOptions {
    double CallTimeout = 5.0;   // seconds a call may take before the step fails
    double CheckTimeout = 4.0;  // seconds the kernel may take to show the expected state
    double BlockedGrace = 0.05; // seconds a call must stay blocked to count as blocked
};

class LessonPlayer {
public:
    LessonPlayer(Lab& lab, World& world, PlayerOptions options = {});

    // Load a lesson and reset the lab. port 0: a free port is picked.
    void Load(Lesson lesson, int port = 0);
    // Reset the lab and the world and go back before step 1. port 0: keep the current
    // one unless it was taken (then a free port is picked); >0: use that port.
    void Reset(int port = 0);
    // Add a step after the last one (the playground's lesson grows a step per command).
    void AppendStep(LessonStep step)
    {
        if (LessonData)
            LessonData->Steps.push_back(std::move(step));
    }
    // Drop the steps not done yet (the playground continues a lesson from here) and give
    // the lesson the title `title`. Ignored while a step is running.
    void KeepStepsDone(const Text& title)
    {
        if (!LessonData || Busy())
            return;
        LessonData->Steps.resize(static_cast<std::size_t>(StepsDone()));
        LessonData->Title = title;
    }
    // Begin the next step (ignored while a step is running or after the last one).
    void StepForward();
    // Advance: call at least once per frame, after applying the lab's events to the world.
    void Tick(double now);

    bool Loaded() const { return LessonData.has_value(); }
    const Lesson* Current() const { return LessonData ? &*LessonData : nullptr; }
    int StepIndex() const { return Step; }       // 0-based index of the current/last step, -1 before step 1
    int StepsDone() const { return Step + (Status == StepStatus::Passed || Status == StepStatus::Failed ? 1 : 0); }
    bool Busy() const { return Status == StepStatus::Running || Status == StepStatus::Checking; }
    bool AtEnd() const;
    StepStatus CurrentStatus() const { return Status; }
    const std::vector<CheckResult>& Results() const { return Checks; }
    int Port() const { return LessonPort; }
    // Pass `backlog` to every listen() of the lesson instead of the file's value (-1: the file's).
    void SetBacklogOverride(int backlog) { BacklogOverride = backlog; }
    // Servers bind every interface (0.0.0.0, ::) instead of loopback: other machines can
    // connect. Off by default: a lab must not be reachable from the network unasked.
    void SetBindAll(bool all) { BindAll = all; }
    bool BindsAll() const { return BindAll; }
    LessonVars Vars() const;
    // The call the player is waiting for (index into the step's calls), -1 if none.
    int CallIndex() const { return NextCall - 1; }
    // A short, human-readable status line ("step 3/7: checking the kernel's view").
    std::string StatusLine() const;
    // Which attempt at the current step this is (1 unless the step has "retry" and an
    // earlier attempt failed; then the lab was reset and steps 1.. were replayed).
    int Attempt() const { return AttemptNo; }
    // Why each earlier attempt at the current step failed, oldest first.
    const std::vector<std::string>& RetryLog() const { return Retries; }
    // True while earlier steps are being replayed for a new attempt.
    bool Replaying() const { return ReplayTarget > Step; }
    // The lab's id for the lesson's call `call` of step `step` in this attempt (0: not
    // submitted yet). The code view finds each line's result with it.
    std::uint64_t CallId(int step, int call) const
    {
        auto it = CallIds.find({step, call});
        return it == CallIds.end() ? 0 : it->second;
    }
    // The step being attempted: StepIndex(), or the one a replay leads up to.
    int TargetStep() const { return Replaying() ? ReplayTarget : Step; }

private:
    void SubmitNext(double now);
    bool CallSettled(const LessonCall& call, std::uint64_t id, double now, CheckResult& result);
    void EvaluateChecks(bool final_attempt);
    void ClearLab();
    void AfterVerdict();
    void BeginStep();

    Lab& LabRef;
    World& WorldRef;
    PlayerOptions Options;
    std::optional<Lesson> LessonData;
    int LessonPort = 0;
    int BacklogOverride = -1;
    bool BindAll = false;
    int Step = -1;
    StepStatus Status = StepStatus::Idle;
    int NextCall = 0;
    std::uint64_t WaitingId = 0;
    std::vector<std::pair<int, std::uint64_t>> AsyncCalls; // (call index, id) not yet settled
    double Deadline = 0;
    std::uint64_t CheckedVersion = ~0ull; // the world's version last judged in this step
    double LastCallEnd = 0;
    double BlockedSince = 0;
    std::vector<CheckResult> Checks;
    int AttemptNo = 1;
    int ReplayTarget = -1;                 // the step a new attempt replays up to
    std::vector<std::string> Retries;
    std::map<std::pair<int, int>, std::uint64_t> CallIds; // (step, call) -> id, this attempt
};

// Apply the lab's events to the world and tick the player until the current step is
// over or `timeout` seconds pass; `after_tick` (optional) runs after each tick (trace
// writing, printing). Returns false on timeout. For the headless runner, screenshots
// and tests.
// `on_event` (optional) sees each event just before the world applies it (a recorder).
bool DriveUntilIdle(Lab& lab, World& world, LessonPlayer& player, double timeout,
                    const std::function<void()>& after_tick = {},
                    const std::function<void(const LabEvent&)>& on_event = {});

// Pick a TCP port on 127.0.0.1 that is free now (bind to 0, read it, close).
int PickFreePort();

// The trace contract's object for the world as it is now (DESIGN.md, "Trace contract").
// `calls` are the calls finished (and the lane events that happened) since the previous line.
nlohmann::json TraceLine(const World& world, const LessonPlayer* player, double t,
                         const std::vector<LaneReport>& calls);
// The same for a lesson not being played (a recording's): its data, the player's
// StepIndex() and port then.
struct TraceLesson {
    const Lesson* Data = nullptr;
    int Step = -1;
    int Port = 0;
};
nlohmann::json TraceLine(const World& world, const TraceLesson* lesson, double t,
                         const std::vector<LaneReport>& calls);
// No lesson at all (--run, --watch).
inline nlohmann::json TraceLine(const World& world, std::nullptr_t, double t, const std::vector<LaneReport>& calls)
{
    return TraceLine(world, static_cast<const TraceLesson*>(nullptr), t, calls);
}
nlohmann::json CallToJson(const CallEvent& call);
nlohmann::json LaneEventToJson(const LaneEvent& event);
nlohmann::json SegmentToJson(const Segment& segment);

// Whether `n` matching entries satisfy the check's count (exact, or a rule like ">=4").
bool CountSatisfies(const Check& check, int n);

// How many entries of the trace-shaped `line` match `check` (variables substituted).
int CountMatches(const nlohmann::json& line, const Check& check, const LessonVars& vars);

} // namespace sockscope
