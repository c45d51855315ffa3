#include "tracker.hpp"

#include "clock.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

namespace sockscope {
namespace {

// Weight of the newest measurement in the smoothed costs.
constexpr double kSmoothing = 0.2;

double Smooth(double old, double sample)
{
    return old < 0 ? sample : old + kSmoothing * (sample - old);
}

bool IsLoopback(const Endpoint& e)
{
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (e.Family == AF_INET)
        return e.Addr[0] == 127;
    if (e.Family != AF_INET6)
        return false;
    if (std::equal(kMapped, kMapped + 12, e.Addr.begin()))
        return e.Addr[12] == 127;
    return std::all_of(e.Addr.begin(), e.Addr.begin() + 15, [](std::uint8_t b) { return b == 0; }) && e.Addr[15] == 1;
}

bool Before(const KernelSocket& row, const std::pair<Endpoint, Endpoint>& tuple)
{
    return std::tie(row.Local, row.Remote) < std::tie(tuple.first, tuple.second);
}

bool Knows(const std::vector<KernelSocket>& sorted, const Endpoint& local, const Endpoint& remote)
{
    const auto tuple = std::make_pair(local, remote);
    const auto it = std::lower_bound(sorted.begin(), sorted.end(), tuple, Before);
    return it != sorted.end() && it->Local == local && it->Remote == remote;
}

// A listener's accept queue (its RecvQ) against the connections of its port known to be
// waiting there (established or close-wait, no descriptor yet): more in the queue than
// known means a peer the tracker has not seen.
bool UnknownInAcceptQueue(const std::vector<KernelSocket>& rows)
{
    std::map<std::uint16_t, long> unseen;
    for (const KernelSocket& r : rows)
        if (r.State == TcpState::Listen)
            unseen[r.Local.Port] += r.RecvQ;
    if (unseen.empty())
        return false;
    for (const KernelSocket& r : rows) {
        const bool waiting = (r.State == TcpState::Established || r.State == TcpState::CloseWait) && r.Inode == 0;
        if (waiting) {
            const auto it = unseen.find(r.Local.Port);
            if (it != unseen.end())
                --it->second;
        }
    }
    return std::any_of(unseen.begin(), unseen.end(), [](const auto& p) { return p.second > 0; });
}

double SecondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

SocketTracker::SocketTracker(TrackerOptions options) : Options(options) {}

Snapshot SocketTracker::Take(std::span<const std::uint16_t> ports, bool sweep, bool udp,
                             std::span<const std::pair<Endpoint, Endpoint>> hints)
{
    Snapshot snap = TakeTcp(ports, sweep, hints);
    if (udp && snap.Error.Empty() && !Diag.DumpUdp(ports, snap.Sockets, snap.Error))
        KnownValid = false;
    return snap;
}

Snapshot SocketTracker::TakeTcp(std::span<const std::uint16_t> ports, bool sweep,
                                std::span<const std::pair<Endpoint, Endpoint>> hints)
{
    Snapshot snap;
    // Stamped before asking: whatever completed before T is in this snapshot.
    snap.T = MonotonicSeconds();
    const bool same_ports = std::equal(ports.begin(), ports.end(), LastPorts.begin(), LastPorts.end());
    std::string_view reason;
    if (sweep)
        reason = "asked";
    else if (!same_ports)
        reason = "ports";
    else if (!KnownValid)
        reason = "first";
    else if (snap.T - LastSweepT >= Options.SweepEvery)
        reason = "periodic";
    else if (std::any_of(Known.begin(), Known.end(), [](const KernelSocket& k) { return k.State == TcpState::Close; }))
        reason = "bound";
    if (reason.empty()) {
        if (Follow(ports, snap, hints))
            return snap;
        reason = Reason;
    }
    Sweep(ports, snap, reason);
    return snap;
}

bool SocketTracker::Follow(std::span<const std::uint16_t> ports, Snapshot& snap,
                           std::span<const std::pair<Endpoint, Endpoint>> hints)
{
    Targets.clear();
    for (const KernelSocket& k : Known)
        Targets.push_back({k.Local, k.Remote, k.Cookie});
    for (const KernelSocket& k : Known) {
        const bool same_host = k.Remote.Addr == k.Local.Addr || IsLoopback(k.Remote);
        if (k.State != TcpState::Listen && k.Remote.Port != 0 && same_host && !Knows(Known, k.Remote, k.Local))
            Targets.push_back({k.Remote, k.Local, 0});
    }
    // New connections someone told of, and their other ends on this host (a lookup of a
    // connection that has gone again finds nothing, which is no reason to sweep).
    for (const auto& [local, remote] : hints) {
        if (local.Port == 0 || remote.Port == 0 || Knows(Known, local, remote))
            continue;
        Targets.push_back({local, remote, 0});
        const bool same_host = remote.Addr == local.Addr || IsLoopback(remote);
        if (same_host && !Knows(Known, remote, local))
            Targets.push_back({remote, local, 0});
    }
    if (Options.PreferCheaper && SweepSeconds >= 0 && LookupSeconds >= 0 &&
        static_cast<double>(Targets.size()) * LookupSeconds > SweepSeconds) {
        Reason = "cheaper";
        return false;
    }

    const auto start = std::chrono::steady_clock::now();
    std::vector<KernelSocket>& rows = Found; // kept between follows: no allocation per tick
    rows.clear();
    if (!Diag.Lookup(Targets, rows, Outcomes)) {
        Reason = "lookup failed";
        return false;
    }
    if (!Targets.empty())
        LookupSeconds = Smooth(LookupSeconds, SecondsSince(start) / static_cast<double>(Targets.size()));
    for (const LookupOutcome o : Outcomes) {
        if (o == LookupOutcome::Replaced || o == LookupOutcome::Failed) {
            Reason = "replaced";
            return false;
        }
    }
    // Only rows on the ports: a reverse lookup of a connection to a foreign server finds
    // nothing, but the kernel answers what it has.
    std::erase_if(rows, [&](const KernelSocket& k) {
        return std::find(ports.begin(), ports.end(), k.Local.Port) == ports.end() &&
               std::find(ports.begin(), ports.end(), k.Remote.Port) == ports.end();
    });
    SortRows(rows);
    if (UnknownInAcceptQueue(rows)) {
        Reason = "queue";
        return false;
    }
    Known.swap(rows);
    snap.Sockets = Known;
    Kind = SnapshotKind::Follow;
    Reason = {};
    ++FollowCount;
    return true;
}

void SocketTracker::Sweep(std::span<const std::uint16_t> ports, Snapshot& snap, std::string_view reason)
{
    const auto start = std::chrono::steady_clock::now();
    const bool ok = Diag.Dump(ports, snap.Sockets, snap.Error);
    if (ok && !ports.empty())
        SweepSeconds = Smooth(SweepSeconds, SecondsSince(start));
    LastPorts.assign(ports.begin(), ports.end());
    LastSweepT = snap.T;
    Known = snap.Sockets;
    KnownValid = ok;
    Kind = SnapshotKind::Sweep;
    Reason = ok ? reason : std::string_view("error");
    ++SweepCount;
}

} // namespace sockscope
