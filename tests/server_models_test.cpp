// The server models of the lecture notes, each serving three clients at once, checked
// against the kernel's own witnesses: `ss -tanp` (which process holds each connection),
// `ps` (a zombie is state Z) and /proc/self/task (a lane's thread exists).
#include "clock.hpp"
#include "lab.hpp"
#include "lane.hpp"
#include "player.hpp"
#include "server_loop.hpp"
#include "test_util.hpp"
#include "world.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>

using namespace sockscope;
using namespace sockscope::test;

namespace {

struct Run3 {
    Lab TheLab;
    World TheWorld;
    LessonPlayer Player{TheLab, TheWorld};

    explicit Run3(const std::string& name)
    {
        std::string error;
        auto lesson = FindLesson(name, error);
        EXPECT_TRUE(lesson) << error;
        if (lesson)
            Player.Load(*lesson);
    }
    // Steps 1..k, each as the lesson says.
    void StepTo(int k)
    {
        while (Player.StepsDone() < k) {
            Player.StepForward();
            ASSERT_TRUE(DriveUntilIdle(TheLab, TheWorld, Player, 60.0));
            std::string failures;
            for (const auto& r : Player.Results())
                if (!r.Ok)
                    failures += r.Claim.English() + " (seen: " + r.Seen.English() + "); ";
            ASSERT_EQ(Player.CurrentStatus(), StepStatus::Passed) << "step " << Player.StepsDone() << ": " << failures;
        }
    }
    std::vector<const ActorView*> Lanes(const std::string& kind) const
    {
        std::vector<const ActorView*> out;
        for (const auto& a : TheWorld.Actors())
            if (a.LaneKind == kind)
                out.push_back(&a);
        return out;
    }
};

// pid of the process `ss -tanp` names for each connection whose local port is `port`.
std::multiset<int> SsPids(int port)
{
    auto r = Run("ss -Htanp state established '( sport = :" + std::to_string(port) + " )'");
    std::multiset<int> pids;
    for (const auto& line : Lines(r.Out)) {
        auto at = line.find("pid=");
        if (at != std::string::npos)
            pids.insert(std::stoi(line.substr(at + 4)));
    }
    return pids;
}

std::string PsState(int pid)
{
    auto r = Run("ps -o stat= -p " + std::to_string(pid));
    return r.Out.empty() ? "" : r.Out.substr(0, 1);
}

} // namespace

TEST(ServerModels, ForkServesThreeClientsWithAProcessEachThenZombiesUntilWaitpid)
{
    Run3 run("fork-server");
    run.StepTo(2);
    auto children = run.Lanes("process");
    ASSERT_EQ(children.size(), 3u);
    std::multiset<int> lane_pids;
    for (const auto* c : children) {
        EXPECT_NE(c->Pid, getpid()) << "a child is a process of its own";
        EXPECT_EQ(c->Parent, "server");
        EXPECT_EQ(PsState(c->Pid), "S") << c->Name << " sleeps in recv()";
        lane_pids.insert(c->Pid);
    }
    // Each server-side connection is held by exactly the child the lane says.
    EXPECT_EQ(SsPids(run.Player.Port()), lane_pids);
    for (const auto& s : run.TheWorld.Sockets()) {
        if (s.Role == SocketRole::Server) {
            EXPECT_EQ(s.Actor.rfind("child ", 0), 0u) << "held by " << s.Actor;
        }
    }

    run.StepTo(3); // client1 says bye: its child exits, not reaped
    const ActorView* zombie = nullptr;
    for (const auto* c : run.Lanes("process"))
        if (c->Status == "zombie")
            zombie = c;
    ASSERT_NE(zombie, nullptr);
    ASSERT_TRUE(WaitUntil([&] { return PsState(zombie->Pid) == "Z"; })) << "ps agrees: a zombie";
    // Its life came as LaneEvents (through the worker's pipe, then from its parent), its
    // calls as calls: fork() returning 0 in the child and its exit() are no calls of its.
    std::vector<LaneEventKind> life;
    for (const auto& e : zombie->Life)
        life.push_back(e.Kind);
    EXPECT_EQ(life, (std::vector<LaneEventKind>{LaneEventKind::Forked, LaneEventKind::Exiting, LaneEventKind::Zombie}));
    ASSERT_FALSE(zombie->Calls.empty());
    EXPECT_EQ(zombie->Calls.front().Call, CallId::Close) << "its first call closes its copy of the listener";
    EXPECT_EQ(zombie->Life.front().Inherited.size(), 2u) << "the listener and the connection";
    EXPECT_EQ(zombie->Life.front().Pid, zombie->Pid);
    int zombie_pid = zombie->Pid;
    std::string zombie_name = zombie->Name;
    run.StepTo(4); // waitpid()
    EXPECT_TRUE(WaitUntil([&] { return PsState(zombie_pid).empty(); })) << "reaped: gone from ps";
    EXPECT_EQ(run.TheWorld.FindActor(zombie_name)->Status, "reaped") << "the Reaped event came after waitpid()";
}

TEST(ServerModels, ForkServerReapsAtOnceOnSigchldAndRestartsAccept)
{
    Lab lab;
    World world;
    int port = PickFreePort();
    auto submit = [&](const char* actor, const char* name, auto&& set) {
        CallRequest r;
        r.Actor = actor;
        r.ActorKind = std::string(actor) == "server" ? "server" : "client";
        r.Call = CallFromName(name).value();
        r.Port = port;
        set(r);
        return lab.Submit(r);
    };
    auto none = [](CallRequest&) {};
    auto done = [&](std::uint64_t id) {
        const CallEvent* c = nullptr;
        EXPECT_TRUE(WaitUntil([&] {
            for (auto& e : lab.Drain())
                world.Apply(e);
            c = world.FindCall(id);
            return c && c->Phase == CallPhase::Finished;
        }));
        return c ? *c : CallEvent{};
    };
    done(submit("server", "socket", none));
    done(submit("server", "bind", none));
    done(submit("server", "listen", none));
    ASSERT_EQ(done(submit("server", "serve", [](CallRequest& r) { r.Model = "fork"; })).Result, 0);
    done(submit("client", "socket", none));
    ASSERT_EQ(done(submit("client", "connect", none)).Result, 0);
    ASSERT_EQ(done(submit("client", "send", [](CallRequest& r) { r.Data = "bye\n"; })).Result, 4);
    // The child exits; SIGCHLD interrupts accept() (EINTR), waitpid() reaps, accept() again.
    ASSERT_TRUE(WaitUntil([&] {
        for (auto& e : lab.Drain())
            world.Apply(e);
        for (const auto& a : world.Actors())
            if (a.LaneKind == "process" && a.Status == "reaped")
                return true;
        return false;
    }));
    const ActorView* server = world.FindActor("server");
    ASSERT_NE(server, nullptr);
    bool eintr = false, reaped = false;
    for (const auto& c : server->Calls) {
        eintr = eintr || (c.Call == CallId::Accept && ErrnoName(c.Errno) == "EINTR");
        reaped = reaped || (c.Call == CallId::Waitpid && c.Result > 0 && eintr);
    }
    EXPECT_TRUE(eintr) << "SIGCHLD interrupts the blocked accept()";
    EXPECT_TRUE(reaped) << "the handler's waitpid() reaps the child";
    ASSERT_TRUE(WaitUntil([&] {
        for (auto& e : lab.Drain())
            world.Apply(e);
        const CallEvent* now = server->Current();
        return now && now->Call == CallId::Accept && now->Phase == CallPhase::Blocked;
    })) << "and the server accepts again";
}

TEST(ServerModels, ThreadServerServesThreeClientsWithAThreadEachInOneProcess)
{
    Run3 run("thread-server");
    run.StepTo(2);
    auto threads = run.Lanes("thread");
    ASSERT_EQ(threads.size(), 3u);
    for (const auto* t : threads) {
        EXPECT_EQ(t->Pid, getpid());
        EXPECT_EQ(access(("/proc/self/task/" + std::to_string(t->Tid)).c_str(), F_OK), 0)
            << t->Name << " is a thread of this process";
    }
    EXPECT_EQ(SsPids(run.Player.Port()), (std::multiset<int>{getpid(), getpid(), getpid()}));
    int tid = threads[0]->Tid;
    run.StepTo(3);
    EXPECT_TRUE(WaitUntil([&] { return access(("/proc/self/task/" + std::to_string(tid)).c_str(), F_OK) != 0; }))
        << "the thread ended";
}

// A thread of the thread model is joined as soon as its client says bye, not when the
// server stops: a server that runs all afternoon keeps no finished threads. (The
// kernel's task of a finished thread is gone whether or not it was joined, so
// /proc/self/task cannot tell; WorkerThreads() counts the std::threads not joined.)
TEST(ServerModels, AThreadServersWorkerIsJoinedWhenItsClientLeavesNotWhenTheServerStops)
{
    LabOptions options;
    options.StartProbe = false;
    options.CaptureSegments = false;
    Lab lab(options);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(lfd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(lfd, 5), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    ServerSpec spec;
    spec.Model = "thread";
    ServerLoop server(lab, "server", "lfd", UniqueFd(lfd), spec);

    for (int client = 1; client <= 2; ++client) {
        SCOPED_TRACE("client " + std::to_string(client));
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        timeval timeout{10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        char buf[64];
        ASSERT_EQ(send(fd, "hello\n", 6, 0), 6);
        ASSERT_EQ(recv(fd, buf, sizeof buf, 0), 6) << "echoed by its thread";
        EXPECT_EQ(server.WorkerThreads(), 1u) << "one thread serves it";
        ASSERT_EQ(send(fd, "bye\n", 4, 0), 4);
        long n = 0;
        while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
        }
        EXPECT_EQ(n, 0) << "the thread closed the connection";
        EXPECT_TRUE(WaitUntil([&] { return server.WorkerThreads() == 0; }))
            << "the finished thread is joined while the server goes on accepting";
        close(fd);
    }
}

TEST(ServerModels, EpollAndIterativeServersUseOneThread)
{
    for (const char* name : {"epoll-server", "why-concurrency"}) {
        Run3 run(name);
        run.StepTo(2);
        EXPECT_TRUE(run.Lanes("thread").empty()) << name;
        EXPECT_TRUE(run.Lanes("process").empty()) << name;
        for (int pid : SsPids(run.Player.Port()))
            EXPECT_EQ(pid, getpid()) << name;
    }
}

TEST(ServerModels, AResetStopsEveryLaneAndLeavesNothingBehind)
{
    std::thread([] {}).join();
    int fds = OpenFds();
    const std::set<int> tasks = ThreadIds();
    for (const char* name : {"fork-server", "thread-server", "epoll-server", "why-concurrency"}) {
        Run3 run(name);
        run.StepTo(2);
        std::vector<int> children;
        for (const auto* c : run.Lanes("process"))
            children.push_back(c->Pid);
        double start = MonotonicSeconds();
        run.TheLab.Reset();
        EXPECT_LT(MonotonicSeconds() - start, 1.0) << name;
        for (int pid : children)
            EXPECT_EQ(PsState(pid), "") << name << ": child " << pid << " killed and reaped";
        EXPECT_TRUE(SsRows(run.Player.Port()).empty()) << name << ": no socket left on the port";
    }
    EXPECT_EQ(OpenFds(), fds);
    EXPECT_TRUE(WaitUntil([&] { return NewThreads(tasks).empty(); })) << "threads left: " << NewThreads(tasks);
}

TEST(ServerModels, AStudentsClientFromAnotherProcessIsEchoed)
{
    for (const char* name : {"thread-server", "fork-server", "epoll-server"}) {
        Run3 run(name);
        run.StepTo(1);
        std::string port = std::to_string(run.Player.Port());
        // bash's /dev/tcp: a separate process, like a student's nc or telnet.
        auto r = sockscope::test::Run("timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port +
                     " && printf \"hello from nc\\n\" >&3 && IFS= read -r line <&3 && echo \"$line\" && printf \"bye\\n\" >&3'");
        EXPECT_EQ(r.Status, 0) << name;
        EXPECT_EQ(r.Out, "hello from nc\n") << name << ": the server model echoed it";
        bool served = false;
        EXPECT_TRUE(WaitUntil([&] {
            for (auto& e : run.TheLab.Drain())
                run.TheWorld.Apply(e);
            for (const auto& a : run.TheWorld.Actors())
                for (const auto& c : a.Calls)
                    served = served || (c.Call == CallId::Recv && c.Data == "hello from nc\n" && a.Name != "client1");
            return served;
        })) << name;
        // (That a connection from another process shows as external: lab_test.)
    }
}

// A forked worker reports through a pipe, one JSON line per event: its calls and the
// moments of its life come out as they went in, typed.
TEST(ServerModels, AForkWorkersEventsCrossThePipeAsTheyWereMade)
{
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    UniqueFd read_end(p[0]), write_end(p[1]);
    std::vector<LaneReport> sent;
    std::uint64_t next = 1;
    Lane lane(
        "child 4242", "server",
        [&](const LaneReport& event) {
            sent.push_back(event);
            std::string line = EncodeEvent(event) + "\n";
            ASSERT_EQ(write(write_end.Get(), line.data(), line.size()), static_cast<long>(line.size()));
        },
        [&] { return next++; });
    lane.Life(LaneEventKind::Forked, LaneType::Process, Say(PhraseId::ForkInChild), "server",
              {FdInfo{"lfd", 3, 9000, 100}, FdInfo{"conn1", 5, 9001, 0xfedcba9876543210ull}});
    CallArgs args;
    args.Len = 64;
    lane.Done(CallId::Recv, "conn1", 5, args, 4, 0, Say(PhraseId::ClientSaidBye));
    lane.Life(LaneEventKind::Exiting, LaneType::Process, Say(PhraseId::ChildEnds));
    write_end = UniqueFd();

    std::string text;
    char buf[4096];
    for (long n; (n = read(read_end.Get(), buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<std::size_t>(n));
    std::vector<LaneReport> got;
    for (const auto& line : Lines(text)) {
        auto event = DecodeEvent(line);
        ASSERT_TRUE(event) << line;
        got.push_back(std::move(*event));
    }
    ASSERT_EQ(got.size(), sent.size());
    ASSERT_EQ(got.size(), 4u) << "recv: Started, then Finished";
    for (std::size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE("event " + std::to_string(i));
        ASSERT_EQ(got[i].index(), sent[i].index());
        if (const auto* life = std::get_if<LaneEvent>(&got[i])) {
            const auto& want = std::get<LaneEvent>(sent[i]);
            EXPECT_EQ(life->Id, want.Id);
            EXPECT_EQ(life->Kind, want.Kind);
            EXPECT_EQ(life->Type, LaneType::Process);
            EXPECT_EQ(life->Actor, "child 4242");
            EXPECT_EQ(life->ActorKind, "server");
            EXPECT_EQ(life->Pid, getpid());
            EXPECT_EQ(life->Tid, gettid());
            EXPECT_EQ(life->Parent, want.Parent);
            EXPECT_EQ(life->Note.Key, want.Note.Key);
            EXPECT_EQ(life->Note.Args, want.Note.Args);
            EXPECT_NEAR(life->T, want.T, 1e-6) << "back on this process's clock";
            ASSERT_EQ(life->Inherited.size(), want.Inherited.size());
            for (std::size_t f = 0; f < want.Inherited.size(); ++f) {
                EXPECT_EQ(life->Inherited[f].Handle, want.Inherited[f].Handle);
                EXPECT_EQ(life->Inherited[f].Fd, want.Inherited[f].Fd);
                EXPECT_EQ(life->Inherited[f].Inode, want.Inherited[f].Inode);
                EXPECT_EQ(life->Inherited[f].Cookie, want.Inherited[f].Cookie);
            }
        } else {
            const auto& call = std::get<CallEvent>(got[i]);
            const auto& want = std::get<CallEvent>(sent[i]);
            EXPECT_EQ(call.Id, want.Id);
            EXPECT_EQ(call.Call, CallId::Recv);
            EXPECT_EQ(call.Phase, want.Phase);
            EXPECT_EQ(call.Result, want.Result);
            EXPECT_EQ(call.Handle, "conn1");
            EXPECT_EQ(call.Args.Len, 64);
            EXPECT_EQ(call.Note.Key, want.Note.Key);
        }
    }
    EXPECT_EQ(std::get<LaneEvent>(got.front()).Kind, LaneEventKind::Forked);
    EXPECT_EQ(std::get<LaneEvent>(got.back()).Kind, LaneEventKind::Exiting);
    EXPECT_FALSE(DecodeEvent(R"({"life": 99, "type": 1})")) << "a kind nobody knows is refused";
}
