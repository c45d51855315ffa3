// How the probe takes a snapshot of the lab's ports, cheaply and without losing sight of
// anything. A dump (a "sweep") makes the kernel walk every TCP socket of the machine and
// keep those on the ports: its cost grows with everything else open on the machine,
// about 100 ns per socket on the test VM, the filter rejecting them one by one. A
// "follow" asks instead for each socket the last snapshot found, by its four-tuple: one
// hash lookup each, nothing paid for the machine's other sockets.
//
// A follow cannot see a socket it was not told about, so the tracker sweeps:
//  - when the caller says something new may exist (the lab made a call that creates a
//    socket: bind, listen, connect, a server loop) or the ports changed;
//  - when the kernel says a followed socket was replaced (same four-tuple, other cookie)
//    or a listener's accept queue holds more connections than the tracker knows of
//    (a peer from another process or machine);
//  - when the last snapshot had a socket only a dump can see (bound, not listening);
//  - at least every SweepEvery, for peers still in a SYN queue (the kernel reports no
//    SYN-queue length for a listener, so nothing else would reveal them);
//  - when following would cost more than sweeping (thousands of sockets, few others).
// A follow also asks for the other end of every same-host connection it knows, so a
// lab client's server-side socket shows as soon as the kernel makes it (a SYN released
// late from a gate, say), without waiting for a sweep.
#pragma once

#include "diag_socket.hpp"
#include "kernel_types.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sockscope {

struct TrackerOptions {
    double SweepEvery = 1.0; // seconds
    // Sweep instead of following when the last sweep took less time than the lookups
    // would (off: always follow between sweeps, as a benchmark of follows wants).
    bool PreferCheaper = true;
};

enum class SnapshotKind : std::uint8_t { Sweep, Follow };

// Not thread-safe: one per thread (it owns a netlink socket).
class SocketTracker {
public:
    explicit SocketTracker(TrackerOptions options = {});

    // A snapshot of the sockets on `ports` (rows sorted as DumpSockets sorts them).
    // `sweep`: something new may exist that a follow would miss.
    // `udp`: also the UDP sockets on the ports (one dump of the small UDP table each time;
    // they are not followed).
    // `hints`: four-tuples (local, remote) of connections made since the last snapshot
    // (a traced connect() returned with both addresses): a follow looks them up, and
    // their other ends when on this host, instead of a sweep having to find them.
    Snapshot Take(std::span<const std::uint16_t> ports, bool sweep, bool udp = false,
                  std::span<const std::pair<Endpoint, Endpoint>> hints = {});

    SnapshotKind LastKind() const { return Kind; }
    // Why the last snapshot was a sweep ("asked", "ports", "first", "replaced", "queue",
    // "bound", "periodic", "cheaper", "lookup failed", "error"); empty after a follow.
    std::string_view LastReason() const { return Reason; }
    std::uint64_t Sweeps() const { return SweepCount; }
    std::uint64_t Follows() const { return FollowCount; }

private:
    Snapshot TakeTcp(std::span<const std::uint16_t> ports, bool sweep,
                     std::span<const std::pair<Endpoint, Endpoint>> hints);
    bool Follow(std::span<const std::uint16_t> ports, Snapshot& snap,
                std::span<const std::pair<Endpoint, Endpoint>> hints);
    void Sweep(std::span<const std::uint16_t> ports, Snapshot& snap, std::string_view reason);

    TrackerOptions Options;
    DiagSocket Diag;
    std::vector<std::uint16_t> LastPorts;
    std::vector<KernelSocket> Known; // the last snapshot's rows, sorted
    bool KnownValid = false;
    double LastSweepT = 0;
    double SweepSeconds = -1;     // a sweep's cost, smoothed; -1 until measured
    double LookupSeconds = -1;    // one lookup's cost, smoothed
    SnapshotKind Kind = SnapshotKind::Sweep;
    std::string_view Reason;
    std::uint64_t SweepCount = 0, FollowCount = 0;
    std::vector<LookupTarget> Targets;
    std::vector<LookupOutcome> Outcomes;
    std::vector<KernelSocket> Found;
};

} // namespace sockscope
