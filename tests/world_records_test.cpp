// What the world model keeps of each socket and of each session: who holds a socket after
// fork() and close(), a socket found by its inode, the lanes' lives, and Clear().
// Recorded inputs, no sockets.
#include "model_fixtures.hpp"
#include "world.hpp"

#include <gtest/gtest.h>

using namespace sockscope;

namespace {

using fixtures::Ep;
using fixtures::Finished;
using fixtures::NewSocket;
using fixtures::Row;

// A lane's first report: it starts holding copies of its parent's descriptors.
LaneEvent ForkedChild(std::uint64_t id, const char* name, int pid, std::vector<FdInfo> inherited)
{
    return fixtures::Born(id, name, LaneType::Process, pid, std::move(inherited));
}

CallEvent Close(std::uint64_t id, const char* actor, const char* handle)
{
    CallEvent c = Finished(id, actor, "server", "close", {}, 0);
    c.Handle = handle;
    c.Closed = true;
    return c;
}

// A session with a bit of everything: a listener, a client that connects and writes, an
// accepted connection handed to a forked child, counters, segments.
std::vector<LabEvent> SessionEvents()
{
    std::vector<LabEvent> events;
    events.push_back(NewSocket(1, "server", "server", 3, 100, 9000));
    CallEvent bind = Finished(2, "server", "server", "bind");
    bind.Local = Ep("127.0.0.1:4000");
    events.push_back(bind);
    events.push_back(Finished(3, "server", "server", "listen"));
    events.push_back(NewSocket(4, "client", "client", 4, 200, 9001));
    CallEvent connect = Finished(5, "client", "client", "connect");
    connect.Local = Ep("127.0.0.1:50000");
    connect.Remote = Ep("127.0.0.1:4000");
    events.push_back(connect);
    CallEvent send = Finished(6, "client", "client", "send", {}, 5, 4);
    send.Data = "hello";
    events.push_back(send);
    CallEvent accept = Finished(7, "server", "server", "accept", {}, 5);
    accept.NewFd = FdInfo{"conn", 5, 9002, 300};
    events.push_back(accept);
    events.push_back(ForkedChild(8, "child 77", 77, {FdInfo{"conn", 5, 9002, 300}}));
    events.push_back(Close(9, "server", "conn"));
    Snapshot snap;
    snap.T = 10;
    snap.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 100, 9000, 0, 5));
    snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:50000", "127.0.0.1:4000", 200, 9001));
    snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:4000", "127.0.0.1:50000", 300, 9002, 5));
    snap.Counters = {{"ListenOverflows", 0}};
    events.push_back(snap);
    snap.T = 11;
    snap.Counters = {{"ListenOverflows", 2}};
    events.push_back(snap);
    Segment syn;
    syn.Src = Ep("127.0.0.1:50000");
    syn.Dst = Ep("127.0.0.1:4000");
    syn.Flags = FlagSyn;
    events.push_back(syn);
    return events;
}

void ApplyAll(World& w, const std::vector<LabEvent>& events)
{
    for (const auto& e : events)
        w.Apply(e);
}

// The model as a reader sees it, as text, to compare two worlds whole.
std::string Shown(const World& w)
{
    std::string out;
    for (const auto& s : w.Sockets())
        out += std::to_string(s.Cookie) + " " + std::string(TcpStateName(s.State())) + " " +
               std::string(SocketRoleName(s.Role)) + " " + std::string(QueueKindName(s.Queue)) + " fd " +
               (s.Fd ? std::to_string(*s.Fd) : "-") + " " + s.Actor + "/" + s.Handle +
               (s.External ? " external" : " lab") + " first " + std::to_string(s.FirstSeen) + " history " +
               std::to_string(s.History.size()) + " recv " + s.RecvBytes.value_or("?") + "\n";
    for (const auto& l : w.Listeners())
        out += l.Local.ToString() + " backlog " + std::to_string(l.Backlog) + " " + l.Actor + "\n";
    for (const auto& a : w.Actors())
        out += a.Name + " " + a.Status + " calls " + std::to_string(a.Calls.size()) + " life " +
               std::to_string(a.Life.size()) + " fds " +
               std::to_string(a.Fds.size()) + "\n";
    out += "segments " + std::to_string(w.Segments().size()) + " finished " + std::to_string(w.FinishedCalls().size()) +
           " snapshots " + std::to_string(w.SnapshotCount()) + " overflows " +
           std::to_string(w.CounterDelta("ListenOverflows")) + "\n";
    return out;
}

} // namespace

TEST(WorldRecords, AfterForkTheSocketStaysHeldByTheChildWhenTheParentClosesIt)
{
    World w;
    ApplyAll(w, SessionEvents());
    const SocketView* conn = w.FindSocket(300);
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(conn->Actor, "child 77") << "the parent closed its copy; the child's is open";
    EXPECT_EQ(conn->Fd, 5);
    EXPECT_EQ(conn->Queue, QueueKind::None) << "a descriptor holds it: it is out of the accept queue";
    ASSERT_NE(w.FindRecord(300), nullptr);
    EXPECT_TRUE(w.FindRecord(300)->Shared);

    w.Apply(Close(20, "child 77", "conn"));
    conn = w.FindSocket(300);
    ASSERT_NE(conn, nullptr) << "the kernel still lists the connection";
    EXPECT_FALSE(conn->Fd) << "no lane holds it any more";
    EXPECT_EQ(conn->Actor, "");
}

TEST(WorldRecords, ClosingTheOnlyDescriptorOfAnUnlistedSocketForgetsItsHolder)
{
    World w;
    w.Apply(NewSocket(1, "server", "server", 3, 100, 9000));
    w.Apply(ForkedChild(2, "child 9", 9, {FdInfo{"main", 3, 9000, 100}}));
    w.Apply(Close(3, "server", "main"));
    ASSERT_EQ(w.Sockets().size(), 1u) << "the child's copy keeps the socket open";
    EXPECT_EQ(w.Sockets()[0].Actor, "child 9");
    w.Apply(Close(4, "child 9", "main"));
    EXPECT_TRUE(w.Sockets().empty());
}

TEST(WorldRecords, ASocketWhoseCookieTheLabDidNotLearnIsFoundByItsInode)
{
    World w;
    w.Apply(NewSocket(1, "client", "client", 4, 0, 9001)); // SO_COOKIE gave nothing
    Snapshot snap;
    snap.T = 2;
    snap.Sockets.push_back(Row(TcpState::SynSent, "127.0.0.1:50000", "127.0.0.1:4000", 555, 9001));
    w.Apply(snap);
    const SocketView* s = w.FindSocket(555);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->Actor, "client") << "as `ss -p` finds it: by the descriptor's inode";
    EXPECT_EQ(s->Fd, 4);
}

TEST(WorldRecords, AProcessLaneIsAZombieUntilReapedAndAThreadLaneExitsWhenItReturns)
{
    World w;
    using fixtures::Life;
    w.Apply(ForkedChild(1, "child 77", 77, {}));
    EXPECT_EQ(w.FindActor("child 77")->LaneKind, "process");
    EXPECT_EQ(w.FindActor("child 77")->Parent, "server");
    w.Apply(Life(2, "child 77", LaneEventKind::Exiting, LaneType::Process, 77)); // exit() never returns
    EXPECT_EQ(w.FindActor("child 77")->Status, "exiting");
    EXPECT_TRUE(w.FindActor("child 77")->InExit());
    LaneEvent zombie = Life(3, "child 77", LaneEventKind::Zombie, LaneType::Process, 77);
    w.Apply(zombie);
    EXPECT_EQ(w.FindActor("child 77")->Status, "zombie");
    w.Apply(Finished(4, "server", "server", "waitpid", {.Value = 77}, 77));
    EXPECT_EQ(w.FindActor("child 77")->Status, "zombie") << "waitpid() is a call; the reaping is its own event";
    w.Apply(Life(5, "child 77", LaneEventKind::Reaped, LaneType::Process, 77));
    EXPECT_EQ(w.FindActor("child 77")->Status, "reaped");
    w.Apply(zombie); // a late report does not bring it back
    EXPECT_EQ(w.FindActor("child 77")->Status, "reaped");

    w.Apply(fixtures::Born(6, "thread 1", LaneType::Thread, 0, {}));
    EXPECT_EQ(w.FindActor("thread 1")->LaneKind, "thread");
    EXPECT_EQ(w.FindActor("thread 1")->Status, "running");
    w.Apply(Life(7, "thread 1", LaneEventKind::Returned, LaneType::Thread));
    EXPECT_EQ(w.FindActor("thread 1")->Status, "exited");
}

TEST(WorldRecords, ClearForgetsTheSessionAndReplayingItGivesTheSameModel)
{
    World first;
    ApplyAll(first, SessionEvents());
    World w;
    ApplyAll(w, SessionEvents());
    ASSERT_EQ(Shown(w), Shown(first));
    ASSERT_FALSE(w.Sockets().empty());
    auto version = w.Version();

    w.Clear();
    EXPECT_GT(w.Version(), version) << "a cleared world looks different";
    EXPECT_TRUE(w.Sockets().empty());
    EXPECT_TRUE(w.Listeners().empty());
    EXPECT_TRUE(w.Actors().empty());
    EXPECT_TRUE(w.Segments().empty());
    EXPECT_TRUE(w.FinishedCalls().empty());
    EXPECT_TRUE(w.CounterValues().empty());
    EXPECT_EQ(w.SnapshotCount(), 0u);
    EXPECT_EQ(w.FindRecord(300), nullptr);

    ApplyAll(w, SessionEvents());
    EXPECT_EQ(Shown(w), Shown(first));
}

TEST(WorldRecords, FinishedCallsAndSegmentsKeepCountingAcrossClear)
{
    World w;
    ApplyAll(w, SessionEvents());
    ASSERT_FALSE(w.FinishedCalls().empty());
    std::uint64_t last_call = w.FinishedCalls().back().Seq;
    std::uint64_t segments = w.SegmentsApplied();
    EXPECT_EQ(last_call, w.FinishedCalls().size()) << "numbered from 1, one per finished call";
    EXPECT_EQ(segments, w.Segments().size());
    w.Clear();
    ApplyAll(w, SessionEvents());
    EXPECT_EQ(w.FinishedCalls().front().Seq, last_call + 1);
    EXPECT_EQ(w.SegmentsApplied(), 2 * segments);
}
