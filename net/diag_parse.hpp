// The bytes of a NETLINK_SOCK_DIAG conversation, without the socket: building the dump
// request (with an in-kernel port filter) and parsing the replies into KernelSocket rows.
// Pure functions of their arguments, so they can be tested on recorded replies and
// fuzzed. The I/O lives in probe.cpp.
#pragma once

#include "kernel_types.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sockscope {

// Each port costs 24 bytes of bytecode and the kernel's jump offsets are 16 bits wide;
// this many keeps a request far from those limits. Callers with more ports split them
// over several dumps.
inline constexpr std::size_t kMaxDiagPorts = 1024;

// The TCP states a dump asks for, as a bit mask of (1 << state): ESTABLISHED (1) ..
// CLOSING (11), request sockets (12, NEW_SYN_RECV) and, since Linux 6.8, sockets that are
// bound but neither listening nor connected (13, TCP_BOUND_INACTIVE; reported with
// idiag_state CLOSE), so the lab can show the effect of bind() alone. Older kernels
// ignore the bits they do not know.
inline constexpr std::uint32_t kDiagAllStates = 0x3FFE;

// A SOCK_DIAG_BY_FAMILY dump request for the TCP sockets of one family (AF_INET or
// AF_INET6), or with AF_UNSPEC the legacy TCPDIAG_GETSOCK request, which the kernel
// answers for both families in one walk of its tables (about half the cost), with
// bytecode that makes the kernel keep only sockets whose local or remote port is one of
// `ports`. With `tcp_info` it also asks for tcp_info (INET_DIAG_INFO), which the kernel
// then computes for every socket it reports (about a third of a sweep's cost at 1,000
// sockets): the probe does not. Returns an empty vector when there is nothing to ask: no
// ports, more than kMaxDiagPorts, or another family.
// With `protocol` IPPROTO_UDP it asks for the UDP table instead (AF_INET or AF_INET6
// only: the legacy request is TCP's), and for each socket's memory counters, whose drop
// count the parser reads into KernelSocket::Drops.
std::vector<std::uint8_t> BuildDiagRequest(int family, std::span<const std::uint16_t> ports,
                                           std::uint32_t seq, bool tcp_info = false,
                                           int protocol = 6 /* IPPROTO_TCP */);

// Just the INET_DIAG_REQ_BYTECODE payload of the request above (exposed for tests).
// Layout for conditions c1..cN (N = 2 * ports, "sport == p" then "dport == p"):
//   c1 JMP c2 JMP ... cN
// A condition that holds steps onto its JMP, which jumps exactly to the end (accept);
// one that fails skips its JMP to the next condition; the last one's "no" lands 4 bytes
// past the end (reject). Every op is on the chain of "yes" steps from the start, which
// the kernel's audit (valid_cc) requires of every "no" target.
std::vector<std::uint8_t> BuildPortFilter(std::span<const std::uint16_t> ports);

enum class ParseStatus : std::uint8_t {
    More,        // all messages read; the dump continues in the next datagram
    Done,        // NLMSG_DONE reached: the dump is complete
    Interrupted, // the kernel flagged NLM_F_DUMP_INTR: rows may be inconsistent, dump again
    Error,       // the kernel refused (NLMSG_ERROR, failed NLMSG_DONE) or the bytes are malformed
};

std::string_view ParseStatusName(ParseStatus s);

// Parses one datagram of replies to the dump with sequence number `expected_seq`,
// appending a row to `out` for each inet_diag_msg. Messages with another sequence number
// are skipped (leftovers of an earlier, abandoned dump). Stops at NLMSG_DONE
// (Done), at a message flagged NLM_F_DUMP_INTR (Interrupted), or at the first error
// (Error, with `error` describing it); rows appended before an Interrupted or Error
// should be discarded by the caller. Never reads outside `bytes`, whatever they hold.
ParseStatus ParseDiagReply(std::span<const std::uint8_t> bytes, std::uint32_t expected_seq,
                           std::vector<KernelSocket>& out, std::string& error);

// ---- Lookups: one socket by its four-tuple ------------------------------------------
// A request without NLM_F_DUMP names one socket by family, local and remote endpoint: the
// kernel finds it in its hash tables (the cost does not grow with the other sockets of
// the machine, unlike a dump, which walks them all) and answers with one
// SOCK_DIAG_BY_FAMILY message with tcp_info, or with an NLMSG_ERROR: ENOENT when no
// socket has that four-tuple (any more), ESTALE when one has but its cookie is not
// `cookie`. Cookie 0 matches any socket. A listener is found by its local endpoint with
// a zero remote one. Sockets that are only bound (TCP_BOUND_INACTIVE) are in no table a
// lookup searches: only a dump shows them.
// Appends the request (sequence number `seq`) to `out`, so that many go in one send.
// `tcp_info`: as for BuildDiagRequest.
void AppendLookupRequest(std::vector<std::uint8_t>& out, const Endpoint& local,
                         const Endpoint& remote, std::uint64_t cookie, std::uint32_t seq,
                         bool tcp_info = false);

enum class LookupOutcome : std::uint8_t {
    Pending,  // no reply yet
    Found,    // a row was appended
    Gone,     // ENOENT: no socket has this four-tuple
    Replaced, // ESTALE: another socket (another cookie) has it now
    Failed,   // any other error
};

// Parses one datagram of replies to the lookups numbered first_seq, first_seq + 1, ...
// (one per element of `outcomes`), setting each one's outcome and appending the rows
// found to `out` (in reply order). Replies with other sequence numbers are skipped.
// Returns false, with `error` saying why, when the bytes are malformed. Never reads
// outside `bytes`.
bool ParseLookupReplies(std::span<const std::uint8_t> bytes, std::uint32_t first_seq,
                        std::span<LookupOutcome> outcomes, std::vector<KernelSocket>& out,
                        std::string& error);

// "EPERM (Operation not permitted)"; for messages shown to the user.
std::string DescribeErrno(int err);

} // namespace sockscope
