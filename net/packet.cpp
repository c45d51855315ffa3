#include "packet.hpp"

#include "clock.hpp"
#include "helper_client.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace sockscope {

std::string FlagsName(std::uint8_t flags)
{
    std::string out;
    auto add = [&](std::uint8_t bit, const char* name) {
        if (flags & bit)
            out += (out.empty() ? "" : "-") + std::string(name);
    };
    add(FlagSyn, "SYN");
    add(FlagRst, "RST");
    add(FlagFin, "FIN");
    add(FlagPsh, "PSH");
    add(FlagUrg, "URG");
    add(FlagAck, "ACK");
    return out.empty() ? "none" : out;
}

bool IsDatagram(const Segment& s) { return s.Proto == IPPROTO_UDP; }

bool IsIcmp(const Segment& s) { return s.Proto == IPPROTO_ICMP || s.Proto == IPPROTO_ICMPV6; }

bool IsPortUnreachable(const Segment& s)
{
    return (s.Proto == IPPROTO_ICMP && s.IcmpType == 3 && s.IcmpCode == 3) ||
           (s.Proto == IPPROTO_ICMPV6 && s.IcmpType == 1 && s.IcmpCode == 4);
}

std::string_view SegmentProtoName(const Segment& s)
{
    switch (s.Proto) {
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    default: return "tcp";
    }
}

Segment PortUnreachableFor(const Segment& datagram)
{
    Segment s;
    s.T = datagram.T;
    s.Src = datagram.Dst;
    s.Dst = datagram.Src;
    s.Len = datagram.Len;
    s.Payload = datagram.Payload;
    bool v6 = datagram.Src.Family == AF_INET6;
    s.Proto = static_cast<std::uint8_t>(v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
    s.IcmpType = v6 ? 1 : 3;
    s.IcmpCode = v6 ? 4 : 3;
    s.Inferred = datagram.Inferred;
    return s;
}

namespace {

std::uint16_t Be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t Be32(const std::uint8_t* p)
{
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

// The TCP header at `tcp` (`avail` bytes captured of it, `seg_len` bytes in the
// segment as the IP header says).
std::optional<Segment> ParseTcp(Segment s, const std::uint8_t* tcp, std::size_t avail, std::size_t seg_len)
{
    if (avail < 20 || seg_len < 20)
        return std::nullopt;
    std::size_t doff = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    if (doff < 20 || doff > seg_len)
        return std::nullopt;
    s.Src.Port = Be16(tcp);
    s.Dst.Port = Be16(tcp + 2);
    s.Seq = Be32(tcp + 4);
    s.Ack = Be32(tcp + 8);
    s.Flags = tcp[13] & 0x3f;
    s.Window = Be16(tcp + 14);
    s.Len = static_cast<std::uint32_t>(seg_len - doff);
    return s;
}

// The UDP header at `udp` (`avail` bytes captured, `ip_len` bytes after the IP header as
// it says; an ICMP quote may cut the datagram short: then `quoted` and only the header's
// length is believed).
std::optional<Segment> ParseUdp(Segment s, const std::uint8_t* udp, std::size_t avail, std::size_t ip_len,
                                bool quoted = false)
{
    if (avail < 8 || (!quoted && ip_len < 8))
        return std::nullopt;
    std::size_t udp_len = Be16(udp + 4);
    if (udp_len < 8 || (!quoted && udp_len > ip_len))
        return std::nullopt;
    s.Proto = IPPROTO_UDP;
    s.Src.Port = Be16(udp);
    s.Dst.Port = Be16(udp + 2);
    s.Len = static_cast<std::uint32_t>(udp_len - 8);
    std::size_t have = std::min({avail - 8, static_cast<std::size_t>(s.Len), SegmentPayloadKept});
    if (!quoted)
        have = std::min(have, ip_len - 8);
    s.Payload.assign(reinterpret_cast<const char*>(udp + 8), have);
    return s;
}

// The IP header at `ip` (IPv4 or IPv6): its addresses into `s`, and where its payload
// starts, how much of it was captured and how long it says it is. False for a fragment
// after the first, an extension header, a truncated or malformed header.
struct IpPayload {
    std::uint8_t Proto = 0;
    std::size_t Offset = 0, Length = 0;
};
std::optional<IpPayload> ParseIp(Segment& s, const std::uint8_t* ip, std::size_t len)
{
    if (len < 1)
        return std::nullopt;
    int version = ip[0] >> 4;
    if (version == 4) {
        if (len < 20)
            return std::nullopt;
        std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
        std::size_t total = Be16(ip + 2);
        if (ihl < 20 || total < ihl || len < ihl)
            return std::nullopt;
        if (Be16(ip + 6) & 0x1fff) // not the first fragment: no TCP or UDP header here
            return std::nullopt;
        s.Src.Family = s.Dst.Family = AF_INET;
        std::memcpy(s.Src.Addr.data(), ip + 12, 4);
        std::memcpy(s.Dst.Addr.data(), ip + 16, 4);
        return IpPayload{ip[9], ihl, total - ihl};
    }
    if (version == 6) {
        if (len < 40) // extension headers: not on the lab's loopback
            return std::nullopt;
        s.Src.Family = s.Dst.Family = AF_INET6;
        std::memcpy(s.Src.Addr.data(), ip + 8, 16);
        std::memcpy(s.Dst.Addr.data(), ip + 24, 16);
        return IpPayload{ip[6], 40, Be16(ip + 4)};
    }
    return std::nullopt;
}

// An ICMP destination unreachable at `icmp` (`avail` bytes captured): the UDP datagram
// it quotes (its IP header, then at least the 8 bytes of its UDP header), as a Segment
// going back from where the datagram was headed to its sender.
std::optional<Segment> ParseIcmp(std::uint8_t proto, const std::uint8_t* icmp, std::size_t avail)
{
    if (avail < 8)
        return std::nullopt;
    std::uint8_t unreachable = proto == IPPROTO_ICMP ? 3 : 1;
    if (icmp[0] != unreachable)
        return std::nullopt;
    Segment quoted;
    auto inner = ParseIp(quoted, icmp + 8, avail - 8);
    if (!inner || inner->Proto != IPPROTO_UDP || inner->Offset > avail - 8 ||
        (proto == IPPROTO_ICMP) != (quoted.Src.Family == AF_INET))
        return std::nullopt;
    auto datagram = ParseUdp(quoted, icmp + 8 + inner->Offset, avail - 8 - inner->Offset, inner->Length, true);
    if (!datagram)
        return std::nullopt;
    Segment s = PortUnreachableFor(*datagram);
    s.Proto = proto;
    s.IcmpType = icmp[0];
    s.IcmpCode = icmp[1];
    return s;
}

} // namespace

std::optional<Segment> ParsePacket(const std::uint8_t* data, std::size_t len)
{
    if (!data)
        return std::nullopt;
    Segment s;
    auto ip = ParseIp(s, data, len);
    if (!ip)
        return std::nullopt;
    const std::uint8_t* payload = data + ip->Offset;
    std::size_t avail = len - ip->Offset;
    switch (ip->Proto) {
    case IPPROTO_TCP: return ParseTcp(s, payload, avail, ip->Length);
    case IPPROTO_UDP: return ParseUdp(s, payload, avail, ip->Length);
    case IPPROTO_ICMP:
        return s.Src.Family == AF_INET ? ParseIcmp(ip->Proto, payload, avail) : std::nullopt;
    case IPPROTO_ICMPV6:
        return s.Src.Family == AF_INET6 ? ParseIcmp(ip->Proto, payload, avail) : std::nullopt;
    default: return std::nullopt;
    }
}

Capture::Capture(Sink sink, bool via_helper) : SinkFn(std::move(sink))
{
    Fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (Fd < 0) {
        ErrorNumber = errno;
        ErrorText = Say(PhraseId::NoCaptureSocket, std::strerror(ErrorNumber));
        if (via_helper && ErrorNumber == EPERM && geteuid() != 0 && StartHelper()) {
            StopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            Thread = std::thread([this] { RunHelper(); });
        }
        return;
    }
    // Only TCP, UDP and ICMP over IPv4 or IPv6, and only the first 256 bytes: the headers,
    // a datagram's first bytes, an ICMP error's quoted IP and UDP headers.
    sock_filter code[] = {
        /*  0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), // version << 4
        /*  1 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
        /*  2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 4), // IPv4: [3], else [7]
        /*  3 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),        // IPv4 protocol
        /*  4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 7, 0),
        /*  5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 6, 0),
        /*  6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMP, 5, 6),
        /*  7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 5), // IPv6: [8], else [13]
        /*  8 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),        // IPv6 next header
        /*  9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 2, 0),
        /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 1, 0),
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 1),
        /* 12 */ BPF_STMT(BPF_RET | BPF_K, 256), // keep
        /* 13 */ BPF_STMT(BPF_RET | BPF_K, 0),   // drop
    };
    // A jump's offsets count from the next instruction: [4] jumps 7 to [12]; [6] jumps 5
    // to [12] or 6 to [13].
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    setsockopt(Fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
    if (sll.sll_ifindex == 0 || bind(Fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        ErrorNumber = errno;
        ErrorText = Say(PhraseId::NoCaptureOnLo, std::strerror(errno));
        close(Fd);
        Fd = -1;
        return;
    }
    // Loopback shows each packet twice, leaving and arriving: keep only the arrival, and
    // have the kernel not even copy the other (Linux 4.20; Run() still skips it if not).
    int one = 1;
    setsockopt(Fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    MapRing();
    StopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    Thread = std::thread([this] { Run(); });
}

Capture::~Capture()
{
    Stopping = true;
    if (StopFd >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = write(StopFd, &one, sizeof one);
    }
    if (Thread.joinable())
        Thread.join();
    if (Ring)
        munmap(Ring, kRingBlocks * kRingBlockSize);
    if (Helper)
        Helper.reset(); // hangs up: the helper stops capturing and exits (Fd was its socket)
    else if (Fd >= 0)
        close(Fd);
    if (StopFd >= 0)
        close(StopFd);
}

void Capture::MapRing()
{
    // A TPACKET_V3 ring: the kernel copies each packet's headers into a block of shared
    // memory and wakes the reader only when a block is full or CaptureBurst has passed
    // since its first packet, stamping each with the time it arrived. Reading one
    // packet per recvfrom(), woken for each, cost more than the connection it showed,
    // and a burst (a bulk send: 64 KiB segments) overflowed the socket's queue.
    int version = TPACKET_V3;
    if (setsockopt(Fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
        return;
    tpacket_req3 req{};
    req.tp_block_size = kRingBlockSize;
    req.tp_block_nr = kRingBlocks;
    req.tp_frame_size = kRingFrameSize;
    req.tp_frame_nr = kRingBlockSize / kRingFrameSize * kRingBlocks;
    req.tp_retire_blk_tov = static_cast<unsigned>(CaptureBurst * 1000);
    if (setsockopt(Fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) == 0) {
        void* ring = mmap(nullptr, kRingBlocks * kRingBlockSize, PROT_READ | PROT_WRITE, MAP_SHARED, Fd, 0);
        if (ring != MAP_FAILED) {
            Ring = ring;
            return;
        }
        req = {};
        setsockopt(Fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req); // no ring after all
    }
    version = TPACKET_V1;
    setsockopt(Fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version);
}

void Capture::SetPorts(std::set<std::uint16_t> ports)
{
    HelperRequest request;
    request.Op = HelperOp::CaptureStart;
    {
        std::lock_guard lock(Mutex);
        Ports = std::move(ports);
        // The helper filters by port too (so it asks sock_diag only about the lab's
        // segments): at most HelperMaxPorts of them (Wanted() still filters here).
        for (std::uint16_t port : Ports)
            if (port != 0 && request.Ports.size() < HelperMaxPorts)
                request.Ports.push_back(port);
    }
    // Sent without the lock: RunHelper, which reads the reply, must never wait for it
    // while this waits for room in the socket.
    if (!Helper)
        return;
    {
        std::lock_guard lock(ReplyMutex);
        request.Id = ++PortsId;
    }
    if (!Helper->Send(EncodeHelperRequest(request), {}))
        return;
    std::unique_lock lock(ReplyMutex);
    ReplySeen.wait_for(lock, std::chrono::milliseconds(500), [&] { return RepliedId >= request.Id; });
}

bool Capture::StartHelper()
{
    std::string path = HelperPath();
    if (path.empty())
        return false;
    int err = 0;
    auto helper = HelperChannel::Start(path, err);
    if (!helper)
        return false;
    HelperRequest request;
    request.Op = HelperOp::CaptureStart;
    HelperReply reply;
    if (!helper->Call(request, -1, reply) || reply.Refusal != HelperRefusal::Ok) {
        if (reply.Refusal != HelperRefusal::Ok)
            ErrorText = Say(PhraseId::NoCaptureSocket,
                            std::string("sockscope-helper: ") + std::string(HelperRefusalText(reply.Refusal)) +
                                (reply.Errno ? std::string(": ") + std::strerror(reply.Errno) : std::string()));
        return false;
    }
    Helper = std::move(helper);
    Fd = Helper->Fd();
    ErrorNumber = 0;
    ErrorText = {};
    return true;
}

void Capture::RunHelper()
{
    std::vector<HelperSegment> received;
    std::vector<Segment> burst;
    const double origin = static_cast<double>(ClockOriginNs());
    for (;;) {
        pollfd pfds[2] = {{Fd, POLLIN, 0}, {StopFd, POLLIN, 0}};
        if (poll(pfds, 2, -1) < 0 && errno != EINTR)
            return;
        if (pfds[1].revents & POLLIN)
            return;
        if (!(pfds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        HelperReply reply;
        received.clear();
        auto kind = Helper->Receive(reply, received, 0);
        if (!kind) {
            if (pfds[0].revents & (POLLHUP | POLLERR))
                return; // the helper is gone
            continue;
        }
        if (*kind == HelperMessageKind::Reply) {
            {
                std::lock_guard lock(ReplyMutex);
                RepliedId = std::max(RepliedId, reply.Id);
            }
            ReplySeen.notify_all();
            continue;
        }
        for (const HelperSegment& h : received) {
            Segment s;
            s.Src.Family = s.Dst.Family = h.Family;
            std::memcpy(s.Src.Addr.data(), h.Src, 16);
            std::memcpy(s.Dst.Addr.data(), h.Dst, 16);
            s.Src.Port = h.SrcPort;
            s.Dst.Port = h.DstPort;
            s.Seq = h.Seq;
            s.Ack = h.Ack;
            s.Flags = h.Flags;
            s.Len = h.Len;
            s.Window = h.Window;
            s.T = (static_cast<double>(h.MonotonicNs) - origin) * 1e-9;
            // No Wanted() here: the helper kept the segments on the ports it had when it
            // captured them. The ports may have changed since (a lesson that ends clears
            // them), and a segment is no less the lab's for arriving a hop later.
            ++Count;
            burst.push_back(s);
        }
        if (!burst.empty())
            SinkFn(std::move(burst));
        burst.clear();
    }
}

bool Capture::Wanted(const Segment& s)
{
    std::lock_guard lock(Mutex);
    return Ports.count(s.Src.Port) || Ports.count(s.Dst.Port);
}

namespace {

// A packet's arrival (CLOCK_REALTIME) on the lab clock: monotonic now, minus how long ago.
double LabTime(const timespec& at, const timespec& real_now, double now)
{
    double ago = static_cast<double>(real_now.tv_sec - at.tv_sec) +
                 1e-9 * static_cast<double>(real_now.tv_nsec - at.tv_nsec);
    return ago >= 0 && ago < 10 ? now - ago : now;
}

} // namespace

void Capture::Keep(const std::uint8_t* data, std::size_t len, unsigned char pkttype, double t,
                   std::vector<Segment>& burst)
{
    // On loopback each packet is seen leaving and arriving: keep one copy. (An ICMP error
    // goes back the same way, so it too is kept once.)
    if (pkttype == PACKET_OUTGOING)
        return;
    auto segment = ParsePacket(data, len);
    if (!segment || !Wanted(*segment))
        return;
    segment->T = t;
    ++Count;
    burst.push_back(*segment);
}

void Capture::Run()
{
    std::vector<Segment> burst;
    if (!Ring) { // one packet per recvfrom(), as they come
        std::uint8_t buf[256];
        for (;;) {
            pollfd pfds[2] = {{Fd, POLLIN, 0}, {StopFd, POLLIN, 0}};
            if (poll(pfds, 2, -1) < 0 && errno != EINTR)
                return;
            if (pfds[1].revents & POLLIN)
                return;
            for (;;) {
                sockaddr_ll from{};
                socklen_t from_len = sizeof from;
                long n = recvfrom(Fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
                if (n < 0)
                    break;
                Keep(buf, static_cast<std::size_t>(n), from.sll_pkttype, MonotonicSeconds(), burst);
            }
            if (!burst.empty())
                SinkFn(std::move(burst));
            burst.clear();
        }
    }
    for (unsigned block = 0; !Stopping;) {
        auto* desc = reinterpret_cast<tpacket_block_desc*>(static_cast<char*>(Ring) + block * kRingBlockSize);
        if (!(__atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
            pollfd pfds[2] = {{Fd, POLLIN | POLLERR, 0}, {StopFd, POLLIN, 0}};
            if (poll(pfds, 2, -1) < 0 && errno != EINTR)
                return;
            if (pfds[1].revents & POLLIN)
                return;
            continue;
        }
        timespec real_now{};
        clock_gettime(CLOCK_REALTIME, &real_now);
        const double now = MonotonicSeconds();
        auto* at = reinterpret_cast<std::uint8_t*>(desc) + desc->hdr.bh1.offset_to_first_pkt;
        for (unsigned i = 0; i < desc->hdr.bh1.num_pkts; ++i) {
            const auto* h = reinterpret_cast<const tpacket3_hdr*>(at);
            const auto* ll = reinterpret_cast<const sockaddr_ll*>(at + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
            timespec arrived{static_cast<time_t>(h->tp_sec), static_cast<long>(h->tp_nsec)};
            Keep(at + h->tp_net, h->tp_snaplen, ll->sll_pkttype, LabTime(arrived, real_now, now), burst);
            at += h->tp_next_offset;
        }
        __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        block = (block + 1) % kRingBlocks;
        if (!burst.empty())
            SinkFn(std::move(burst));
        burst.clear();
    }
}

} // namespace sockscope
