// The tracker against the real kernel: a follow (lookups by four-tuple) must show what a
// sweep (a dump) shows, and must hand over to a sweep whenever it could miss something.
// Real sockets on loopback; every wait polls a condition with a deadline.
#include "probe.hpp"
#include "probe_test_util.hpp"
#include "test_util.hpp"
#include "tracker.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <utility>
#include <vector>

namespace {

using namespace sockscope;
using namespace std::chrono_literals;
using test::WaitUntil;

using probe_test::Fd;

sockaddr_in Loopback(std::uint16_t port)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(port);
    return sin;
}

std::uint16_t PortOf(int fd)
{
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    return ntohs(sin.sin_port);
}

Fd Listen(int backlog)
{
    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in any = Loopback(0);
    EXPECT_EQ(bind(fd.Get(), reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
    EXPECT_EQ(listen(fd.Get(), backlog), 0);
    return fd;
}

// A client connected (or connecting) to `port`, bound first to `from` when given.
Fd Connect(std::uint16_t port, std::uint16_t from = 0, bool nonblocking = false)
{
    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
    if (from != 0) {
        const int one = 1;
        setsockopt(fd.Get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        const sockaddr_in local = Loopback(from);
        EXPECT_EQ(bind(fd.Get(), reinterpret_cast<const sockaddr*>(&local), sizeof local), 0);
    }
    const sockaddr_in to = Loopback(port);
    const int rc = connect(fd.Get(), reinterpret_cast<const sockaddr*>(&to), sizeof to);
    EXPECT_TRUE(rc == 0 || (nonblocking && errno == EINPROGRESS)) << "connect: " << errno;
    return fd;
}

// Closes with a reset: no TIME-WAIT left behind.
void Abort(Fd& fd)
{
    const linger hard{1, 0};
    setsockopt(fd.Get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    fd.Reset();
}

// What a sweep shows, compared the way the probe compares snapshots (ignoring timer
// countdowns and tcp_info counters, which move between two asks).
::testing::AssertionResult SameAsSweep(const Snapshot& follow, std::uint16_t port)
{
    const std::uint16_t ports[] = {port};
    const Snapshot sweep = DumpSockets(ports);
    if (SameSockets(follow, sweep))
        return ::testing::AssertionSuccess();
    auto out = ::testing::AssertionFailure() << "follow:\n";
    for (const auto& k : follow.Sockets)
        out << "  " << TcpStateName(k.State) << " " << k.Local.ToString() << " " << k.Remote.ToString() << " q"
            << k.RecvQ << "/" << k.SendQ << " inode " << k.Inode << "\n";
    out << "sweep:\n";
    for (const auto& k : sweep.Sockets)
        out << "  " << TcpStateName(k.State) << " " << k.Local.ToString() << " " << k.Remote.ToString() << " q"
            << k.RecvQ << "/" << k.SendQ << " inode " << k.Inode << "\n";
    return out;
}

std::size_t CountState(const Snapshot& s, TcpState state)
{
    return static_cast<std::size_t>(
        std::count_if(s.Sockets.begin(), s.Sockets.end(), [&](const KernelSocket& k) { return k.State == state; }));
}

TrackerOptions NoPeriodicSweep()
{
    TrackerOptions options;
    options.SweepEvery = 3600;
    options.PreferCheaper = false; // these tests are about what is seen, not what is cheaper
    return options;
}

TEST(Tracker, FollowShowsWhatASweepShowsInEveryState)
{
    Fd listener = Listen(8);
    const std::uint16_t port = PortOf(listener.Get());
    const std::uint16_t ports[] = {port};
    // One accepted connection with unread bytes, one waiting in the accept queue, one
    // the client half-closed (server CLOSE-WAIT, client FIN-WAIT-2), one whose client
    // closed first and whose server then closed (client TIME-WAIT).
    Fd c1 = Connect(port);
    Fd s1(accept(listener.Get(), nullptr, nullptr));
    ASSERT_EQ(write(c1.Get(), "hello", 5), 5);
    Fd c2 = Connect(port);
    Fd s2(accept(listener.Get(), nullptr, nullptr));
    shutdown(c2.Get(), SHUT_WR);
    Fd c3 = Connect(port);
    Fd s3(accept(listener.Get(), nullptr, nullptr));
    Fd c4 = Connect(port);

    SocketTracker tracker(NoPeriodicSweep());
    Snapshot first = tracker.Take(ports, true);
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Sweep);
    EXPECT_EQ(tracker.LastReason(), "asked");
    EXPECT_EQ(first.Sockets.size(), 9u) << "listener + 4 clients + 4 server ends";

    c3.Reset();
    s3.Reset();
    ASSERT_TRUE(WaitUntil([&] {
        const Snapshot s = tracker.Take(ports, false);
        // FIN-WAIT-2 too: the ACK of c2's FIN may come a moment after the server end is in
        // CLOSE-WAIT, and a change between the follow and the sweep below is no mismatch.
        return CountState(s, TcpState::TimeWait) == 1 && CountState(s, TcpState::CloseWait) == 1 &&
               CountState(s, TcpState::FinWait2) == 1 && CountState(s, TcpState::FinWait1) == 0;
    }));
    const Snapshot follow = tracker.Take(ports, false);
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Follow) << tracker.LastReason();
    EXPECT_TRUE(SameAsSweep(follow, port));
    EXPECT_EQ(tracker.Sweeps(), 1u) << "every later snapshot was a follow: " << tracker.LastReason();
    Abort(c1);
    Abort(c2);
    Abort(c4);
}

TEST(Tracker, FollowSeesSocketsGo)
{
    Fd listener = Listen(8);
    const std::uint16_t port = PortOf(listener.Get());
    const std::uint16_t ports[] = {port};
    Fd client = Connect(port);
    Fd server(accept(listener.Get(), nullptr, nullptr));
    SocketTracker tracker(NoPeriodicSweep());
    EXPECT_EQ(tracker.Take(ports, true).Sockets.size(), 3u);

    Abort(client); // the reset takes both ends away
    ASSERT_TRUE(WaitUntil([&] { return tracker.Take(ports, false).Sockets.size() == 1; }));
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Follow);
    listener.Reset();
    ASSERT_TRUE(WaitUntil([&] { return tracker.Take(ports, false).Sockets.empty(); }));
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Follow);
    EXPECT_TRUE(SameAsSweep(tracker.Take(ports, false), port));
}

// A connection nobody told the tracker about (a peer of another process, say) lands in
// the accept queue: the listener's queue length gives it away, and a sweep follows.
TEST(Tracker, UnknownConnectionInTheAcceptQueueBringsASweep)
{
    Fd listener = Listen(8);
    const std::uint16_t port = PortOf(listener.Get());
    const std::uint16_t ports[] = {port};
    SocketTracker tracker(NoPeriodicSweep());
    EXPECT_EQ(tracker.Take(ports, true).Sockets.size(), 1u);
    EXPECT_EQ(tracker.Take(ports, false).Sockets.size(), 1u);
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Follow);

    Fd stranger = Connect(port);
    const Snapshot s = tracker.Take(ports, false);
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Sweep);
    EXPECT_EQ(tracker.LastReason(), "queue");
    EXPECT_EQ(s.Sockets.size(), 3u);
    EXPECT_EQ(CountState(s, TcpState::Established), 2u);
    tracker.Take(ports, false);
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Follow) << tracker.LastReason();
    Abort(stranger);
}

// A client whose SYN the full accept queue dropped is known (SYN-SENT); its server end
// appears only when a retransmitted SYN finds room, seconds later. The follow asks for
// the other end of every same-host connection and finds it without a sweep.
TEST(Tracker, FollowFindsTheServerEndOfAKnownClientWhenTheKernelMakesIt)
{
    Fd listener = Listen(0); // one place: listen(fd, 0) takes one connection
    const std::uint16_t port = PortOf(listener.Get());
    const std::uint16_t ports[] = {port};
    Fd first = Connect(port);
    std::vector<Fd> more;
    SocketTracker tracker(NoPeriodicSweep());
    // Connect until one stays in SYN-SENT: its SYN was dropped.
    for (int i = 0; i < 4; ++i)
        more.push_back(Connect(port, 0, true));
    ASSERT_TRUE(WaitUntil([&] { return CountState(tracker.Take(ports, true), TcpState::SynSent) > 0; }));
    const std::size_t syn_sent = CountState(tracker.Take(ports, true), TcpState::SynSent);
    Fd taken(accept(listener.Get(), nullptr, nullptr)); // room for one more
    const std::uint64_t sweeps = tracker.Sweeps();
    ASSERT_TRUE(WaitUntil(
        [&] { return CountState(tracker.Take(ports, false), TcpState::SynSent) < syn_sent; }, 15s));
    EXPECT_EQ(tracker.Sweeps(), sweeps) << "found by a follow, not a sweep (" << tracker.LastReason() << ")";
    Abort(first);
    Abort(taken);
    for (Fd& fd : more)
        Abort(fd);
}

// The same four-tuple used again by a new connection: the kernel's cookie check tells the
// follow it is looking at another socket, and a sweep takes over.
TEST(Tracker, AFourTupleReusedByANewConnectionBringsASweep)
{
    Fd listener = Listen(8);
    const std::uint16_t port = PortOf(listener.Get());
    const std::uint16_t ports[] = {port};
    Fd client = Connect(port);
    const std::uint16_t client_port = PortOf(client.Get());
    Fd server(accept(listener.Get(), nullptr, nullptr));
    SocketTracker tracker(NoPeriodicSweep());
    const Snapshot before = tracker.Take(ports, true);
    ASSERT_EQ(before.Sockets.size(), 3u);

    Abort(client);
    server.Reset();
    Fd again = Connect(port, client_port);
    const Snapshot after = tracker.Take(ports, false);
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Sweep);
    EXPECT_TRUE(tracker.LastReason() == "replaced" || tracker.LastReason() == "queue") << tracker.LastReason();
    EXPECT_EQ(after.Sockets.size(), 3u);
    EXPECT_TRUE(SameAsSweep(after, port));
    Abort(again);
}

TEST(Tracker, SweepsWhenAskedWhenThePortsChangeAndPeriodically)
{
    Fd listener = Listen(8);
    const std::uint16_t port = PortOf(listener.Get());
    const std::uint16_t ports[] = {port};
    SocketTracker tracker(NoPeriodicSweep());
    tracker.Take(ports, false);
    EXPECT_EQ(tracker.LastReason(), "ports");
    tracker.Take(ports, false);
    EXPECT_EQ(tracker.LastKind(), SnapshotKind::Follow) << tracker.LastReason();
    tracker.Take(ports, true);
    EXPECT_EQ(tracker.LastReason(), "asked");
    const std::uint16_t none[] = {static_cast<std::uint16_t>(port == 65535 ? 1 : port + 1)};
    tracker.Take(none, false);
    EXPECT_EQ(tracker.LastReason(), "ports");

    // Its own tracker: with a period this short, a slow first snapshot on a loaded
    // machine would make the follow above a periodic sweep.
    TrackerOptions often;
    often.SweepEvery = 0.05;
    often.PreferCheaper = false;
    SocketTracker periodic(often);
    periodic.Take(ports, false);
    ASSERT_TRUE(WaitUntil([&] {
        periodic.Take(ports, false);
        return periodic.LastReason() == "periodic";
    }));
}

// A socket that is only bound is in no table a lookup searches (Linux 6.8 and later show
// it in dumps): while there is one, every snapshot is a sweep.
TEST(Tracker, ABoundSocketKeepsTheTrackerSweeping)
{
    Fd bound(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in any = Loopback(0);
    ASSERT_EQ(bind(bound.Get(), reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
    const std::uint16_t ports[] = {PortOf(bound.Get())};
    SocketTracker tracker(NoPeriodicSweep());
    if (tracker.Take(ports, true).Sockets.empty())
        GTEST_SKIP() << "this kernel does not report bound sockets (TCP_BOUND_INACTIVE, Linux 6.8)";
    const Snapshot s = tracker.Take(ports, false);
    EXPECT_EQ(tracker.LastReason(), "bound");
    EXPECT_EQ(s.Sockets.size(), 1u);
}

// The probe's thread follows between sweeps: a socket nothing gives away (a client whose
// SYN the full accept queue drops, on the watched port) shows only after Discover().
TEST(Tracker, TheProbeSweepsWhenTheLabSaysASocketMayBeNew)
{
    Fd listener = Listen(0); // one place
    const std::uint16_t port = PortOf(listener.Get());
    Fd queued = Connect(port);
    std::mutex mutex;
    Snapshot latest;
    ProbeOptions options;
    options.Interval = 5ms;
    options.IdleInterval = 5ms;
    options.SweepEvery = std::chrono::hours(1);
    // On a machine with few sockets a sweep costs less than three lookups and the probe
    // would rightly sweep every time (it did in CI): this test is about Discover.
    options.PreferCheaper = false;
    Probe probe(
        [&](Snapshot&& snap) {
            std::lock_guard lock(mutex);
            latest = std::move(snap);
        },
        options);
    auto syn_sent = [&] {
        std::lock_guard lock(mutex);
        return CountState(latest, TcpState::SynSent);
    };
    probe.SetPorts({port});
    ASSERT_TRUE(WaitUntil([&] {
        std::lock_guard lock(mutex);
        return latest.Sockets.size() == 3;
    }));
    Fd dropped = Connect(port, 0, true); // its SYN finds the queue full
    const std::uint64_t sweeps = probe.Sweeps();
    const std::uint64_t dumps = probe.Dumps();
    ASSERT_TRUE(WaitUntil([&] { return probe.Dumps() >= dumps + 20; }));
    EXPECT_EQ(syn_sent(), 0u) << "followed: the new client is nowhere the lookups look";
    EXPECT_EQ(probe.Sweeps(), sweeps);
    probe.Discover();
    ASSERT_TRUE(WaitUntil([&] { return syn_sent() == 1; }));
    EXPECT_GT(probe.Sweeps(), sweeps);
    Abort(dropped);
    Abort(queued);
}

} // namespace
