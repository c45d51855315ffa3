// The probe against the real kernel: real sockets on loopback, real sock_diag dumps,
// and `ss` as a second witness. Nothing here is mocked; every wait polls a condition
// with a deadline.
#include "probe.hpp"
#include "test_util.hpp"

#include "diag_parse.hpp"
#include "diag_socket.hpp"

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
using Clock = std::chrono::steady_clock;

// ---- a tiny socket lab ---------------------------------------------------------

class Fd {
public:
    explicit Fd(int fd = -1) : Value(fd) {}
    Fd(Fd&& other) noexcept : Value(std::exchange(other.Value, -1)) {}
    Fd& operator=(Fd&& other) noexcept
    {
        std::swap(Value, other.Value);
        return *this;
    }
    ~Fd()
    {
        if (Value >= 0)
            close(Value);
    }
    int Get() const { return Value; }

private:
    int Value;
};

Endpoint FromSockaddr(const sockaddr_storage& ss)
{
    Endpoint ep;
    ep.Family = ss.ss_family;
    if (ss.ss_family == AF_INET) {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
        std::memcpy(ep.Addr.data(), &sin.sin_addr, 4);
        ep.Port = ntohs(sin.sin_port);
    } else {
        const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
        std::memcpy(ep.Addr.data(), &sin6.sin6_addr, 16);
        ep.Port = ntohs(sin6.sin6_port);
    }
    return ep;
}

Endpoint LocalOf(const Fd& fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    EXPECT_EQ(getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
    return FromSockaddr(ss);
}

Endpoint PeerOf(const Fd& fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    EXPECT_EQ(getpeername(fd.Get(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
    return FromSockaddr(ss);
}

std::uint64_t CookieOf(const Fd& fd)
{
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    EXPECT_EQ(getsockopt(fd.Get(), SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
    return cookie;
}

std::uint32_t InodeOf(const Fd& fd)
{
    struct stat st{};
    EXPECT_EQ(fstat(fd.Get(), &st), 0);
    return static_cast<std::uint32_t>(st.st_ino);
}

sockaddr_storage Loopback(int family, std::uint16_t port, socklen_t& len)
{
    sockaddr_storage ss{};
    if (family == AF_INET) {
        auto& sin = reinterpret_cast<sockaddr_in&>(ss);
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin.sin_port = htons(port);
        len = sizeof sin;
    } else {
        auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_loopback;
        sin6.sin6_port = htons(port);
        len = sizeof sin6;
    }
    return ss;
}

Fd ListenOnce(int family, int backlog)
{
    Fd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t len = 0;
    const sockaddr_storage addr = Loopback(family, 0, len);
    if (fd.Get() < 0 || bind(fd.Get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0 ||
        listen(fd.Get(), backlog) != 0)
        return Fd();
    return fd;
}

// A listener on the loopback address, on a port the kernel picks and nobody else uses.
// bind() to port 0 happily hands out a port that earlier connections to some other,
// long-closed listener still mention: their client ends sit in TIME-WAIT for 60 s with
// that port as remote port, and a dump filtered on the port shows them. Those ports are
// passed over (kept bound meanwhile, so the kernel offers another).
Fd Listen(int family, int backlog)
{
    std::vector<Fd> passed_over;
    for (int attempt = 0; attempt < 50; ++attempt) {
        Fd fd = ListenOnce(family, backlog);
        if (fd.Get() < 0)
            return fd;
        const std::uint16_t port = LocalOf(fd).Port;
        if (DumpSockets(std::span(&port, 1)).Sockets.size() == 1)
            return fd;
        passed_over.push_back(std::move(fd));
    }
    ADD_FAILURE() << "no port free of old connections in 50 tries";
    return Fd();
}

// A blocking connect: on loopback it returns with the three-way handshake done.
Fd Connect(int family, std::uint16_t port)
{
    Fd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t len = 0;
    const sockaddr_storage addr = Loopback(family, port, len);
    EXPECT_EQ(connect(fd.Get(), reinterpret_cast<const sockaddr*>(&addr), len), 0);
    return fd;
}

Fd Accept(const Fd& listener)
{
    return Fd(accept4(listener.Get(), nullptr, nullptr, SOCK_CLOEXEC));
}

bool HaveIpv6Loopback()
{
    return ListenOnce(AF_INET6, 1).Get() >= 0;
}

const KernelSocket* Find(const Snapshot& snap, const Endpoint& local, const Endpoint& remote)
{
    for (const KernelSocket& k : snap.Sockets) {
        if (k.Local == local && k.Remote == remote)
            return &k;
    }
    return nullptr;
}

const KernelSocket* FindListener(const Snapshot& snap, const Endpoint& local)
{
    for (const KernelSocket& k : snap.Sockets) {
        if (k.State == TcpState::Listen && k.Local == local)
            return &k;
    }
    return nullptr;
}

// The snapshot as `ss` would print it, for failure messages.
std::string Describe(const Snapshot& snap)
{
    std::ostringstream out;
    if (!snap.Error.Empty())
        out << "error: " << snap.Error << '\n';
    for (const KernelSocket& k : snap.Sockets) {
        out << TcpStateName(k.State) << ' ' << k.RecvQ << ' ' << k.SendQ << ' '
            << k.Local.ToString() << ' ' << k.Remote.ToString() << " ino:" << k.Inode
            << " sk:" << std::hex << k.Cookie << std::dec << '\n';
    }
    return out.str();
}

// Dumps until `ready` holds for the snapshot or the deadline passes; returns the last
// snapshot, for the caller to assert on.
template <typename Ready>
Snapshot DumpUntil(std::span<const std::uint16_t> ports, Ready ready,
                   std::chrono::milliseconds timeout = 5s)
{
    Snapshot snap;
    sockscope::test::WaitUntil([&] { return ready(snap = DumpSockets(ports)); }, timeout);
    return snap;
}

using sockscope::test::WaitUntil;

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

// ---- the probe thread ------------------------------------------------------------

// Collects what the probe delivers; outlives the Probe that feeds it.
class Inbox {
public:
    Probe::Sink Sink()
    {
        return [this](Snapshot&& s) {
            std::lock_guard lock(Mutex);
            Received.push_back(std::move(s));
        };
    }
    std::vector<Snapshot> Copy()
    {
        std::lock_guard lock(Mutex);
        return Received;
    }
    template <typename Pred>
    bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 5s)
    {
        return WaitUntil([&] {
            std::lock_guard lock(Mutex);
            return std::any_of(Received.begin(), Received.end(), pred);
        }, timeout);
    }

private:
    std::mutex Mutex;
    std::vector<Snapshot> Received;
};

TEST(ProbeThread, DeliversANewConnectionAndStopsPromptly)
{
    Inbox inbox;
    auto probe = std::make_unique<Probe>(inbox.Sink());
    const Fd listener = Listen(AF_INET, 5);
    ASSERT_GE(listener.Get(), 0);
    const Endpoint server = LocalOf(listener);
    probe->SetPorts({server.Port, server.Port, 0});
    EXPECT_EQ(probe->Ports(), std::vector<std::uint16_t>{server.Port});
    EXPECT_TRUE(inbox.WaitFor([&](const Snapshot& s) { return FindListener(s, server); }));

    const Fd client = Connect(AF_INET, server.Port);
    const Endpoint local = LocalOf(client);
    const std::uint64_t cookie = CookieOf(client);
    EXPECT_TRUE(inbox.WaitFor([&](const Snapshot& s) {
        const KernelSocket* k = Find(s, local, server);
        return k != nullptr && k->Cookie == cookie && k->State == TcpState::Established;
    }, 2s));
    EXPECT_GT(probe->Dumps(), 0u);
    EXPECT_GE(probe->Dumps(), probe->Delivered());
    EXPECT_EQ(probe->Delivered(), inbox.Copy().size());
    EXPECT_NE(FindListener(probe->DumpNow(), server), nullptr);

    const auto start = Clock::now();
    probe.reset();
    EXPECT_LT(Clock::now() - start, 1s);
}

TEST(ProbeThread, SleepingThreadWakesForNewPortsAndForStop)
{
    Inbox inbox;
    ProbeOptions slow;
    slow.Interval = std::chrono::minutes(10);
    auto probe = std::make_unique<Probe>(inbox.Sink(), slow);
    ASSERT_TRUE(WaitUntil([&] { return probe->Dumps() >= 1; })); // the first dump is at once

    const Fd listener = Listen(AF_INET, 5);
    const Endpoint server = LocalOf(listener);
    probe->SetPorts({server.Port});
    EXPECT_TRUE(inbox.WaitFor([&](const Snapshot& s) { return FindListener(s, server); }, 2s));

    probe->Pause(true);
    EXPECT_TRUE(probe->Paused());
    const std::uint64_t before = probe->Dumps();
    probe->Pause(false);
    EXPECT_TRUE(WaitUntil([&] { return probe->Dumps() > before; }, 2s));

    const auto start = Clock::now();
    probe.reset();
    EXPECT_LT(Clock::now() - start, 1s);
}

// A call that returns prompts a snapshot at once: with ticks ten minutes apart, the view
// still follows each connect within a snapshot's time.
TEST(ProbeThread, APromptedSnapshotFollowsACallAtOnce)
{
    Inbox inbox;
    ProbeOptions slow;
    slow.Interval = slow.IdleInterval = std::chrono::minutes(10);
    Probe probe(inbox.Sink(), slow);
    const Fd listener = Listen(AF_INET, 5);
    const Endpoint server = LocalOf(listener);
    probe.SetPorts({server.Port});
    auto queued = [&](std::uint32_t n) {
        return [&server, n](const Snapshot& s) {
            const KernelSocket* l = FindListener(s, server);
            return l != nullptr && l->RecvQ == n;
        };
    };
    ASSERT_TRUE(inbox.WaitFor(queued(0), 2s));
    // The first prompt finds the probe idle (any Kick wakes it then); the second comes
    // while it is busy, waiting for a tick ten minutes away: only the prompt brings it.
    const Fd first = Connect(AF_INET, server.Port);
    probe.Prompt();
    ASSERT_TRUE(inbox.WaitFor(queued(1), 2s));
    const Fd second = Connect(AF_INET, server.Port);
    probe.Prompt();
    EXPECT_TRUE(inbox.WaitFor(queued(2), 2s));
}

// A burst of prompts (a lab making thousands of calls) is served at most once per gap.
TEST(ProbeThread, PromptsAreSpacedByTheGap)
{
    Inbox inbox;
    ProbeOptions options;
    options.Interval = options.IdleInterval = std::chrono::minutes(10);
    options.PromptGap = 20ms;
    Probe probe(inbox.Sink(), options);
    const Fd listener = Listen(AF_INET, 5);
    probe.SetPorts({LocalOf(listener).Port});
    ASSERT_TRUE(WaitUntil([&] { return probe.Dumps() >= 1; }, 2s));
    const std::uint64_t before = probe.Dumps();
    const auto start = Clock::now();
    while (Clock::now() - start < 300ms)
        probe.Prompt();
    const double gaps = std::chrono::duration<double>(Clock::now() - start) / 20ms;
    const std::uint64_t dumps = probe.Dumps() - before;
    EXPECT_LE(static_cast<double>(dumps), gaps + 2) << "prompts must not make the probe dump back to back";
    EXPECT_GE(dumps, 2u) << "prompted snapshots came (ticks are ten minutes apart)";
}

TEST(ProbeThread, QuietLabDeliversNothingNew)
{
    Inbox inbox;
    Probe probe(inbox.Sink());
    const Fd listener = Listen(AF_INET, 5);
    const Endpoint server = LocalOf(listener);
    const Fd client = Connect(AF_INET, server.Port);
    const Fd accepted = Accept(listener);
    probe.SetPorts({server.Port});
    ASSERT_TRUE(inbox.WaitFor([&](const Snapshot& s) {
        return s.Sockets.size() == 3 && Find(s, server, LocalOf(client)) != nullptr &&
               Find(s, server, LocalOf(client))->Inode == InodeOf(accepted);
    }));

    // Nothing moves and no timer runs: twenty more dumps, not one more delivery.
    const std::uint64_t delivered = probe.Delivered();
    const std::uint64_t dumps = probe.Dumps();
    ASSERT_TRUE(WaitUntil([&] { return probe.Dumps() >= dumps + 20; }));
    EXPECT_EQ(probe.Delivered(), delivered);

    // Unless asked to.
    probe.Refresh();
    EXPECT_TRUE(WaitUntil([&] { return probe.Delivered() == delivered + 1; }, 2s));
}

TEST(ProbeThread, RunningTimerKeepsTheCountdownMoving)
{
    Inbox inbox;
    Probe probe(inbox.Sink());
    const Fd listener = Listen(AF_INET, 5);
    const Endpoint server = LocalOf(listener);
    Endpoint local;
    {
        // The client closes first, so it is the one left in TIME-WAIT (for 60 s).
        Fd client = Connect(AF_INET, server.Port);
        Fd accepted = Accept(listener);
        local = LocalOf(client);
        client = Fd();
        accepted = Fd();
    }
    probe.SetPorts({server.Port});
    auto time_wait = [&](const Snapshot& s) {
        const KernelSocket* k = Find(s, local, server);
        return k != nullptr && k->State == TcpState::TimeWait ? k : nullptr;
    };
    ASSERT_TRUE(inbox.WaitFor([&](const Snapshot& s) { return time_wait(s) != nullptr; }));
    const std::size_t first = inbox.Copy().size();
    ASSERT_TRUE(WaitUntil([&] { return inbox.Copy().size() >= first + 3; }, 3s));

    const std::vector<Snapshot> got = inbox.Copy();
    for (std::size_t i = first; i < got.size(); ++i) {
        const KernelSocket* prev = time_wait(got[i - 1]);
        const KernelSocket* now = time_wait(got[i]);
        ASSERT_NE(now, nullptr);
        EXPECT_EQ(now->Timer, TimerKind::TimeWait);
        EXPECT_GT(now->TimerExpiresMs, 50'000u);
        if (prev != nullptr && SameSockets(got[i - 1], got[i])) {
            // Same sockets: delivered only for the countdown, at most every ~100 ms.
            EXPECT_GE(got[i].T - got[i - 1].T, 0.099);
            EXPECT_LT(now->TimerExpiresMs, prev->TimerExpiresMs);
        }
    }
}

} // namespace
