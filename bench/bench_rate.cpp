// [4] The lab's connect + accept rate against bare loops making the same calls.
//
// What is fair: the lab's work is done when the last accept's Finished event has been
// drained by the thread that owns the model, so that is where its clock stops; the
// events are part of the price. The bare loop is the plain C version: one thread,
// socket + connect + accept, nothing reported, no packet capture. Between the two, loops
// that add one ingredient of the lab at a time, so the gap can be split into its causes:
// every other system call the actors make, the events they queue (through a real
// Lab::Report), and two threads instead of one. The lab itself runs as a user gets it:
// with its packet capture on lo when the process may open one (CAP_NET_RAW), which makes
// the kernel copy every segment for it; one variant turns the capture off to show what
// that costs. What remains is the lab's own hand-off between threads.
#include "alloc_count.hpp"
#include "bench.hpp"

#include "lab.hpp"
#include "sockets.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

namespace sockscope::bench {
namespace {

struct RateRun {
    double Seconds = -1;
    double Cpu = 0; // CPU seconds of the whole process (every thread) meanwhile
    int Connections = 0;
    std::string Error;
    // The lab only:
    double SubmitSeconds = 0;
    std::size_t Events = 0, Snapshots = 0, Segments = 0;
    bool Capturing = false;
    double ClientBusy = 0, ServerBusy = 0; // sum of (TEnd - TStart) of the actors' calls
    long Overflows = 0;                    // TcpExt ListenOverflows during the run
    long Switches = 0;                     // context switches of this process during the run
    double Teardown = 0;                   // ~Lab: resets and joins (not timed in Seconds)
    std::uint64_t Allocations = 0;         // heap allocations of the process during the run
};

enum class Extra { None, Calls, CallsAndEvents };

// socket + connect + accept, `n` times on one thread. With Extra::Calls, also every
// other system call the actors make around them (net/actor.cpp); with CallsAndEvents,
// also the events the lab queues for them, through a real Lab::Report (no probe, no
// capture), drained at the end.
RateRun BareLoop(int n, Extra extra)
{
    const bool lab_calls = extra != Extra::None;
    const bool events = extra == Extra::CallsAndEvents;
    RateRun run;
    std::uint16_t port = 0;
    UniqueFd lfd = ListenOnLoopback(port, run.Error);
    if (lfd.Get() < 0)
        return run;
    const sockaddr_in to = LoopbackAddress(port);

    std::optional<Lab> lab; // only for the events: a Lab's packet capture would tax every loop
    if (events) {
        LabOptions quiet;
        quiet.StartProbe = false;
        quiet.CaptureSegments = false;
        lab.emplace(quiet);
    }
    UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    // As large as the actors' events: the typed arguments (connect's address), the new
    // descriptor (socket, accept).
    CallEvent event;
    event.Actor = "client";
    event.ActorKind = "client";
    event.Args.Addr = Endpoint::V4(0x7f000001, 40000);
    event.Args.AddrLen = sizeof to;
    // Per connection, as the lab reports them: three Queued (Submit), and one Finished
    // per call (a call that neither waits nor takes long sends no Started). The accept
    // of this loop never waits; the lab's does when it is ahead of the client (Blocked).
    auto report = [&](CallId call, CallPhase phase, bool fd) {
        if (!events)
            return;
        event.Call = call;
        event.Phase = phase;
        event.NewFd.reset();
        if (fd)
            event.NewFd = FdInfo{"c", 3, 12345, 67890};
        lab->Report(event, phase == CallPhase::Finished ? Lab::Notify::Soon : Lab::Notify::Now);
    };
    auto describe = [](int fd) { // what the actors do to every new descriptor
        struct stat st{};
        fstat(fd, &st);
        std::uint64_t cookie = 0;
        socklen_t len = sizeof cookie;
        getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
    };
    auto nonblock = [](int fd, bool on) { fcntl(fd, F_SETFL, on ? O_NONBLOCK : 0); };

    std::vector<UniqueFd> fds;
    fds.reserve(2 * static_cast<std::size_t>(n));
    const double cpu = CpuSeconds();
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        if (lab_calls) {
            report(CallId::Socket, CallPhase::Queued, false);
            report(CallId::Connect, CallPhase::Queued, false);
            report(CallId::Accept, CallPhase::Queued, false);
        }
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0) {
            run.Error = std::string("socket: ") + std::strerror(errno);
            break;
        }
        fds.emplace_back(c);
        if (lab_calls) {
            describe(c);
            report(CallId::Socket, CallPhase::Finished, true);
            // As net/actor.cpp's DoConnect: non-blocking for the whole call; connect(),
            // once more at once (on loopback the handshake is over by then), and only if
            // it is not, poll() until it is and connect() again for the outcome.
            nonblock(c, true);
            int rc = connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to);
            if (rc < 0 && errno == EINPROGRESS)
                rc = connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to);
            while (rc < 0 && (errno == EINPROGRESS || errno == EALREADY)) {
                pollfd pfds[2] = {{c, POLLOUT, 0}, {wake.Get(), POLLIN, 0}};
                poll(pfds, 2, -1);
                rc = connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to);
            }
            nonblock(c, false);
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            getsockname(c, reinterpret_cast<sockaddr*>(&ss), &len);
            len = sizeof ss;
            getpeername(c, reinterpret_cast<sockaddr*>(&ss), &len);
            report(CallId::Connect, CallPhase::Finished, false);
            if (rc != 0) {
                run.Error = "connect failed";
                break;
            }
            nonblock(lfd.Get(), true);
            len = sizeof ss;
            int s = accept4(lfd.Get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
            nonblock(lfd.Get(), false);
            if (s < 0) {
                run.Error = std::string("accept: ") + std::strerror(errno);
                break;
            }
            fds.emplace_back(s);
            describe(s);
            len = sizeof ss;
            getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len);
            report(CallId::Accept, CallPhase::Finished, true);
        } else {
            if (connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
                run.Error = std::string("connect: ") + std::strerror(errno);
                break;
            }
            int s = accept4(lfd.Get(), nullptr, nullptr, SOCK_CLOEXEC);
            if (s < 0) {
                run.Error = std::string("accept: ") + std::strerror(errno);
                break;
            }
            fds.emplace_back(s);
        }
        ++run.Connections;
    }
    if (events)
        run.Events = lab->Drain().size(); // the consumer's side of the same queue
    run.Seconds = SecondsSince(start);
    run.Cpu = CpuSeconds() - cpu;
    for (auto& fd : fds)
        SetLingerZero(fd.Get());
    return run;
}

// The lab's shape without the lab: connect on this thread, accept on another, both
// blocking. What two threads on two cores cost by themselves.
RateRun BareTwoThreads(int n)
{
    RateRun run;
    std::uint16_t port = 0;
    UniqueFd lfd = ListenOnLoopback(port, run.Error);
    if (lfd.Get() < 0)
        return run;
    const timeval patience{5, 0}; // accept() gives up if the other thread failed
    setsockopt(lfd.Get(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    const sockaddr_in to = LoopbackAddress(port);
    std::vector<UniqueFd> clients(static_cast<std::size_t>(n)), servers(static_cast<std::size_t>(n));
    std::string accept_error;
    const long overflows = TcpExtCounters()["ListenOverflows"];
    const double cpu = CpuSeconds();
    const auto start = Clock::now();
    std::thread acceptor([&] {
        for (auto& s : servers) {
            s = UniqueFd(accept4(lfd.Get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (s.Get() < 0) {
                accept_error = std::string("accept: ") + std::strerror(errno);
                return;
            }
        }
    });
    for (auto& c : clients) {
        c = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (c.Get() < 0 || connect(c.Get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
            run.Error = std::string("connect: ") + std::strerror(errno);
            break;
        }
        ++run.Connections;
    }
    acceptor.join();
    run.Seconds = SecondsSince(start);
    run.Cpu = CpuSeconds() - cpu;
    run.Overflows = TcpExtCounters()["ListenOverflows"] - overflows;
    if (run.Error.empty())
        run.Error = accept_error;
    for (auto* side : {&clients, &servers})
        for (auto& fd : *side)
            SetLingerZero(fd.Get());
    return run;
}

// Drains until call `last` has finished; returns the Finished events of calls up to it.
std::map<std::uint64_t, CallEvent> WaitForCalls(Lab& lab, std::uint64_t last, double timeout)
{
    std::map<std::uint64_t, CallEvent> done;
    const auto start = Clock::now();
    while (!done.count(last) && SecondsSince(start) < timeout) {
        lab.WaitForEvents(std::chrono::milliseconds(50));
        for (auto& e : lab.Drain())
            if (auto* c = std::get_if<CallEvent>(&e); c && c->Phase == CallPhase::Finished)
                done[c->Id] = *c;
    }
    return done;
}

// The lab: socket + connect on a client actor, accept on a server actor, all submitted
// at once; the clock stops when the last Finished event has been drained. Each
// descriptor gets its own name ("c17", "a17") unless `name_accepts` is false: then the
// actor names them itself ("conn", "conn2", ...), as a lesson that omits "as" does.
// `capture` false turns the packet capture off (else it runs when the process may);
// `prompt` false makes the probe look only at its ticks (not as soon as a call returns).
RateRun LabLoop(int n, bool probe, bool name_accepts = true, bool capture = true, bool prompt = true)
{
    RateRun run;
    LabOptions lab_options;
    lab_options.StartProbe = probe;
    lab_options.CaptureSegments = capture;
    if (!prompt)
        lab_options.ProbePromptGap = std::chrono::microseconds(0);
    auto lab = std::make_unique<Lab>(lab_options);
    run.Capturing = lab->Capturing();
    CallRequest setup;
    setup.Actor = "server";
    setup.ActorKind = "server";
    setup.Call = CallId::Socket;
    lab->Submit(setup);
    setup.Call = CallId::Bind;
    const std::uint64_t bind_id = lab->Submit(setup);
    setup.Call = CallId::Listen;
    setup.Backlog = 4096;
    const std::uint64_t listen_id = lab->Submit(setup);
    auto done = WaitForCalls(*lab, listen_id, 5);
    if (!done.count(listen_id) || done[listen_id].Result != 0 || !done[bind_id].Local) {
        run.Error = "the server actor could not listen";
        return run;
    }
    const int port = done[bind_id].Local->Port;

    const long overflows = TcpExtCounters()["ListenOverflows"];
    const long switches = ContextSwitches();
    const double cpu = CpuSeconds();
    const std::uint64_t allocations = HeapAllocations();
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        CallRequest c;
        c.Actor = "client";
        c.Call = CallId::Socket;
        c.As = Numbered("c", i);
        lab->Submit(c);
        c.Call = CallId::Connect;
        c.Fd = c.As;
        c.As.clear();
        c.Port = port;
        lab->Submit(std::move(c));
        CallRequest a;
        a.Actor = "server";
        a.ActorKind = "server";
        a.Call = CallId::Accept;
        if (name_accepts)
            a.As = Numbered("a", i);
        lab->Submit(std::move(a));
    }
    run.SubmitSeconds = SecondsSince(start);
    int connected = 0, accepted = 0;
    std::vector<LabEvent> events; // drained into one buffer, as the GUI and the player do
    while ((connected < n || accepted < n) && SecondsSince(start) < 60) {
        lab->WaitForEvents(std::chrono::milliseconds(100));
        lab->Drain(events);
        for (auto& e : events) {
            ++run.Events;
            const auto* c = std::get_if<CallEvent>(&e);
            if (!c) {
                ++(std::holds_alternative<Segment>(e) ? run.Segments : run.Snapshots);
                continue;
            }
            if (c->Phase != CallPhase::Finished)
                continue;
            (c->ActorKind == "server" ? run.ServerBusy : run.ClientBusy) += c->TEnd - c->TStart;
            if (c->Result < 0 && run.Error.empty())
                run.Error = std::string(CallName(c->Call)) + ": " + ErrnoName(c->Errno);
            if (c->Call == CallId::Connect)
                ++connected;
            else if (c->Call == CallId::Accept)
                ++accepted;
        }
    }
    run.Seconds = SecondsSince(start);
    run.Cpu = CpuSeconds() - cpu;
    run.Connections = std::min(connected, accepted);
    run.Switches = ContextSwitches() - switches;
    run.Allocations = HeapAllocations() - allocations;
    run.Overflows = TcpExtCounters()["ListenOverflows"] - overflows;
    if (run.Connections < n && run.Error.empty())
        run.Error = "only " + std::to_string(run.Connections) + " connections within 60 s";
    const auto teardown = Clock::now();
    lab.reset();
    run.Teardown = SecondsSince(teardown);
    return run;
}

std::string RateText(const RateRun& r)
{
    if (r.Seconds <= 0 || r.Connections == 0)
        return "-";
    return FormatCount(r.Connections / r.Seconds) + "/s";
}

RateRun Best(const RateRun& a, const RateRun& b)
{
    if (!a.Error.empty())
        return b;
    if (!b.Error.empty())
        return a;
    return a.Seconds <= b.Seconds ? a : b;
}

} // namespace

void RunRateSection(Report& report, const Options& options)
{
    const int n = options.RateConnections;
    const int small = std::min(n, 2000);
    report.Section("[4] connect + accept rate, " + FormatCount(n) + " connections to 127.0.0.1",
                   "rate = connections / wall time (lab: first Submit to the last Finished event drained); "
                   "best of 3 rounds, variants alternated; CPU = all threads of the process");
    struct Variant {
        std::string What;
        std::function<RateRun()> Run;
        bool Judged = false;
        RateRun Best;
        std::string Runs;
        long Overflows = 0; // over every run: a drop costs a 1 s SYN retransmission
    };
    std::vector<Variant> variants;
    auto variant = [&](std::string what, std::function<RateRun()> run, bool judged = false) {
        Variant v;
        v.What = std::move(what);
        v.Run = std::move(run);
        v.Judged = judged;
        variants.push_back(std::move(v));
    };
    variant("bare loop: socket, connect, accept (1 thread)", [n] { return BareLoop(n, Extra::None); });
    variant("  + the actors' other system calls", [n] { return BareLoop(n, Extra::Calls); });
    variant("  + their 6 events per connection (Lab::Report)", [n] { return BareLoop(n, Extra::CallsAndEvents); });
    variant("bare, 2 threads: connect | accept", [n] { return BareTwoThreads(n); });
    variant("lab: client + server actor, no probe, no capture", [n] { return LabLoop(n, false, true, false); }, true);
    variant("lab: client actor + server actor, no probe", [n] { return LabLoop(n, false); });
    variant("lab: the same, with the probe (default)", [n] { return LabLoop(n, true); });
    variant("lab: the same, probe at its 15 ms ticks only", [n] { return LabLoop(n, true, true, true, false); });
    variant("lab, " + FormatCount(small) + " connections, accepts named", [small] { return LabLoop(small, false); });
    variant("lab, " + FormatCount(small) + " connections, accepts unnamed",
            [small] { return LabLoop(small, false, false); });
    for (int round = 0; round < 3; ++round) {
        for (auto& v : variants) {
            RateRun r = v.Run();
            v.Best = round == 0 ? r : Best(v.Best, r);
            v.Runs += (round ? " / " : "runs ") + (r.Error.empty() ? FormatSeconds(r.Seconds) : "failed");
            v.Overflows += r.Overflows;
        }
    }
    auto rate_of = [](const RateRun& r) { return r.Error.empty() && r.Seconds > 0 ? r.Connections / r.Seconds : 0.0; };
    const double base = rate_of(variants[0].Best);
    const double base2 = rate_of(variants[3].Best); // the bare two-thread loop
    for (const auto& v : variants) {
        const RateRun& r = v.Best;
        const double rate = rate_of(r);
        char detail[300];
        std::snprintf(detail, sizeof detail,
                      "%.0f%% of bare, %.0f%% of bare 2-thread; %.1f us wall, %.1f us CPU per connection; %s",
                      base > 0 ? 100 * rate / base : 0, base2 > 0 ? 100 * rate / base2 : 0,
                      r.Connections ? 1e6 * r.Seconds / r.Connections : 0,
                      r.Connections ? 1e6 * r.Cpu / r.Connections : 0, v.Runs.c_str());
        std::string text = detail;
        if (v.What.rfind("lab", 0) == 0 && r.Connections > 0)
            text += "; " + FormatCount(static_cast<double>(r.Allocations) / r.Connections) + " heap allocations per connection";
        report.Add({v.What, RateText(r), v.Judged ? ">= 75% of 2-thread" : "",
                    !v.Judged ? Verdict::Info : base2 > 0 && rate / base2 >= 0.75 ? Verdict::Ok : Verdict::Missed,
                    r.Error.empty() ? text : "FAILED: " + r.Error});
    }
    report.Note("an event: sizeof(CallEvent) " + std::to_string(sizeof(CallEvent)) + " bytes, sizeof(LaneEvent) " +
                std::to_string(sizeof(LaneEvent)) + " bytes, sizeof(LabEvent) " + std::to_string(sizeof(LabEvent)) +
                " bytes (before the call catalogue: 584 and 592); a call that moves no data allocates nothing "
                "for its arguments (typed, formatted where shown)");
    long overflows = 0;
    for (const auto& v : variants) {
        overflows += v.Overflows;
        const RateRun& r = v.Best;
        if (v.What.rfind("lab:", 0) != 0 || !r.Error.empty())
            continue;
        char line[500];
        std::snprintf(line, sizeof line,
                      "%s: submitting took %s; inside their calls: client actor %s, server actor %s (of %s); "
                      "%s events (%s snapshots, %s segments: capture %s); %.1f context switches per connection; "
                      "~Lab %s",
                      v.What.c_str() + 5, FormatSeconds(r.SubmitSeconds).c_str(), FormatSeconds(r.ClientBusy).c_str(),
                      FormatSeconds(r.ServerBusy).c_str(), FormatSeconds(r.Seconds).c_str(),
                      FormatCount(static_cast<double>(r.Events)).c_str(),
                      FormatCount(static_cast<double>(r.Snapshots)).c_str(),
                      FormatCount(static_cast<double>(r.Segments)).c_str(), r.Capturing ? "on" : "off",
                      static_cast<double>(r.Switches) / std::max(1, r.Connections), FormatSeconds(r.Teardown).c_str());
        report.Note(line);
    }
    report.Note(overflows == 0 ? "no accept-queue overflow in any run (TcpExt ListenOverflows unchanged)"
                               : "WARNING: " + std::to_string(overflows) +
                                     " listen overflows: some SYNs waited for a 1 s retransmission");
}

} // namespace sockscope::bench
