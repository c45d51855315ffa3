#include "run_mode.hpp"

#include "stop_signals.hpp"

#include "clock.hpp"
#include "headless.hpp"
#include "lab.hpp"
#include "trace.hpp"
#include "tracer.hpp"
#include "world.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <dirent.h>
#include <netinet/in.h>
#include <unistd.h>

namespace sockscope {

namespace {

// Writes text to standard output a line per write(): the traced program shares that
// output, and a write of at most PIPE_BUF bytes to a pipe is never interleaved with its.
void Emit(const std::string& text)
{
    std::cout.flush();
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        end = end == std::string::npos ? text.size() : end + 1;
        for (std::size_t done = start; done < end;) {
            ssize_t n = write(1, text.data() + done, end - done);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                return;
            }
            done += static_cast<std::size_t>(n);
        }
        start = end;
    }
}

std::string Pad(std::string s, std::size_t width)
{
    if (s.size() < width)
        s.append(width - s.size(), ' ');
    return s + " ";
}

std::string CallLine(const CallEvent& c)
{
    std::string line = "  " + Pad(c.Actor, 14) + FormatCall(c);
    if (c.Phase == CallPhase::Finished) {
        if (c.Call != CallId::Execve) // it returns only when it fails
            line += " = " + std::to_string(c.Result);
        if (c.Errno)
            line += " " + ErrnoName(c.Errno);
        if (c.Call == CallId::Accept || c.Call == CallId::Accept4 || c.Call == CallId::Getpeername)
            if (c.Remote)
                line += "  -> peer " + c.Remote->ToString();
        if ((c.Call == CallId::Bind || c.Call == CallId::Getsockname || c.Call == CallId::Listen) && c.Local)
            line += "  -> " + c.Local->ToString();
    } else {
        line += " ... " + std::string(CallPhaseName(c.Phase));
    }
    if (!c.Note.Empty())
        line += "  (" + c.Note.English() + ")";
    return line;
}

// A lane begins or ends: "start()", "fork() = 0" (fork's return in the child), "exit(0)".
std::string LaneLine(const LaneEvent& e)
{
    std::string line = "  " + Pad(e.Actor, 14) + FormatLaneEvent(e);
    if (e.Kind == LaneEventKind::Forked)
        line += " = 0";
    if (!e.Note.Empty())
        line += "  (" + e.Note.English() + ")";
    return line;
}

// The kernel's view as text lines, with the holder of each socket (pid/command).
std::string KernelView(const World& world, const std::map<std::uint32_t, SocketHolder>& holders, bool watch)
{
    std::ostringstream out;
    for (const auto& l : world.Listeners())
        out << "    listener " << l.Local.ToString() << ": accept queue " << l.AcceptQueue << " of "
            << l.Backlog + 1 << " places (backlog " << l.Backlog << "), SYN queue " << l.SynQueue << "\n";
    for (const auto& s : world.Sockets()) {
        if (!s.InKernel)
            continue;
        // --run: the traced program's sockets by their lane (PROGRAM[pid]); any other
        // process's as ss -p names it.
        std::string who = "-";
        if (!watch && !s.Actor.empty())
            who = s.Actor;
        else if (auto h = holders.find(s.K.Inode); s.K.Inode != 0 && h != holders.end())
            who = "pid " + std::to_string(h->second.Pid) + " (" + h->second.Command + ")";
        else if (s.K.Inode == 0)
            who = s.NoFdYet() ? "no fd yet" : "no process";
        std::string timer = s.K.Timer == TimerKind::None ? "" : " timer " + std::string(TimerKindName(s.K.Timer));
        // As ss -tan and ss -uanm say it: a UDP socket is UNCONN or ESTABLISHED, and
        // counts the datagrams it dropped for want of room.
        const bool udp = s.K.Proto == IPPROTO_UDP;
        std::string drops = udp ? "drops " + Pad(std::to_string(s.K.Drops), 6) : "";
        out << "    " << (udp ? "udp " : "tcp ") << Pad(std::string(SocketStateName(s.State(), s.K.Proto)), 12)
            << Pad(s.K.Local.ToString(), 22) << Pad(s.K.Remote.ToString(), 22) << "recv-q "
            << Pad(std::to_string(s.K.RecvQ), 6) << "send-q " << Pad(std::to_string(s.K.SendQ), 6) << drops << who
            << timer << "\n";
    }
    if (!world.ProbeError().Empty())
        out << "    probe error: " << world.ProbeError().English() << "\n";
    return out.str();
}

// A trace line, with each socket's "pid" (from /proc where the World does not know the
// holder) and, for --run, "owner": "traced" (--watch's are External in the World).
nlohmann::json Line(const World& world, double t, const std::vector<LaneReport>& calls,
                    const std::map<std::uint32_t, SocketHolder>& holders, bool watch)
{
    auto line = TraceLine(world, nullptr, t, calls);
    for (auto& s : line["sockets"]) {
        auto inode = s["inode"].get<std::uint32_t>();
        if (auto h = holders.find(inode); inode != 0 && h != holders.end() && s["pid"].is_null()) {
            s["pid"] = h->second.Pid;
            s["command"] = h->second.Command;
        }
        if (!watch && s["owner"] == "lab")
            s["owner"] = "traced"; // --run has no lab actors: not external means the program's
    }
    return line;
}

// Who holds each socket, scanned again when the view shows an inode not looked for yet,
// and at most once a second for one looked for and not found (a socket of another user's
// process, which /proc does not show; or one whose descriptor was not installed yet).
// `traced`: the World already knows the holder of every socket it ties to a traced call
// (--run), so only the others are looked for; a scan of /proc per new connection cost a
// traced loop of connections about a tenth of its time.
struct Holders {
    std::map<std::uint32_t, SocketHolder> Known;
    std::set<std::uint32_t> Searched;
    double LastScan = -1e9;
    bool Traced = false;
    void Update(const World& world)
    {
        bool rescan = false;
        double now = MonotonicSeconds();
        for (const auto& s : world.Sockets())
            if (s.InKernel && s.K.Inode != 0 && !Known.count(s.K.Inode) && !(Traced && !s.Actor.empty()))
                rescan = rescan || !Searched.count(s.K.Inode) || now - LastScan >= 1.0;
        if (!rescan)
            return;
        LastScan = now;
        Known = SocketHolders();
        for (const auto& s : world.Sockets())
            if (s.InKernel && s.K.Inode != 0)
                Searched.insert(s.K.Inode);
    }
};

} // namespace

std::map<std::uint32_t, SocketHolder> SocketHolders()
{
    std::map<std::uint32_t, SocketHolder> out;
    DIR* proc = opendir("/proc");
    if (!proc)
        return out;
    while (dirent* e = readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != 0)
            continue;
        std::string base = "/proc/" + std::string(e->d_name);
        DIR* fds = opendir((base + "/fd").c_str());
        if (!fds)
            continue; // another user's process: /proc does not say
        std::string command;
        while (dirent* f = readdir(fds)) {
            if (f->d_name[0] == '.')
                continue;
            char link[64];
            ssize_t n = readlink((base + "/fd/" + f->d_name).c_str(), link, sizeof link - 1);
            if (n <= 0)
                continue;
            link[n] = 0;
            unsigned long inode = 0;
            if (std::sscanf(link, "socket:[%lu]", &inode) != 1)
                continue;
            if (command.empty()) {
                if (FILE* c = std::fopen((base + "/comm").c_str(), "re")) {
                    char buf[64] = {};
                    if (std::fgets(buf, sizeof buf, c))
                        command = buf;
                    std::fclose(c);
                }
                if (!command.empty() && command.back() == '\n')
                    command.pop_back();
            }
            out.emplace(static_cast<std::uint32_t>(inode), SocketHolder{static_cast<int>(pid), command});
        }
        closedir(fds);
    }
    closedir(proc);
    return out;
}

int RunTraced(const Options& options)
{
    TraceWriter trace;
    if (!OpenTrace(options, trace))
        return 2;
    std::string error;
    if (!FindProgram(options.Program.front(), error)) {
        std::cerr << "sockscope: " << error << "\n";
        return 2;
    }
    LabOptions lab_options;
    lab_options.CaptureSegments = false;
    Lab lab(lab_options);
    World world;
    world.SetInferSegments(true);
    world.SetInferDatagrams(true);
    StopSignals signals;
    TracerOptions tracer_options;
    tracer_options.Argv = options.Program;
    auto tracer = MakeLabTracer(lab, tracer_options);
    if (!tracer->Start(error)) {
        std::cerr << "sockscope: " << error << "\n";
        return 1;
    }
    if (!options.Json)
        Emit("sockscope: tracing " + options.Program.front() + " (pid " + std::to_string(tracer->RootPid()) + ")\n");
    double start = MonotonicSeconds();
    Holders holders;
    holders.Traced = true;
    std::string last_view;
    std::uint64_t calls = 0, last_version = world.Version(), calls_written = 0;
    std::vector<LabEvent> events;
    bool stopped = false;
    // Once the program has ended, one more look at the kernel (its listener gone, its
    // connections in TIME-WAIT), waited for at most half a second.
    double final_look = 0;
    bool final_seen = false;
    for (;;) {
        bool done = tracer->Done();
        if (done && final_look == 0) {
            lab.RefreshProbe();
            final_look = MonotonicSeconds();
        }
        const bool waiting_final = done && !final_seen && lab.ProbeRunning() && MonotonicSeconds() - final_look < 0.5;
        lab.WaitForEvents(std::chrono::milliseconds(done && !waiting_final ? 0 : 50));
        lab.Drain(events);
        bool snapshot = false;
        for (const auto& e : events) {
            world.Apply(e);
            if (const auto* c = std::get_if<CallEvent>(&e)) {
                if (c->Phase == CallPhase::Finished)
                    ++calls;
                if (!options.Json && c->Phase != CallPhase::Started)
                    Emit(CallLine(*c) + "\n");
            } else if (const auto* life = std::get_if<LaneEvent>(&e); life && ShownAsRow(*life)) {
                ++calls; // its line reads as a call (fork() = 0, exit(0)): counted as one
                if (!options.Json)
                    Emit(LaneLine(*life) + "\n"); // (a reaping shows as the parent's waitpid())
            } else if (std::holds_alternative<Snapshot>(e)) {
                snapshot = true;
                final_seen = final_seen || final_look != 0;
            }
        }
        if (snapshot)
            holders.Update(world);
        double t = MonotonicSeconds();
        if (options.Json && world.Version() != last_version) {
            last_version = world.Version();
            Emit(Line(world, t, FinishedSince(world, calls_written), holders.Known, false).dump() + "\n");
        } else if (!options.Json && snapshot) {
            std::string view = KernelView(world, holders.Known, false);
            if (view != last_view && !view.empty())
                Emit("  kernel (netlink sock_diag):\n" + view);
            else if (view != last_view)
                Emit("  kernel (netlink sock_diag): no socket on its ports any more\n");
            last_view = view;
        }
        trace.Update(world, nullptr, t);
        if (done && events.empty() && !waiting_final)
            break;
        // A busy program: let its next events gather for a millisecond rather than being
        // woken for each (a wake per call, across the two cores, cost a traced loop of
        // connections a fifth of its speed). The lines come at most that much later.
        if (!events.empty() && !done)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (!stopped && (StopSignal != 0 || (options.Duration > 0 && t - start >= options.Duration))) {
            stopped = true;
            if (!options.Json)
                Emit("sockscope: " + (StopSignal ? SignalName(StopSignal) : std::string("--duration")) +
                     ": killing the traced program\n");
            tracer->Stop();
        }
    }
    tracer->Stop();
    std::cerr << "sockscope: " << options.Program.front() << "[" << tracer->RootPid() << "] "
              << tracer->ExitText() << "; " << calls << " calls traced, " << tracer->Lanes()
              << (tracer->Lanes() == 1 ? " process" : " processes and threads") << "\n";
    return 0;
}

int RunWatch(const Options& options)
{
    TraceWriter trace;
    if (!OpenTrace(options, trace))
        return 2;
    LabOptions lab_options;
    lab_options.CaptureSegments = false;
    Lab lab(lab_options);
    World world;
    world.SetWatching(true);
    StopSignals signals;
    lab.WatchUdp(); // every TCP and UDP socket on the ports
    for (auto port : options.Watch)
        lab.WatchPort(port);
    if (!options.Json) {
        std::string ports;
        for (auto port : options.Watch)
            ports += (ports.empty() ? "" : ",") + std::to_string(port);
        Emit("sockscope: watching port" + std::string(options.Watch.size() > 1 ? "s " : " ") + ports +
             " (no tracing: the kernel's view only; Ctrl-C ends)\n");
    }
    double start = MonotonicSeconds();
    Holders holders;
    std::string last_view = "\1";
    std::vector<LabEvent> events;
    bool failed = false;
    while (StopSignal == 0 && !(options.Duration > 0 && MonotonicSeconds() - start >= options.Duration)) {
        lab.WaitForEvents(std::chrono::milliseconds(50));
        lab.Drain(events);
        if (events.empty())
            continue;
        for (const auto& e : events)
            world.Apply(e);
        holders.Update(world);
        std::string view = KernelView(world, holders.Known, true);
        double t = MonotonicSeconds();
        if (view != last_view) {
            last_view = view;
            if (options.Json) {
                Emit(Line(world, t, {}, holders.Known, true).dump() + "\n");
            } else {
                char when[32];
                std::snprintf(when, sizeof when, "t=%.3fs\n", t - start);
                Emit(when + (view.empty() ? std::string("    (no sockets on these ports)\n") : view));
            }
        }
        failed = !world.ProbeError().Empty();
        trace.Update(world, nullptr, t);
    }
    if (!options.Json && StopSignal)
        Emit("sockscope: " + SignalName(StopSignal) + ": done\n");
    return failed ? 1 : 0;
}

} // namespace sockscope
