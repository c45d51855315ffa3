// Plain value types for what the kernel reports about TCP sockets.
// Shared by the probe (which fills them), the world model (which merges them) and the
// UI (which draws them). No system calls here.
#pragma once

#include "phrase.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockscope {

// The kernel's own numbering (include/net/tcp_states.h), so a value from inet_diag can
// be cast directly. NewSynRecv is how the kernel stores request sockets internally;
// inet_diag reports them as SynRecv.
enum class TcpState : std::uint8_t {
    Unknown = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
};

// RFC 9293 name ("SYN-RECEIVED", "FIN-WAIT-1", ...). Close and Unknown give "CLOSED".
std::string_view TcpStateName(TcpState s);
// A socket's state as ss names it for its protocol: an unconnected UDP socket (the kernel
// keeps it in TCP_CLOSE) is UNCONN; anything else is TcpStateName.
std::string_view SocketStateName(TcpState s, std::uint8_t proto);
// Inverse of TcpStateName (also accepts the ss spellings "SYN-RECV", "ESTAB", ...).
std::optional<TcpState> TcpStateFromName(std::string_view name);

// An IPv4 or IPv6 address and port, in host byte order for the port.
struct Endpoint {
    int Family = 0;                      // AF_INET, AF_INET6, or 0 when unknown
    std::array<std::uint8_t, 16> Addr{}; // IPv4 uses the first 4 bytes
    std::uint16_t Port = 0;

    // "127.0.0.1:4000", "[::1]:4000"; "*:*" when Family is 0.
    std::string ToString() const;
    std::string AddrString() const;
    static std::optional<Endpoint> Parse(std::string_view text); // inverse of ToString
    static Endpoint V4(std::uint32_t addr_host_order, std::uint16_t port);
    bool operator==(const Endpoint&) const = default;
    auto operator<=>(const Endpoint&) const = default;
};

enum class TimerKind : std::uint8_t { None = 0, Retransmit = 1, Keepalive = 2, TimeWait = 3, Probe = 4 };
std::string_view TimerKindName(TimerKind k); // "retransmit", "keepalive", "time-wait", "probe", ""

// One row of a sock_diag dump: what `ss -tanoe` prints for one socket.
struct KernelSocket {
    TcpState State = TcpState::Unknown;
    Endpoint Local;
    Endpoint Remote;
    std::uint64_t Cookie = 0;   // idiag_cookie, stable from request socket to accepted socket
    std::uint32_t Inode = 0;    // 0 until a process holds a descriptor for it
    std::uint32_t Uid = 0;
    std::uint32_t RecvQ = 0;    // LISTEN: accept-queue length; others: unread bytes
    std::uint32_t SendQ = 0;    // LISTEN: backlog limit; others: unacked/unsent bytes
    TimerKind Timer = TimerKind::None;
    std::uint32_t TimerExpiresMs = 0;
    std::uint32_t Retransmits = 0;
    std::uint8_t Proto = 6;     // IPPROTO_TCP or IPPROTO_UDP (17): which table the row came from
    std::uint32_t Drops = 0;    // UDP: datagrams dropped for want of room (SK_MEMINFO_DROPS)
    // A few tcp_info fields when INET_DIAG_INFO was present (zero otherwise).
    bool HasInfo = false;
    std::uint32_t SegsOut = 0;
    std::uint32_t SegsIn = 0;
    std::uint32_t TotalRetrans = 0;
    std::uint32_t Rto = 0; // microseconds

    bool operator==(const KernelSocket&) const = default;
};

// One complete dump, taken at a monotonic time.
struct Snapshot {
    double T = 0;                     // seconds on the lab's clock
    std::vector<KernelSocket> Sockets;
    Phrase Error;                     // said when the dump failed (shown, not fatal)
    // Kernel-wide TCP counters and settings read with the dump (kernel_stats.hpp); empty
    // when the producer did not read them.
    std::map<std::string, std::uint64_t> Counters;
    // The same counters as read when the lab was last reset (the lesson's start): what a
    // lesson's counter checks compare with. Read then, not from the first snapshot after,
    // which may come after the lesson's first call (a datagram to nobody makes no socket).
    std::map<std::string, std::uint64_t> CountersAtReset;
    std::map<std::string, std::string> Sysctls;
};

} // namespace sockscope
