// Packet gates: classic BPF socket filters that drop chosen incoming TCP segments, so
// that states loopback passes through in microseconds (SYN-SENT, SYN-RECEIVED,
// FIN-WAIT-1, CLOSING, LAST-ACK) stay on screen for as long as the teacher talks.
//
// For a TCP socket the filter runs in tcp_v4_rcv / tcp_v6_rcv with the TCP header at
// offset 0, before TCP looks at the segment: a dropped segment is, to TCP, a segment
// lost on the wire. The sender's retransmission timer is what gets it through once the
// gate is detached, so a release takes up to one retransmission interval.
//
// Privilege: since Linux commit 5d39580f68e6 (in the 6.18 kernel we run on),
// SO_ATTACH_FILTER on a TCP socket needs CAP_NET_ADMIN over the socket's network
// namespace (UDP and UNIX sockets are not affected): root has it, a student does not
// and gets EPERM. EnterPrivateNetwork() gives any user a namespace where gates work;
// ProbeGateSupport() says whether they work where we are.
//
// Where a gate acts (checked on Linux 6.18, see KERNEL_NOTES.md):
// - On a listener, it also filters the segments addressed to the listener's request
//   sockets (SYN-RECEIVED): those run the listener's filter.
// - An accepted socket INHERITS the filter its listener had at the moment the handshake
//   completed (the child is cloned from the listener then, not at accept()): a gate
//   left on a listener keeps dropping on every connection it lets complete. So the lab
//   calls DetachGate() on every socket accept() returns from a listener that was ever
//   gated (one system call; ENOENT when there was nothing to remove; a listener never
//   gated has no filter to hand on). Before accept() the inherited gate changes nothing
//   visible: a child without a descriptor sends nothing that needs an ACK. Making the
//   program match "only the handshake" instead is not possible: the third ACK and a
//   later pure ACK have the same header, and a classic BPF program has no per-socket
//   state. The Syn gate is narrow anyway (bare SYNs only), so it is inert on a child.
// - A listener gate can be narrowed to one client with `peer_port` (the source port of
//   the segments it drops), so one connection is held while others complete. Without
//   it, a HandshakeAck gate holds every client that stays silent, but a client that
//   sends data completes at once: data is not a pure ACK.
// - A gate can only be detached through a descriptor: hold LAST-ACK and CLOSING with
//   shutdown(SHUT_WR), not close(), or the orphan keeps its gate until it gives up.
//
// None of these functions keeps state; all but EnterPrivateNetwork() are safe from any
// thread.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sockscope {

enum class GateKind : std::uint8_t {
    Syn,          // on a listener: drop connection requests (SYN without ACK); the client
                  // stays SYN-SENT, resending its SYN 1, 2, 3, 4 s after connect() (the
                  // tcp_syn_linear_timeouts=4 default of this kernel), then doubling
    HandshakeAck, // on a listener: drop pure ACKs; the request socket stays SYN-RECEIVED
                  // while the client is already ESTABLISHED
    Fin,          // on the peer of the closer: drop segments with FIN; the closer stays
                  // FIN-WAIT-1 (a FIN carrying data is dropped whole, data and all)
    PureAck,      // on a connection: drop pure ACKs; holds LAST-ACK (and, switched
                  // with Fin at the right moments, CLOSING on both ends)
};

// Every kind, in declaration order (for menus and tests).
inline constexpr GateKind AllGateKinds[] = {GateKind::Syn, GateKind::HandshakeAck, GateKind::Fin,
                                            GateKind::PureAck};

// "syn", "handshake-ack", "fin", "ack".
std::string_view GateKindName(GateKind kind);
std::optional<GateKind> GateKindFromName(std::string_view name);

// Matches segments from any peer port.
inline constexpr std::uint16_t AnyPeerPort = 0;

// What the program returns for a segment it lets through: "keep the whole segment".
// (A smaller non-zero value would make the kernel trim the segment's payload.)
inline constexpr std::uint32_t GateAccept = 0xffffffffu;

// The classic BPF program of a gate: it returns 0 (drop) for the segments `kind` holds,
// when they come from `peer_port` (any port if AnyPeerPort), and GateAccept for every
// other segment. A "pure ACK" is a segment whose only flag among URG ACK PSH RST SYN FIN
// is ACK and that carries no payload (ECE and CWR are ignored), so data always passes.
// HandshakeAck and PureAck are the same program: the kind says where it is meant to go.
// Pure: no system call.
std::vector<sock_filter> GateProgram(GateKind kind, std::uint16_t peer_port = AnyPeerPort);

// Runs `program` on one TCP segment (`segment` starts at the TCP header and includes
// the payload) the way the kernel would, for the instructions GateProgram uses.
// Returns the program's verdict (0 = drop), or nothing if the program uses an
// instruction this small interpreter does not know. A load beyond the segment's end
// drops it, as in the kernel. Lets a captured segment be labelled "dropped by the gate"
// and lets the programs be tested without sockets.
std::optional<std::uint32_t> RunGateProgram(std::span<const sock_filter> program,
                                            std::span<const std::uint8_t> segment);

// Attaches the gate to `fd` with SO_ATTACH_FILTER, replacing any filter already there
// atomically: switching from one gate to another never lets a segment slip through
// unfiltered. Returns 0 or the errno value of setsockopt (EBADF, ENOTSOCK...).
// When the kernel says EPERM and the process is not root, sockscope-helper is asked to
// attach the same gate (helper_client.hpp); then the errno is the helper's (still EPERM
// when there is no helper, EPERM/EOPNOTSUPP/... when it refuses).
int AttachGate(int fd, GateKind kind, std::uint16_t peer_port = AnyPeerPort);

// Removes whatever filter `fd` has (SO_DETACH_FILTER). Returns 0, or ENOENT if none
// was attached (what the lab gets after accept() on an ungated listener: cheap, one
// system call, and not a failure; the caller decides), or another errno value. (EPERM,
// not root: through sockscope-helper, as above.)
int DetachGate(int fd);

// Whether AttachGate, DetachGate and ProbeGateSupport may ask sockscope-helper (default
// yes). The helper itself says no: it must never start itself.
void UseGateHelper(bool allowed);

// Reads back the program the kernel holds for `fd` (SO_GET_FILTER): the kernel's own
// word on whether a socket is gated, e.g. on a child that inherited its listener's
// gate. Returns 0 and fills `program` (empty if no filter), or an errno value.
int ReadFilter(int fd, std::vector<sock_filter>& program);

// Instruction-by-instruction equality (sock_filter has no operator==).
bool SameProgram(std::span<const sock_filter> a, std::span<const sock_filter> b);

// Whether this process may attach gates to TCP sockets in its network namespace: tries
// on a throwaway TCP socket. Returns 0, or the errno value (EPERM without CAP_NET_ADMIN
// over the namespace, on kernels that require it). Not root and EPERM: 0 if
// sockscope-helper runs and can attach gates.
int ProbeGateSupport();

// Moves the calling process into a new network namespace, with its loopback brought up,
// where it may attach gates. With CAP_SYS_ADMIN (root) that is all; without it, a new
// user namespace comes first, with the user and group ids mapped to themselves (so
// getuid() does not change), in which the process holds CAP_NET_ADMIN.
// It also sets net.ipv4.tcp_no_metrics_save=1 there: otherwise a connection that closes
// after a hold can leave a long RTT for 127.0.0.1 in the kernel's TCP metrics cache
// (`ip tcp_metrics`), and every later connection starts with a retransmission timeout
// of about three times that: one lesson's hold would slow the next lesson's timers.
// Everything the process creates afterwards lives on that private loopback: `ss` run
// from it sees it; other processes on the machine (a student's `nc`) do not.
// Process-wide and one-way: call it from main() before any thread starts (unshare of a
// user namespace fails with EINVAL in a multi-threaded process). Without privilege it
// needs unprivileged user namespaces (allowed on Debian 12; some distributions restrict
// them). A process that dropped privileges from root must be dumpable again
// (PR_SET_DUMPABLE) to write its own uid_map.
// Returns 0, or the errno value of the step that failed (the process may then be in a
// half-prepared namespace and should give up on gates).
int EnterPrivateNetwork();

} // namespace sockscope
