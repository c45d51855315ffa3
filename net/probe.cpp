// The probe's I/O: a NETLINK_SOCK_DIAG socket, the dump conversation, the thread.
// The bytes themselves are built and parsed by diag_parse.cpp.
#include "probe.hpp"

#include "clock.hpp"
#include "diag_parse.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <tuple>

namespace sockscope {
namespace {

// Dumps are tiny and the kernel answers at once; a missing reply means something is
// badly wrong, and the thread must not hang on it.
constexpr timeval kReplyTimeout{1, 0};
// The kernel fills each datagram up to about 32 KiB; twice that leaves room.
constexpr std::size_t kReceiveBuffer = 64 * 1024;
// NLM_F_DUMP_INTR says the tables changed under the dump; retry a few times.
constexpr int kDumpAttempts = 3;

// One netlink socket and the dump conversation over it. Not thread-safe: one per thread.
class DiagSocket {
public:
    DiagSocket() : Buffer(kReceiveBuffer) {}
    ~DiagSocket() { Close(); }
    DiagSocket(const DiagSocket&) = delete;
    DiagSocket& operator=(const DiagSocket&) = delete;

    // Fills `rows` (sorted) with the sockets of both families on `ports`.
    bool Dump(std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows, Phrase& error)
    {
        rows.clear();
        for (std::size_t first = 0; first < ports.size(); first += kMaxDiagPorts) {
            const auto chunk = ports.subspan(first, std::min(kMaxDiagPorts, ports.size() - first));
            // One walk of the kernel's tables for both families when the kernel takes the
            // legacy request; otherwise (or if it ever fails) one request per family.
            if (OneWalk) {
                const std::size_t before = rows.size();
                Phrase ignored;
                if (DumpFamily(AF_UNSPEC, chunk, rows, ignored))
                    continue;
                rows.resize(before);
                OneWalk = false;
            }
            for (const int family : {AF_INET, AF_INET6}) {
                if (!DumpFamily(family, chunk, rows, error)) {
                    rows.clear();
                    return false;
                }
            }
        }
        std::sort(rows.begin(), rows.end(), [](const KernelSocket& a, const KernelSocket& b) {
            return std::tie(a.Local, a.Remote, a.Cookie) < std::tie(b.Local, b.Remote, b.Cookie);
        });
        // With several chunks, a socket whose local port is in one and remote port in
        // another comes twice.
        rows.erase(std::unique(rows.begin(), rows.end(),
                               [](const KernelSocket& a, const KernelSocket& b) {
                                   return a.Cookie == b.Cookie && a.Local == b.Local &&
                                          a.Remote == b.Remote;
                               }),
                   rows.end());
        return true;
    }

private:
    bool OneWalk = true; // TCPDIAG_GETSOCK works here (until it fails once)

    bool Open(Phrase& error)
    {
        Fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (Fd < 0) {
            const int err = errno;
            error = Say(err == EPROTONOSUPPORT ? PhraseId::ProbeNoSockDiag : PhraseId::ProbeNoSocket,
                        DescribeErrno(err));
            return false;
        }
        setsockopt(Fd, SOL_SOCKET, SO_RCVTIMEO, &kReplyTimeout, sizeof kReplyTimeout);
        return true;
    }

    void Close()
    {
        if (Fd >= 0)
            close(Fd);
        Fd = -1;
    }

    bool DumpFamily(int family, std::span<const std::uint16_t> ports,
                    std::vector<KernelSocket>& rows, Phrase& error)
    {
        for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
            if (Fd < 0 && !Open(error))
                return false;
            std::vector<KernelSocket> part;
            const ParseStatus status = DumpOnce(family, ports, part, error);
            if (status == ParseStatus::Done) {
                rows.insert(rows.end(), part.begin(), part.end());
                return true;
            }
            // The kernel refuses a new dump (EBUSY) while an abandoned one is still
            // pending on the socket; a fresh socket is the simplest way out.
            Close();
            if (status != ParseStatus::Interrupted)
                return false;
        }
        error = Say(PhraseId::ProbeInterrupted, kDumpAttempts);
        return false;
    }

    ParseStatus DumpOnce(int family, std::span<const std::uint16_t> ports,
                         std::vector<KernelSocket>& rows, Phrase& error)
    {
        const std::uint32_t seq = ++Seq;
        const std::vector<std::uint8_t> request = BuildDiagRequest(family, ports, seq);
        if (request.empty())
            return ParseStatus::Done;

        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        ssize_t sent;
        do {
            sent = sendto(Fd, request.data(), request.size(), 0,
                          reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) {
            error = Say(PhraseId::ProbeCannotSend, DescribeErrno(errno));
            return ParseStatus::Error;
        }

        for (;;) {
            sockaddr_nl from{};
            iovec iov{Buffer.data(), Buffer.size()};
            msghdr msg{};
            msg.msg_name = &from;
            msg.msg_namelen = sizeof from;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            const ssize_t got = recvmsg(Fd, &msg, 0);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    error = Say(PhraseId::ProbeNoReply);
                else
                    error = Say(PhraseId::ProbeCannotRead, DescribeErrno(errno));
                return ParseStatus::Error;
            }
            if (msg.msg_flags & MSG_TRUNC) {
                error = Say(PhraseId::ProbeReplyTooLarge);
                return ParseStatus::Error;
            }
            if (from.nl_pid != 0)
                continue; // only the kernel speaks for the kernel
            // The parser's reasons name netlink's own fields: shown as they are.
            std::string parse_error;
            const ParseStatus status = ParseDiagReply(
                std::span<const std::uint8_t>(Buffer.data(), static_cast<std::size_t>(got)), seq,
                rows, parse_error);
            if (!parse_error.empty())
                error = Say(PhraseId::Verbatim, parse_error);
            if (status != ParseStatus::More)
                return status;
        }
    }

    int Fd = -1;
    std::uint32_t Seq = 0;
    std::vector<std::uint8_t> Buffer;
};

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

Snapshot DumpSockets(std::span<const std::uint16_t> ports, std::string* error)
{
    DiagSocket diag;
    Snapshot snap = DumpWith(diag, ports);
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
    return DumpSockets(ports);
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

bool Probe::Paused() const
{
    std::lock_guard lock(Mutex);
    return IsPaused;
}

void Probe::Run()
{
    using Clock = std::chrono::steady_clock;
    DiagSocket diag; // kept open between dumps: one socket() call per error, not per tick
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
        Wake = ForceDelivery = false;
        lock.unlock();

        // Nothing here may end the thread: a failed dump is a snapshot with Error set.
        try {
            Snapshot snap = DumpWith(diag, ports);
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

        lock.lock();
        // A fixed cadence, but after a stall (a debugger, a suspended laptop) start
        // afresh instead of firing a burst of catch-up dumps.
        const auto now = Clock::now();
        const auto interval = now - LastActivity < Options.BusyFor ? Options.Interval : Options.IdleInterval;
        next_tick += interval;
        if (next_tick < now || next_tick > now + interval)
            next_tick = now + interval;
        WakeUp.wait_until(lock, next_tick, [this] { return Stopping || Wake; });
    }
}

} // namespace sockscope
