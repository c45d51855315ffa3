// The socket lab: actors (one background thread each) that make real system calls on
// command, and the kernel probe that watches their ports. Everything they report comes
// out of Drain() in order, to be applied to a World on one thread.
#pragma once

#include "events.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace sockscope {

class Actor;
class Capture;
class Probe;

struct LabOptions {
    bool StartProbe = true;
    bool CaptureSegments = true; // AF_PACKET on lo, when permitted (CAP_NET_RAW)
    std::chrono::milliseconds ProbeInterval{15};
    // ProbeOptions::PromptGap: after a call returns, the probe looks at once (0: only at
    // its ticks, every ProbeInterval).
    std::chrono::microseconds ProbePromptGap{5000};
};

class Lab {
public:
    explicit Lab(LabOptions options = {});
    ~Lab(); // wakes every blocked call, closes every descriptor, joins every thread
    Lab(const Lab&) = delete;
    Lab& operator=(const Lab&) = delete;

    // Queue a system call on an actor (created on first use). Returns the call's id;
    // its events carry it. Safe from any thread.
    std::uint64_t Submit(CallRequest request);

    // Wake every blocked call, close every descriptor, stop every actor thread, forget
    // the watched ports. Returns when all of that is done. Safe from any thread but not
    // concurrently with itself.
    void Reset();

    // Everything reported since the previous Drain(), in order, except that only the newest
    // snapshot is kept (after every call reported before it). Safe from any thread.
    std::vector<LabEvent> Drain();
    // The same into `out` (cleared first), whose storage the lab keeps for the events to
    // come: a reader that drains into one vector all along makes the reporters allocate
    // (and fault in) nothing. Safe from any thread.
    void Drain(std::vector<LabEvent>& out);
    // Block until something is queued, Poke() is called or the timeout passes. Returns
    // true if queued.
    bool WaitForEvents(std::chrono::milliseconds timeout);
    // Wake the reader (WaitForEvents, the wake callback) though nothing was queued: what
    // it waits for besides events has happened (a traced program has ended). Any thread.
    void Poke();
    // Called on the reporting thread after each event is queued (GUI: glfwPostEmptyEvent).
    void SetWakeCallback(std::function<void()> wake);

    // Ports the probe dumps (bind and connect add theirs automatically).
    void WatchPort(std::uint16_t port);
    // The probe dumps UDP sockets on the watched ports too (a SOCK_DGRAM socket() of an
    // actor or a traced program asks for it by itself; --watch asks from the start).
    void WatchUdp();
    std::vector<std::uint16_t> WatchedPorts() const;
    // A synchronous dump of the watched ports (tests). Not for a reader that also takes
    // the probe's snapshots: this one may be older than the probe's last, and the probe,
    // which delivers only changes, would not correct the view it replaced.
    Snapshot DumpNow();
    // Ask the probe for a fresh sweep, delivered even if nothing changed, at once and in
    // order with its others. Nothing without a probe.
    void RefreshProbe();
    bool ProbeRunning() const { return ProbeThread != nullptr; }
    // Whether segments are captured (else the model infers them), and why not.
    bool Capturing() const;
    Phrase CaptureError() const;
    // Segments captured so far, and whether through sockscope-helper (not root).
    std::uint64_t CapturedSegments() const;
    bool CaptureViaHelper() const;
    // Whether UDP datagrams (and ICMP errors) are captured too (not through the helper).
    bool CapturesDatagrams() const;

    // How the reader hears of a queued event. Now: it is woken (WaitForEvents, the wake
    // callback) unless it has been since it last drained. Soon: the reporter promises to
    // call NotifyIfDue() within NotifyDelay, and to sleep no longer than
    // NotifyTimeoutMs(), so a burst of calls (or a wait that ends quickly) costs the
    // reader one wake-up, not one per event. The event is queued at once either way, in
    // order; a Drain() in the meantime takes it.
    enum class Notify { Now, Soon };
    static constexpr double NotifyDelay = 0.001; // seconds

    // Called by actors, lanes, the probe and the capture (any thread): queue an event.
    void Report(LabEvent event, Notify notify = Notify::Now);
    // Wake the reader for Soon events queued NotifyDelay ago or more / for any. Any thread.
    void NotifyIfDue();
    void NotifyNow();
    // Milliseconds until the oldest Soon event the reader has not heard of is due (0 when
    // it is), or -1 when there is none: the longest a Soon reporter may sleep. Any thread.
    int NotifyTimeoutMs() const;
    // An id for a call no one submitted: one a server loop's lane makes on its own.
    std::uint64_t NewCallId();

private:
    static void AddKernelStats(Snapshot& snap, bool sysctls);

    LabOptions Options;
    mutable std::mutex Mutex; // guards everything below
    std::condition_variable Queued;
    std::vector<LabEvent> Pending;
    bool Notified = false; // the reader was woken since it last drained
    bool Poked = false;    // Poke() was called since WaitForEvents last returned
    std::atomic<double> QuietSince{0}; // when the oldest Soon event it has not heard of came; 0: none
    std::function<void()> Wake;
    std::set<std::uint16_t> Ports;
    std::uint64_t NextId = 1;
    std::map<std::string, std::unique_ptr<Actor>> Actors;
    std::atomic<double> ResetAt{0};
    std::atomic<bool> UdpMade{false}; // an actor made a SOCK_DGRAM socket
    std::map<std::string, std::uint64_t> CountersAtReset; // guarded by Mutex
    double LastSysctlRead = -1e9; // probe thread only
    std::unique_ptr<Probe> ProbeThread;
    std::unique_ptr<Capture> CaptureThread;
    Phrase CaptureProblem;
};

class World;

// Tells the world model to infer what this lab does not capture: segments without the
// capture, datagrams (and the ICMP errors) without a capture of UDP. Every reader that
// shows a lab's world sets it so (the GUI, headless lessons, scripts, exports).
void InferWhatIsNotCaptured(const Lab& lab, World& world);

} // namespace sockscope
