// sockscope-helper: the one part of sockscope with privileges (the dumpcap model).
// Installed with the file capabilities cap_net_admin and cap_net_raw and nothing else.
// sockscope starts it with one end of a SOCK_SEQPACKET socketpair as descriptor 3; it has
// no other input: no arguments, no environment, no configuration, no network.
//
// It does two jobs for the user who started it, and refuses everything else with a reason
// (net/helper_proto.hpp):
// - attaches one of sockscope's fixed gate filters (GateProgram) to a TCP socket the
//   caller passes (SCM_RIGHTS), or detaches it. It never attaches a filter it is sent.
//   The socket must be TCP over IPv4 or IPv6, known to sock_diag, owned by the caller
//   (its uid in sock_diag equals the uid SO_PEERCRED gives for descriptor 3, which must
//   be the uid that ran the helper), and the port it is connected to must not have
//   another user's listener.
// - captures TCP segments on lo and forwards the headers (never the payload, never the
//   packet socket) of those whose socket, at either end, the caller owns (sock_diag).
// Requests beyond a rate (a burst of 200, then 100 a second) are refused as a flood.
// Every descriptor received is closed before the reply is sent.
#include "diag_socket.hpp"
#include "gate.hpp"
#include "helper_proto.hpp"
#include "packet.hpp"
#include "clock.hpp"
#include "sockets.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace sockscope;

namespace {

constexpr int Control = 3;
constexpr double BurstRequests = 200;
constexpr double RequestsPerSecond = 100;
constexpr std::size_t MaxDescriptors = 8; // room to receive (and close) a few too many

uid_t Caller = 0;

void Reply(std::uint32_t id, HelperRefusal refusal, int err = 0)
{
    HelperReply reply{id, refusal, err};
    auto bytes = EncodeHelperReply(reply);
    if (send(Control, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0 && errno == EPIPE)
        _exit(0);
}

// The socket's owner and the listeners on the port it talks to, per sock_diag.
HelperRefusal CheckSocket(int fd)
{
    struct stat st{};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        return HelperRefusal::NotASocket;
    int domain = 0, type = 0, protocol = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
        return HelperRefusal::NotASocket;
    len = sizeof type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    len = sizeof protocol;
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len);
    if ((domain != AF_INET && domain != AF_INET6) || type != SOCK_STREAM || protocol != IPPROTO_TCP)
        return HelperRefusal::NotTcp;

    std::uint64_t cookie = 0;
    len = sizeof cookie;
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0)
        return HelperRefusal::NotFound;
    sockaddr_storage local{}, remote{};
    socklen_t local_len = sizeof local, remote_len = sizeof remote;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0)
        return HelperRefusal::NotFound;
    auto local_ep = EndpointOf(local);
    if (!local_ep || local_ep->Port == 0)
        return HelperRefusal::NotFound; // not bound: sock_diag cannot vouch for it
    std::optional<Endpoint> remote_ep;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len) == 0)
        remote_ep = EndpointOf(remote);

    std::vector<std::uint16_t> ports{local_ep->Port};
    if (remote_ep && remote_ep->Port != 0 && remote_ep->Port != local_ep->Port)
        ports.push_back(remote_ep->Port);
    DiagSocket diag;
    std::vector<KernelSocket> rows;
    Phrase error;
    if (!diag.Dump(ports, rows, error))
        return HelperRefusal::NotFound;
    const KernelSocket* self = nullptr;
    for (const auto& row : rows)
        if (row.Cookie == cookie)
            self = &row;
    if (!self)
        return HelperRefusal::NotFound;
    if (self->Uid != Caller)
        return HelperRefusal::OtherUsersSocket;
    if (remote_ep)
        for (const auto& row : rows)
            if (row.State == TcpState::Listen && row.Local.Port == remote_ep->Port && row.Uid != Caller)
                return HelperRefusal::OtherUsersListener;
    return HelperRefusal::Ok;
}

// Capture: segments of sockets the caller owns, forwarded from the capture thread.
class Forwarder {
public:
    Forwarder() = default;
    HelperRefusal Start(const std::vector<std::uint16_t>& ports, int& err)
    {
        std::set<std::uint16_t> wanted(ports.begin(), ports.end());
        if (!Capturing) {
            Capturing = std::make_unique<Capture>([this](std::vector<Segment>&& burst) { Forward(burst); },
                                                  /*via_helper=*/false);
            if (!Capturing->Ok()) {
                err = Capturing->Errno();
                Capturing.reset();
                return HelperRefusal::NoCapture;
            }
        }
        Capturing->SetPorts(std::move(wanted));
        return HelperRefusal::Ok;
    }
    void Stop() { Capturing.reset(); }

private:
    using Key = std::tuple<Endpoint, Endpoint>;

    // Whether the socket at either end of this segment belongs to the caller. Answers
    // are kept (owned: 5 minutes, so a TIME-WAIT end, which sock_diag reports with uid 0,
    // still counts; not owned: half a second).
    bool Owned(const Segment& s, double now)
    {
        Key key = s.Src < s.Dst ? Key{s.Src, s.Dst} : Key{s.Dst, s.Src};
        if (auto it = Known.find(key); it != Known.end() && it->second.second > now)
            return it->second.first;
        if (Known.size() > 4096)
            Known.clear();
        LookupTarget targets[2] = {{s.Dst, s.Src, 0}, {s.Src, s.Dst, 0}};
        std::vector<KernelSocket> rows;
        std::vector<LookupOutcome> outcomes;
        bool owned = false;
        if (Diag.Lookup(targets, rows, outcomes))
            for (const auto& row : rows)
                owned = owned || (row.Uid == Caller && row.State != TcpState::TimeWait);
        Known[key] = {owned, now + (owned ? 300.0 : 0.5)};
        return owned;
    }

    void Forward(const std::vector<Segment>& burst)
    {
        std::vector<HelperSegment> out;
        double now = MonotonicSeconds();
        for (const Segment& s : burst) {
            if (!Owned(s, now))
                continue;
            HelperSegment h;
            h.Family = static_cast<std::uint8_t>(s.Src.Family);
            h.Flags = s.Flags;
            h.Window = s.Window;
            std::memcpy(h.Src, s.Src.Addr.data(), 16);
            std::memcpy(h.Dst, s.Dst.Addr.data(), 16);
            h.SrcPort = s.Src.Port;
            h.DstPort = s.Dst.Port;
            h.Seq = s.Seq;
            h.Ack = s.Ack;
            h.Len = s.Len;
            h.MonotonicNs = ClockOriginNs() + static_cast<std::int64_t>(s.T * 1e9);
            out.push_back(h);
            if (out.size() == HelperMaxSegmentsPerMessage)
                Flush(out);
        }
        Flush(out);
    }

    static void Flush(std::vector<HelperSegment>& out)
    {
        if (out.empty())
            return;
        auto bytes = EncodeHelperSegments(out);
        // Never block on a caller that does not read: its segments are dropped instead.
        send(Control, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        out.clear();
    }

    DiagSocket Diag; // used by the capture thread only
    std::map<Key, std::pair<bool, double>> Known;
    std::unique_ptr<Capture> Capturing;
};

// A token bucket: BurstRequests at once, then RequestsPerSecond.
class RateLimit {
public:
    bool Allow()
    {
        double now = MonotonicSeconds();
        Tokens = std::min(BurstRequests, Tokens + (now - Last) * RequestsPerSecond);
        Last = now;
        if (Tokens < 1)
            return false;
        Tokens -= 1;
        return true;
    }

private:
    double Tokens = BurstRequests;
    double Last = MonotonicSeconds();
};

HelperReply Handle(const HelperRequest& request, int fd, Forwarder& forwarder)
{
    auto verdict = [&](int err, HelperRefusal otherwise = HelperRefusal::KernelError) {
        return HelperReply{request.Id, err == 0 ? HelperRefusal::Ok : otherwise, err};
    };
    switch (request.Op) {
    case HelperOp::Hello:
        // Whether this helper can do its job here: a gate on a throwaway TCP socket.
        return verdict(ProbeGateSupport());
    case HelperOp::Attach:
    case HelperOp::Detach: {
        HelperRefusal why = CheckSocket(fd);
        if (why != HelperRefusal::Ok)
            return HelperReply{request.Id, why, 0};
        // Belt and braces: a gate keeps a segment whole or drops it, never trims it.
        for (const sock_filter& insn : GateProgram(request.Gate, request.PeerPort))
            if (BPF_CLASS(insn.code) == BPF_RET && insn.k != 0 && insn.k != GateAccept)
                return HelperReply{request.Id, HelperRefusal::UnknownGate, 0};
        return verdict(request.Op == HelperOp::Attach ? AttachGate(fd, request.Gate, request.PeerPort)
                                                      : DetachGate(fd));
    }
    case HelperOp::CaptureStart: {
        int err = 0;
        HelperRefusal why = forwarder.Start(request.Ports, err);
        return HelperReply{request.Id, why, err};
    }
    case HelperOp::CaptureStop:
        forwarder.Stop();
        return verdict(0);
    }
    return HelperReply{request.Id, HelperRefusal::Malformed, 0};
}

} // namespace

int main(int argc, char**)
{
    // Nothing but descriptor 3 is input; everything else the caller left open is closed.
    close_range(Control + 1, ~0u, 0);
    int type = 0;
    socklen_t len = sizeof type;
    if (argc != 1 || getsockopt(Control, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET) {
        std::fprintf(stderr, "sockscope-helper: started by sockscope only (descriptor 3: its socket)\n");
        return 2;
    }
    fcntl(Control, F_SETFD, FD_CLOEXEC);
    UseGateHelper(false); // never start another helper
    prctl(PR_SET_DUMPABLE, 0); // no ptrace, no core with our capabilities in it
    Caller = getuid();
    ucred peer{};
    len = sizeof peer;
    if (getsockopt(Control, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != Caller) {
        Reply(0, HelperRefusal::WrongCaller);
        return 2;
    }

    Forwarder forwarder;
    RateLimit limit;
    std::uint8_t buf[512];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * MaxDescriptors)];
    for (;;) {
        iovec iov{buf, sizeof buf};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(Control, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // the caller hung up (or the socket broke): done
        std::vector<int> fds;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fds.push_back(fd);
            }
        }
        ParsedRequest parsed = ParseHelperRequest({buf, static_cast<std::size_t>(n)}, fds.size());
        if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
            parsed.Refusal = HelperRefusal::Malformed; // the kernel closed what did not fit
        HelperReply reply{parsed.Request.Id, parsed.Refusal, 0};
        if (!limit.Allow())
            reply.Refusal = HelperRefusal::Flood;
        else if (parsed.Refusal == HelperRefusal::Ok)
            reply = Handle(parsed.Request, fds.empty() ? -1 : fds[0], forwarder);
        for (int fd : fds)
            close(fd);
        Reply(reply.Id, reply.Refusal, reply.Errno);
    }
    forwarder.Stop();
    return 0;
}
