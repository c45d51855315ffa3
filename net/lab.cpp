#include "lab.hpp"

#include "actor.hpp"
#include "clock.hpp"
#include "kernel_stats.hpp"
#include "packet.hpp"
#include "probe.hpp"
#include "world.hpp"

#include <algorithm>
#include <atomic>
#include <set>
#include <cmath>
#include <sys/socket.h>

namespace sockscope {
namespace {

// Calls after which a socket may exist that the probe's lookups cannot know of: a bound
// one, a listener, a client and its server end, a server loop's. The others only move
// sockets the probe already sees (accept's socket was in the listener's queue).
} // namespace

Lab::Lab(LabOptions options) : Options(options)
{
    if (Options.StartProbe) {
        ProbeOptions probe_options;
        probe_options.Interval = Options.ProbeInterval;
        probe_options.PromptGap = Options.ProbePromptGap;
        ProbeThread = std::make_unique<Probe>(
            [this](Snapshot&& snap) {
                // A dump that began before the last reset describes the old lab: drop it.
                if (snap.T < ResetAt.load())
                    return;
                // Counters move with the lab; settings almost never: read those once a second.
                bool sysctls = snap.T - LastSysctlRead >= 1.0;
                if (sysctls)
                    LastSysctlRead = snap.T;
                AddKernelStats(snap, sysctls);
                {
                    std::lock_guard lock(Mutex);
                    snap.CountersAtReset = CountersAtReset;
                }
                Report(std::move(snap));
            },
            probe_options);
    }
    if (Options.CaptureSegments) {
        CaptureThread = std::make_unique<Capture>([this](std::vector<Segment>&& burst) {
            for (auto& s : burst)
                if (s.T >= ResetAt.load())
                    Report(std::move(s), Notify::Soon);
            NotifyNow(); // one wake-up for the reader per burst (about one per CaptureBurst)
        });
        if (!CaptureThread->Ok())
            CaptureProblem = CaptureThread->Error();
    }
}

void Lab::WatchUdp()
{
    UdpMade.store(true, std::memory_order_relaxed);
    if (ProbeThread)
        ProbeThread->WatchUdp();
}

bool Lab::CapturesDatagrams() const
{
    return CaptureThread && CaptureThread->CapturesDatagrams();
}

bool Lab::Capturing() const
{
    return CaptureThread && CaptureThread->Ok();
}

std::uint64_t Lab::CapturedSegments() const
{
    return CaptureThread ? CaptureThread->Captured() : 0;
}

bool Lab::CaptureViaHelper() const
{
    return CaptureThread && CaptureThread->ViaHelper();
}

Phrase Lab::CaptureError() const
{
    return Options.CaptureSegments ? CaptureProblem : Say(PhraseId::CaptureOff);
}

Lab::~Lab()
{
    // Actors first: while they stop they still report, and a report kicks the probe.
    std::map<std::string, std::unique_ptr<Actor>> actors;
    {
        std::lock_guard lock(Mutex);
        actors.swap(Actors);
    }
    actors.clear(); // each joins its thread (outside the lock: actors report while stopping)
    CaptureThread.reset();
    ProbeThread.reset(); // then the probe, whose reports are snapshots (they never touch ProbeThread)
}

void Lab::AddKernelStats(Snapshot& snap, bool sysctls)
{
    snap.Counters = ReadTcpCounters();
    if (sysctls)
        snap.Sysctls = ReadTcpSysctls();
}

std::uint64_t Lab::Submit(CallRequest request)
{
    CallEvent queued; // made before taking the lock the reporters wait for
    queued.Actor = request.Actor;
    queued.ActorKind = request.ActorKind;
    queued.Call = request.Call;
    queued.Handle = request.Fd.empty() ? "main" : request.Fd;
    queued.Phase = CallPhase::Queued;
    queued.TStart = MonotonicSeconds();
    std::lock_guard lock(Mutex);
    std::uint64_t id = NextId++;
    queued.Id = id;
    Pending.emplace_back(std::move(queued));
    const bool wake = !Notified;
    Notified = true;
    QuietSince.store(0, std::memory_order_relaxed);
    if (wake)
        Queued.notify_all();
    auto& slot = Actors[request.Actor];
    if (!slot)
        slot = std::make_unique<Actor>(request.Actor, request.ActorKind, *this);
    slot->Post(id, std::move(request));
    if (ProbeThread)
        ProbeThread->Kick();
    if (wake && Wake)
        Wake();
    return id;
}

std::uint64_t Lab::NewCallId()
{
    std::lock_guard lock(Mutex);
    return NextId++;
}

void Lab::Reset()
{
    std::map<std::string, std::unique_ptr<Actor>> actors;
    {
        std::lock_guard lock(Mutex);
        actors.swap(Actors);
        Ports.clear();
    }
    actors.clear();
    ResetAt.store(MonotonicSeconds());
    Snapshot baseline;
    AddKernelStats(baseline, false);
    {
        std::lock_guard lock(Mutex);
        CountersAtReset = std::move(baseline.Counters);
        Pending.clear();
        Notified = false;
        QuietSince.store(0, std::memory_order_relaxed);
    }
    // After the old lab's events are gone: the probe's forced dump of the empty port set
    // then reaches the reader, and with it the kernel's counters before the next lesson's
    // first call (the baseline its counter checks compare with: a datagram to a port
    // nobody has shows no socket, only a counter).
    if (ProbeThread)
        ProbeThread->SetPorts({});
    if (CaptureThread && CaptureThread->Ok())
        CaptureThread->SetPorts({});
}

std::vector<LabEvent> Lab::Drain()
{
    std::vector<LabEvent> out;
    Drain(out);
    return out;
}

void Lab::Drain(std::vector<LabEvent>& out)
{
    out.clear();
    std::vector<LabEvent> spare; // freed after the lock is released
    std::lock_guard lock(Mutex);
    out.swap(Pending);
    // Reporters go on in the storage `out` had, with room for as many events as came this
    // time: no growing the vector (moving every event) under the lock. Storage far beyond
    // that is a burst that is over (592 bytes an event: 35 MB stayed resident after 10,000
    // connections): given back.
    const std::size_t want = std::max<std::size_t>(64, out.size());
    if (Pending.capacity() > 4 * want)
        spare.swap(Pending);
    Pending.reserve(want);
    Notified = false;
    QuietSince.store(0, std::memory_order_relaxed);
}

bool Lab::WaitForEvents(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(Mutex);
    Queued.wait_for(lock, timeout, [this] { return !Pending.empty() || Poked; });
    Poked = false;
    return !Pending.empty();
}

void Lab::Poke()
{
    std::function<void()> wake;
    {
        std::lock_guard lock(Mutex);
        Poked = true;
        wake = Wake;
    }
    Queued.notify_all();
    if (wake)
        wake();
}

void Lab::SetWakeCallback(std::function<void()> wake)
{
    std::lock_guard lock(Mutex);
    Wake = std::move(wake);
}

void Lab::WatchPort(std::uint16_t port)
{
    if (port == 0)
        return;
    std::vector<std::uint16_t> ports;
    {
        std::lock_guard lock(Mutex);
        if (!Ports.insert(port).second)
            return;
        ports.assign(Ports.begin(), Ports.end());
    }
    if (CaptureThread && CaptureThread->Ok())
        CaptureThread->SetPorts({ports.begin(), ports.end()});
    if (ProbeThread)
        ProbeThread->SetPorts(std::move(ports));
}

std::vector<std::uint16_t> Lab::WatchedPorts() const
{
    std::lock_guard lock(Mutex);
    return {Ports.begin(), Ports.end()};
}

Snapshot Lab::DumpNow()
{
    auto ports = WatchedPorts();
    Snapshot snap = DumpSockets(ports, nullptr, UdpMade.load(std::memory_order_relaxed));
    AddKernelStats(snap, true);
    return snap;
}

void Lab::RefreshProbe()
{
    if (ProbeThread)
        ProbeThread->Refresh();
}

void Lab::Report(LabEvent event, Notify notify)
{
    // Only actors report calls, and they live strictly inside the probe's lifetime; the
    // probe's own snapshots must not read ProbeThread (it may still be being assigned).
    // (A traced program's type may carry SOCK_NONBLOCK, SOCK_CLOEXEC: 0xf is the type's bits.)
    const auto* made = std::get_if<CallEvent>(&event);
    const bool udp_made = made && made->Call == CallId::Socket && (made->Args.Type & 0xf) == SOCK_DGRAM;
    if (udp_made)
        UdpMade.store(true, std::memory_order_relaxed); // from now on DumpNow() asks for UDP too
    if (const auto* call = std::get_if<CallEvent>(&event); call && ProbeThread) {
        // A call returned or blocked: the kernel's view has moved, and the probe looks now
        // (within its prompt gap) rather than at its next tick. Between sweeps it follows
        // the sockets it knows; a call that may have made a new one asks for a sweep.
        // A traced connect() that returned with both its addresses says which connection
        // it made: the probe looks that up (and the other end) instead of sweeping. (The
        // lab's own connects could too; a playground script of 2,000 connections in the
        // GUI took the same time either way, 32-34 s, so they still ask for a sweep.)
        const bool known_tuple = call->Traced && call->Call == CallId::Connect &&
                                 call->Phase == CallPhase::Finished && call->Local && call->Remote &&
                                 call->Local->Port != 0 && call->Remote->Port != 0;
        if (known_tuple)
            ProbeThread->Hint(*call->Local, *call->Remote);
        else if (RowOf(call->Call).Has(MayMakeSocket))
            ProbeThread->Discover();
        if (udp_made)
            ProbeThread->WatchUdp();
        ProbeThread->Prompt();
    }
    if (const auto* life = std::get_if<LaneEvent>(&event); life && ProbeThread) {
        // A lane began with copies of its parent's descriptors (fork), or ended (its
        // sockets may have closed): the kernel's view may have moved.
        if (life->Kind == LaneEventKind::Forked)
            ProbeThread->Discover();
        ProbeThread->Prompt();
    }
    std::function<void()> wake;
    bool wake_now = false;
    {
        std::lock_guard lock(Mutex);
        // A snapshot not drained yet is superseded by a newer one, which goes after the calls
        // reported since: while the reader applies snapshots more slowly than the probe makes
        // them (thousands of sockets), one kernel view waits, not an ever longer line of them.
        if (auto* snap = std::get_if<Snapshot>(&event)) {
            auto older = std::find_if(Pending.rbegin(), Pending.rend(),
                                      [](const LabEvent& e) { return std::holds_alternative<Snapshot>(e); });
            if (older != Pending.rend()) {
                if (snap->Sysctls.empty()) // read once a second: keep the older reading
                    snap->Sysctls = std::move(std::get<Snapshot>(*older).Sysctls);
                Pending.erase(std::next(older).base());
            }
        }
        Pending.push_back(std::move(event));
        // Whoever drains takes everything queued: one wake-up between two drains is enough.
        if (!Notified) {
            if (notify == Notify::Now) {
                Notified = wake_now = true;
                QuietSince.store(0, std::memory_order_relaxed);
                wake = Wake;
            } else if (QuietSince.load(std::memory_order_relaxed) == 0) {
                QuietSince.store(MonotonicSeconds(), std::memory_order_relaxed);
            }
        }
    }
    if (wake_now) {
        Queued.notify_all();
        if (wake)
            wake();
    }
}

void Lab::NotifyIfDue()
{
    double since = QuietSince.load(std::memory_order_relaxed);
    if (since != 0 && MonotonicSeconds() - since >= NotifyDelay)
        NotifyNow();
}

void Lab::NotifyNow()
{
    if (QuietSince.load(std::memory_order_relaxed) == 0)
        return; // nothing the reader has not heard of (the fast path: no lock)
    std::function<void()> wake;
    {
        std::lock_guard lock(Mutex);
        if (Notified || QuietSince.load(std::memory_order_relaxed) == 0)
            return;
        Notified = true;
        QuietSince.store(0, std::memory_order_relaxed);
        wake = Wake;
    }
    Queued.notify_all();
    if (wake)
        wake();
}

int Lab::NotifyTimeoutMs() const
{
    double since = QuietSince.load(std::memory_order_relaxed);
    if (since == 0)
        return -1;
    double left = since + NotifyDelay - MonotonicSeconds();
    return left <= 0 ? 0 : static_cast<int>(std::ceil(left * 1000));
}

void InferWhatIsNotCaptured(const Lab& lab, World& world)
{
    world.SetInferSegments(!lab.Capturing());
    world.SetInferDatagrams(!lab.CapturesDatagrams());
}

} // namespace sockscope
