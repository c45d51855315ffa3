// The lab's packets as they cross the loopback interface: captured with an AF_PACKET
// socket (needs CAP_NET_RAW: root, or --private-network), parsed from the IP header on.
// TCP segments come with their real sequence and acknowledgement numbers, flags and
// payload length; UDP datagrams with their ports, length and first bytes; an ICMP port
// unreachable with the UDP header it quotes (what turns into ECONNREFUSED).
#pragma once

#include "kernel_types.hpp"
#include "phrase.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sockscope {

enum TcpFlag : std::uint8_t {
    FlagFin = 0x01,
    FlagSyn = 0x02,
    FlagRst = 0x04,
    FlagPsh = 0x08,
    FlagAck = 0x10,
    FlagUrg = 0x20,
};

// The first bytes of a datagram's payload a Segment keeps (what the packet panel shows).
inline constexpr std::size_t SegmentPayloadKept = 16;

// One packet of the lab: a TCP segment (Proto IPPROTO_TCP), a UDP datagram (IPPROTO_UDP)
// or an ICMP destination unreachable about a UDP datagram (IPPROTO_ICMP, IPPROTO_ICMPV6).
struct Segment {
    double T = 0;               // lab clock
    // TCP, UDP: the packet's ends. ICMP: the ends of the datagram it quotes, reversed: from
    // the port the datagram did not reach, back to the datagram's sender.
    Endpoint Src, Dst;
    std::uint32_t Seq = 0, Ack = 0; // TCP only
    std::uint8_t Flags = 0;     // TcpFlag bits (TCP only)
    std::uint32_t Len = 0;      // payload bytes (ICMP: of the datagram it quotes)
    std::uint16_t Window = 0;   // as sent (before scaling; TCP only)
    bool Inferred = false;      // not captured: deduced from what the kernel reported
    std::uint8_t Proto = 6;     // IPPROTO_TCP (6), IPPROTO_UDP (17), IPPROTO_ICMP (1), IPPROTO_ICMPV6 (58)
    std::uint8_t IcmpType = 0, IcmpCode = 0; // ICMP: 3/3 (IPv4), 1/4 (IPv6) is port unreachable
    std::string Payload;        // UDP, ICMP (the quoted datagram's): its first bytes, at most
                                // SegmentPayloadKept of them (fewer when the capture had fewer)
};

// "SYN", "SYN-ACK", "ACK", "PSH-ACK", "FIN-ACK", "RST", ... as a textbook writes them.
std::string FlagsName(std::uint8_t flags);

bool IsDatagram(const Segment& s);        // a UDP datagram
bool IsIcmp(const Segment& s);            // an ICMP (or ICMPv6) error about a datagram
bool IsPortUnreachable(const Segment& s); // ICMP type 3 code 3, or ICMPv6 type 1 code 4
// "tcp", "udp", "icmp", "icmpv6": the trace's "proto".
std::string_view SegmentProtoName(const Segment& s);
// An ICMP port unreachable about `datagram` (the reply the kernel sends when no socket
// has the datagram's destination port): the ends reversed, its length and first bytes.
Segment PortUnreachableFor(const Segment& datagram);

// An IPv4 or IPv6 packet (from its IP header on) carrying TCP, UDP, or an ICMP (ICMPv6)
// destination unreachable that quotes a UDP header; nullopt for anything else (another
// protocol or ICMP type, a fragment, a truncated or malformed packet). Never reads past
// `len`.
std::optional<Segment> ParsePacket(const std::uint8_t* data, std::size_t len);

// A capture thread on the loopback interface. Reports the segments and datagrams whose
// source or destination port is one of Ports() (an ICMP error: the ports it quotes), in order, a burst at a time: while segments keep
// coming it is woken once per CaptureBurst rather than for each one (each keeps the
// time the kernel received it).
inline constexpr double CaptureBurst = 0.002; // seconds
class HelperChannel;
class Capture {
public:
    using Sink = std::function<void(std::vector<Segment>&&)>;
    // Opens the packet socket now; Ok() says whether that worked (Error() why not).
    // When the kernel refuses it (EPERM, not root) and `via_helper`, captures through
    // sockscope-helper instead (helper_client.hpp): the helper forwards the headers of
    // segments of this user's sockets only. Through the helper, ViaHelper() is true.
    explicit Capture(Sink sink, bool via_helper = true);
    ~Capture(); // stops and joins promptly
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    bool Ok() const { return Fd >= 0; }
    bool ViaHelper() const { return Helper != nullptr; }
    // Whether UDP datagrams (and ICMP) are captured too: the helper forwards TCP only.
    bool CapturesDatagrams() const { return Ok() && !ViaHelper(); }
    const Phrase& Error() const { return ErrorText; }
    int Errno() const { return ErrorNumber; } // when not Ok(): why (0 if not a system call)
    void SetPorts(std::set<std::uint16_t> ports);
    std::uint64_t Captured() const { return Count.load(); }

private:
    static constexpr unsigned kRingBlockSize = 1u << 18; // 8 x 256 KiB: ~6,000 segments' headers
    static constexpr unsigned kRingBlocks = 8;
    static constexpr unsigned kRingFrameSize = 1u << 11; // (V3 packs frames; this only sizes the request)

    void MapRing();
    bool StartHelper();
    void Run();
    void RunHelper();
    bool Wanted(const Segment& s);
    void Keep(const std::uint8_t* data, std::size_t len, unsigned char pkttype, double t, std::vector<Segment>& burst);

    Sink SinkFn;
    int Fd = -1;
    int StopFd = -1;
    void* Ring = nullptr; // the TPACKET_V3 ring, or none: then recvfrom() per packet
    std::atomic<bool> Stopping{false};
    Phrase ErrorText;
    int ErrorNumber = 0;
    std::unique_ptr<HelperChannel> Helper; // capturing through sockscope-helper
    // SetPorts waits until the helper has the new ports (RunHelper saw the reply to
    // request PortsId), so a connection made just after is captured, as without it.
    std::mutex ReplyMutex;
    std::condition_variable ReplySeen;
    std::uint32_t PortsId = 0, RepliedId = 0; // guarded by ReplyMutex
    std::mutex Mutex; // guards Ports
    std::set<std::uint16_t> Ports;
    std::atomic<std::uint64_t> Count{0};
    std::thread Thread;
};

} // namespace sockscope
