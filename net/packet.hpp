// The lab's TCP segments as they cross the loopback interface: captured with an
// AF_PACKET socket (needs CAP_NET_RAW: root, or --private-network), parsed from the IP
// header on, and reported with their real sequence and acknowledgement numbers, flags
// and payload length.
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

struct Segment {
    double T = 0;               // lab clock
    Endpoint Src, Dst;
    std::uint32_t Seq = 0, Ack = 0;
    std::uint8_t Flags = 0;     // TcpFlag bits
    std::uint32_t Len = 0;      // payload bytes
    std::uint16_t Window = 0;   // as sent (before scaling)
    bool Inferred = false;      // not captured: deduced from what the kernel reported
};

// "SYN", "SYN-ACK", "ACK", "PSH-ACK", "FIN-ACK", "RST", ... as a textbook writes them.
std::string FlagsName(std::uint8_t flags);

// An IPv4 or IPv6 packet (from its IP header on) carrying TCP, or nullopt (another
// protocol, a fragment, a truncated or malformed packet). Never reads past `len`.
std::optional<Segment> ParsePacket(const std::uint8_t* data, std::size_t len);

// A capture thread on the loopback interface. Reports the segments whose source or
// destination port is one of Ports(), in order, a burst at a time: while segments keep
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
