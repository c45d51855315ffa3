// [6] Display lag: from a connect() returning (the kernel has moved the socket to
// ESTABLISHED) to the World showing that row, when the consumer drains and applies
// events as soon as they are queued (no frame pacing added on top).
//
// By default the probe takes a snapshot as soon as a call returns (Probe::Prompt), so
// the lag is about one snapshot. For comparison, the probe ticking on its own: the wait
// for the next tick is uniform over the interval, so the lag is about interval / 2 + one
// dump in the median and close to the full interval + one dump at p95.
#include "bench.hpp"

#include "clock.hpp"
#include "lab.hpp"
#include "probe.hpp"
#include "world.hpp"

#include <cstdio>
#include <functional>
#include <random>

namespace sockscope::bench {
namespace {

struct LagFigures {
    std::vector<double> Lags; // seconds
    int Failed = 0;
    std::string Error;
};

// Drains and applies everything queued; returns the call events seen.
std::vector<CallEvent> Pump(Lab& lab, World& world, std::chrono::milliseconds wait)
{
    std::vector<CallEvent> calls;
    lab.WaitForEvents(wait);
    for (auto& e : lab.Drain()) {
        world.Apply(e);
        if (const auto* c = std::get_if<CallEvent>(&e); c && c->Phase == CallPhase::Finished)
            calls.push_back(*c);
    }
    return calls;
}

std::optional<CallEvent> Await(Lab& lab, World& world, std::uint64_t id, double timeout)
{
    const double end = MonotonicSeconds() + timeout;
    while (MonotonicSeconds() < end)
        for (auto& c : Pump(lab, world, std::chrono::milliseconds(5)))
            if (c.Id == id)
                return c;
    return std::nullopt;
}

bool ShowsEstablished(const World& world, std::uint64_t cookie)
{
    const SocketView* s = world.FindSocket(cookie);
    return s && s->InKernel && s->State() == TcpState::Established;
}

// `listening_on` is told the listener's port once it is bound.
LagFigures MeasureLag(Lab& lab, int trials, const std::function<void(std::uint16_t)>& listening_on = {})
{
    LagFigures f;
    World world;
    CallRequest setup;
    setup.Actor = "server";
    setup.ActorKind = "server";
    setup.Call = CallId::Socket;
    lab.Submit(setup);
    setup.Call = CallId::Bind;
    auto bound = Await(lab, world, lab.Submit(setup), 5);
    setup.Call = CallId::Listen;
    setup.Backlog = 128;
    auto listening = Await(lab, world, lab.Submit(setup), 5);
    if (!bound || !bound->Local || !listening || listening->Result != 0) {
        f.Error = "the server actor could not listen";
        return f;
    }
    if (listening_on)
        listening_on(bound->Local->Port);
    std::mt19937 random(7);
    std::uniform_int_distribution<int> pause_us(0, 20000);
    for (int i = 0; i < trials; ++i) {
        // A random moment relative to the probe's tick.
        const double resume = MonotonicSeconds() + pause_us(random) * 1e-6;
        while (MonotonicSeconds() < resume)
            Pump(lab, world, std::chrono::milliseconds(1));

        CallRequest c;
        c.Actor = "client";
        c.Call = CallId::Socket;
        c.As = Numbered("t", i);
        auto made = Await(lab, world, lab.Submit(c), 2);
        if (!made || !made->NewFd) {
            ++f.Failed;
            continue;
        }
        const std::uint64_t cookie = made->NewFd->Cookie;
        c.Call = CallId::Connect;
        c.Fd = c.As;
        c.As.clear();
        c.Port = bound->Local->Port;
        const std::uint64_t connect_id = lab.Submit(c);
        CallRequest a;
        a.Actor = "server";
        a.ActorKind = "server";
        a.Call = CallId::Accept;
        lab.Submit(a);

        double returned = -1, shown = -1;
        const double end = MonotonicSeconds() + 1;
        while ((returned < 0 || shown < 0) && MonotonicSeconds() < end) {
            for (auto& call : Pump(lab, world, std::chrono::milliseconds(1)))
                if (call.Id == connect_id)
                    returned = call.TEnd;
            if (shown < 0 && ShowsEstablished(world, cookie))
                shown = MonotonicSeconds();
        }
        if (returned < 0 || shown < 0)
            ++f.Failed;
        else
            f.Lags.push_back(shown - returned);
    }
    return f;
}

void AddLagRows(Report& report, const std::string& what, const LagFigures& f, bool judged)
{
    if (f.Lags.empty()) {
        report.Add({what, "-", judged ? "< 16 ms" : "", judged ? Verdict::Missed : Verdict::Info,
                    "no trial completed: " + f.Error});
        return;
    }
    const Stats s = Summarize(f.Lags);
    char detail[160];
    std::snprintf(detail, sizeof detail, "%zu trials%s, min %s, max %s", s.Count,
                  f.Failed ? (", " + std::to_string(f.Failed) + " failed").c_str() : "", FormatSeconds(s.Min).c_str(),
                  FormatSeconds(s.Max).c_str());
    auto verdict = [&](double x) { return !judged ? Verdict::Info : x < 0.016 ? Verdict::Ok : Verdict::Missed; };
    report.Add({what + ", median", FormatSeconds(s.Median), judged ? "< 16 ms" : "", verdict(s.Median), detail});
    report.Add({what + ", p95", FormatSeconds(s.P95), judged ? "< 16 ms" : "", verdict(s.P95), ""});
}

} // namespace

void RunLagSection(Report& report, const Options& options)
{
    report.Section("[6] Display lag: connect() returns -> the World shows the ESTABLISHED row",
                   "Lab + World on one thread that drains and applies as soon as events are queued; random pauses "
                   "between trials");
    {
        Lab lab; // the default: a snapshot as soon as a call returns (5 ms apart at least), else every 15 ms
        AddLagRows(report, "probe prompted by each call (default)", MeasureLag(lab, options.LagTrials), true);
    }
    {
        LabOptions ticks;
        ticks.ProbePromptGap = std::chrono::microseconds(0);
        Lab lab(ticks);
        AddLagRows(report, "probe ticking every 15 ms only", MeasureLag(lab, options.LagTrials), false);
    }
    const Stats dump = Summarize(Sample([] {
        const std::uint16_t ports[] = {1};
        const auto start = Clock::now();
        DumpSockets(ports);
        return SecondsSince(start);
    }, 0.3, 10, 200));
    char note[240];
    std::snprintf(note, sizeof note,
                  "one dump takes %s here. Prompted, the lag is about one snapshot; ticking only, the wait for the "
                  "next tick is uniform over 15 ms: median ~%s, p95 ~%s",
                  FormatSeconds(dump.Median).c_str(), FormatSeconds(0.0075 + dump.Median).c_str(),
                  FormatSeconds(0.01425 + dump.Median).c_str());
    report.Note(note);
}

} // namespace sockscope::bench
