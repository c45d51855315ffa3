#include "headless.hpp"

#include "clock.hpp"
#include "lab.hpp"
#include "player.hpp"
#include "recording.hpp"
#include "trace.hpp"
#include "world.hpp"

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace sockscope {

namespace {

std::uint64_t IdOf(const LaneReport& r)
{
    return std::visit([](const auto& e) { return e.Id; }, r);
}

} // namespace

// Every call made, and every moment of a lane's life shown with them, since id `after`,
// in the order the lab numbered them.
std::vector<LaneReport> CallsSince(const World& world, std::uint64_t after)
{
    std::vector<LaneReport> calls;
    for (const auto& actor : world.Actors()) {
        for (const auto& call : actor.Calls)
            if (call.Id > after)
                calls.emplace_back(call);
        for (const auto& life : actor.Life)
            if (life.Id > after)
                calls.emplace_back(life);
    }
    std::sort(calls.begin(), calls.end(),
              [](const LaneReport& a, const LaneReport& b) { return IdOf(a) < IdOf(b); });
    return calls;
}

namespace {

std::string Pad(std::string s, std::size_t width)
{
    if (s.size() < width)
        s.append(width - s.size(), ' ');
    return s + " ";
}

} // namespace

void PrintCall(const CallEvent& c)
{
    std::string line = "  " + Pad(c.Actor, 8) + FormatCall(c);
    if (c.Phase == CallPhase::Finished) {
        line += " = " + std::to_string(c.Result);
        if (c.Errno)
            line += " " + ErrnoName(c.Errno);
        if (!c.Data.empty() && RowOf(c.Call).Has(Receives))
            line += "  \"" + EscapeBytes(c.Data, 64) + "\"";
        if (c.Call == CallId::Getsockname && c.Local)
            line += "  -> " + c.Local->ToString();
        if ((c.Call == CallId::Getpeername || c.Call == CallId::Accept) && c.Remote)
            line += "  -> peer " + c.Remote->ToString();
    } else {
        line += " ... " + std::string(CallPhaseName(c.Phase));
    }
    if (!c.Note.Empty())
        line += "  (" + c.Note.English() + ")";
    if (std::string layout = SockaddrLayoutOf(c); !layout.empty() && c.Phase == CallPhase::Finished)
        line += "\n" + std::string(12, ' ') + layout;
    std::cout << line << "\n";
}

// Written where the lane's calls are, as its line of C would be: "exit(0) ... blocked"
// (exit() does not return), "zombie() = 0".
void PrintLaneEvent(const LaneEvent& e)
{
    std::string line = "  " + Pad(e.Actor, 8) + FormatLaneEvent(e);
    line += e.Kind == LaneEventKind::Exiting ? " ... blocked" : " = 0";
    if (!e.Note.Empty())
        line += "  (" + e.Note.English() + ")";
    std::cout << line << "\n";
}

void PrintReport(const LaneReport& report)
{
    if (const auto* life = std::get_if<LaneEvent>(&report))
        PrintLaneEvent(*life);
    else
        PrintCall(std::get<CallEvent>(report));
}

void PrintKernelView(const World& world)
{
    std::cout << "  kernel (netlink sock_diag):\n";
    for (const auto& l : world.Listeners())
        std::cout << "    listener " << l.Local.ToString() << ": accept queue " << l.AcceptQueue << " of "
                  << l.Backlog + 1 << " places (backlog " << l.Backlog << "), SYN queue " << l.SynQueue << "\n";
    if (world.Sockets().empty()) {
        std::cout << "    (no sockets on the lab's ports)\n";
        return;
    }
    std::cout << "    " << Pad("role", 8) << Pad("local", 21) << Pad("remote", 21) << Pad("state", 12)
              << Pad("queue", 6) << Pad("fd", 9) << Pad("recv-q", 6) << Pad("send-q", 6) << "cookie\n";
    for (const auto& s : world.Sockets()) {
        std::string queue(QueueKindName(s.Queue));
        std::string fd = s.Fd ? std::to_string(*s.Fd) : s.NoFdYet() ? "no fd yet" : "-";
        if (s.External)
            fd = "external";
        char cookie[24];
        std::snprintf(cookie, sizeof cookie, "%llx", static_cast<unsigned long long>(s.Cookie));
        std::cout << "    " << Pad(std::string(SocketRoleName(s.Role)), 8) << Pad(s.K.Local.ToString(), 21)
                  << Pad(s.InKernel ? s.K.Remote.ToString() : "-", 21) << Pad(std::string(SocketStateName(s.State(), s.K.Proto)), 12)
                  << Pad(queue.empty() ? "-" : queue, 6) << Pad(fd, 9) << Pad(std::to_string(s.K.RecvQ), 6)
                  << Pad(std::to_string(s.K.SendQ), 6) << cookie << "\n";
    }
    if (!world.ProbeError().Empty())
        std::cout << "    probe error: " << world.ProbeError().English() << "\n";
}

namespace {

// "  asked: Which state? 1. A 2. B (answer: 2. B)"
void PrintQuestion(const Question& q, Lang lang)
{
    std::cout << "  asked: " << q.Ask.Get(lang);
    for (std::size_t c = 0; c < q.Choices.size(); ++c)
        std::cout << "  " << c + 1 << ". " << q.Choices[c].Get(lang);
    std::cout << "  (answer: " << q.Answer + 1 << ". " << q.Choices[static_cast<std::size_t>(q.Answer)].Get(lang)
              << ")\n";
}

} // namespace

void PrintPackets(bool capturing, std::uint64_t captured, bool via_helper, const Phrase& error)
{
    if (capturing)
        std::cout << "\npackets: " << captured << " captured on lo" << (via_helper ? " through sockscope-helper" : "")
                  << "\n";
    else
        std::cout << "\npackets: inferred (" << error.English() << ")\n";
}

void PrintStepReport(const Options& options, const StepReport& r)
{
    const Lesson& l = *r.Of;
    const int i = r.Index;
    const LessonStep& step = l.Steps[static_cast<std::size_t>(i)];
    if (options.Json) {
        auto line = TraceLine(*r.Model, &r.Trace, r.T, r.Calls);
        line["title"] = step.Title.Get(options.Language);
        line["status"] = StepStatusName(r.Status);
        auto checks = nlohmann::json::array();
        for (const auto& c : r.Results)
            checks.push_back({{"what", c.What}, {"claim", c.Claim.English()}, {"ok", c.Ok}, {"seen", c.Seen.English()}});
        line["checks"] = std::move(checks);
        if (!r.Retries.empty())
            line["retries"] = r.Retries;
        std::cout << line.dump() << "\n";
    } else {
        std::cout << "\nStep " << i + 1 << "/" << l.Steps.size() << ": " << step.Title.Get(options.Language) << "\n";
        if (step.Ask)
            PrintQuestion(*step.Ask, options.Language);
        for (const auto& retry : r.Retries)
            std::cout << "  retried: " << retry << "\n  -> " << step.RetryWhy.Get(options.Language)
                      << " (the lab was reset and steps 1-" << i + 1 << " made again)\n";
        for (const auto& c : r.Calls)
            PrintReport(c);
        PrintKernelView(*r.Model);
        for (const auto& c : r.Results)
            if (c.What != "call" || !c.Ok)
                std::cout << "  " << (c.Ok ? "ok    " : "FAILED") << " " << c.Claim.English()
                          << (c.Ok ? "" : "  (seen: " + c.Seen.English() + ")") << "\n";
        if (!r.Done)
            std::cout << "  FAILED the step did not finish in time\n";
    }
    std::cout.flush();
}

namespace {

// Runs one lesson; returns true if every step passed.
bool RunLesson(const Options& options, Lesson lesson, TraceWriter& trace, Recorder* recorder)
{
    Lab lab;
    World world;
    InferWhatIsNotCaptured(lab, world);
    LessonPlayer player(lab, world);
    player.SetBacklogOverride(options.Backlog);
    player.SetBindAll(options.BindAll);
    if (options.BindAll && !options.Json)
        std::cout << "WARNING: --bind-all: the lesson's listeners accept connections from every network interface\n";
    std::string lesson_text = recorder ? LessonFileText(lesson) : std::string();
    player.Load(std::move(lesson), options.Port);
    const Lesson& l = *player.Current();
    if (recorder) {
        RecordingInfo info;
        info.Mode = "lesson";
        info.Lesson = l.Name;
        info.LessonText = std::move(lesson_text);
        info.Language = options.Language == Lang::Zh ? "zh" : "en";
        info.InferSegments = !lab.Capturing();
        info.InferDatagrams = !lab.CapturesDatagrams();
        info.Capturing = lab.Capturing();
        info.CaptureError = lab.CaptureError();
        info.ProbeRunning = lab.ProbeRunning();
        info.Version = SOCKSCOPE_VERSION;
        recorder->Begin(std::move(info), world);
        std::string error;
        if (!recorder->OpenFile(options.Record, error)) {
            std::cerr << "sockscope: " << error << "\n";
            return false;
        }
    }
    if (!options.Json)
        std::cout << "Lesson " << l.Name << ": " << l.Title.Get(options.Language) << " (listener port "
                  << player.Port() << ")\n";
    int steps = static_cast<int>(l.Steps.size());
    if (options.Step >= 0)
        steps = std::min(steps, options.Step);
    bool all_passed = true;
    std::uint64_t last_id = 0;
    for (int i = 0; i < steps; ++i) {
        player.StepForward();
        double limit = 30.0 + std::max(0.0, l.Steps[static_cast<std::size_t>(i)].Timeout);
        bool done = DriveUntilIdle(
            lab, world, player, limit,
            [&] {
                double now = MonotonicSeconds();
                trace.Update(world, &player, now);
                if (recorder)
                    recorder->Tick(world, &player, now);
            },
            [&](const LabEvent& event) {
                if (recorder)
                    recorder->Note(event, world);
            });
        bool passed = done && player.CurrentStatus() == StepStatus::Passed;
        all_passed = all_passed && passed;
        auto calls = CallsSince(world, last_id);
        for (const auto& c : calls)
            last_id = std::max(last_id, IdOf(c));
        PrintStepReport(options, StepReport{&l, i, &world, calls, player.CurrentStatus(), player.Results(),
                                            player.RetryLog(), done, MonotonicSeconds(),
                                            TraceLesson{&l, player.StepIndex(), player.Port()}});
        if (recorder)
            recorder->StepEnded(world, player, MonotonicSeconds(), done);
        std::cout.flush();
    }
    if (!options.Json) {
        // Through the helper, segments come a hop later (its ring, its sock_diag check):
        // let the ones in flight arrive, until none has for 50 ms (2 s at most), so the
        // count is the lesson's and not the moment's.
        for (int i = 0; lab.CaptureViaHelper() && i < 40; ++i) {
            std::uint64_t before = lab.CapturedSegments();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (lab.CapturedSegments() == before)
                break;
        }
        PrintPackets(lab.Capturing(), lab.CapturedSegments(), lab.CaptureViaHelper(), lab.CaptureError());
    }
    if (recorder)
        recorder->Finish(RecordingEnd{true, lab.CapturedSegments(), lab.CaptureViaHelper(), lab.Capturing(),
                                      lab.CaptureError()});
    if (!options.Json)
        std::cout << "\n" << l.Name << ": " << (all_passed ? "every step showed what it claims" : "SOME STEPS FAILED")
                  << "\n";
    return all_passed;
}

} // namespace

bool OpenTrace(const Options& options, TraceWriter& trace)
{
    std::string error;
    if (options.Trace.empty() || trace.Open(options.Trace, error))
        return true;
    std::cerr << "sockscope: " << error << "\n";
    return false;
}

int RunHeadless(const Options& options)
{
    TraceWriter trace;
    if (!OpenTrace(options, trace))
        return 2;
    std::vector<std::string> names;
    if (options.Lesson == "all")
        names = ListLessons(nullptr, LessonDirs(options.Env.Lessons));
    else
        names.push_back(options.Lesson);
    std::vector<Lesson> lessons;
    for (const auto& name : names) {
        std::string error;
        auto lesson = FindLesson(name, error, LessonDirs(options.Env.Lessons));
        if (!lesson) {
            std::cerr << "sockscope: " << error << "\n";
            return 2;
        }
        lessons.push_back(std::move(*lesson));
    }
    std::vector<std::string> failed;
    std::optional<Recorder> recorder;
    if (!options.Record.empty())
        recorder.emplace(); // one lesson (the command line says so)
    for (auto& lesson : lessons) {
        std::string name = lesson.Name;
        if (!RunLesson(options, std::move(lesson), trace, recorder ? &*recorder : nullptr))
            failed.push_back(name);
    }
    if (!failed.empty()) {
        std::string list;
        for (const auto& f : failed)
            list += (list.empty() ? "" : ", ") + f;
        std::cerr << "sockscope: the kernel did not show what these lessons claim: " << list << "\n";
        return 1;
    }
    return 0;
}

} // namespace sockscope
