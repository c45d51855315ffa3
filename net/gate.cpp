#include "gate.hpp"

#include "helper_client.hpp"

#include <atomic>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sockscope {

namespace {

std::atomic<bool> HelperAllowed{true};

// Whether a refusal of the kernel's should go to sockscope-helper instead.
bool AskHelper(int err)
{
    return err == EPERM && geteuid() != 0 && HelperAllowed.load();
}

// Offsets and bits in the TCP header (RFC 9293), which a TCP socket filter sees at 0.
constexpr std::uint32_t SourcePortOffset = 0;
constexpr std::uint32_t DataOffsetByte = 12; // high nibble: header length in 32-bit words
constexpr std::uint32_t FlagsByte = 13;
constexpr std::uint32_t Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10, Urg = 0x20;

sock_filter Stmt(std::uint16_t code, std::uint32_t k)
{
    return sock_filter{code, 0, 0, k};
}

sock_filter Jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf)
{
    return sock_filter{code, jt, jf, k};
}

// The match of one kind. It runs off its end for a segment to drop, and jumps one
// instruction past its end for a segment to let through: GateProgram places `ret 0` and
// `ret GateAccept` there.
std::vector<sock_filter> Match(GateKind kind)
{
    switch (kind) {
    case GateKind::Syn:
        // A connection request is SYN without ACK. Leaving SYN-ACKs alone keeps the gate
        // inert on a child that inherits it (a child never receives a bare SYN except
        // from a new connection reusing the four-tuple).
        return {
            Stmt(BPF_LD | BPF_B | BPF_ABS, FlagsByte),
            Stmt(BPF_ALU | BPF_AND | BPF_K, Syn | Ack),
            Jump(BPF_JMP | BPF_JEQ | BPF_K, Syn, 0, 1), // SYN alone: drop; else accept
        };
    case GateKind::Fin:
        return {
            Stmt(BPF_LD | BPF_B | BPF_ABS, FlagsByte),
            Jump(BPF_JMP | BPF_JSET | BPF_K, Fin, 0, 1),
        };
    case GateKind::HandshakeAck:
    case GateKind::PureAck:
        // Header-only ACKs. Checking the payload length, not just PSH, matters: a data
        // segment need not carry PSH, and dropping data would hold more than we say.
        return {
            Stmt(BPF_LD | BPF_B | BPF_ABS, FlagsByte),
            Stmt(BPF_ALU | BPF_AND | BPF_K, Urg | Ack | Psh | Rst | Syn | Fin),
            Jump(BPF_JMP | BPF_JEQ | BPF_K, Ack, 0, 7),  // not ACK alone: accept
            Stmt(BPF_LD | BPF_B | BPF_ABS, DataOffsetByte),
            Stmt(BPF_ALU | BPF_AND | BPF_K, 0xf0),
            Stmt(BPF_ALU | BPF_RSH | BPF_K, 2),          // (offset >> 4) * 4 bytes
            Stmt(BPF_MISC | BPF_TAX, 0),
            Stmt(BPF_LD | BPF_W | BPF_LEN, 0),           // header + payload
            Jump(BPF_JMP | BPF_JGT | BPF_X, 0, 1, 0),    // payload: accept; else drop
        };
    }
    return {};
}

// Writes `text` to a /proc file in one write(), as the id-map files require.
int WriteProcFile(const char* path, const char* text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    std::size_t len = std::strlen(text);
    ssize_t written = write(fd, text, len);
    int err = written < 0 ? errno : (static_cast<std::size_t>(written) == len ? 0 : EIO);
    close(fd);
    return err;
}

} // namespace

std::string_view GateKindName(GateKind kind)
{
    switch (kind) {
    case GateKind::Syn: return "syn";
    case GateKind::HandshakeAck: return "handshake-ack";
    case GateKind::Fin: return "fin";
    case GateKind::PureAck: return "ack";
    }
    return "?";
}

std::optional<GateKind> GateKindFromName(std::string_view name)
{
    for (GateKind kind : AllGateKinds)
        if (GateKindName(kind) == name)
            return kind;
    return std::nullopt;
}

std::vector<sock_filter> GateProgram(GateKind kind, std::uint16_t peer_port)
{
    // Layout: [port check] match, ret 0 (drop), ret GateAccept.
    std::vector<sock_filter> program;
    std::vector<sock_filter> match = Match(kind);
    if (peer_port != AnyPeerPort) {
        program.push_back(Stmt(BPF_LD | BPF_H | BPF_ABS, SourcePortOffset));
        // Another peer: skip the match and the drop, to the accept.
        program.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, peer_port, 0,
                               static_cast<std::uint8_t>(match.size() + 1)));
    }
    program.insert(program.end(), match.begin(), match.end());
    program.push_back(Stmt(BPF_RET | BPF_K, 0));
    program.push_back(Stmt(BPF_RET | BPF_K, GateAccept));
    return program;
}

std::optional<std::uint32_t> RunGateProgram(std::span<const sock_filter> program,
                                            std::span<const std::uint8_t> segment)
{
    std::uint32_t a = 0, x = 0;
    auto load = [&](std::uint32_t offset, std::uint32_t size, std::uint32_t& out) {
        if (offset > segment.size() || segment.size() - offset < size)
            return false;
        out = 0;
        for (std::uint32_t i = 0; i < size; ++i)
            out = (out << 8) | segment[offset + i]; // network byte order, as BPF loads
        return true;
    };
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
        const sock_filter& insn = program[pc];
        switch (insn.code) {
        case BPF_LD | BPF_B | BPF_ABS:
            if (!load(insn.k, 1, a))
                return 0;
            break;
        case BPF_LD | BPF_H | BPF_ABS:
            if (!load(insn.k, 2, a))
                return 0;
            break;
        case BPF_LD | BPF_W | BPF_ABS:
            if (!load(insn.k, 4, a))
                return 0;
            break;
        case BPF_LD | BPF_W | BPF_LEN: a = static_cast<std::uint32_t>(segment.size()); break;
        case BPF_ALU | BPF_AND | BPF_K: a &= insn.k; break;
        case BPF_ALU | BPF_RSH | BPF_K: a >>= insn.k; break;
        case BPF_MISC | BPF_TAX: x = a; break;
        case BPF_JMP | BPF_JEQ | BPF_K: pc += (a == insn.k) ? insn.jt : insn.jf; break;
        case BPF_JMP | BPF_JGT | BPF_K: pc += (a > insn.k) ? insn.jt : insn.jf; break;
        case BPF_JMP | BPF_JGT | BPF_X: pc += (a > x) ? insn.jt : insn.jf; break;
        case BPF_JMP | BPF_JSET | BPF_K: pc += (a & insn.k) ? insn.jt : insn.jf; break;
        case BPF_RET | BPF_K: return insn.k;
        default: return std::nullopt;
        }
    }
    return std::nullopt; // ran off the end: the kernel would have refused the program
}

int AttachGate(int fd, GateKind kind, std::uint16_t peer_port)
{
    std::vector<sock_filter> program = GateProgram(kind, peer_port);
    sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
        int err = errno;
        return AskHelper(err) ? HelperAttachGate(fd, kind, peer_port, err) : err;
    }
    return 0;
}

int DetachGate(int fd)
{
    int unused = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) != 0) {
        int err = errno;
        return AskHelper(err) ? HelperDetachGate(fd, err) : err;
    }
    return 0;
}

void UseGateHelper(bool allowed)
{
    HelperAllowed = allowed;
}

int ReadFilter(int fd, std::vector<sock_filter>& program)
{
    program.clear();
    // SO_GET_FILTER counts in instructions, not bytes: asking with length 0 returns the
    // program's length (0 when there is none), then a second call copies it.
    socklen_t len = 0;
    if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, nullptr, &len) != 0)
        return errno;
    if (len == 0)
        return 0;
    program.resize(len);
    if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, program.data(), &len) != 0) {
        int err = errno;
        program.clear();
        return err;
    }
    program.resize(len);
    return 0;
}

bool SameProgram(std::span<const sock_filter> a, std::span<const sock_filter> b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].code != b[i].code || a[i].jt != b[i].jt || a[i].jf != b[i].jf || a[i].k != b[i].k)
            return false;
    return true;
}

int ProbeGateSupport()
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    std::vector<sock_filter> program = GateProgram(GateKind::Syn);
    sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    int err = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) == 0 ? 0 : errno;
    close(fd);
    if (AskHelper(err) && HelperGateSupport() == 0)
        return 0;
    return err;
}

int EnterPrivateNetwork()
{
    // Read before unshare(): until the maps are written, our ids read as the overflow id.
    uid_t uid = getuid();
    gid_t gid = getgid();
    // With CAP_SYS_ADMIN a network namespace alone will do, and keeps our user namespace,
    // so the caller can still drop privileges to another user afterwards.
    if (unshare(CLONE_NEWNET) != 0) {
        if (errno != EPERM)
            return errno;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
            return errno;
        // An unprivileged process may map only its own ids, and only after giving up
        // setgroups() in the new namespace.
        char map[64];
        if (int err = WriteProcFile("/proc/self/setgroups", "deny"))
            return err;
        std::snprintf(map, sizeof map, "%u %u 1", static_cast<unsigned>(uid), static_cast<unsigned>(uid));
        if (int err = WriteProcFile("/proc/self/uid_map", map))
            return err;
        std::snprintf(map, sizeof map, "%u %u 1", static_cast<unsigned>(gid), static_cast<unsigned>(gid));
        if (int err = WriteProcFile("/proc/self/gid_map", map))
            return err;
    }

    // A new network namespace has a loopback interface, but down.
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int err = 0;
    if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
        err = errno;
    } else {
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
        if (ioctl(fd, SIOCSIFFLAGS, &request) != 0)
            err = errno;
    }
    close(fd);
    if (err)
        return err;

    // A connection that closes after a hold can leave a long RTT in the kernel's
    // per-destination TCP metrics, and every later connection to 127.0.0.1 starts with
    // an RTO of about three times that. Not saving metrics keeps each lesson's timers
    // independent of the last lesson's holds.
    return WriteProcFile("/proc/sys/net/ipv4/tcp_no_metrics_save", "1");
}

} // namespace sockscope
