// Packet gates against the real kernel on loopback. Each held state is checked twice:
// on descriptors we hold (getsockopt TCP_INFO) and with `ss -tanoe` as an independent
// witness, and each hold is shown to survive at least one retransmission, so it is a
// hold and not a moment caught in passing. Nothing waits a fixed time: every wait is for
// a condition, with a deadline.
#include "gate.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace sockscope;
using namespace sockscope::test;
using namespace std::chrono_literals;

namespace {

// Every test runs in a private network namespace with its own loopback (ctest starts
// one process per test, so one namespace per test), entered before main() while the
// process has a single thread. Two reasons, both facts of this kernel:
// - a held connection can leave a stale RTT of up to the hold's length in the TCP
//   metrics cache for 127.0.0.1, which then slows the first retransmission of every later
//   connection to it: ours, and those of whatever else runs on the machine;
// - unprivileged, a filter on a TCP socket needs CAP_NET_ADMIN over its namespace.
const int PrivateNetworkError = EnterPrivateNetwork();

// ---------------------------------------------------------------------------------------
// Sockets

// A descriptor closed with a reset (SO_LINGER {1,0}) when the test ends, pass or fail, so
// a connection the test did not finish leaves no TIME-WAIT behind.
class Socket {
public:
    Socket() = default;
    explicit Socket(int fd) : Fd(fd) {}
    ~Socket() { Reset(); }
    Socket(Socket&& other) noexcept : Fd(std::exchange(other.Fd, -1)) {}
    Socket& operator=(Socket&& other) noexcept
    {
        if (this != &other) {
            Reset();
            Fd = std::exchange(other.Fd, -1);
        }
        return *this;
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    int Get() const { return Fd; }
    void Reset()
    {
        if (Fd < 0)
            return;
        linger abort_on_close{1, 0};
        setsockopt(Fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        close(Fd);
        Fd = -1;
    }

private:
    int Fd = -1;
};

sockaddr_in Loopback(int port)
{
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

int LocalPort(int fd)
{
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return -1;
    return ntohs(addr.sin_port);
}

int PeerPort(int fd)
{
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return -1;
    return ntohs(addr.sin_port);
}

// A non-blocking listener on 127.0.0.1, on a port the kernel picks.
Socket Listener(int backlog = 8)
{
    Socket s(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in addr = Loopback(0);
    EXPECT_EQ(bind(s.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    EXPECT_EQ(listen(s.Get(), backlog), 0) << strerror(errno);
    return s;
}

// A non-blocking client socket, bound first so that its port is known before the SYN.
Socket BoundClient()
{
    Socket s(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in addr = Loopback(0);
    EXPECT_EQ(bind(s.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    return s;
}

// connect() without waiting: on loopback it returns 0 or EINPROGRESS, depending on
// whether the handshake finished inside the call.
void StartConnect(const Socket& s, int port)
{
    sockaddr_in addr = Loopback(port);
    int r = connect(s.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    EXPECT_TRUE(r == 0 || errno == EINPROGRESS) << strerror(errno);
}

Socket Connect(int port)
{
    Socket s(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    StartConnect(s, port);
    return s;
}

// accept() on the non-blocking listener; an empty Socket if the queue is empty.
Socket Accept(const Socket& listener)
{
    return Socket(accept4(listener.Get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

tcp_info Info(int fd)
{
    tcp_info info{};
    socklen_t len = sizeof info;
    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
    return info;
}

int State(const Socket& s) { return Info(s.Get()).tcpi_state; }
// Every retransmission, tail loss probes included.
unsigned Retransmissions(const Socket& s) { return Info(s.Get()).tcpi_total_retrans; }
// Retransmissions by the retransmission timer since the last ACK (what ss shows as the
// third field of timer:(on,...,N)). The first resend of a lone FIN is a tail loss probe,
// counted by Retransmissions() only.
unsigned TimerRetransmissions(const Socket& s) { return Info(s.Get()).tcpi_retransmits; }

// An ESTABLISHED pair on loopback, with no gate anywhere.
struct Pair {
    Socket Listen;
    Socket Client; // the active closer in these tests
    Socket Server; // the accepted socket: the passive closer
    int Port = 0;
};

Pair EstablishedPair()
{
    Pair p;
    p.Listen = Listener();
    p.Port = LocalPort(p.Listen.Get());
    p.Client = Connect(p.Port);
    WaitUntil([&] { return (p.Server = Accept(p.Listen)).Get() >= 0; });
    EXPECT_GE(p.Server.Get(), 0);
    EXPECT_TRUE(WaitUntil([&] { return State(p.Client) == TCP_ESTABLISHED; }));
    return p;
}

// ---------------------------------------------------------------------------------------
// ss, the independent witness

struct SsLine {
    std::string State;       // ss spelling: SYN-SENT, SYN-RECV, ESTAB, FIN-WAIT-1, ...
    unsigned RecvQ = 0, SendQ = 0;
    int LocalPort = -1, PeerPort = -1; // -1 for a listener's "*"
    int Retrans = -1;        // third field of timer:(on,...,N); -1 without a timer
    std::string Text;        // the whole line, for failure messages
};

int PortOf(const std::string& endpoint)
{
    auto colon = endpoint.rfind(':');
    if (colon == std::string::npos || endpoint.substr(colon + 1) == "*")
        return -1;
    return std::stoi(endpoint.substr(colon + 1));
}

std::vector<SsLine> Ss(int port)
{
    std::string p = std::to_string(port);
    auto result = Run("ss -Htanoe '( sport = :" + p + " or dport = :" + p + " )'");
    std::vector<SsLine> lines;
    for (const auto& text : Lines(result.Out)) {
        SsLine line;
        line.Text = text;
        std::istringstream in(text);
        std::string local, peer;
        in >> line.State >> line.RecvQ >> line.SendQ >> local >> peer;
        line.LocalPort = PortOf(local);
        line.PeerPort = PortOf(peer);
        auto timer = text.find("timer:(");
        if (timer != std::string::npos) {
            auto end = text.find(')', timer);
            std::string fields = text.substr(timer + 7, end - timer - 7);
            auto last_comma = fields.rfind(',');
            if (last_comma != std::string::npos)
                line.Retrans = std::stoi(fields.substr(last_comma + 1));
        }
        lines.push_back(line);
    }
    return lines;
}

std::string Dump(const std::vector<SsLine>& lines)
{
    std::string out = "\nss says:\n";
    for (const auto& line : lines)
        out += "  " + line.Text + "\n";
    return out;
}

// The row of the socket bound to `local` and connected to `peer` (peer -1: a listener).
std::optional<SsLine> Row(const std::vector<SsLine>& lines, int local, int peer)
{
    for (const auto& line : lines)
        if (line.LocalPort == local && line.PeerPort == peer)
            return line;
    return std::nullopt;
}

std::string RowState(const std::vector<SsLine>& lines, int local, int peer)
{
    auto row = Row(lines, local, peer);
    return row ? row->State : "(no row)";
}

// ---------------------------------------------------------------------------------------
// The kernel

TEST(GateKernelTest, KernelHoldsExactlyOurPrograms)
{
    ASSERT_EQ(PrivateNetworkError, 0) << strerror(PrivateNetworkError);
    ASSERT_EQ(ProbeGateSupport(), 0) << strerror(ProbeGateSupport());
    for (GateKind kind : AllGateKinds) {
        for (std::uint16_t port : {AnyPeerPort, std::uint16_t(40000)}) {
            SCOPED_TRACE(std::string(GateKindName(kind)) + " port " + std::to_string(port));
            Socket s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            ASSERT_EQ(AttachGate(s.Get(), kind, port), 0);
            std::vector<sock_filter> back;
            ASSERT_EQ(ReadFilter(s.Get(), back), 0);
            EXPECT_TRUE(SameProgram(back, GateProgram(kind, port)));
            // Replacing one gate by another is one setsockopt, no detach in between.
            ASSERT_EQ(AttachGate(s.Get(), GateKind::Fin), 0);
            ASSERT_EQ(ReadFilter(s.Get(), back), 0);
            EXPECT_TRUE(SameProgram(back, GateProgram(GateKind::Fin)));
            EXPECT_EQ(DetachGate(s.Get()), 0);
            EXPECT_EQ(ReadFilter(s.Get(), back), 0);
            EXPECT_TRUE(back.empty());
            EXPECT_EQ(DetachGate(s.Get()), ENOENT);
        }
    }
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    EXPECT_EQ(AttachGate(pipe_fds[0], GateKind::Syn), ENOTSOCK);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    EXPECT_EQ(AttachGate(-1, GateKind::Syn), EBADF);
    EXPECT_EQ(DetachGate(-1), EBADF);
}

// The client's SYN never reaches the listener: SYN-SENT, with no trace on the server.
TEST(GateKernelTest, SynSentHeldUntilDetach)
{
    Socket listener = Listener();
    int port = LocalPort(listener.Get());
    ASSERT_EQ(AttachGate(listener.Get(), GateKind::Syn), 0);

    auto connected_at = std::chrono::steady_clock::now();
    Socket client = Connect(port);
    int client_port = LocalPort(client.Get());
    EXPECT_EQ(State(client), TCP_SYN_SENT);

    // Held across a retransmission: the first SYN retransmission comes 1 s after connect.
    ASSERT_TRUE(WaitUntil([&] { return Retransmissions(client) >= 1; }, 4s));
    EXPECT_EQ(State(client), TCP_SYN_SENT);
    auto lines = Ss(port);
    EXPECT_EQ(RowState(lines, client_port, port), "SYN-SENT") << Dump(lines);
    auto row = Row(lines, client_port, port);
    EXPECT_TRUE(row && row->Retrans >= 1) << Dump(lines);
    EXPECT_EQ(lines.size(), 2u) << "only the listener and the client: no request socket" << Dump(lines);
    auto listen_row = Row(lines, port, -1);
    ASSERT_TRUE(listen_row) << Dump(lines);
    EXPECT_EQ(listen_row->RecvQ, 0u) << Dump(lines);
    EXPECT_LT(Accept(listener).Get(), 0);

    // Released: the next retransmission (2 s after connect here, where the first
    // tcp_syn_linear_timeouts retransmissions are 1 s apart; 3 s with pure doubling)
    // gets through and the handshake completes.
    ASSERT_EQ(DetachGate(listener.Get()), 0);
    ASSERT_TRUE(WaitUntil([&] { return State(client) == TCP_ESTABLISHED; }, 4s));
    EXPECT_GE(std::chrono::steady_clock::now() - connected_at, 1500ms) << "released by a retransmission";
    lines = Ss(port);
    EXPECT_EQ(RowState(lines, client_port, port), "ESTAB") << Dump(lines);
    EXPECT_EQ(RowState(lines, port, client_port), "ESTAB") << Dump(lines);
    listen_row = Row(lines, port, -1);
    ASSERT_TRUE(listen_row) << Dump(lines);
    EXPECT_EQ(listen_row->RecvQ, 1u) << "in the accept queue" << Dump(lines);
    Socket accepted = Accept(listener);
    ASSERT_GE(accepted.Get(), 0);
    EXPECT_EQ(PeerPort(accepted.Get()), client_port);
    EXPECT_EQ(DetachGate(accepted.Get()), ENOENT) << "completed after the detach: nothing inherited";
}

// The third ACK never reaches the listener: the client is ESTABLISHED, the server's
// request socket stays SYN-RECEIVED. A client that sends data completes at once, even
// while the gate holds the others.
TEST(GateKernelTest, SynReceivedHeldWhileDataCompletesOthers)
{
    Socket listener = Listener();
    int port = LocalPort(listener.Get());
    ASSERT_EQ(AttachGate(listener.Get(), GateKind::HandshakeAck), 0);

    Socket quiet = Connect(port);  // released by detaching
    Socket talker = Connect(port); // released by its own data
    int quiet_port = LocalPort(quiet.Get()), talker_port = LocalPort(talker.Get());
    ASSERT_TRUE(WaitUntil([&] { return State(quiet) == TCP_ESTABLISHED && State(talker) == TCP_ESTABLISHED; }));

    // Held across a SYN-ACK retransmission (1 s): the client's answer to it is a pure
    // ACK too, and is dropped too.
    std::vector<SsLine> lines;
    ASSERT_TRUE(WaitUntil([&] {
        lines = Ss(port);
        auto a = Row(lines, port, quiet_port), b = Row(lines, port, talker_port);
        return a && b && a->Retrans >= 1 && b->Retrans >= 1;
    }, 4s)) << Dump(lines);
    EXPECT_EQ(RowState(lines, port, quiet_port), "SYN-RECV") << Dump(lines);
    EXPECT_EQ(RowState(lines, port, talker_port), "SYN-RECV") << Dump(lines);
    EXPECT_EQ(RowState(lines, quiet_port, port), "ESTAB") << Dump(lines);
    EXPECT_EQ(RowState(lines, talker_port, port), "ESTAB") << Dump(lines);
    ASSERT_TRUE(Row(lines, port, -1)) << Dump(lines);
    EXPECT_EQ(Row(lines, port, -1)->RecvQ, 0u) << "accept queue empty" << Dump(lines);
    EXPECT_LT(Accept(listener).Get(), 0);

    // Data is not a pure ACK: it passes the gate and completes the handshake at once.
    ASSERT_EQ(send(talker.Get(), "hello", 5, 0), 5);
    ASSERT_TRUE(WaitUntil([&] {
        lines = Ss(port);
        auto l = Row(lines, port, -1);
        return l && l->RecvQ == 1;
    })) << Dump(lines);
    EXPECT_EQ(RowState(lines, port, talker_port), "ESTAB") << Dump(lines);
    EXPECT_EQ(Row(lines, port, talker_port)->RecvQ, 5u) << Dump(lines);
    EXPECT_EQ(RowState(lines, port, quiet_port), "SYN-RECV") << "still held" << Dump(lines);
    Socket first = Accept(listener);
    ASSERT_GE(first.Get(), 0);
    EXPECT_EQ(PeerPort(first.Get()), talker_port);
    EXPECT_EQ(DetachGate(first.Get()), 0) << "the child inherited the listener's gate";

    // Released: the next SYN-ACK retransmission (3 s after connect) draws an ACK that
    // now gets through.
    ASSERT_EQ(DetachGate(listener.Get()), 0);
    ASSERT_TRUE(WaitUntil([&] {
        lines = Ss(port);
        auto l = Row(lines, port, -1);
        return l && l->RecvQ == 1;
    }, 4s)) << Dump(lines);
    EXPECT_EQ(RowState(lines, port, quiet_port), "ESTAB") << Dump(lines);
    Socket second = Accept(listener);
    ASSERT_GE(second.Get(), 0);
    EXPECT_EQ(PeerPort(second.Get()), quiet_port);
    EXPECT_EQ(DetachGate(second.Get()), ENOENT);
}

// A gate narrowed to one client's port holds that client and no other.
TEST(GateKernelTest, PeerPortHoldsOneClientOnly)
{
    Socket listener = Listener();
    int port = LocalPort(listener.Get());
    Socket held = BoundClient();
    int held_port = LocalPort(held.Get());
    ASSERT_EQ(AttachGate(listener.Get(), GateKind::HandshakeAck, static_cast<std::uint16_t>(held_port)), 0);

    StartConnect(held, port);
    Socket other = Connect(port);
    int other_port = LocalPort(other.Get());

    Socket accepted;
    ASSERT_TRUE(WaitUntil([&] { return (accepted = Accept(listener)).Get() >= 0; }));
    EXPECT_EQ(PeerPort(accepted.Get()), other_port) << "the other client completed without sending anything";

    std::vector<SsLine> lines;
    ASSERT_TRUE(WaitUntil([&] {
        lines = Ss(port);
        auto row = Row(lines, port, held_port);
        return row && row->Retrans >= 1;
    }, 4s)) << Dump(lines);
    EXPECT_EQ(RowState(lines, port, held_port), "SYN-RECV") << Dump(lines);
    EXPECT_EQ(State(held), TCP_ESTABLISHED);
    EXPECT_LT(Accept(listener).Get(), 0);
}

// The closer's FIN never reaches its peer: FIN-WAIT-1, retransmitting.
TEST(GateKernelTest, FinWait1HeldUntilDetach)
{
    Pair p = EstablishedPair();
    int client_port = LocalPort(p.Client.Get());
    ASSERT_EQ(AttachGate(p.Server.Get(), GateKind::Fin), 0);
    ASSERT_EQ(shutdown(p.Client.Get(), SHUT_WR), 0);
    EXPECT_EQ(State(p.Client), TCP_FIN_WAIT1);

    ASSERT_TRUE(WaitUntil([&] { return TimerRetransmissions(p.Client) >= 1; }));
    EXPECT_EQ(State(p.Client), TCP_FIN_WAIT1);
    EXPECT_GE(Retransmissions(p.Client), 2u) << "a tail loss probe, then the timer";
    EXPECT_EQ(State(p.Server), TCP_ESTABLISHED) << "the server never saw the FIN";
    auto lines = Ss(p.Port);
    EXPECT_EQ(RowState(lines, client_port, p.Port), "FIN-WAIT-1") << Dump(lines);
    EXPECT_EQ(RowState(lines, p.Port, client_port), "ESTAB") << Dump(lines);
    auto row = Row(lines, client_port, p.Port);
    ASSERT_TRUE(row) << Dump(lines);
    EXPECT_EQ(row->SendQ, 1u) << "the FIN, unacknowledged" << Dump(lines);
    EXPECT_GE(row->Retrans, 1) << Dump(lines);

    ASSERT_EQ(DetachGate(p.Server.Get()), 0);
    ASSERT_TRUE(WaitUntil([&] { return State(p.Client) == TCP_FIN_WAIT2 && State(p.Server) == TCP_CLOSE_WAIT; }));
    lines = Ss(p.Port);
    EXPECT_EQ(RowState(lines, client_port, p.Port), "FIN-WAIT-2") << Dump(lines);
    EXPECT_EQ(RowState(lines, p.Port, client_port), "CLOSE-WAIT") << Dump(lines);
}

// The passive closer's FIN is acknowledged, but the ACK is dropped: LAST-ACK.
TEST(GateKernelTest, LastAckHeldUntilDetach)
{
    Pair p = EstablishedPair();
    int client_port = LocalPort(p.Client.Get());
    ASSERT_EQ(shutdown(p.Client.Get(), SHUT_WR), 0);
    ASSERT_TRUE(WaitUntil([&] { return State(p.Server) == TCP_CLOSE_WAIT && State(p.Client) == TCP_FIN_WAIT2; }));

    // shutdown(), not close(): the gate can only be detached through a descriptor.
    ASSERT_EQ(AttachGate(p.Server.Get(), GateKind::PureAck), 0);
    ASSERT_EQ(shutdown(p.Server.Get(), SHUT_WR), 0);
    EXPECT_EQ(State(p.Server), TCP_LAST_ACK);
    ASSERT_TRUE(WaitUntil([&] { return TimerRetransmissions(p.Server) >= 1; }));
    EXPECT_EQ(State(p.Server), TCP_LAST_ACK);
    // The client got the FIN and went to TIME-WAIT; that is a separate mini-socket, and
    // the descriptor's own socket reads CLOSE.
    EXPECT_EQ(State(p.Client), TCP_CLOSE);
    auto lines = Ss(p.Port);
    EXPECT_EQ(RowState(lines, p.Port, client_port), "LAST-ACK") << Dump(lines);
    EXPECT_EQ(RowState(lines, client_port, p.Port), "TIME-WAIT") << Dump(lines);
    auto row = Row(lines, p.Port, client_port);
    ASSERT_TRUE(row) << Dump(lines);
    EXPECT_EQ(row->SendQ, 1u) << "the FIN, unacknowledged" << Dump(lines);
    EXPECT_GE(row->Retrans, 1) << Dump(lines);

    ASSERT_EQ(DetachGate(p.Server.Get()), 0);
    ASSERT_TRUE(WaitUntil([&] { return State(p.Server) == TCP_CLOSE; }));
    lines = Ss(p.Port);
    EXPECT_FALSE(Row(lines, p.Port, client_port)) << "the passive end is gone" << Dump(lines);
    EXPECT_EQ(RowState(lines, client_port, p.Port), "TIME-WAIT") << Dump(lines);
}

// Simultaneous close on loopback. Both FINs are first dropped; then both gates switch to
// dropping pure ACKs, and the two FIN retransmissions, fired by the same timer tick,
// cross: each end receives the other's FIN before its own is acknowledged. Then FINs are
// dropped again, or the next retransmissions (which acknowledge the peer's FIN) would
// end both holds.
TEST(GateKernelTest, ClosingOnBothEnds)
{
    Pair p = EstablishedPair();
    int client_port = LocalPort(p.Client.Get());
    ASSERT_EQ(AttachGate(p.Client.Get(), GateKind::Fin), 0);
    ASSERT_EQ(AttachGate(p.Server.Get(), GateKind::Fin), 0);
    // Back to back, so that both FIN timers expire in the same jiffy.
    ASSERT_EQ(shutdown(p.Client.Get(), SHUT_WR), 0);
    ASSERT_EQ(shutdown(p.Server.Get(), SHUT_WR), 0);
    EXPECT_EQ(State(p.Client), TCP_FIN_WAIT1);
    EXPECT_EQ(State(p.Server), TCP_FIN_WAIT1);

    ASSERT_EQ(AttachGate(p.Client.Get(), GateKind::PureAck), 0);
    ASSERT_EQ(AttachGate(p.Server.Get(), GateKind::PureAck), 0);
    ASSERT_TRUE(WaitUntil([&] { return State(p.Client) != TCP_FIN_WAIT1 && State(p.Server) != TCP_FIN_WAIT1; }, 3s));
    ASSERT_EQ(AttachGate(p.Client.Get(), GateKind::Fin), 0);
    ASSERT_EQ(AttachGate(p.Server.Get(), GateKind::Fin), 0);
    ASSERT_EQ(State(p.Client), TCP_CLOSING);
    ASSERT_EQ(State(p.Server), TCP_CLOSING);

    unsigned client_retrans = Retransmissions(p.Client), server_retrans = Retransmissions(p.Server);
    ASSERT_TRUE(WaitUntil([&] {
        return Retransmissions(p.Client) > client_retrans && Retransmissions(p.Server) > server_retrans;
    }, 3s));
    EXPECT_EQ(State(p.Client), TCP_CLOSING);
    EXPECT_EQ(State(p.Server), TCP_CLOSING);
    auto lines = Ss(p.Port);
    EXPECT_EQ(RowState(lines, client_port, p.Port), "CLOSING") << Dump(lines);
    EXPECT_EQ(RowState(lines, p.Port, client_port), "CLOSING") << Dump(lines);

    ASSERT_EQ(DetachGate(p.Client.Get()), 0);
    ASSERT_EQ(DetachGate(p.Server.Get()), 0);
    ASSERT_TRUE(WaitUntil([&] { return State(p.Client) == TCP_CLOSE && State(p.Server) == TCP_CLOSE; }, 4s));
    lines = Ss(p.Port);
    EXPECT_EQ(RowState(lines, client_port, p.Port), "TIME-WAIT") << Dump(lines);
    EXPECT_EQ(RowState(lines, p.Port, client_port), "TIME-WAIT") << Dump(lines);
}

// A child takes the filter its listener has when the handshake completes, not at accept().
TEST(GateKernelTest, ChildInheritsTheGateAtHandshakeNotAtAccept)
{
    Socket listener = Listener();
    int port = LocalPort(listener.Get());
    ASSERT_EQ(AttachGate(listener.Get(), GateKind::HandshakeAck), 0);
    Socket gated = Connect(port);
    ASSERT_EQ(send(gated.Get(), "x", 1, 0), 1); // completes through the gate
    std::vector<SsLine> lines;
    auto queued = [&](unsigned n) {
        return WaitUntil([&] {
            lines = Ss(port);
            auto l = Row(lines, port, -1);
            return l && l->RecvQ == n;
        });
    };
    ASSERT_TRUE(queued(1)) << Dump(lines);

    ASSERT_EQ(DetachGate(listener.Get()), 0);
    Socket ungated = Connect(port);
    ASSERT_TRUE(queued(2)) << Dump(lines);
    ASSERT_EQ(AttachGate(listener.Get(), GateKind::HandshakeAck), 0); // too late for it

    for (int i = 0; i < 2; ++i) {
        Socket child = Accept(listener);
        ASSERT_GE(child.Get(), 0);
        std::vector<sock_filter> program;
        ASSERT_EQ(ReadFilter(child.Get(), program), 0);
        if (PeerPort(child.Get()) == LocalPort(gated.Get())) {
            EXPECT_TRUE(SameProgram(program, GateProgram(GateKind::HandshakeAck))) << program.size();
        } else {
            EXPECT_EQ(PeerPort(child.Get()), LocalPort(ungated.Get()));
            EXPECT_TRUE(program.empty());
            EXPECT_EQ(DetachGate(child.Get()), ENOENT);
        }
    }
}

// The lab's mitigation: DetachGate() on every accepted socket. Without it, the inherited
// gate drops the client's ACKs of the server's data, which then sits unacknowledged.
TEST(GateKernelTest, InheritedGateHoldsDataUntilTheLabDetachesIt)
{
    Socket listener = Listener();
    int port = LocalPort(listener.Get());
    ASSERT_EQ(AttachGate(listener.Get(), GateKind::HandshakeAck), 0);
    Socket left = Connect(port), shed = Connect(port);
    ASSERT_EQ(send(left.Get(), "x", 1, 0), 1);
    ASSERT_EQ(send(shed.Get(), "x", 1, 0), 1);

    Socket left_conn, shed_conn;
    ASSERT_TRUE(WaitUntil([&] {
        Socket child = Accept(listener);
        if (child.Get() < 0)
            return false;
        (PeerPort(child.Get()) == LocalPort(left.Get()) ? left_conn : shed_conn) = std::move(child);
        return left_conn.Get() >= 0 && shed_conn.Get() >= 0;
    }));
    ASSERT_EQ(DetachGate(shed_conn.Get()), 0);

    std::vector<char> data(1000, 'a');
    ASSERT_EQ(send(left_conn.Get(), data.data(), data.size(), 0), 1000);
    ASSERT_EQ(send(shed_conn.Get(), data.data(), data.size(), 0), 1000);
    std::vector<char> buf(2000);
    ASSERT_TRUE(WaitUntil([&] { return recv(left.Get(), buf.data(), buf.size(), 0) == 1000; }));
    ASSERT_TRUE(WaitUntil([&] { return recv(shed.Get(), buf.data(), buf.size(), 0) == 1000; }));

    int left_local = LocalPort(left.Get()), shed_local = LocalPort(shed.Get());
    ASSERT_TRUE(WaitUntil([&] { return Info(shed_conn.Get()).tcpi_unacked == 0; }));
    ASSERT_TRUE(WaitUntil([&] { return Retransmissions(left_conn) >= 1; }));
    EXPECT_GT(Info(left_conn.Get()).tcpi_unacked, 0u);
    auto lines = Ss(port);
    ASSERT_TRUE(Row(lines, port, left_local) && Row(lines, port, shed_local)) << Dump(lines);
    EXPECT_EQ(Row(lines, port, left_local)->SendQ, 1000u) << "delivered, never acknowledged" << Dump(lines);
    EXPECT_EQ(Row(lines, port, shed_local)->SendQ, 0u) << Dump(lines);

    ASSERT_EQ(DetachGate(left_conn.Get()), 0);
    ASSERT_TRUE(WaitUntil([&] { return Info(left_conn.Get()).tcpi_unacked == 0; }, 5s));
    lines = Ss(port);
    ASSERT_TRUE(Row(lines, port, left_local)) << Dump(lines);
    EXPECT_EQ(Row(lines, port, left_local)->SendQ, 0u) << Dump(lines);
}

// ---------------------------------------------------------------------------------------
// Without privilege

// Exit codes of the unprivileged child.
enum ChildResult : int {
    HeldInPrivateNetwork = 0,     // attach refused (EPERM) where we were; held after
                                  // EnterPrivateNetwork()
    HeldDirectlyAndPrivately = 1, // attach allowed where we were (a kernel without
                                  // 5d39580f68e6, or already in our own namespace); both held
    CouldNotDropPrivileges = 10,
    StillRoot,
    DirectAttachOddError,
    DirectHoldFailed,
    PrivateNetworkFailed,
    PrivateAttachFailed,
    PrivateHoldFailed,
};

// A listener with a SYN gate and a client held in SYN-SENT across its first
// retransmission, seen through TCP_INFO. Plain system calls only: runs after fork().
bool HoldSynSent()
{
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    bool held = false;
    if (listener >= 0 && client >= 0 && bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
        && listen(listener, 8) == 0 && getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0
        && AttachGate(listener, GateKind::Syn) == 0) {
        connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        for (int ms = 0; ms < 4000; ++ms) {
            tcp_info info = Info(client);
            if (info.tcpi_state != TCP_SYN_SENT)
                break;
            if (info.tcpi_total_retrans >= 1) {
                held = true;
                break;
            }
            timespec one_ms{0, 1000000};
            nanosleep(&one_ms, nullptr);
        }
    }
    close(client);
    close(listener);
    return held;
}

int UnprivilegedChild()
{
    if (getuid() == 0) {
        if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            return CouldNotDropPrivileges;
        // Dropping privileges made us undumpable, which would keep our own
        // /proc/self/uid_map out of reach. A real user never has this problem.
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    }
    if (getuid() == 0)
        return StillRoot;
    int direct = ProbeGateSupport();
    if (direct != 0 && direct != EPERM)
        return DirectAttachOddError;
    if (direct == 0 && !HoldSynSent())
        return DirectHoldFailed;
    if (EnterPrivateNetwork() != 0)
        return PrivateNetworkFailed;
    if (ProbeGateSupport() != 0)
        return PrivateAttachFailed;
    if (!HoldSynSent())
        return PrivateHoldFailed;
    return direct == 0 ? HeldDirectlyAndPrivately : HeldInPrivateNetwork;
}

TEST(GateKernelTest, UnprivilegedUserHoldsSynSent)
{
    pid_t pid = fork();
    ASSERT_GE(pid, 0) << strerror(errno);
    if (pid == 0)
        _exit(UnprivilegedChild());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died: " << status;
    int code = WEXITSTATUS(status);
    EXPECT_TRUE(code == HeldInPrivateNetwork || code == HeldDirectlyAndPrivately) << "child failed with code " << code;
    RecordProperty("direct_attach", code == HeldDirectlyAndPrivately ? "allowed" : "EPERM");
}

} // namespace
