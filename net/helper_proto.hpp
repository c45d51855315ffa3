// The messages sockscope and sockscope-helper exchange over a SOCK_SEQPACKET socketpair
// (one message per send). Pure functions of bytes: the helper's whole input goes through
// ParseHelperRequest, which is fuzzed (fuzz/helper_proto_fuzz.cpp).
//
// A request names an operation and, for a gate, one of sockscope's fixed gates by number
// (GateKind) and a peer port: never a filter program. Attach and Detach come with exactly
// one descriptor (SCM_RIGHTS); every other request with none. Each request gets one
// HelperReply. After CaptureStart the helper also sends HelperSegments messages: the TCP
// headers (never the payload) of loopback segments of sockets the caller owns.
#pragma once

#include "gate.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sockscope {

inline constexpr std::uint32_t HelperMagic = 0x53534831; // "SSH1"
inline constexpr std::uint16_t HelperVersion = 1;
inline constexpr std::size_t HelperMaxPorts = 64;

enum class HelperOp : std::uint8_t {
    Hello = 1,        // no descriptor: is the helper there and able (CAP_NET_ADMIN)?
    Attach = 2,       // one descriptor: attach gate `Gate` (peer port `PeerPort`)
    Detach = 3,       // one descriptor: remove its filter
    CaptureStart = 4, // no descriptor: forward segments on `Ports` (again: new ports)
    CaptureStop = 5,
};

// Why the helper said no (or Ok). Stable numbers: they cross the process boundary.
enum class HelperRefusal : std::uint16_t {
    Ok = 0,
    Malformed = 1,           // wrong size, magic, version, or unknown operation
    UnknownGate = 2,         // a gate number sockscope does not have
    WrongDescriptors = 3,    // not exactly the descriptors the operation takes
    NotASocket = 4,
    NotTcp = 5,              // UDP, Unix, raw... only TCP over IPv4 or IPv6
    NotFound = 6,            // sock_diag does not know it (unbound, another namespace)
    OtherUsersSocket = 7,    // sock_diag says another user owns the socket
    OtherUsersListener = 8,  // the port it talks to has another user's listener
    Flood = 9,               // too many requests: slow down
    KernelError = 10,        // the kernel refused; HelperReply::Errno says why
    WrongCaller = 11,        // the caller is not the user who ran the helper
    NoCapture = 12,          // the packet socket could not be opened
};

// "malformed message", "another user's socket", ... for logs and test failures.
std::string_view HelperRefusalText(HelperRefusal refusal);
// The errno value sockscope reports for a refusal (EPERM, EINVAL, ENOTSOCK, EBUSY...).
int HelperRefusalErrno(HelperRefusal refusal, int kernel_errno);

struct HelperRequest {
    HelperOp Op = HelperOp::Hello;
    GateKind Gate = GateKind::Syn;
    std::uint16_t PeerPort = 0;
    std::uint32_t Id = 0;
    std::vector<std::uint16_t> Ports; // CaptureStart
};

// The request's bytes (to send with the descriptor, if any).
std::vector<std::uint8_t> EncodeHelperRequest(const HelperRequest& request);

struct ParsedRequest {
    HelperRefusal Refusal = HelperRefusal::Ok; // Ok: Request is valid
    HelperRequest Request;
};
// Reads one message of `bytes` that came with `descriptors` descriptors. Never reads
// past `bytes`; Refusal is Ok only for a well-formed request with the right number of
// descriptors for its operation.
ParsedRequest ParseHelperRequest(std::span<const std::uint8_t> bytes, std::size_t descriptors);

enum class HelperMessageKind : std::uint8_t { Reply = 1, Segments = 2 };

struct HelperReply {
    std::uint32_t Id = 0;
    HelperRefusal Refusal = HelperRefusal::Ok;
    std::int32_t Errno = 0; // with KernelError (and NoCapture): the kernel's errno
};

// One captured segment's header fields, as the helper forwards them.
struct HelperSegment {
    std::uint8_t Family = 0; // AF_INET or AF_INET6
    std::uint8_t Flags = 0;
    std::uint16_t Window = 0;
    std::uint8_t Src[16] = {}, Dst[16] = {};
    std::uint16_t SrcPort = 0, DstPort = 0;
    std::uint32_t Seq = 0, Ack = 0, Len = 0;
    std::int64_t MonotonicNs = 0; // when the kernel received it, on CLOCK_MONOTONIC
};
inline constexpr std::size_t HelperMaxSegmentsPerMessage = 512;

std::vector<std::uint8_t> EncodeHelperReply(const HelperReply& reply);
std::vector<std::uint8_t> EncodeHelperSegments(std::span<const HelperSegment> segments);

// What a message from the helper is: a reply, or segments (appended to `segments`).
// Nothing when malformed.
std::optional<HelperMessageKind> ParseHelperMessage(std::span<const std::uint8_t> bytes, HelperReply& reply,
                                                    std::vector<HelperSegment>& segments);

} // namespace sockscope
