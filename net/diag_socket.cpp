// The probe's netlink I/O: dumps (the conversation up to NLMSG_DONE) and batched lookups.
#include "diag_socket.hpp"

#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <tuple>

namespace sockscope {
namespace {

// Dumps are tiny and the kernel answers at once; a missing reply means something is
// badly wrong, and the thread must not hang on it.
constexpr timeval kReplyTimeout{1, 0};
// The kernel fills each dump datagram up to about 32 KiB; twice that leaves room. For
// lookups the same buffer holds kSlots replies of one socket each (under 1 KiB each).
constexpr std::size_t kReceiveBuffer = 64 * 1024;
constexpr std::size_t kSlots = 32;
constexpr std::size_t kSlotSize = kReceiveBuffer / kSlots;
// Lookups per send: each reply is a datagram of its own (about 1.3 KiB of the socket's
// receive buffer with the kernel's overhead), and they must all fit before we read.
constexpr std::size_t kLookupBatch = 64;
constexpr int kWantedReceiveBuffer = 512 * 1024; // the kernel may give less (rmem_max)
// NLM_F_DUMP_INTR says the tables changed under the dump; retry a few times.
constexpr int kDumpAttempts = 3;

} // namespace

void SortRows(std::vector<KernelSocket>& rows)
{
    std::sort(rows.begin(), rows.end(), [](const KernelSocket& a, const KernelSocket& b) {
        return std::tie(a.Local, a.Remote, a.Cookie) < std::tie(b.Local, b.Remote, b.Cookie);
    });
    rows.erase(std::unique(rows.begin(), rows.end(),
                           [](const KernelSocket& a, const KernelSocket& b) {
                               return a.Cookie == b.Cookie && a.Local == b.Local && a.Remote == b.Remote;
                           }),
               rows.end());
}

DiagSocket::DiagSocket() : Buffer(kReceiveBuffer) {}

DiagSocket::~DiagSocket() { Close(); }

bool DiagSocket::Dump(std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows, Phrase& error)
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
    // With several chunks, a socket whose local port is in one and remote port in
    // another comes twice.
    SortRows(rows);
    return true;
}

bool DiagSocket::DumpUdp(std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows, Phrase& error)
{
    std::vector<KernelSocket> udp;
    for (std::size_t first = 0; first < ports.size(); first += kMaxDiagPorts) {
        const auto chunk = ports.subspan(first, std::min(kMaxDiagPorts, ports.size() - first));
        for (const int family : {AF_INET, AF_INET6})
            if (!DumpFamily(family, chunk, udp, error, IPPROTO_UDP))
                return false;
    }
    for (KernelSocket& row : udp)
        row.Proto = IPPROTO_UDP;
    rows.insert(rows.end(), udp.begin(), udp.end());
    SortRows(rows);
    return true;
}

bool DiagSocket::Open(Phrase& error)
{
    Fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (Fd < 0) {
        const int err = errno;
        error = Say(err == EPROTONOSUPPORT ? PhraseId::ProbeNoSockDiag : PhraseId::ProbeNoSocket,
                    DescribeErrno(err));
        return false;
    }
    setsockopt(Fd, SOL_SOCKET, SO_RCVTIMEO, &kReplyTimeout, sizeof kReplyTimeout);
    setsockopt(Fd, SOL_SOCKET, SO_RCVBUF, &kWantedReceiveBuffer, sizeof kWantedReceiveBuffer);
    return true;
}

void DiagSocket::Close()
{
    if (Fd >= 0)
        close(Fd);
    Fd = -1;
}

bool DiagSocket::DumpFamily(int family, std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows,
                            Phrase& error, int protocol)
{
    for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
        if (Fd < 0 && !Open(error))
            return false;
        std::vector<KernelSocket> part;
        const ParseStatus status = DumpOnce(family, ports, part, error, protocol);
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

ParseStatus DiagSocket::DumpOnce(int family, std::span<const std::uint16_t> ports,
                                 std::vector<KernelSocket>& rows, Phrase& error, int protocol)
{
    const std::uint32_t seq = ++Seq;
    const std::vector<std::uint8_t> request = BuildDiagRequest(family, ports, seq, TcpInfo, protocol);
    if (request.empty())
        return ParseStatus::Done;

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
        sent = sendto(Fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                      sizeof kernel);
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
            std::span<const std::uint8_t>(Buffer.data(), static_cast<std::size_t>(got)), seq, rows, parse_error);
        if (!parse_error.empty())
            error = Say(PhraseId::Verbatim, parse_error);
        if (status != ParseStatus::More)
            return status;
    }
}

bool DiagSocket::Lookup(std::span<const LookupTarget> targets, std::vector<KernelSocket>& rows,
                        std::vector<LookupOutcome>& outcomes)
{
    outcomes.assign(targets.size(), LookupOutcome::Pending);
    Phrase ignored;
    if (Fd < 0 && !Open(ignored))
        return false;
    for (std::size_t first = 0; first < targets.size(); first += kLookupBatch) {
        const std::size_t n = std::min(kLookupBatch, targets.size() - first);
        if (!LookupBatch(targets.subspan(first, n), rows, std::span(outcomes).subspan(first, n))) {
            Close(); // replies still on their way must not meet the next conversation
            return false;
        }
    }
    return true;
}

bool DiagSocket::LookupBatch(std::span<const LookupTarget> targets, std::vector<KernelSocket>& rows,
                             std::span<LookupOutcome> outcomes)
{
    Requests.clear();
    const std::uint32_t first_seq = Seq + 1;
    for (const LookupTarget& t : targets)
        AppendLookupRequest(Requests, t.Local, t.Remote, t.Cookie, ++Seq, TcpInfo);

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
        sent = sendto(Fd, Requests.data(), Requests.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                      sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0)
        return false;

    // Every reply is a datagram of its own: take up to kSlots per system call.
    std::array<mmsghdr, kSlots> msgs{};
    std::array<iovec, kSlots> iovs{};
    std::array<sockaddr_nl, kSlots> from{};
    std::size_t pending = targets.size();
    while (pending > 0) {
        for (std::size_t i = 0; i < kSlots; ++i) {
            iovs[i] = {Buffer.data() + i * kSlotSize, kSlotSize};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        // Blocks (up to the 1 s receive timeout) for the first, then takes what is there.
        const int got = recvmmsg(Fd, msgs.data(), static_cast<unsigned>(std::min(kSlots, pending)),
                                 MSG_WAITFORONE, nullptr);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return false; // no reply within 1 s, or ENOBUFS: replies were dropped
        }
        for (int i = 0; i < got; ++i) {
            if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0)
                return false;
            if (from[i].nl_pid != 0)
                continue; // only the kernel speaks for the kernel
            std::string error;
            const std::span<const std::uint8_t> bytes(Buffer.data() + i * kSlotSize, msgs[i].msg_len);
            if (!ParseLookupReplies(bytes, first_seq, outcomes, rows, error))
                return false;
        }
        pending = static_cast<std::size_t>(std::count(outcomes.begin(), outcomes.end(), LookupOutcome::Pending));
    }
    return true;
}

} // namespace sockscope
