// The probe against the real kernel: real sockets on loopback, real sock_diag dumps,
// and `ss` as a second witness. Nothing here is mocked; every wait polls a condition
// with a deadline.
#include "probe.hpp"
#include "test_util.hpp"

#include "diag_parse.hpp"
#include "diag_socket.hpp"
#include "probe_test_util.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

namespace {

using namespace sockscope;
using namespace std::chrono_literals;
using namespace sockscope::probe_test;
using sockscope::test::WaitUntil;
using Clock = std::chrono::steady_clock;

// ---- the lesson: the handshake completes without accept() -----------------------

void CheckHandshakeWithoutAccept(int family)
{
    const Fd listener = Listen(family, 5);
    ASSERT_GE(listener.Get(), 0);
    const Endpoint server = LocalOf(listener);
    const std::uint16_t port = server.Port;
    const std::uint16_t ports[] = {port};

    std::vector<Fd> clients;
    for (int i = 0; i < 3; ++i)
        clients.push_back(Connect(family, port));

    auto children_ready = [&](const Snapshot& s) {
        const KernelSocket* l = FindListener(s, server);
        return l != nullptr && l->RecvQ == 3 &&
               std::count_if(s.Sockets.begin(), s.Sockets.end(), [&](const KernelSocket& k) {
                   return k.Local == server && k.State == TcpState::Established;
               }) == 3;
    };
    Snapshot snap = DumpUntil(ports, children_ready);
    ASSERT_TRUE(snap.Error.Empty()) << snap.Error;
    ASSERT_TRUE(children_ready(snap));
    EXPECT_EQ(snap.Sockets.size(), 7u) << Describe(snap); // the listener, 3 children, 3 clients

    const KernelSocket* l = FindListener(snap, server);
    EXPECT_EQ(l->RecvQ, 3u); // three connections wait in the accept queue
    EXPECT_EQ(l->SendQ, 5u); // the backlog given to listen()
    EXPECT_EQ(l->Inode, InodeOf(listener));
    EXPECT_EQ(l->Cookie, CookieOf(listener));

    for (const Fd& client : clients) {
        const Endpoint local = LocalOf(client);
        const Endpoint peer = PeerOf(client);
        EXPECT_EQ(peer, server);
        const KernelSocket* end = Find(snap, local, peer);
        ASSERT_NE(end, nullptr) << local.ToString();
        EXPECT_EQ(end->State, TcpState::Established);
        EXPECT_EQ(end->Inode, InodeOf(client));
        EXPECT_EQ(end->Cookie, CookieOf(client));
        EXPECT_FALSE(end->HasInfo) << "the probe does not ask for tcp_info";

        const KernelSocket* child = Find(snap, peer, local);
        ASSERT_NE(child, nullptr) << local.ToString();
        EXPECT_EQ(child->State, TcpState::Established);
        EXPECT_EQ(child->Inode, 0u) << "no descriptor before accept()";
        EXPECT_NE(child->Cookie, 0u);
    }

    // Bytes sent before accept() wait in the unaccepted child's receive queue.
    const Endpoint first = LocalOf(clients[0]);
    const std::string hello = "hello before accept";
    ASSERT_EQ(write(clients[0].Get(), hello.data(), hello.size()),
              static_cast<ssize_t>(hello.size()));
    snap = DumpUntil(ports, [&](const Snapshot& s) {
        const KernelSocket* c = Find(s, server, first);
        return c != nullptr && c->RecvQ == hello.size();
    });
    const KernelSocket* child = Find(snap, server, first);
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->RecvQ, hello.size());
    const std::uint64_t child_cookie = child->Cookie;

    // accept() hands out a descriptor for a connection the kernel already made: the
    // same socket, same cookie, now with an inode.
    std::vector<Fd> accepted;
    Fd mine;
    for (int i = 0; i < 3 && mine.Get() < 0; ++i) {
        Fd fd = Accept(listener);
        ASSERT_GE(fd.Get(), 0);
        if (PeerOf(fd) == first)
            mine = std::move(fd);
        else
            accepted.push_back(std::move(fd));
    }
    ASSERT_GE(mine.Get(), 0);
    EXPECT_EQ(CookieOf(mine), child_cookie);
    const std::uint32_t inode = InodeOf(mine);
    const auto expected_queue = 2u - static_cast<unsigned>(accepted.size());
    snap = DumpUntil(ports, [&](const Snapshot& s) {
        const KernelSocket* c = Find(s, server, first);
        return c != nullptr && c->Inode == inode;
    });
    child = Find(snap, server, first);
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->Inode, inode);
    EXPECT_EQ(child->Cookie, child_cookie);
    ASSERT_NE(FindListener(snap, server), nullptr);
    EXPECT_EQ(FindListener(snap, server)->RecvQ, expected_queue);
}

TEST(Probe, HandshakeCompletesWithoutAcceptIpv4)
{
    CheckHandshakeWithoutAccept(AF_INET);
}

TEST(Probe, HandshakeCompletesWithoutAcceptIpv6)
{
    if (!HaveIpv6Loopback())
        GTEST_SKIP() << "no IPv6 loopback here";
    CheckHandshakeWithoutAccept(AF_INET6);
    const Fd listener = Listen(AF_INET6, 1);
    const std::uint16_t port = LocalOf(listener).Port;
    const Snapshot snap = DumpSockets(std::span(&port, 1));
    ASSERT_EQ(snap.Sockets.size(), 1u);
    EXPECT_EQ(snap.Sockets[0].Local.ToString(), "[::1]:" + std::to_string(port));
}

// ---- tcp_info: only when asked ------------------------------------------------

// The probe leaves tcp_info out (the kernel would fill it for every socket of every
// snapshot); a DiagSocket asked for it gets it, from a dump and from a lookup alike.
TEST(Probe, TcpInfoComesOnlyWhenAskedFor)
{
    const Fd listener = Listen(AF_INET, 5);
    const Endpoint server = LocalOf(listener);
    const Fd client = Connect(AF_INET, server.Port);
    const Endpoint local = LocalOf(client);
    const std::uint16_t ports[] = {server.Port};
    for (const bool asked : {false, true}) {
        DiagSocket diag;
        diag.AskTcpInfo(asked);
        std::vector<KernelSocket> rows;
        Phrase error;
        ASSERT_TRUE(diag.Dump(ports, rows, error)) << error;
        Snapshot dumped;
        dumped.Sockets = rows;
        const KernelSocket* end = Find(dumped, local, server);
        ASSERT_NE(end, nullptr);
        EXPECT_EQ(end->HasInfo, asked);
        if (asked) {
            EXPECT_GE(end->SegsOut, 2u) << "SYN and the handshake's ACK, at least";
        }

        const LookupTarget target{local, server, end->Cookie};
        std::vector<KernelSocket> found;
        std::vector<LookupOutcome> outcomes;
        ASSERT_TRUE(diag.Lookup(std::span(&target, 1), found, outcomes));
        ASSERT_EQ(found.size(), 1u);
        EXPECT_EQ(found[0].HasInfo, asked);
    }
}

// ---- the filter runs in the kernel ---------------------------------------------

TEST(Probe, FilterKeepsOnlyTheLabsPorts)
{
    const Fd lab = Listen(AF_INET, 5);
    const Fd other = Listen(AF_INET, 5);
    ASSERT_GE(lab.Get(), 0);
    ASSERT_GE(other.Get(), 0);
    const std::uint16_t p = LocalOf(lab).Port;
    const std::uint16_t q = LocalOf(other).Port;
    const Fd lab_client = Connect(AF_INET, p);
    const Fd other_client = Connect(AF_INET, q);

    auto touching = [](const Snapshot& s, std::uint16_t port) {
        return std::count_if(s.Sockets.begin(), s.Sockets.end(), [&](const KernelSocket& k) {
            return k.Local.Port == port || k.Remote.Port == port;
        });
    };
    const std::uint16_t both[] = {p, q};
    const Snapshot all = DumpUntil(both, [&](const Snapshot& s) {
        return touching(s, p) == 3 && touching(s, q) == 3;
    });
    ASSERT_EQ(touching(all, p), 3) << all.Error;
    ASSERT_EQ(touching(all, q), 3) << Describe(all);

    const Snapshot only_lab = DumpSockets(std::span(&p, 1));
    EXPECT_TRUE(only_lab.Error.Empty()) << only_lab.Error;
    EXPECT_EQ(only_lab.Sockets.size(), 3u);
    EXPECT_EQ(touching(only_lab, p), 3);
    EXPECT_EQ(touching(only_lab, q), 0);

    // The lab's port first, in the middle, last, and beyond what one request holds.
    // Filler ports are low numbers: other sockets of this machine may use them, so
    // only the lab's and the other listener's rows are counted.
    for (const std::size_t count : {std::size_t{2}, std::size_t{50}, kMaxDiagPorts + 10}) {
        std::vector<std::uint16_t> filler;
        for (std::uint16_t port = 1; filler.size() + 1 < count; ++port) {
            if (port != p && port != q)
                filler.push_back(port);
        }
        for (const std::size_t at : {std::size_t{0}, filler.size() / 2, filler.size()}) {
            std::vector<std::uint16_t> ports = filler;
            ports.insert(ports.begin() + static_cast<std::ptrdiff_t>(at), p);
            const Snapshot snap = DumpSockets(ports);
            EXPECT_TRUE(snap.Error.Empty()) << snap.Error;
            EXPECT_EQ(touching(snap, p), 3) << count << " ports, lab's at " << at;
            EXPECT_EQ(touching(snap, q), 0) << count << " ports, lab's at " << at;
        }
    }

    std::string error = "untouched";
    EXPECT_TRUE(DumpSockets({}, &error).Sockets.empty());
    EXPECT_EQ(error, "");
}

// bind() alone, before listen() or connect(): since Linux 6.8 the kernel reports such a
// socket (as CLOSE); earlier kernels do not, which is not an error.
TEST(Probe, BoundSocketShowsAsClosedOnNewKernels)
{
    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t len = 0;
    const sockaddr_storage addr = Loopback(AF_INET, 0, len);
    ASSERT_EQ(bind(fd.Get(), reinterpret_cast<const sockaddr*>(&addr), len), 0);
    const Endpoint local = LocalOf(fd);
    const Snapshot snap = DumpSockets(std::span(&local.Port, 1));
    EXPECT_TRUE(snap.Error.Empty()) << snap.Error;
    const KernelSocket* bound = Find(snap, local, Endpoint::V4(0, 0));
    if (bound == nullptr)
        GTEST_SKIP() << "this kernel does not dump bound-only sockets";
    EXPECT_EQ(bound->State, TcpState::Close);
    EXPECT_EQ(bound->Inode, InodeOf(fd));
    EXPECT_EQ(bound->Cookie, CookieOf(fd));
    EXPECT_FALSE(bound->HasInfo);
}

// ---- a request socket keeps its identity ---------------------------------------

TEST(Probe, RequestSocketKeepsItsCookieIntoTheAcceptedSocket)
{
    const Fd listener = Listen(AF_INET, 5);
    ASSERT_GE(listener.Get(), 0);
    const Endpoint server = LocalOf(listener);
    const std::uint16_t ports[] = {server.Port};

    // A gate: drop pure ACKs (TCP flags byte == ACK) arriving at the listener, so the
    // handshake's last ACK never reaches TCP and the server side stays SYN-RECEIVED.
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x10, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
    };
    const sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
    ASSERT_EQ(setsockopt(listener.Get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program),
              0);

    const Fd client = Connect(AF_INET, server.Port); // ESTABLISHED on receiving the SYN-ACK
    const Endpoint local = LocalOf(client);
    Snapshot snap = DumpUntil(ports, [&](const Snapshot& s) { return Find(s, server, local); });
    const KernelSocket* request = Find(snap, server, local);
    ASSERT_NE(request, nullptr);
    EXPECT_EQ(request->State, TcpState::SynRecv);
    EXPECT_EQ(request->Inode, 0u);
    EXPECT_EQ(request->Timer, TimerKind::Retransmit); // the SYN-ACK's
    EXPECT_FALSE(request->HasInfo);
    ASSERT_NE(Find(snap, local, server), nullptr);
    EXPECT_EQ(Find(snap, local, server)->State, TcpState::Established);
    const std::uint64_t cookie = request->Cookie;
    EXPECT_NE(cookie, 0u);

    // Open the gate; the client's data carries the ACK that completes the handshake.
    const int unused = 0; // the kernel wants an int-sized option even to detach
    ASSERT_EQ(setsockopt(listener.Get(), SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused), 0);
    ASSERT_EQ(write(client.Get(), "x", 1), 1);
    snap = DumpUntil(ports, [&](const Snapshot& s) {
        const KernelSocket* c = Find(s, server, local);
        return c != nullptr && c->State == TcpState::Established;
    });
    const KernelSocket* child = Find(snap, server, local);
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->State, TcpState::Established);
    EXPECT_EQ(child->Cookie, cookie);
    EXPECT_EQ(child->RecvQ, 1u);

    const Fd accepted = Accept(listener);
    ASSERT_GE(accepted.Get(), 0);
    EXPECT_EQ(CookieOf(accepted), cookie);
}

// ---- ss as a second witness ----------------------------------------------------

struct Row {
    TcpState State;
    std::string Local;
    std::string Remote;
    std::uint32_t RecvQ;
    std::uint32_t SendQ;
    std::uint64_t Cookie;
    auto operator<=>(const Row&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Row& r)
{
    return os << TcpStateName(r.State) << ' ' << r.RecvQ << ' ' << r.SendQ << ' ' << r.Local
              << ' ' << r.Remote << " sk:" << std::hex << r.Cookie << std::dec;
}

std::vector<Row> RowsOf(const Snapshot& snap)
{
    std::vector<Row> rows;
    for (const KernelSocket& k : snap.Sockets) {
        // ss writes the unknown peer of a listener as "0.0.0.0:*" / "[::]:*".
        std::string remote = k.Remote.ToString();
        if (k.Remote.Port == 0)
            remote = k.Remote.AddrString() == "::" ? "[::]:0" : k.Remote.AddrString() + ":0";
        rows.push_back({k.State, k.Local.ToString(), remote, k.RecvQ, k.SendQ, k.Cookie});
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

// Runs `ss -tanoe` filtered to the port; std::nullopt when ss is not installed.
std::optional<std::vector<Row>> RowsOfSs(std::uint16_t port)
{
    const std::string p = std::to_string(port);
    const std::string command =
        "ss -tanoe '( sport = :" + p + " or dport = :" + p + " )' 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    if (!pipe)
        return std::nullopt;
    std::string output;
    char chunk[4096];
    while (const std::size_t n = fread(chunk, 1, sizeof chunk, pipe.get()))
        output.append(chunk, n);
    if (pclose(pipe.release()) != 0 || output.rfind("State", 0) != 0)
        return std::nullopt;

    std::vector<Row> rows;
    std::istringstream lines(output);
    std::string line;
    std::getline(lines, line); // the header
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string state, local, remote, word;
        Row row{};
        if (!(words >> state >> row.RecvQ >> row.SendQ >> local >> remote))
            continue;
        row.State = TcpStateFromName(state).value_or(TcpState::Unknown);
        if (remote.ends_with(":*"))
            remote.replace(remote.size() - 1, 1, "0");
        row.Local = local;
        row.Remote = remote;
        while (words >> word) {
            if (word.rfind("sk:", 0) == 0)
                row.Cookie = std::stoull(word.substr(3), nullptr, 16);
        }
        rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

void CheckAgreesWithSs(int family)
{
    if (!RowsOfSs(1).has_value())
        GTEST_SKIP() << "ss (iproute2) is not installed";
    const Fd listener = Listen(family, 5);
    ASSERT_GE(listener.Get(), 0);
    const Endpoint server = LocalOf(listener);
    const std::uint16_t ports[] = {server.Port};
    std::vector<Fd> clients;
    for (int i = 0; i < 3; ++i)
        clients.push_back(Connect(family, server.Port));
    ASSERT_EQ(write(clients[0].Get(), "hello before accept", 19), 19);
    const Fd accepted = Accept(listener);
    ASSERT_GE(accepted.Get(), 0);

    // Both witnesses look at a moving kernel: compare once the probe sees the same thing
    // before and after ss looked.
    std::vector<Row> ours;
    std::optional<std::vector<Row>> theirs;
    const auto deadline = Clock::now() + 5s;
    do {
        const Snapshot before = DumpUntil(ports, [&](const Snapshot& s) {
            const KernelSocket* l = FindListener(s, server);
            return l != nullptr && l->RecvQ == 2 && s.Sockets.size() == 7;
        });
        theirs = RowsOfSs(server.Port);
        const Snapshot after = DumpSockets(ports);
        ours = RowsOf(before);
        if (SameSockets(before, after) && theirs == ours)
            break;
    } while (Clock::now() < deadline);

    ASSERT_TRUE(theirs.has_value());
    EXPECT_EQ(ours.size(), 7u);
    EXPECT_EQ(*theirs, ours);
}

TEST(Probe, AgreesWithSsIpv4)
{
    CheckAgreesWithSs(AF_INET);
}

TEST(Probe, AgreesWithSsIpv6)
{
    if (!HaveIpv6Loopback())
        GTEST_SKIP() << "no IPv6 loopback here";
    CheckAgreesWithSs(AF_INET6);
}

} // namespace
