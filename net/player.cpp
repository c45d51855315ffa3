#include "player.hpp"

#include "asset_dirs.hpp"
#include "clock.hpp"
#include "probe.hpp"

#include <algorithm>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sockscope {

std::string_view StepStatusName(StepStatus s)
{
    switch (s) {
    case StepStatus::Idle: return "idle";
    case StepStatus::Running: return "running";
    case StepStatus::Checking: return "checking";
    case StepStatus::Passed: return "passed";
    case StepStatus::Failed: return "failed";
    }
    return "?";
}

namespace {

int BindAnyLoopbackPort()
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0)
        port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

// Whether the kernel lists any socket on `port` (a listener, a connection, a TIME-WAIT).
bool PortHasSockets(int port)
{
    std::uint16_t p = static_cast<std::uint16_t>(port);
    std::string error;
    return !DumpSockets(std::span<const std::uint16_t>(&p, 1), &error).Sockets.empty() || !error.empty();
}

} // namespace

int PickFreePort()
{
    // bind(0) happily hands out a port that is still the remote end of some other
    // program's TIME-WAIT sockets; those would show up in the lesson's view. Prefer a
    // port the kernel lists no socket for at all.
    int port = 0;
    for (int attempt = 0; attempt < 20; ++attempt) {
        port = BindAnyLoopbackPort();
        if (port == 0)
            return 0;
        if (!PortHasSockets(port))
            return port;
    }
    return port;
}

LessonPlayer::LessonPlayer(Lab& lab, World& world, PlayerOptions options)
    : LabRef(lab), WorldRef(world), Options(options)
{
}

void LessonPlayer::Load(Lesson lesson, int port)
{
    LessonData = std::move(lesson);
    LessonPort = port > 0 ? port : PickFreePort();
    Reset(LessonPort);
}

void LessonPlayer::Reset(int port)
{
    if (port > 0)
        LessonPort = port;
    AttemptNo = 1;
    ReplayTarget = -1;
    Retries.clear();
    ClearLab();
}

void LessonPlayer::ClearLab()
{
    LabRef.Reset();
    WorldRef.Clear();
    Step = -1;
    Status = StepStatus::Idle;
    NextCall = 0;
    WaitingId = 0;
    AsyncCalls.clear();
    Checks.clear();
    CallIds.clear();
}

bool CountSatisfies(const Check& check, int n)
{
    if (auto rule = NumericRule(check.CountRule))
        return rule(n);
    return n == check.Count;
}

LessonVars LessonPlayer::Vars() const
{
    long backlog = BacklogOverride;
    if (backlog < 0 && LessonData)
        for (const auto& step : LessonData->Steps)
            for (const auto& call : step.Calls)
                if (backlog < 0 && call.Request.Call == CallId::Listen)
                    backlog = call.Request.Backlog;
    return {{"port", LessonPort}, {"backlog", backlog}};
}

bool LessonPlayer::AtEnd() const
{
    return !LessonData || Step + 1 >= static_cast<int>(LessonData->Steps.size());
}

void LessonPlayer::StepForward()
{
    if (!LessonData || Busy() || AtEnd())
        return;
    AttemptNo = 1;
    ReplayTarget = -1;
    Retries.clear();
    BeginStep();
}

void LessonPlayer::BeginStep()
{
    ++Step;
    Status = StepStatus::Running;
    NextCall = 0;
    WaitingId = 0;
    AsyncCalls.clear();
    LastCallEnd = 0;
    Checks.clear();
}

std::string LessonPlayer::StatusLine() const
{
    if (!LessonData)
        return "no lesson loaded";
    std::string total = std::to_string(LessonData->Steps.size());
    if (Step < 0)
        return "ready: " + total + " steps, port " + std::to_string(LessonPort);
    std::string head = "step " + std::to_string(Step + 1) + "/" + total + ": ";
    if (ReplayTarget >= 0)
        head += "attempt " + std::to_string(AttemptNo) + ", " +
                (Replaying() ? "replaying up to step " + std::to_string(ReplayTarget + 1) + ", " : "");
    switch (Status) {
    case StepStatus::Running: return head + "making the calls";
    case StepStatus::Checking: return head + "waiting for the kernel to show the expected state";
    case StepStatus::Passed: return head + "the kernel shows what the lesson says";
    case StepStatus::Failed: {
        for (const auto& c : Checks)
            if (!c.Ok)
                return head + "NOT as expected: " + c.Claim.English() +
                       (c.Seen.Empty() ? "" : " (seen: " + c.Seen.English() + ")");
        return head + "failed";
    }
    case StepStatus::Idle: break;
    }
    return head + "idle";
}

void LessonPlayer::SubmitNext(double now)
{
    const LessonCall& call = LessonData->Steps[static_cast<std::size_t>(Step)].Calls[static_cast<std::size_t>(NextCall)];
    CallRequest request = call.Request;
    if (call.PortFromLab)
        request.Port = LessonPort;
    if (request.Call == CallId::Listen && BacklogOverride >= 0)
        request.Backlog = BacklogOverride;
    if (BindAll && request.Call == CallId::Bind && request.ActorKind == "server") {
        if (request.Addr == "127.0.0.1")
            request.Addr = "0.0.0.0";
        else if (request.Addr == "::1")
            request.Addr = "::";
    }
    if (request.Call == CallId::Run) {
        const std::string values[] = {std::to_string(LessonPort), ExamplesDir()}; // kRunVars' order
        for (auto& arg : request.Argv)
            arg = SubstituteRunVars(arg, values);
    }
    BlockedSince = 0;
    WaitingId = LabRef.Submit(std::move(request));
    CallIds[{Step, NextCall}] = WaitingId;
    Deadline = now + Options.CallTimeout;
    ++NextCall;
}

bool LessonPlayer::CallSettled(const LessonCall& call, std::uint64_t id, double now, CheckResult& result)
{
    const CallEvent* seen = WorldRef.FindCall(id);
    bool finished = seen && seen->Phase == CallPhase::Finished;
    bool blocked = seen && seen->Phase == CallPhase::Blocked;
    result.What = "call";
    const std::string& actor = call.Request.Actor;
    const std::string function(CallName(call.Request.Call));
    // A call with no expectation (the playground's) counts as blocked once it has stayed
    // blocked a moment: connect blocks for microseconds on its way to returning.
    if (call.MayBlock && blocked) {
        if (BlockedSince == 0)
            BlockedSince = now;
        blocked = now - BlockedSince >= Options.BlockedGrace;
        if (!blocked && now < Deadline)
            return false;
    }
    if (!finished && !((call.Blocks || call.MayBlock) && blocked)) {
        if (now < Deadline)
            return false;
        result.Claim = Say(PhraseId::Verbatim, actor + ": " + function + "()");
        result.Ok = false;
        result.Seen = seen && blocked ? Say(PhraseId::SeenStillBlocked, Options.CallTimeout)
                                      : Say(PhraseId::SeenNoReturn);
        return true;
    }
    LastCallEnd = std::max(LastCallEnd, finished ? seen->TEnd : now);
    Phrase got = finished ? Say(PhraseId::Verbatim, std::to_string(seen->Result) +
                                                         (seen->Errno ? " " + ErrnoName(seen->Errno) : ""))
                          : Say(PhraseId::SeenBlocked);
    if (call.Blocks) {
        result.Claim = Say(PhraseId::ClaimBlocks, actor, function);
        result.Ok = blocked;
    } else if (call.ExpectFd) {
        result.Claim = Say(PhraseId::ClaimReturnsDescriptor, actor, function);
        result.Ok = seen->Result >= 0;
    } else if (call.ExpectResult) {
        result.Claim = Say(PhraseId::ClaimReturnsValue, actor, function, *call.ExpectResult);
        result.Ok = seen->Result == *call.ExpectResult;
    } else if (call.ExpectErrno) {
        result.Claim = call.ExpectErrno->empty() ? Say(PhraseId::ClaimSucceeds, actor, function)
                                                 : Say(PhraseId::ClaimFailsWith, actor, function, *call.ExpectErrno);
        result.Ok = call.ExpectErrno->empty() ? seen->Result >= 0 : ErrnoName(seen->Errno) == *call.ExpectErrno;
    } else {
        result.Claim = Say(PhraseId::ClaimReturns, actor, function);
        result.Ok = true;
    }
    if (!result.Ok)
        result.Seen = finished && !seen->Note.Empty() ? Say(PhraseId::Verbatim, got.English() + ": " + seen->Note.English())
                                                      : got;
    return true;
}

void LessonPlayer::EvaluateChecks(bool final_attempt)
{
    const LessonStep& step = LessonData->Steps[static_cast<std::size_t>(Step)];
    nlohmann::json line = TraceLine(WorldRef, this, MonotonicSeconds(), {});
    std::vector<CheckResult> results;
    bool all_ok = true;
    for (const Check& original : step.Expect) {
        Check check = original;
        // --bind-all: the lesson's listener is on 0.0.0.0 (or ::), its connections are not.
        if (BindAll && check.What == "listeners" && check.Match.contains("local")) {
            if (check.Match["local"] == "127.0.0.1:$port")
                check.Match["local"] = "0.0.0.0:$port";
            else if (check.Match["local"] == "[::1]:$port")
                check.Match["local"] = "[::]:$port";
        }
        CheckResult r;
        r.What = check.What;
        r.Claim = Say(PhraseId::Verbatim, check.Says.En.empty() ? check.Match.dump() + " x" + std::to_string(check.Count)
                                                                 : check.Says.En);
        int n = CountMatches(line, check, Vars());
        r.Ok = CountSatisfies(check, n);
        std::string wanted = check.CountRule.empty() ? std::to_string(check.Count) : check.CountRule;
        if (!r.Ok) {
            all_ok = false;
            // Name what was there instead, field by field, so a failure explains itself.
            std::string entries;
            for (const auto& entry : line[check.What]) {
                std::string one;
                for (auto it = check.Match.begin(); it != check.Match.end(); ++it)
                    one += (one.empty() ? "" : " ") + it.key() + "=" +
                           (entry.contains(it.key()) ? entry[it.key()].dump() : "?");
                entries += (entries.empty() ? "" : "; ") + one;
            }
            r.Seen = entries.empty() ? Say(PhraseId::SeenMatching, n, wanted)
                                     : Say(PhraseId::SeenMatchingInstead, n, wanted, entries);
        }
        results.push_back(std::move(r));
    }
    if (!all_ok && !final_attempt)
        return;
    // Keep the call results in front of the state checks.
    std::vector<CheckResult> merged;
    for (auto& c : Checks)
        if (c.What == "call")
            merged.push_back(c);
    bool calls_ok = std::all_of(merged.begin(), merged.end(), [](const CheckResult& c) { return c.Ok; });
    for (auto& r : results)
        merged.push_back(std::move(r));
    Checks = std::move(merged);
    Status = all_ok && calls_ok ? StepStatus::Passed : StepStatus::Failed;
}

void LessonPlayer::Tick(double now)
{
    if (!LessonData || Step < 0)
        return;
    const LessonStep& step = LessonData->Steps[static_cast<std::size_t>(Step)];
    if (Status == StepStatus::Running) {
        if (WaitingId != 0) {
            CheckResult result;
            if (!CallSettled(step.Calls[static_cast<std::size_t>(NextCall - 1)], WaitingId, now, result))
                return;
            Checks.push_back(std::move(result));
            WaitingId = 0;
        }
        while (NextCall < static_cast<int>(step.Calls.size())) {
            SubmitNext(now);
            if (!step.Calls[static_cast<std::size_t>(NextCall - 1)].Async)
                return;
            AsyncCalls.emplace_back(NextCall - 1, WaitingId);
            WaitingId = 0;
        }
        // Calls submitted without waiting: the step goes on when all have settled.
        while (!AsyncCalls.empty()) {
            auto [index, id] = AsyncCalls.front();
            CheckResult result;
            if (!CallSettled(step.Calls[static_cast<std::size_t>(index)], id, now, result))
                return;
            Checks.push_back(std::move(result));
            AsyncCalls.erase(AsyncCalls.begin());
        }
        LastCallEnd = std::max(LastCallEnd, now);
        if (step.JudgedOnCalls && step.Expect.empty()) {
            // Nothing to judge in the kernel's view: no fresh one awaited (25 ms a line
            // for a script), no trace line built from the whole World (a script of
            // 10,000 connections spent most of its time there).
            bool calls_ok = std::all_of(Checks.begin(), Checks.end(), [](const CheckResult& c) { return c.Ok; });
            Status = calls_ok ? StepStatus::Passed : StepStatus::Failed;
            LabRef.RefreshProbe(); // the panels still want the kernel's view soon
            AfterVerdict();
            return;
        }
        Status = StepStatus::Checking;
        CheckedVersion = ~0ull;
        Deadline = now + std::max(Options.CheckTimeout, step.Timeout);
        // The probe reports only changes; ask it for one fresh view now so a step that
        // changes nothing in the kernel is judged at once, not at the deadline. Through
        // the probe, not a dump of our own: under load such a dump could reach the model
        // after a newer probe view (an ACK just arrived) and put the older state back,
        // and the probe, having delivered the newer one already, saw no change to report
        // (half-close stayed FIN-WAIT-1 until the deadline, 1 run in 5 on a busy host).
        LabRef.RefreshProbe();
        return;
    }
    if (Status == StepStatus::Checking) {
        // Judge only a kernel view taken after the step's last call returned.
        bool fresh = WorldRef.SnapshotTime() > LastCallEnd || !LabRef.ProbeRunning();
        if (!fresh && now < Deadline)
            return;
        // A call that did not return what the lesson says changes what follows: judge the
        // first fresh view rather than waiting for the kernel to reach a state it will not.
        bool call_failed = std::any_of(Checks.begin(), Checks.end(),
                                       [](const CheckResult& c) { return c.What == "call" && !c.Ok; });
        bool final_attempt = now >= Deadline || call_failed;
        // The same model gives the same verdict: judge again only when it has changed.
        if (!final_attempt && WorldRef.Version() == CheckedVersion)
            return;
        CheckedVersion = WorldRef.Version();
        EvaluateChecks(final_attempt);
        AfterVerdict();
    }
}

void LessonPlayer::AfterVerdict()
{
    if (Status == StepStatus::Passed && Replaying()) {
        BeginStep();
        return;
    }
    const LessonStep& step = LessonData->Steps[static_cast<std::size_t>(Step)];
    if (Status != StepStatus::Failed || Replaying() || AttemptNo >= step.RetryAttempts)
        return;
    // The step lost a race the kernel does not let sockscope control: start again
    // from a clean lab and replay the lesson up to this step.
    std::string why;
    for (const auto& c : Checks)
        if (!c.Ok)
            why += (why.empty() ? "" : "; ") + c.Claim.English() +
                   (c.Seen.Empty() ? "" : " (seen: " + c.Seen.English() + ")");
    Retries.push_back("attempt " + std::to_string(AttemptNo) + ": " + why);
    ++AttemptNo;
    ReplayTarget = Step;
    ClearLab();
    // The failed attempt may leave TIME-WAIT sockets on the port; they would be counted
    // by the new attempt's checks (and a TIME-WAIT on the listener's port blocks bind).
    if (PortHasSockets(LessonPort))
        LessonPort = PickFreePort();
    BeginStep();
}

bool DriveUntilIdle(Lab& lab, World& world, LessonPlayer& player, double timeout,
                    const std::function<void()>& after_tick,
                    const std::function<void(const LabEvent&)>& on_event)
{
    double end = MonotonicSeconds() + timeout;
    std::vector<LabEvent> events; // one buffer, handed back and forth with the lab
    for (;;) {
        lab.Drain(events);
        for (auto& event : events) {
            if (on_event)
                on_event(event);
            world.Apply(event);
        }
        double now = MonotonicSeconds();
        player.Tick(now);
        if (after_tick)
            after_tick();
        if (!player.Busy())
            return true;
        if (now > end)
            return false;
        lab.WaitForEvents(std::chrono::milliseconds(5));
    }
}

} // namespace sockscope
