// The probe's thread, and one-off dumps. How a snapshot is taken (a dump, or lookups
// of the sockets already known) is tracker.cpp's business; the netlink conversation is
// diag_socket.cpp's.
#include "probe.hpp"

#include "clock.hpp"
#include "diag_socket.hpp"
#include "tracker.hpp"

#include <algorithm>

namespace sockscope {
namespace {

bool AnyTimer(const Snapshot& s)
{
    return std::any_of(s.Sockets.begin(), s.Sockets.end(),
                       [](const KernelSocket& k) { return k.Timer != TimerKind::None; });
}

Snapshot DumpWith(DiagSocket& diag, std::span<const std::uint16_t> ports)
{
    Snapshot snap;
    // Stamped before asking: whatever completed before T is in this snapshot.
    snap.T = MonotonicSeconds();
    diag.Dump(ports, snap.Sockets, snap.Error);
    return snap;
}

} // namespace

Snapshot DumpSockets(std::span<const std::uint16_t> ports, std::string* error, bool udp)
{
    DiagSocket diag;
    Snapshot snap = DumpWith(diag, ports);
    if (udp && snap.Error.Empty())
        diag.DumpUdp(ports, snap.Sockets, snap.Error);
    if (error != nullptr)
        *error = snap.Error.English();
    return snap;
}

bool SameSockets(const Snapshot& a, const Snapshot& b)
{
    if (a.Error != b.Error || a.Sockets.size() != b.Sockets.size())
        return false;
    for (std::size_t i = 0; i < a.Sockets.size(); ++i) {
        KernelSocket x = a.Sockets[i];
        KernelSocket y = b.Sockets[i];
        for (KernelSocket* k : {&x, &y}) {
            k->TimerExpiresMs = 0;
            k->HasInfo = false;
            k->SegsOut = k->SegsIn = k->TotalRetrans = k->Rto = 0;
        }
        if (!(x == y))
            return false;
    }
    return true;
}

Probe::Probe(Sink sink, ProbeOptions opts)
    : OnSnapshot(std::move(sink)), Options(opts), Worker([this] { Run(); })
{
}

Probe::~Probe()
{
    {
        std::lock_guard lock(Mutex);
        Stopping = true;
    }
    WakeUp.notify_all();
    Worker.join();
}

void Probe::SetPorts(std::vector<std::uint16_t> ports)
{
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    ports.erase(std::remove(ports.begin(), ports.end(), std::uint16_t{0}), ports.end());
    {
        std::lock_guard lock(Mutex);
        PortSet = std::move(ports);
        Wake = ForceDelivery = true;
    }
    WakeUp.notify_all();
}

void Probe::Refresh()
{
    {
        std::lock_guard lock(Mutex);
        Wake = ForceDelivery = true;
    }
    WakeUp.notify_all();
}

std::vector<std::uint16_t> Probe::Ports() const
{
    std::lock_guard lock(Mutex);
    return PortSet;
}

Snapshot Probe::DumpNow()
{
    const std::vector<std::uint16_t> ports = Ports();
    return DumpSockets(ports, nullptr, UdpWanted.load(std::memory_order_relaxed));
}

void Probe::Pause(bool paused)
{
    {
        std::lock_guard lock(Mutex);
        IsPaused = paused;
        Wake = true;
    }
    WakeUp.notify_all();
}

void Probe::Kick()
{
    const auto now = std::chrono::steady_clock::now();
    // Fast path: already busy and marked recently; no lock for the thousands of events
    // of a busy lab.
    const auto now_ticks = now.time_since_epoch().count();
    const auto quarter = std::chrono::duration_cast<std::chrono::steady_clock::duration>(Options.BusyFor / 4).count();
    if (now_ticks - LastKickTicks.load(std::memory_order_relaxed) < quarter)
        return;
    LastKickTicks.store(now_ticks, std::memory_order_relaxed);
    bool was_idle;
    {
        std::lock_guard lock(Mutex);
        was_idle = now - LastActivity >= Options.BusyFor;
        LastActivity = now;
        if (was_idle)
            Wake = true;
    }
    if (was_idle)
        WakeUp.notify_all();
}

void Probe::Discover()
{
    SweepWanted.store(true, std::memory_order_relaxed);
    Kick();
}

void Probe::Hint(const Endpoint& local, const Endpoint& remote)
{
    {
        std::lock_guard lock(Mutex);
        // A flood of connections between two snapshots: a sweep finds them all at once.
        if (Hints.size() < 256)
            Hints.emplace_back(local, remote);
        else
            SweepWanted.store(true, std::memory_order_relaxed);
    }
    Kick();
}

void Probe::Prompt()
{
    Kick();
    if (Options.PromptGap.count() <= 0 || PromptWanted.exchange(true, std::memory_order_acq_rel))
        return; // the thread has been told already
    {
        // The flag was set outside the lock: taking it once orders the flag before the
        // thread's next look at it (it is either about to look, or waiting and notified).
        std::lock_guard lock(Mutex);
    }
    WakeUp.notify_all();
}

bool Probe::Paused() const
{
    std::lock_guard lock(Mutex);
    return IsPaused;
}

void Probe::Run()
{
    using Clock = std::chrono::steady_clock;
    // Kept between snapshots: its netlink socket (one socket() call per error, not per
    // tick) and what the last snapshot found, which it follows with lookups.
    TrackerOptions tracking;
    tracking.SweepEvery = std::chrono::duration<double>(Options.SweepEvery).count();
    tracking.PreferCheaper = Options.PreferCheaper;
    SocketTracker tracker(tracking);
    Snapshot last;
    bool delivered_any = false;
    auto next_tick = Clock::now();

    std::unique_lock lock(Mutex);
    while (!Stopping) {
        if (IsPaused) {
            WakeUp.wait(lock, [this] { return Stopping || !IsPaused; });
            next_tick = Clock::now();
            continue;
        }
        const std::vector<std::uint16_t> ports = PortSet;
        const bool force = ForceDelivery;
        // A new port set or a forced delivery: whatever is there now, found by a sweep.
        const bool sweep = SweepWanted.exchange(false, std::memory_order_relaxed) || force;
        Wake = ForceDelivery = false;
        std::vector<std::pair<Endpoint, Endpoint>> hints;
        hints.swap(Hints);
        PromptWanted.store(false, std::memory_order_release); // a call returning from now on asks again
        lock.unlock();
        const double cpu_before = ThreadCpuSeconds();

        // Nothing here may end the thread: a failed dump is a snapshot with Error set.
        try {
            Snapshot snap = tracker.Take(ports, sweep, UdpWanted.load(std::memory_order_relaxed), hints);
            if (tracker.LastKind() == SnapshotKind::Sweep)
                SweepCount.fetch_add(1, std::memory_order_relaxed);
            DumpCount.fetch_add(1, std::memory_order_relaxed);
            const double refresh = std::chrono::duration<double>(Options.TimerRefresh).count();
            const bool deliver = force || !delivered_any || !SameSockets(snap, last) ||
                                 (AnyTimer(snap) && snap.T - last.T >= refresh);
            if (deliver && !(AnyTimer(snap) && SameSockets(snap, last))) {
                std::lock_guard activity(Mutex); // a real change: stay at the busy pace
                LastActivity = Clock::now();
            }
            if (deliver) {
                last = snap;
                delivered_any = true;
                DeliveredCount.fetch_add(1, std::memory_order_relaxed);
                try {
                    OnSnapshot(std::move(snap));
                } catch (...) {
                    // The sink's failure is the sink's business; the probe keeps probing.
                }
            }
        } catch (...) {
            // Out of memory while copying rows: skip this tick, try again at the next.
        }

        const auto ended = Clock::now();
        // What the snapshot cost this thread (the kernel's walk runs in its system calls),
        // not its wall time: a snapshot the host merely paused is no reason to rest longer.
        const std::chrono::duration<double> cost(ThreadCpuSeconds() - cpu_before);
        lock.lock();
        // A fixed cadence, but after a stall (a debugger, a suspended laptop) start
        // afresh instead of firing a burst of catch-up dumps.
        const auto now = Clock::now();
        const auto interval = now - LastActivity < Options.BusyFor ? Options.Interval : Options.IdleInterval;
        next_tick += interval;
        if (next_tick < now || next_tick > now + interval)
            next_tick = now + interval;
        // Rest in proportion to what this snapshot took; prompted, wake as soon as the
        // gap after it has passed.
        const auto rest = std::chrono::duration_cast<Clock::duration>(cost * Options.RestFactor);
        next_tick = std::max(next_tick, ended + rest);
        const auto prompt_at = ended + std::max<Clock::duration>(Options.PromptGap, rest);
        while (!Stopping && !Wake) {
            const bool prompted = PromptWanted.load(std::memory_order_acquire);
            const auto until = prompted ? std::min(next_tick, prompt_at) : next_tick;
            if (Clock::now() >= until)
                break;
            WakeUp.wait_until(lock, until);
        }
    }
}

} // namespace sockscope
