// The kernel probe: asks the kernel (netlink sock_diag) which TCP sockets use the lab's
// ports, in what state, with which queues and timers. It never guesses: what it reports
// is what the kernel said, or an error saying why the kernel could not be asked.
#pragma once

#include "kernel_types.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace sockscope {

struct ProbeOptions {
    // How often the background thread asks the kernel while the lab is busy (within
    // BusyFor of the last Kick() or of the last change the probe saw)...
    std::chrono::milliseconds Interval{15};
    // ...and while nothing happens: a still lab costs almost nothing, and a change from
    // outside (a student's nc) still shows within this long.
    std::chrono::milliseconds IdleInterval{200};
    std::chrono::milliseconds BusyFor{2000};
    // While some socket has a timer running, a snapshot whose only news is moving
    // countdowns is still delivered this often, so the UI's countdowns move.
    std::chrono::milliseconds TimerRefresh{100};
    // Between sweeps (dumps, which walk every TCP socket of the machine) the probe
    // follows the sockets it knows with lookups (tracker.hpp); it sweeps when told that
    // something new may exist (Discover, SetPorts, Refresh), when what it sees gives
    // away a socket it does not know, and at least this often.
    std::chrono::milliseconds SweepEvery{1000};
    // Sweep instead of following when the last sweep took less time than the lookups
    // would (few sockets on the machine). Tests that count sweeps turn it off.
    bool PreferCheaper = true;
    // After Prompt() (a call returned), the next snapshot is taken at once rather than at
    // the next tick, but never sooner than this after the previous one ended. Zero: no
    // prompting (snapshots only at the ticks). 5 ms: the view follows a call within a
    // third of a 60 Hz frame, and a burst of 10,000 connects loses nothing measurable
    // to the extra snapshots (bench [4]; at 2 ms it lost 4-16 %).
    std::chrono::microseconds PromptGap{5000};
    // After each snapshot the thread rests at least this many times the CPU time that
    // snapshot took, whatever the interval or a prompt asks: a lab of 10,000 connections
    // (about 30 ms a snapshot) is looked at less often, and the probe never takes more
    // than 1 / (1 + RestFactor) of a core from the lab it watches.
    double RestFactor = 4;
};

// Dumps the TCP sockets (IPv4 and IPv6) whose local or remote port is in `ports`, the
// filtering done by the kernel. Opens and closes its own netlink socket, so it is safe
// from any thread. An empty port list gives an empty snapshot without asking. On failure
// the snapshot has no rows and says why in Error (also copied to *error when given).
// Rows are sorted by local endpoint, then remote endpoint, then cookie.
// With `udp`, the UDP sockets on the ports too.
Snapshot DumpSockets(std::span<const std::uint16_t> ports, std::string* error = nullptr, bool udp = false);

// True when both snapshots show the same sockets in the same states, queues and timer
// kinds and the same error. Ignores T, timer countdowns (TimerExpiresMs) and tcp_info
// counters, which change on every dump without anything happening worth redrawing.
bool SameSockets(const Snapshot& a, const Snapshot& b);

// A background thread dumping the lab's ports every Interval and handing the snapshot
// to a sink when it differs from the previous one delivered (see SameSockets and
// ProbeOptions::TimerRefresh). The thread starts in the constructor and is stopped and
// joined by the destructor; errors (no permission, no sock_diag module...) arrive as
// snapshots with Error set, and the thread carries on.
class Probe {
public:
    // Called on the probe thread, never concurrently with itself, without any lock of the
    // Probe held: it may call SetPorts, Pause, DumpNow or the counters, but must not
    // destroy the Probe. It should be quick (typically: push onto a queue). An exception
    // it throws is swallowed so the probe survives.
    using Sink = std::function<void(Snapshot&&)>;

    explicit Probe(Sink sink, ProbeOptions opts = {});
    ~Probe(); // wakes the thread, stops and joins it (promptly: no sleep to finish)
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;

    // The ports to watch; duplicates and 0 are dropped. Wakes the thread for an immediate
    // dump, delivered even if it shows nothing new. Safe from any thread.
    void SetPorts(std::vector<std::uint16_t> ports);
    // Wakes the thread for an immediate dump and delivers it even if it shows nothing new
    // (e.g. after the receiver dropped snapshots of a lab it has just reset). Any thread.
    void Refresh();
    // Something is happening in the lab (a call was made or returned): probe at the
    // busy pace, starting now if the probe was idle. Cheap; safe from any thread.
    void Kick();
    // Something new may exist that the probe does not know of (a call that makes a socket:
    // bind, listen, connect, a server loop): the next snapshot is a sweep. Implies Kick().
    void Discover();
    // A call has just returned or blocked: what the kernel shows has moved. The next
    // snapshot is taken now, or as soon as ProbeOptions::PromptGap allows, instead of at
    // the next tick, so the view follows the call within a snapshot's time. Implies
    // Kick(). Cheap (an atomic flag) while a prompted snapshot is already pending.
    void Prompt();
    // A connection was made whose four-tuple is known (a traced connect() returned): the
    // next snapshot looks it up, and its other end on this host, rather than sweeping to
    // find them. Implies Kick(). Safe from any thread.
    void Hint(const Endpoint& local, const Endpoint& remote);
    // From now on, snapshots also show the UDP sockets on the ports (the lab made one).
    // Cheap; safe from any thread.
    void WatchUdp() { UdpWanted.store(true, std::memory_order_relaxed); }
    // The current port set, sorted. Safe from any thread.
    std::vector<std::uint16_t> Ports() const;

    // A synchronous dump of the current ports, on the caller's thread with its own
    // netlink socket; does not go to the sink and does not count in Dumps(). Safe from
    // any thread.
    Snapshot DumpNow();

    // Dumps made by the background thread / snapshots handed to the sink. Any thread.
    std::uint64_t Dumps() const { return DumpCount.load(std::memory_order_relaxed); }
    std::uint64_t Delivered() const { return DeliveredCount.load(std::memory_order_relaxed); }
    // Of Dumps(), those that were sweeps (the rest followed known sockets). Any thread.
    std::uint64_t Sweeps() const { return SweepCount.load(std::memory_order_relaxed); }

    // While paused the thread makes no dumps (the last snapshot stays on screen). Any thread.
    void Pause(bool paused);
    bool Paused() const;

private:
    void Run();

    Sink OnSnapshot;
    ProbeOptions Options;

    mutable std::mutex Mutex; // guards PortSet, IsPaused, Wake, ForceDelivery, Hints
    std::condition_variable WakeUp;
    std::vector<std::uint16_t> PortSet;
    bool IsPaused = false;
    bool Wake = false;
    std::chrono::steady_clock::time_point LastActivity{}; // guarded by Mutex
    std::atomic<std::int64_t> LastKickTicks{0};            // Kick()'s lock-free fast path          // something changed: dump now rather than at the next tick
    bool ForceDelivery = false; // deliver the next dump even if it equals the last one
    std::vector<std::pair<Endpoint, Endpoint>> Hints; // since the last snapshot (Hint())
    std::atomic<bool> Stopping{false};

    std::atomic<std::uint64_t> DumpCount{0};
    std::atomic<std::uint64_t> DeliveredCount{0};
    std::atomic<std::uint64_t> SweepCount{0};
    std::atomic<bool> SweepWanted{false};
    std::atomic<bool> PromptWanted{false};
    std::atomic<bool> UdpWanted{false};

    std::thread Worker; // last: starts after every member above is ready
};

} // namespace sockscope
