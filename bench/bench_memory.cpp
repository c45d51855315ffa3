// [5] Resident memory of a headless lab + World holding many connections.
//
// Each figure comes from a fresh copy of this program (`--memory-child`), so no heap left
// over by an earlier section counts. The child builds connections through the lab (a
// client actor connects, a server actor accepts, the probe runs at its default interval)
// and prints key=value lines: after each step of growth when a World applies every event
// and snapshot, and once at the end. The World is given a time budget: when applying the
// events costs more than that, the child stops growing and says how far it got.
#include "bench.hpp"

#include "clock.hpp"
#include "lab.hpp"
#include "world.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

namespace sockscope::bench {
namespace {

using Fields = std::map<std::string, std::string>;

Fields ParseFields(const std::string& line)
{
    Fields f;
    std::istringstream in(line);
    for (std::string word; in >> word;)
        if (auto eq = word.find('='); eq != std::string::npos)
            f[word.substr(0, eq)] = word.substr(eq + 1);
    return f;
}

double Number(const Fields& f, const char* key)
{
    auto it = f.find(key);
    return it == f.end() ? -1 : std::atof(it->second.c_str());
}

std::string Mib(double kib)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MB", kib / 1024);
    return buf;
}

} // namespace

int MemoryChildMain(int argc, char** argv)
{
    if (argc < 5)
        return 2;
    const bool with_world = std::strcmp(argv[2], "world") == 0;
    const int total = std::atoi(argv[3]);
    const double budget = std::atof(argv[4]);
    const long rss_start = ResidentKiB();

    Lab lab; // the default: probe thread at 15 ms
    World world;
    double apply_seconds = 0;
    std::size_t events = 0, snapshots = 0, last_rows = 0;
    double deadline = MonotonicSeconds() + 3600; // set when the growth starts
    bool out_of_time = false;
    auto pump = [&](std::chrono::milliseconds wait, const std::function<void(const CallEvent&)>& on_call) {
        lab.WaitForEvents(wait);
        for (auto& e : lab.Drain()) {
            ++events;
            if (const auto* snap = std::get_if<Snapshot>(&e)) {
                ++snapshots;
                last_rows = snap->Sockets.size();
            } else if (const auto* call = std::get_if<CallEvent>(&e); call && on_call) {
                on_call(*call); // not the other kinds (captured segments, lanes)
            }
            if (with_world && !out_of_time) {
                const double t0 = MonotonicSeconds();
                world.Apply(e);
                apply_seconds += MonotonicSeconds() - t0;
                out_of_time = t0 > deadline; // one Apply can take seconds: look after each
            }
        }
    };

    CallRequest setup;
    setup.Actor = "server";
    setup.ActorKind = "server";
    setup.Call = CallId::Socket;
    lab.Submit(setup);
    setup.Call = CallId::Bind;
    lab.Submit(setup);
    setup.Call = CallId::Listen;
    setup.Backlog = 4096;
    const std::uint64_t listen_id = lab.Submit(setup);
    int port = 0;
    bool listening = false;
    const double setup_end = MonotonicSeconds() + 5;
    while (!listening && MonotonicSeconds() < setup_end)
        pump(std::chrono::milliseconds(20), [&](const CallEvent& c) {
            if (c.Phase == CallPhase::Finished && c.Call == CallId::Bind && c.Local)
                port = c.Local->Port;
            if (c.Phase == CallPhase::Finished && c.Id == listen_id)
                listening = c.Result == 0;
        });
    if (!listening || port == 0) {
        std::cout << "error=listen\n";
        return 1;
    }

    const double start = MonotonicSeconds();
    deadline = start + budget;
    int held = 0;
    for (int step = with_world ? 100 : total; held < total && !out_of_time; step *= 2) {
        const int target = std::min(total, step);
        for (int i = held; i < target; ++i) {
            CallRequest c;
            c.Actor = "client";
            c.Call = CallId::Socket;
            c.As = Numbered("c", i);
            lab.Submit(c);
            c.Call = CallId::Connect;
            c.Fd = c.As;
            c.As.clear();
            c.Port = port;
            lab.Submit(std::move(c));
            CallRequest a;
            a.Actor = "server";
            a.ActorKind = "server";
            a.Call = CallId::Accept;
            a.As = Numbered("a", i); // the actor's own names (conn, conn2, ...) cost O(n) each: see [4]
            lab.Submit(std::move(a));
        }
        int accepted = 0;
        const auto expected_rows = static_cast<std::size_t>(2 * target + 1);
        // Until every accept is applied and a snapshot showing all the rows has come.
        while ((accepted < target - held || last_rows < expected_rows) && !out_of_time) {
            pump(std::chrono::milliseconds(20), [&](const CallEvent& c) {
                if (c.Phase == CallPhase::Finished && c.Call == CallId::Accept && c.Result >= 0)
                    ++accepted;
            });
            out_of_time = out_of_time || MonotonicSeconds() > deadline;
        }
        if (out_of_time)
            break;
        held = target;
        std::cout << "step connections=" << held << " rss_kib=" << ResidentKiB() << " apply_s=" << apply_seconds
                  << " wall_s=" << MonotonicSeconds() - start << " events=" << events
                  << " world_sockets=" << world.Sockets().size() << std::endl;
    }
    std::cout << "end connections=" << held << " complete=" << (held == total) << " rss_start_kib=" << rss_start
              << " rss_kib=" << ResidentKiB() << " hwm_kib=" << ResidentKiB("VmHWM:")
              << " apply_s=" << apply_seconds << " wall_s=" << MonotonicSeconds() - start << " events=" << events
              << " snapshots=" << snapshots << std::endl;
    return 0;
}

void RunMemorySection(Report& report, const Options& options)
{
    const int n = options.RateConnections;
    report.Section("[5] Resident memory (VmRSS) of a headless lab + World, " + FormatCount(n) + " connections",
                   "each in a fresh process; the lab's default probe (15 ms) runs; connections made by the actors");
    const std::string self = SelfPath();
    char budget[32];
    std::snprintf(budget, sizeof budget, "%g", options.WorldBudget);

    ProcessResult lab_only = RunProcess({self, "--memory-child", "lab", std::to_string(n), "60"}, 90);
    Fields end;
    std::string line;
    for (std::istringstream in(lab_only.Out); std::getline(in, line);)
        if (line.rfind("end ", 0) == 0)
            end = ParseFields(line);
    if (Number(end, "complete") == 1) {
        report.Add({"lab alone (events drained, no World)", Mib(Number(end, "rss_kib")), "", Verdict::Info,
                    "peak " + Mib(Number(end, "hwm_kib")) + ", at start " + Mib(Number(end, "rss_start_kib")) + "; " +
                        FormatSeconds(Number(end, "wall_s")) + " to connect " + FormatCount(n) + ", " +
                        FormatCount(Number(end, "events")) + " events"});
    } else {
        report.Add({"lab alone", "-", "", Verdict::Info, "the child failed: " + lab_only.Error + " " + lab_only.Out});
    }

    ProcessResult with_world =
        RunProcess({self, "--memory-child", "world", std::to_string(n), budget}, options.WorldBudget + 30);
    std::vector<Fields> steps;
    end.clear();
    for (std::istringstream in(with_world.Out); std::getline(in, line);) {
        if (line.rfind("step ", 0) == 0)
            steps.push_back(ParseFields(line));
        else if (line.rfind("end ", 0) == 0)
            end = ParseFields(line);
    }
    for (const auto& s : steps) {
        const double k = Number(s, "connections");
        report.Add({"lab + World, " + FormatCount(k) + " connections", Mib(Number(s, "rss_kib")), "", Verdict::Info,
                    "World::Apply took " + FormatSeconds(Number(s, "apply_s")) + " in all (" +
                        FormatSeconds(Number(s, "apply_s") / Number(s, "events")) + " per event), " +
                        FormatCount(Number(s, "world_sockets")) + " sockets in the World"});
    }
    if (end.empty()) {
        report.Add({"lab + World, " + FormatCount(n) + " connections", "-", "< 150 MB", Verdict::Missed,
                    "the child failed or was killed: " + with_world.Error});
        return;
    }
    if (Number(end, "complete") == 1) {
        const double mb = Number(end, "rss_kib") / 1024;
        report.Add({"lab + World, " + FormatCount(n) + " connections", Mib(Number(end, "rss_kib")), "< 150 MB",
                    mb < 150 ? Verdict::Ok : Verdict::Missed,
                    "peak " + Mib(Number(end, "hwm_kib")) + "; World::Apply " + FormatSeconds(Number(end, "apply_s"))});
        return;
    }
    // Out of budget: say how far it got, and what the trend says about the rest.
    std::string detail = "World::Apply exceeded the " + std::string(budget) + " s budget after " +
                         FormatCount(Number(end, "connections")) + " connections";
    if (steps.size() >= 2) {
        // Memory grows linearly (a slope over every step, steadier than the last two);
        // time does not (an exponent from the last two steps).
        const Fields& first = steps.front();
        const Fields& a = steps[steps.size() - 2];
        const Fields& b = steps.back();
        const double ka = Number(a, "connections"), kb = Number(b, "connections");
        const double per_conn =
            (Number(b, "rss_kib") - Number(first, "rss_kib")) / (kb - Number(first, "connections"));
        const double rss = Number(b, "rss_kib") + per_conn * (n - kb);
        const double power = std::log(Number(b, "apply_s") / Number(a, "apply_s")) / std::log(kb / ka);
        const double seconds = Number(b, "apply_s") * std::pow(n / kb, power);
        char trend[200];
        std::snprintf(trend, sizeof trend,
                      "; trend: %.1f KB per connection -> ~%.0f MB at %s, but applying would take ~%s "
                      "(time grows as N^%.1f)",
                      per_conn, rss / 1024, FormatCount(n).c_str(), FormatSeconds(seconds).c_str(), power);
        detail += trend;
    }
    report.Add({"lab + World, " + FormatCount(n) + " connections", "not reached", "< 150 MB", Verdict::Missed, detail});
}

} // namespace sockscope::bench
