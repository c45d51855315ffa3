// The world model's reducer on recorded inputs: no sockets, no kernel, deterministic.
#include "model_fixtures.hpp"
#include "world.hpp"
#include "player.hpp"
#include "trace.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

using namespace sockscope;

namespace {

using fixtures::Ep;
using fixtures::NewSocket;
using fixtures::Row;

CallEvent Call(std::uint64_t id, const char* actor, const char* kind, const char* call, long result = 0)
{
    return fixtures::Finished(id, actor, kind, call, {}, result);
}

// The no-accept lesson after its third step, as the lab and the probe reported it.
World ThreeUnacceptedConnections()
{
    World w;
    w.Apply(NewSocket(1, "server", "server", 3, 100, 9000));
    CallEvent bind = Call(2, "server", "server", "bind");
    bind.Local = Ep("127.0.0.1:4000");
    w.Apply(bind);
    w.Apply(Call(3, "server", "server", "listen"));
    Snapshot snap;
    snap.T = 4;
    snap.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 100, 9000, 3, 5));
    for (int i = 0; i < 3; ++i) {
        std::string client = "client" + std::to_string(i + 1);
        std::uint64_t cookie = 200 + static_cast<std::uint64_t>(i);
        w.Apply(NewSocket(10 + static_cast<std::uint64_t>(2 * i), client.c_str(), "client", 4 + i, cookie,
                          9001 + static_cast<std::uint32_t>(i)));
        w.Apply(Call(11 + static_cast<std::uint64_t>(2 * i), client.c_str(), "client", "connect"));
        std::string port = "127.0.0.1:" + std::to_string(50000 + i);
        snap.Sockets.push_back(Row(TcpState::Established, port.c_str(), "127.0.0.1:4000", cookie,
                                   9001 + static_cast<std::uint32_t>(i)));
        snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:4000", port.c_str(), 300 + cookie, 0));
    }
    w.Apply(snap);
    return w;
}

} // namespace

TEST(World, UnacceptedConnectionsWaitInTheAcceptQueueWithoutDescriptor)
{
    World w = ThreeUnacceptedConnections();
    ASSERT_EQ(w.Listeners().size(), 1u);
    EXPECT_EQ(w.Listeners()[0].AcceptQueue, 3u);
    EXPECT_EQ(w.Listeners()[0].Backlog, 5u);
    EXPECT_EQ(w.Listeners()[0].Fd, 3);
    EXPECT_EQ(w.Listeners()[0].Actor, "server");
    int in_queue = 0, clients = 0;
    for (const auto& s : w.Sockets()) {
        if (s.Role == SocketRole::Server) {
            EXPECT_EQ(s.Queue, QueueKind::Accept);
            EXPECT_FALSE(s.Fd);
            EXPECT_FALSE(s.External) << "the other end is a lab client";
            ++in_queue;
        }
        if (s.Role == SocketRole::Client) {
            EXPECT_TRUE(s.Fd);
            EXPECT_FALSE(s.External);
            ++clients;
        }
    }
    EXPECT_EQ(in_queue, 3);
    EXPECT_EQ(clients, 3);
    // Listener first, then clients and servers in a stable order.
    EXPECT_EQ(w.Sockets().front().Role, SocketRole::Listener);
}

TEST(World, AcceptGivesTheSameCookieADescriptorAndTakesItOutOfTheQueue)
{
    World w = ThreeUnacceptedConnections();
    CallEvent accept = Call(20, "server", "server", "accept", 7);
    accept.NewFd = FdInfo{"conn1", 7, 9100, 500};
    w.Apply(accept);
    Snapshot snap;
    snap.T = 21;
    snap.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 100, 9000, 2, 5));
    snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:4000", "127.0.0.1:50000", 500, 9100, 20));
    w.Apply(snap);
    const SocketView* s = w.FindSocket(500);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->Fd, 7);
    EXPECT_EQ(s->Queue, QueueKind::None);
    EXPECT_EQ(s->Role, SocketRole::Server);
    EXPECT_EQ(w.Listeners()[0].AcceptQueue, 2u);
    // History remembers both states it was seen in: it was new at T=4, still ESTABLISHED.
    ASSERT_FALSE(s->History.empty());
    EXPECT_EQ(s->History.back().To, TcpState::Established);
}

TEST(World, SynReceivedRequestSocketsCountInTheSynQueue)
{
    World w;
    Snapshot snap;
    snap.T = 1;
    snap.Sockets.push_back(Row(TcpState::Listen, "0.0.0.0:4000", "0.0.0.0:0", 1, 10, 0, 5));
    snap.Sockets.push_back(Row(TcpState::SynRecv, "127.0.0.1:4000", "127.0.0.1:50000", 2, 0));
    snap.Sockets.push_back(Row(TcpState::SynSent, "127.0.0.1:50000", "127.0.0.1:4000", 3, 11));
    w.Apply(snap);
    EXPECT_EQ(w.Listeners()[0].SynQueue, 1u) << "a wildcard listener owns requests to 127.0.0.1";
    EXPECT_EQ(w.FindSocket(2)->Queue, QueueKind::Syn);
    EXPECT_EQ(w.FindSocket(2)->Role, SocketRole::Server);
    EXPECT_EQ(w.FindSocket(3)->Role, SocketRole::Client);
    EXPECT_TRUE(w.FindSocket(3)->External) << "no lab descriptor made it";
    EXPECT_TRUE(w.FindSocket(2)->External) << "its peer is not a lab socket";
}

TEST(World, DescriptorsTheKernelDoesNotListAreClosed)
{
    World w;
    w.Apply(NewSocket(1, "client1", "client", 5, 77, 123));
    ASSERT_EQ(w.Sockets().size(), 1u);
    EXPECT_FALSE(w.Sockets()[0].InKernel);
    EXPECT_EQ(w.Sockets()[0].State(), TcpState::Close);
    EXPECT_EQ(w.Sockets()[0].Fd, 5);
    CallEvent close = Call(2, "client1", "client", "close");
    close.Closed = true;
    w.Apply(close);
    EXPECT_TRUE(w.Sockets().empty());
    EXPECT_TRUE(w.FindActor("client1")->Fds.empty());
}

TEST(World, VersionIgnoresTimerCountdownsButNotStateChanges)
{
    World w = ThreeUnacceptedConnections();
    auto v = w.Version();
    Snapshot same;
    same.T = 5;
    for (const auto& s : w.Sockets())
        if (s.InKernel)
            same.Sockets.push_back(s.K);
    same.Sockets[1].Timer = TimerKind::None;
    same.Sockets[1].TimerExpiresMs = 1234; // only a countdown moved
    w.Apply(same);
    EXPECT_EQ(w.Version(), v);
    same.Sockets[1].State = TcpState::CloseWait;
    w.Apply(same);
    EXPECT_GT(w.Version(), v);
}

TEST(World, ProbeErrorsKeepTheLastViewAndAreShown)
{
    World w = ThreeUnacceptedConnections();
    auto count = w.Sockets().size();
    Snapshot failed;
    failed.T = 6;
    failed.Error = Say(PhraseId::Verbatim, "netlink: Operation not permitted");
    w.Apply(failed);
    EXPECT_EQ(w.ProbeError(), failed.Error);
    EXPECT_EQ(w.Sockets().size(), count);
}

TEST(World, CallPhasesUpdateOneLadderEntry)
{
    World w;
    CallEvent c = Call(1, "server", "server", "accept");
    c.Phase = CallPhase::Queued;
    w.Apply(c);
    c.Phase = CallPhase::Blocked;
    w.Apply(c);
    ASSERT_NE(w.FindActor("server")->Current(), nullptr);
    EXPECT_EQ(w.FindActor("server")->Current()->Phase, CallPhase::Blocked);
    c.Phase = CallPhase::Finished;
    c.Result = -1;
    c.Errno = 4;
    w.Apply(c);
    EXPECT_EQ(w.FindActor("server")->Calls.size(), 1u);
    EXPECT_EQ(w.FindActor("server")->Current(), nullptr);
    ASSERT_EQ(w.FinishedCalls().size(), 1u) << "only the Finished phase is a finished call";
    EXPECT_EQ(std::get<CallEvent>(w.FinishedCalls()[0].Event).Errno, 4);
}

// A child forks, closes its copy, exits and is a zombie until reaped: its calls are
// calls, the moments of its life LaneEvents. The ladder and the trace show the moments
// where the calls are ("fork", "zombie" among the "calls"), exit() as where it stays.
TEST(World, AForkedChildsLifeIsItsOwnEventsBesideItsCalls)
{
    using fixtures::Life;
    World w;
    w.Apply(NewSocket(1, "server", "server", 3, 100, 9000));
    w.Apply(fixtures::Born(2, "child 77", LaneType::Process, 77, {FdInfo{"main", 3, 9000, 100}}));
    ASSERT_EQ(w.Sockets().size(), 1u);
    EXPECT_TRUE(w.FindRecord(100)->Shared) << "parent and child hold it: fork's copies";
    CallEvent close = Call(3, "child 77", "server", "close");
    close.Closed = true;
    w.Apply(close);
    w.Apply(Life(4, "child 77", LaneEventKind::Exiting, LaneType::Process, 77));
    LaneEvent zombie = Life(5, "child 77", LaneEventKind::Zombie, LaneType::Process, 77);
    zombie.Note = Say(PhraseId::ChildIsZombie);
    w.Apply(zombie);

    const ActorView* child = w.FindActor("child 77");
    ASSERT_NE(child, nullptr);
    ASSERT_EQ(child->Calls.size(), 1u) << "close() is its only call";
    std::vector<LaneEventKind> life;
    for (const auto& e : child->Life)
        life.push_back(e.Kind);
    EXPECT_EQ(life, (std::vector<LaneEventKind>{LaneEventKind::Forked, LaneEventKind::Exiting, LaneEventKind::Zombie}));
    EXPECT_EQ(child->Current(), nullptr) << "no call in progress: exit() is not a call";
    EXPECT_TRUE(child->InExit());
    EXPECT_EQ(FormatLaneEvent(child->Life[1]), "exit(0)");

    std::uint64_t cursor = 0;
    auto line = TraceLine(w, nullptr, 6, FinishedSince(w, cursor));
    std::vector<std::string> names;
    for (const auto& c : line["calls"])
        names.push_back(c["call"]);
    EXPECT_EQ(names, (std::vector<std::string>{"socket", "fork", "close", "zombie"}))
        << "exit() never returns: it is not a finished call";
    const auto& z = line["calls"][3];
    for (const char* field :
         {"actor", "call", "args", "result", "errno", "fd", "handle", "t_start", "t_end", "pid", "tid", "source"})
        EXPECT_TRUE(z.contains(field)) << field;
    EXPECT_EQ(z["actor"], "child 77");
    EXPECT_EQ(z["pid"], 77);
    EXPECT_EQ(z["result"], 0);
    EXPECT_TRUE(z["fd"].is_null());
    EXPECT_EQ(z["source"], "lab");
    EXPECT_EQ(z["note"], Say(PhraseId::ChildIsZombie).English());
    bool seen = false;
    for (const auto& lane : line["lanes"]) {
        if (lane["name"] != "child 77")
            continue;
        seen = true;
        EXPECT_EQ(lane["kind"], "process");
        EXPECT_EQ(lane["parent"], "server");
        EXPECT_EQ(lane["status"], "zombie");
        EXPECT_EQ(lane["in"], "exit") << "a zombie is still in its exit()";
        EXPECT_EQ(lane["blocked"], true);
    }
    EXPECT_TRUE(seen);

    // Reaped: its status says so; it adds no row and no call.
    LaneEvent reaped = Life(6, "child 77", LaneEventKind::Reaped, LaneType::Process, 77);
    reaped.Status = 0;
    w.Apply(reaped);
    EXPECT_EQ(child->Status, "reaped");
    EXPECT_EQ(child->Life.size(), 3u);
    EXPECT_TRUE(FinishedSince(w, cursor).empty());
}

TEST(Trace, LineHasTheContractsFieldsAndChecksMatchIt)
{
    World w = ThreeUnacceptedConnections();
    auto line = TraceLine(w, nullptr, 1.5, {});
    EXPECT_EQ(line["t"], 1.5);
    EXPECT_TRUE(line["lesson"].is_null());
    EXPECT_TRUE(line["step"].is_null());
    ASSERT_EQ(line["listeners"].size(), 1u);
    EXPECT_EQ(line["listeners"][0]["local"], "127.0.0.1:4000");
    EXPECT_EQ(line["listeners"][0]["backlog"], 5);
    EXPECT_EQ(line["listeners"][0]["accept_queue"], 3);
    EXPECT_EQ(line["listeners"][0]["syn_queue"], 0);
    for (const auto& s : line["sockets"])
        for (const char* field : {"cookie", "local", "remote", "state", "role", "queue", "fd", "owner", "recv_q",
                                  "send_q", "timer"})
            EXPECT_TRUE(s.contains(field)) << field;

    Check c;
    c.What = "sockets";
    c.Match = {{"role", "server"}, {"queue", "accept"}, {"fd", nullptr}, {"local", "127.0.0.1:$port"}};
    EXPECT_EQ(CountMatches(line, c, {{"port", 4000}}), 3);
    EXPECT_EQ(CountMatches(line, c, {{"port", 4001}}), 0);
    c.Match = {{"role", "client"}, {"fd", "!null"}};
    EXPECT_EQ(CountMatches(line, c, {}), 3);
    c.What = "listeners";
    c.Match = {{"backlog", "$backlog"}};
    EXPECT_EQ(CountMatches(line, c, {{"backlog", 5}}), 1);
    EXPECT_EQ(CountMatches(line, c, {{"backlog", 4}}), 0);
}

TEST(Trace, CallsCarryResultAndErrnoName)
{
    CallEvent c = Call(1, "server", "server", "bind", -1);
    c.Errno = EADDRINUSE;
    c.Args = fixtures::To("127.0.0.1:4000");
    c.Fd = 3;
    auto j = CallToJson(c);
    EXPECT_EQ(j["actor"], "server");
    EXPECT_EQ(j["call"], "bind");
    EXPECT_EQ(j["result"], -1);
    EXPECT_EQ(j["errno"], "EADDRINUSE");
    EXPECT_EQ(CallToJson(Call(2, "server", "server", "listen"))["errno"], nullptr);
}

TEST(World, WaitingBytesAreTheTailOfWhatThePeerWroteAsLongAsTheKernelCountsThem)
{
    World w;
    w.Apply(NewSocket(1, "client", "client", 4, 10));
    CallEvent a = fixtures::Finished(2, "client", "client", "send", {}, 5, 4);
    a.Data = "hello";
    w.Apply(a);
    CallEvent b = fixtures::Finished(3, "client", "client", "send", {}, 7, 4);
    b.Data = ", world";
    w.Apply(b);
    Snapshot snap;
    snap.T = 4;
    // 9 of the 12 bytes unread at the server's end (3 were read), 2 unacknowledged at the client's.
    snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:50000", "127.0.0.1:4000", 10, 1004, 0, 2));
    snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:4000", "127.0.0.1:50000", 20, 0, 9, 0));
    w.Apply(snap);
    const SocketView* server = w.FindSocket(20);
    const SocketView* client = w.FindSocket(10);
    ASSERT_TRUE(server && client);
    EXPECT_EQ(server->RecvBytes, std::optional<std::string>("lo, world"));
    EXPECT_EQ(client->SendBytes, std::optional<std::string>("ld"));
    EXPECT_EQ(client->RecvBytes, std::optional<std::string>(""));

    // The peer closed: Recv-Q counts its FIN too, which is not a byte.
    snap.T = 5;
    snap.Sockets[1] = Row(TcpState::CloseWait, "127.0.0.1:4000", "127.0.0.1:50000", 20, 0, 10, 0);
    w.Apply(snap);
    EXPECT_EQ(w.FindSocket(20)->RecvBytes, std::optional<std::string>("lo, world"));

    // A write that kept only part of what it sent: the bytes waiting are not known.
    CallEvent big = fixtures::Finished(6, "client", "client", "send", {}, 100000, 4);
    big.Data = std::string(MaxCallData, 'x');
    w.Apply(big);
    snap.T = 7;
    snap.Sockets[1] = Row(TcpState::Established, "127.0.0.1:4000", "127.0.0.1:50000", 20, 0, 5000, 0);
    w.Apply(snap);
    EXPECT_FALSE(w.FindSocket(20)->RecvBytes);
}

TEST(World, AnIpv4ClientOfADualStackListenerIsTheLabsOwnConnection)
{
    World w;
    w.Apply(NewSocket(1, "client", "client", 4, 10));
    Snapshot snap;
    snap.T = 2;
    snap.Sockets.push_back(Row(TcpState::Listen, "[::]:4000", "[::]:0", 30, 1200, 1, 5));
    snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:50000", "127.0.0.1:4000", 10, 1004));
    snap.Sockets.push_back(Row(TcpState::Established, "[::ffff:127.0.0.1]:4000", "[::ffff:127.0.0.1]:50000", 20, 0));
    w.Apply(snap);
    const SocketView* server = w.FindSocket(20);
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(server->Role, SocketRole::Server);
    EXPECT_FALSE(server->External) << "its peer, 127.0.0.1:50000, is the lab's client";
    EXPECT_EQ(server->Queue, QueueKind::Accept);
}

TEST(World, WithoutCaptureTheSegmentsAStateChangeProvesAreInferredAndSaySo)
{
    World w;
    w.SetInferSegments(true);
    w.Apply(NewSocket(1, "client", "client", 4, 10));
    CallEvent connect = fixtures::Finished(2, "client", "client", "connect", {}, 0, 4);
    connect.Local = Ep("127.0.0.1:50000");
    connect.Remote = Ep("127.0.0.1:4000");
    w.Apply(connect);
    Snapshot snap;
    snap.T = 3;
    // Loopback is faster than the probe: the client is first seen ESTABLISHED.
    snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:50000", "127.0.0.1:4000", 10, 1004));
    w.Apply(snap);
    ASSERT_EQ(w.Segments().size(), 3u);
    EXPECT_EQ(FlagsName(w.Segments()[0].Flags), "SYN");
    EXPECT_EQ(FlagsName(w.Segments()[1].Flags), "SYN-ACK");
    EXPECT_EQ(w.Segments()[1].Src.ToString(), "127.0.0.1:4000");
    EXPECT_EQ(FlagsName(w.Segments()[2].Flags), "ACK");
    for (const auto& s : w.Segments())
        EXPECT_TRUE(s.Inferred);
    CallEvent send = fixtures::Finished(4, "client", "client", "send", {}, 5, 4);
    send.Data = "hello";
    w.Apply(send);
    ASSERT_EQ(w.Segments().size(), 4u);
    EXPECT_EQ(w.Segments()[3].Len, 5u);
    snap.T = 5;
    snap.Sockets[0].State = TcpState::FinWait2; // FIN-WAIT-1 came and went between looks
    w.Apply(snap);
    ASSERT_EQ(w.Segments().size(), 5u);
    EXPECT_EQ(FlagsName(w.Segments()[4].Flags), "FIN-ACK");
    snap.T = 6;
    snap.Sockets[0].State = TcpState::TimeWait;
    w.Apply(snap);
    EXPECT_EQ(w.Segments().size(), 5u) << "its FIN was already counted";

    World captured; // with a capture, nothing is made up
    captured.Apply(NewSocket(1, "client", "client", 4, 10));
    captured.Apply(snap);
    EXPECT_TRUE(captured.Segments().empty());
}
