// Floods and limits, against the real kernel on loopback: running out of descriptors,
// 10,000 connections from another process, a peer that sends 100 MB nobody reads, a
// peer that sends garbage, a peer that resets in the middle of a large send. In each,
// the lab says what the kernel said, its memory stays bounded (kernel buffers are the
// kernel's, not sockscope's), nothing else is disturbed, and a reset leaves nothing.
#include "lab.hpp"
#include "player.hpp"
#include "test_util.hpp"
#include "world.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <random>
#include <spawn.h>
#include <sys/resource.h>
#include <thread>

extern char** environ;

using namespace sockscope;
using namespace sockscope::test;
using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SOCKSCOPE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SOCKSCOPE_SANITIZED 1
#endif
#endif
#ifdef SOCKSCOPE_SANITIZED
constexpr bool Sanitized = true;
#else
constexpr bool Sanitized = false;
#endif
// A sanitizer's quarantine and shadow memory make resident memory say little about
// sockscope's own: the memory bounds are checked in plain builds only (the tests run).
constexpr bool CheckMemory = !Sanitized;

namespace {

// Resident memory of this process, in KiB (/proc/self/status VmRSS).
long RssKb()
{
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

std::string CookieHex(std::uint64_t cookie)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(cookie));
    return buf;
}

// Aborts the test binary, saying what hung, if it is still alive when `limit` passes:
// a hang fails here with a message rather than at ctest's timeout.
class Watchdog {
public:
    Watchdog(std::chrono::seconds limit, std::string what)
        : Thread([this, limit, what = std::move(what)] {
              std::unique_lock lock(Mutex);
              if (!Done.wait_for(lock, limit, [this] { return Finished; })) {
                  std::fprintf(stderr, "%s: still running after %lld s: a hang\n", what.c_str(),
                               static_cast<long long>(limit.count()));
                  std::abort();
              }
          })
    {
    }
    ~Watchdog()
    {
        {
            std::lock_guard lock(Mutex);
            Finished = true;
        }
        Done.notify_all();
        Thread.join();
    }

private:
    std::mutex Mutex;
    std::condition_variable Done;
    bool Finished = false;
    std::thread Thread; // last: starts once the members above exist
};

// The open-file limit, restored on destruction.
struct NoFileLimit {
    rlimit Saved{};
    NoFileLimit() { getrlimit(RLIMIT_NOFILE, &Saved); }
    ~NoFileLimit() { setrlimit(RLIMIT_NOFILE, &Saved); }
    NoFileLimit(const NoFileLimit&) = delete;
    NoFileLimit& operator=(const NoFileLimit&) = delete;
    bool SetSoft(rlim_t soft)
    {
        rlimit lim = Saved;
        lim.rlim_cur = soft;
        return setrlimit(RLIMIT_NOFILE, &lim) == 0;
    }
};

int LowestFreeFd()
{
    for (int fd = 0;; ++fd)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            return fd;
}

int RawConnect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// A lab and its world model, with the calls the tests make.
struct Bench {
    explicit Bench(LabOptions options = {}) : TheLab(options) {}
    Lab TheLab;
    World TheWorld;
    std::function<void(const CallEvent&)> OnCall; // sees every call event, in order
    std::size_t MostSnapshotsInADrain = 0;

    void Pump()
    {
        std::size_t snapshots = 0;
        for (auto& e : TheLab.Drain()) {
            if (const auto* c = std::get_if<CallEvent>(&e); c && OnCall)
                OnCall(*c);
            snapshots += std::holds_alternative<Snapshot>(e);
            TheWorld.Apply(e);
        }
        MostSnapshotsInADrain = std::max(MostSnapshotsInADrain, snapshots);
    }
    std::uint64_t Submit(const std::string& actor, const std::string& call,
                         const std::function<void(CallRequest&)>& more = {})
    {
        CallRequest r;
        r.Actor = actor;
        r.ActorKind = actor.rfind("server", 0) == 0 ? "server" : "client";
        r.Call = call;
        if (more)
            more(r);
        return TheLab.Submit(r);
    }
    CallPhase Phase(std::uint64_t id)
    {
        Pump();
        const CallEvent* c = TheWorld.FindCall(id);
        return c ? c->Phase : CallPhase::Queued;
    }
    // The call's final event (Result -2 and a failure if it did not finish in time).
    CallEvent Await(std::uint64_t id, std::chrono::milliseconds timeout = 5s)
    {
        CallEvent out;
        if (!WaitUntil([&] {
                Pump();
                const CallEvent* c = TheWorld.FindCall(id);
                if (c && c->Phase == CallPhase::Finished)
                    out = *c;
                return c && c->Phase == CallPhase::Finished;
            }, timeout)) {
            ADD_FAILURE() << "call " << id << " did not finish within " << timeout.count() << " ms";
            out.Result = -2;
            out.Note = "did not finish";
        }
        return out;
    }
    CallEvent Do(const std::string& actor, const std::string& call, const std::function<void(CallRequest&)>& more = {},
                 std::chrono::milliseconds timeout = 5s)
    {
        return Await(Submit(actor, call, more), timeout);
    }
    // socket, bind to a free port, listen: the port, or 0.
    int Listen(const std::string& actor, int backlog)
    {
        int port = PickFreePort();
        bool ok = Do(actor, "socket").Result >= 0 &&
                  Do(actor, "bind", [&](CallRequest& r) { r.Port = port; }).Result == 0 &&
                  Do(actor, "listen", [&](CallRequest& r) { r.Backlog = backlog; }).Result == 0;
        return ok ? port : 0;
    }
    const ListenerView* Listener(int port)
    {
        for (const auto& l : TheWorld.Listeners())
            if (l.Local.Port == port)
                return &l;
        return nullptr;
    }
    std::uint64_t CookieOf(const std::string& actor, const std::string& handle)
    {
        const ActorView* a = TheWorld.FindActor(actor);
        if (!a || !a->Fds.count(handle))
            return 0;
        return a->Fds.at(handle).Cookie;
    }
};

auto Fd(std::string handle)
{
    return [handle](CallRequest& r) { r.Fd = handle; };
}
auto As(std::string handle)
{
    return [handle](CallRequest& r) { r.As = handle; };
}

// The flood_peer helper, run as a second process; it exits when its standard input closes.
class Peer {
public:
    ~Peer()
    {
        if (Pid > 0) {
            kill(Pid, SIGKILL);
            waitpid(Pid, nullptr, 0);
        }
        CloseFds();
    }
    bool Start(const std::vector<std::string>& args)
    {
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
            return false;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        int err = posix_spawn(&Pid, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(in[0]);
        close(out[1]);
        In = in[1];
        Out = out[0];
        if (err != 0)
            Pid = -1;
        return err == 0;
    }
    // The next line the peer prints, or "" if none came within `timeout`.
    std::string ReadLine(std::chrono::milliseconds timeout)
    {
        auto end = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = Buffered.find('\n'); nl != std::string::npos) {
                std::string line = Buffered.substr(0, nl);
                Buffered.erase(0, nl + 1);
                return line;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            pollfd pfd{Out, POLLIN, 0};
            if (left.count() <= 0 || poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
                return "";
            char buf[256];
            long n = read(Out, buf, sizeof buf);
            if (n <= 0)
                return "";
            Buffered.append(buf, static_cast<std::size_t>(n));
        }
    }
    // Closes its standard input and waits for it to exit: its exit status, or -1.
    int Stop()
    {
        CloseFds();
        int status = 0;
        bool exited = WaitUntil([&] { return waitpid(Pid, &status, WNOHANG) == Pid; }, 10s);
        if (!exited) {
            kill(Pid, SIGKILL);
            waitpid(Pid, &status, 0);
        }
        Pid = -1;
        return exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    void CloseFds()
    {
        if (In >= 0)
            close(In);
        if (Out >= 0)
            close(Out);
        In = Out = -1;
    }
    pid_t Pid = -1;
    int In = -1, Out = -1;
    std::string Buffered;
};

bool AllPrintable(const std::string& s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

} // namespace

TEST(Flood, OutOfDescriptorsAcceptSaysEmfileAndRecoversWhenOneIsFreed)
{
    Watchdog dog(60s, "OutOfDescriptors");
    std::thread([] {}).join(); // a sanitizer's helper thread, if any, exists before the baseline
    int fds_before = OpenFds();
    int threads_before = Threads();
    {
        // No probe thread: it opens /proc files now and then, which would race with the
        // test for the last free descriptor. DumpNow() asks the kernel instead.
        Bench b(LabOptions{.StartProbe = false});
        int port = b.Listen("server", 16);
        ASSERT_GT(port, 0);
        int clients[3];
        for (int& c : clients) {
            c = RawConnect(port);
            ASSERT_GE(c, 0);
        }
        ASSERT_TRUE(WaitUntil([&] {
            b.TheWorld.Apply(b.TheLab.DumpNow());
            const ListenerView* l = b.Listener(port);
            return l && l->AcceptQueue == 3;
        })) << "three connections wait in the accept queue";

        int spare = dup(0); // a descriptor to free later, below the limit
        ASSERT_GE(spare, 0);
        std::vector<int> fillers;
        struct CloseFillers { // even when an assertion ends the test early
            std::vector<int>& Fds;
            ~CloseFillers()
            {
                for (int fd : Fds)
                    close(fd);
            }
        } close_fillers{fillers};
        {
            NoFileLimit limit;
            // Every descriptor number below the new soft limit is taken: the next fails.
            ASSERT_TRUE(limit.SetSoft(static_cast<rlim_t>(LowestFreeFd())));
            for (int fd; (fd = dup(0)) >= 0;)
                fillers.push_back(fd);
            ASSERT_EQ(errno, EMFILE);

            CallEvent accept = b.Do("server", "accept", As("conn"));
            EXPECT_EQ(accept.Result, -1);
            EXPECT_EQ(ErrnoName(accept.Errno), "EMFILE");
            EXPECT_NE(accept.Note.find("RLIMIT_NOFILE"), std::string::npos) << accept.Note;
            EXPECT_NE(accept.Note.find("accept queue"), std::string::npos) << accept.Note;

            // The kernel cannot be asked either (a netlink socket is a descriptor), and that is said.
            Snapshot snap = b.TheLab.DumpNow();
            EXPECT_NE(snap.Error.find("EMFILE"), std::string::npos) << snap.Error;

            // An actor made now gets no eventfd to be woken through: its calls still run.
            CallEvent sock = b.Do("client9", "socket");
            EXPECT_EQ(sock.Result, -1);
            EXPECT_EQ(ErrnoName(sock.Errno), "EMFILE");
            EXPECT_NE(sock.Note.find("RLIMIT_NOFILE"), std::string::npos) << sock.Note;

            // One descriptor freed: the next accept() takes that number, the one after fails again.
            close(spare);
            CallEvent accepted = b.Do("server", "accept", As("conn"));
            EXPECT_EQ(accepted.Result, spare) << ErrnoName(accepted.Errno) << " " << accepted.Note;
            CallEvent again = b.Do("server", "accept", As("conn"));
            EXPECT_EQ(ErrnoName(again.Errno), "EMFILE");
        } // the limit is restored
        for (int fd : fillers)
            close(fd);
        fillers.clear();

        // Recovered: the rest of the queue is accepted, and the kernel can be asked again.
        EXPECT_GE(b.Do("server", "accept", As("conn")).Result, 0);
        Snapshot snap = b.TheLab.DumpNow();
        EXPECT_TRUE(snap.Error.empty()) << snap.Error;
        b.TheWorld.Apply(snap);
        ASSERT_NE(b.Listener(port), nullptr);
        EXPECT_EQ(b.Listener(port)->AcceptQueue, 1u);
        unsigned ss_queue = 99;
        for (const auto& r : SsRows(port))
            if (r.State == "LISTEN")
                ss_queue = r.RecvQ;
        EXPECT_EQ(ss_queue, 1u) << "ss agrees: one connection still waits";

        // The oldest connection was the first accepted, and carries bytes.
        ASSERT_EQ(write(clients[0], "hi", 2), 2);
        CallEvent read = b.Do("server", "recv", Fd("conn"));
        EXPECT_EQ(read.Data, "hi");

        // The actor made without an eventfd works now, and a reset still wakes its blocked call.
        EXPECT_GE(b.Do("client9", "socket").Result, 0);
        EXPECT_EQ(b.Do("client9", "connect", [&](CallRequest& r) { r.Port = port; }).Result, 0);
        std::uint64_t recv_id = b.Submit("client9", "recv");
        ASSERT_TRUE(WaitUntil([&] { return b.Phase(recv_id) == CallPhase::Blocked; }));
        auto start = std::chrono::steady_clock::now();
        b.TheLab.Reset();
        EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
        for (int c : clients)
            close(c);
    }
    EXPECT_TRUE(WaitUntil([&] { return Threads() == threads_before; })) << Threads() << " vs " << threads_before;
    EXPECT_EQ(OpenFds(), fds_before);
}

TEST(Flood, TenThousandConnectionsFromAnotherProcess)
{
    constexpr int N = 10000;
    NoFileLimit limit;
    // The peer holds N descriptors (it raises its own soft limit to the hard one); the lab
    // accepts up to somaxconn + 1 of them.
    constexpr rlim_t needed = N + 512;
    if (limit.Saved.rlim_max != RLIM_INFINITY && limit.Saved.rlim_max < needed) {
        GTEST_SKIP() << "the open-file hard limit is " << limit.Saved.rlim_max << ", below the " << needed
                     << " this test needs (ulimit -Hn)";
    }
    if (limit.Saved.rlim_cur != RLIM_INFINITY && limit.Saved.rlim_cur < needed) {
        ASSERT_TRUE(limit.SetSoft(limit.Saved.rlim_max));
    }

    Watchdog dog(120s, "TenThousandConnections");
    std::thread([] {}).join();
    int fds_before = OpenFds();
    int threads_before = Threads();
    long rss_before = RssKb();
    {
        // Under a sanitizer, dumping ~14,000 sockets every 15 ms would take a core of its own
        // and starve the actor the test waits for: the probe looks less often there.
        Bench b(LabOptions{.ProbeInterval = Sanitized ? 100ms : 15ms});
        int port = b.Listen("server", 65535);
        ASSERT_GT(port, 0);
        Peer peer;
        auto t0 = std::chrono::steady_clock::now();
        ASSERT_TRUE(peer.Start({FLOOD_PEER, "connect", std::to_string(port), std::to_string(N)}));
        ASSERT_EQ(peer.ReadLine(20s), "connecting " + std::to_string(N));

        // The accept queue fills to the kernel's limit: the backlog (capped by somaxconn) + 1.
        std::uint32_t backlog = 0, queued = 0;
        ASSERT_TRUE(WaitUntil([&] {
            b.Pump();
            const ListenerView* l = b.Listener(port);
            backlog = l ? l->Backlog : 0;
            queued = l ? l->AcceptQueue : 0;
            return l && l->Backlog > 0 && l->AcceptQueue == l->Backlog + 1;
        }, 20s)) << "accept queue " << queued << " of backlog " << backlog;
        double full_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::ifstream somaxconn("/proc/sys/net/core/somaxconn");
        std::uint32_t cap = 0;
        somaxconn >> cap;
        EXPECT_EQ(backlog, std::min<std::uint32_t>(cap, 65535)) << "listen(fd, 65535) is capped by somaxconn";
        unsigned ss_queue = 0;
        std::size_t ss_rows = 0;
        for (const auto& r : SsRows(port)) {
            ++ss_rows;
            if (r.State == "LISTEN")
                ss_queue = r.RecvQ;
        }
        EXPECT_EQ(ss_queue, queued) << "ss shows the same accept queue";

        // The flood sits there: the probe goes on reporting, and memory stays where it is
        // (measured from once the model has settled on the flood's sockets).
        long rss_full = RssKb();
        auto snapshots = b.TheWorld.SnapshotCount();
        EXPECT_TRUE(WaitUntil([&] {
            b.Pump();
            return b.TheWorld.SnapshotCount() >= snapshots + (CheckMemory ? 3 : 1);
        }, 60s)) << "the probe went quiet";
        long rss_settled = RssKb();
        snapshots = b.TheWorld.SnapshotCount();
        EXPECT_TRUE(WaitUntil([&] {
            b.Pump();
            // (Fewer under a sanitizer, where memory is not measured and each one is slow.)
            return b.TheWorld.SnapshotCount() >= snapshots + (CheckMemory ? 8 : 3);
        }, 60s)) << "the probe went quiet: " << b.TheWorld.SnapshotCount() - snapshots << " snapshots";
        auto more_snapshots = b.TheWorld.SnapshotCount() - snapshots;
        EXPECT_TRUE(b.TheWorld.ProbeError().empty()) << b.TheWorld.ProbeError();
        long rss_sat = RssKb();
        std::size_t model_sockets = b.TheWorld.Sockets().size();

        // The lab accepts every connection the queue held; each costs one descriptor.
        int fds_queued = OpenFds();
        int accepted = 0, failed = 0;
        std::string first_failure;
        b.OnCall = [&](const CallEvent& c) {
            if (c.Call != "accept" || c.Phase != CallPhase::Finished)
                return;
            if (c.Result >= 0) {
                ++accepted;
            } else if (failed++ == 0) {
                first_failure = ErrnoName(c.Errno) + " " + c.Note;
            }
        };
        auto t_accept = std::chrono::steady_clock::now();
        for (std::uint32_t i = 0; i < queued; ++i)
            b.Submit("server", "accept", As("conn"));
        EXPECT_TRUE(WaitUntil([&] {
            b.Pump();
            return accepted + failed == static_cast<int>(queued);
        }, 60s)) << accepted << " accepted, " << failed << " failed";
        double accept_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_accept).count();
        EXPECT_EQ(failed, 0) << first_failure;
        // (The probe thread may hold a /proc file open for a moment: a descriptor either way.)
        EXPECT_NEAR(OpenFds() - fds_queued, accepted, 2) << "one descriptor per accepted connection, no more";
        int held = 0;
        EXPECT_TRUE(WaitUntil([&] {
            b.Pump();
            held = 0;
            for (const auto& s : b.TheWorld.Sockets())
                held += s.Role == SocketRole::Server && s.Fd.has_value() && s.State() == TcpState::Established;
            return held == accepted;
        }, 30s)) << held << " of " << accepted << " accepted connections shown with their descriptor";
        long rss_held = RssKb();
        // However slowly the reader applies snapshots (one of ~14,000 sockets takes a while,
        // and more under a sanitizer), it is never more than one kernel view behind.
        EXPECT_LE(b.MostSnapshotsInADrain, 1u) << "snapshots piled up for the reader";

        auto t_reset = std::chrono::steady_clock::now();
        b.TheLab.Reset();
        double reset_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_reset).count();
        b.TheWorld.Clear();
        EXPECT_EQ(peer.Stop(), 0);
        std::size_t left = 0;
        EXPECT_TRUE(WaitUntil([&] {
            left = SsRows(port).size();
            return left == 0;
        }, 20s)) << left << " sockets left on port " << port;
        double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        std::printf("[ figures  ] %d connections: accept queue %u/%u after %.2f s, %zu sockets in ss, %zu in the "
                    "model; RSS %ld KiB before, %ld with the queue full, %ld settled, %ld after %llu more snapshots, %ld holding "
                    "%d accepted; accepting took %.2f s, reset %.2f s, all %.2f s\n",
                    N, queued, backlog, full_s, ss_rows, model_sockets, rss_before, rss_full, rss_settled, rss_sat,
                    static_cast<unsigned long long>(more_snapshots), rss_held, held, accept_s,
                    reset_s, total_s);
        if (CheckMemory) {
            EXPECT_LT(rss_sat - rss_settled, 8 * 1024) << "memory grew while the flood sat there";
            EXPECT_LT(rss_held - rss_before, 150 * 1024) << "resident memory with the flood and its connections";
        }
        EXPECT_LT(reset_s, 5.0);
    }
    EXPECT_TRUE(WaitUntil([&] { return Threads() == threads_before; })) << Threads() << " vs " << threads_before;
    EXPECT_EQ(OpenFds(), fds_before);
}

TEST(Flood, APeerSending100MBNobodyReadsCostsKernelBuffersNotMemory)
{
    constexpr long long Total = 100'000'000;
    Watchdog dog(120s, "APeerSending100MB");
    std::thread([] {}).join();
    int fds_before = OpenFds();
    int threads_before = Threads();
    long rss_before = RssKb();
    {
        Bench b;
        int port = b.Listen("server", 4);
        ASSERT_GT(port, 0);
        Peer peer;
        ASSERT_TRUE(peer.Start({FLOOD_PEER, "send", std::to_string(port), std::to_string(Total)}));
        ASSERT_GE(b.Do("server", "accept", As("conn")).Result, 0);

        // The lab does not read: the window closes and the sender can give no more.
        std::string line = peer.ReadLine(20s);
        ASSERT_EQ(line.rfind("blocked ", 0), 0u) << "the peer said: '" << line << "'";
        long long blocked_at = std::stoll(line.substr(8));
        EXPECT_GT(blocked_at, 0);
        EXPECT_LT(blocked_at, Total);

        // The model's Recv-Q is the kernel's, as ss shows it.
        std::string cookie = CookieHex(b.CookieOf("server", "conn"));
        unsigned model_q = 0, ss_q = 0, peer_send_q = 0;
        EXPECT_TRUE(WaitUntil([&] {
            b.Pump();
            const SocketView* s = b.TheWorld.FindSocket(b.CookieOf("server", "conn"));
            model_q = s ? s->K.RecvQ : 0;
            ss_q = peer_send_q = 0;
            for (const auto& r : SsRows(port)) {
                if (r.Cookie == cookie)
                    ss_q = r.RecvQ;
                else if (r.State == "ESTAB")
                    peer_send_q = r.SendQ;
            }
            return model_q > 0 && model_q == ss_q && peer_send_q > 0;
        }, 10s)) << "model Recv-Q " << model_q << ", ss Recv-Q " << ss_q << ", peer Send-Q " << peer_send_q;
        long rss_blocked = RssKb();

        // Nothing else is disturbed: another listener and connection work as usual.
        int port2 = b.Listen("server2", 4);
        ASSERT_GT(port2, 0);
        EXPECT_GE(b.Do("client", "socket").Result, 0);
        EXPECT_EQ(b.Do("client", "connect", [&](CallRequest& r) { r.Port = port2; }).Result, 0);
        EXPECT_GE(b.Do("server2", "accept", As("conn")).Result, 0);
        EXPECT_EQ(b.Do("client", "send", [](CallRequest& r) { r.Data = "ping\n"; }).Result, 5);
        EXPECT_EQ(b.Do("server2", "recv", Fd("conn")).Data, "ping\n");

        // Now the lab reads all of it, a megabyte per recv(): its memory stays bounded.
        long long got = 0;
        int reads = 0;
        bool pattern_ok = true;
        auto t_read = std::chrono::steady_clock::now();
        while (got < Total) {
            CallEvent r = b.Do("server", "recv", [](CallRequest& q) {
                q.Fd = "conn";
                q.Len = 1 << 20;
            }, 10s);
            ASSERT_GT(r.Result, 0) << "after " << got << " bytes: " << ErrnoName(r.Errno) << " " << r.Note;
            EXPECT_EQ(r.Data.size(), std::min<std::size_t>(static_cast<std::size_t>(r.Result), MaxCallData));
            for (std::size_t i = 0; i < r.Data.size(); ++i)
                pattern_ok = pattern_ok && r.Data[i] == static_cast<char>('a' + (got + static_cast<long long>(i)) % 26);
            got += r.Result;
            ++reads;
        }
        double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_read).count();
        EXPECT_EQ(got, Total);
        EXPECT_TRUE(pattern_ok) << "the bytes arrive in order";
        EXPECT_EQ(peer.ReadLine(20s), "sent " + std::to_string(Total));
        long rss_read = RssKb();
        EXPECT_EQ(peer.Stop(), 0);

        std::printf("[ figures  ] 100 MB peer: blocked after %lld bytes (Recv-Q %u); RSS %ld KiB before, %ld blocked "
                    "(+%ld), %ld after reading it all in %d recv() calls in %.2f s (+%ld)\n",
                    blocked_at, model_q, rss_before, rss_blocked, rss_blocked - rss_before, rss_read, reads, read_s,
                    rss_read - rss_before);
        if (CheckMemory) {
            EXPECT_LT(rss_blocked - rss_before, 32 * 1024) << "the bytes waiting are in kernel buffers";
            EXPECT_LT(rss_read - rss_before, 48 * 1024) << "reading 100 MB must not keep them";
        }
        b.TheLab.Reset();
        EXPECT_TRUE(WaitUntil([&] { return SsRows(port).empty() && SsRows(port2).empty(); }));
    }
    EXPECT_TRUE(WaitUntil([&] { return Threads() == threads_before; })) << Threads() << " vs " << threads_before;
    EXPECT_EQ(OpenFds(), fds_before);
}

TEST(Flood, GarbageFromAPeerIsShownEscapedAndHarmsNothing)
{
    Watchdog dog(60s, "Garbage");
    Bench b;
    int port = b.Listen("server", 4);
    ASSERT_GT(port, 0);
    int peer = RawConnect(port);
    ASSERT_GE(peer, 0);
    ASSERT_GE(b.Do("server", "accept", As("conn")).Result, 0);

    // Every byte value (NULs, control bytes, invalid UTF-8), then random ones.
    std::string garbage;
    for (int i = 0; i < 256; ++i)
        garbage += static_cast<char>(i);
    std::mt19937 random(20240601);
    while (garbage.size() < MaxCallData)
        garbage += static_cast<char>(random() & 0xff);
    ASSERT_EQ(write(peer, garbage.data(), garbage.size()), static_cast<long>(garbage.size()));

    std::string received;
    while (received.size() < garbage.size()) {
        CallEvent r = b.Do("server", "recv", [](CallRequest& q) {
            q.Fd = "conn";
            q.Len = 65536;
        });
        ASSERT_GT(r.Result, 0) << ErrnoName(r.Errno) << " " << r.Note;
        received += r.Data;
        std::string shown = EscapeBytes(r.Data, r.Data.size());
        EXPECT_TRUE(AllPrintable(shown)) << shown;
    }
    EXPECT_EQ(received, garbage) << "the event keeps the raw bytes";
    EXPECT_NE(EscapeBytes(received, 16).find("\\x00\\x01"), std::string::npos) << EscapeBytes(received, 16);

    // The trace shows them escaped: valid JSON, printable text.
    auto line = TraceLine(b.TheWorld, nullptr, 0, b.TheWorld.TakeFinishedCalls());
    std::string dumped;
    EXPECT_NO_THROW(dumped = line.dump());
    bool seen = false;
    for (const auto& c : line["calls"])
        if (c["call"] == "recv" && c.contains("data")) {
            seen = true;
            EXPECT_TRUE(AllPrintable(c["data"].get<std::string>())) << c["data"];
        }
    EXPECT_TRUE(seen);

    // Garbage sent back by the lab: its arguments are shown escaped, the bytes go out intact.
    CallEvent echo = b.Do("server", "send", [&](CallRequest& r) {
        r.Fd = "conn";
        r.Data = garbage;
    });
    EXPECT_EQ(echo.Result, static_cast<long>(garbage.size()));
    EXPECT_TRUE(AllPrintable(echo.Args)) << echo.Args;
    std::string back(garbage.size(), '\0');
    std::size_t have = 0;
    while (have < back.size()) {
        long n = read(peer, back.data() + have, back.size() - have);
        ASSERT_GT(n, 0);
        have += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(back, garbage);

    // A megabyte more of it: each event keeps no more than MaxCallData bytes.
    std::string more(1 << 20, '\0');
    for (auto& c : more)
        c = static_cast<char>(random() & 0xff);
    std::thread writer([&] { [[maybe_unused]] auto n = write(peer, more.data(), more.size()); });
    std::size_t got = 0;
    while (got < more.size()) {
        CallEvent r = b.Do("server", "recv", [](CallRequest& q) {
            q.Fd = "conn";
            q.Len = 1 << 20;
        });
        ASSERT_GT(r.Result, 0) << ErrnoName(r.Errno) << " " << r.Note;
        EXPECT_LE(r.Data.size(), MaxCallData);
        EXPECT_EQ(r.Data, more.substr(got, r.Data.size()));
        got += static_cast<std::size_t>(r.Result);
    }
    writer.join();
    EXPECT_EQ(got, more.size());
    close(peer);
}

TEST(Flood, APeerThatResetsDuringALargeSendGivesAnErrorNotSigpipe)
{
    // SIGPIPE must be able to kill this test, or surviving it proves nothing.
    struct sigaction pipe_action{};
    ASSERT_EQ(sigaction(SIGPIPE, nullptr, &pipe_action), 0);
    ASSERT_EQ(pipe_action.sa_handler, SIG_DFL);

    constexpr int Total = 100'000'000;
    Watchdog dog(60s, "APeerThatResets");
    std::thread([] {}).join();
    int fds_before = OpenFds();
    int threads_before = Threads();
    long rss_before = RssKb();
    {
        Bench b;
        int port = b.Listen("server", 4);
        ASSERT_GT(port, 0);
        int peer = RawConnect(port);
        ASSERT_GE(peer, 0);
        ASSERT_GE(b.Do("server", "accept", As("conn")).Result, 0);

        // 100 MB of generated bytes to a peer that reads nothing: the send blocks.
        std::uint64_t id = b.Submit("server", "send", [](CallRequest& r) {
            r.Fd = "conn";
            r.Generate = true;
            r.Len = Total;
        });
        ASSERT_TRUE(WaitUntil([&] { return b.Phase(id) == CallPhase::Blocked; }, 10s))
            << "the send must block once the buffers are full, not " << CallPhaseName(b.Phase(id));
        std::string args = b.TheWorld.FindCall(id)->Args;
        EXPECT_NE(args.find("\"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv...\", 100000000, MSG_NOSIGNAL"),
                  std::string::npos)
            << args;
        long rss_blocked = RssKb();
        EXPECT_LT(rss_blocked - rss_before, 48 * 1024) << "a generated send holds no 100 MB buffer";

        // The peer resets: SO_LINGER {1, 0}, then close().
        linger lg{1, 0};
        ASSERT_EQ(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
        close(peer);
        CallEvent sent = b.Await(id, 10s);
        bool failed = sent.Result == -1 && (sent.Errno == ECONNRESET || sent.Errno == EPIPE);
        bool partial = sent.Result > 0 && sent.Result < Total &&
                       (sent.Note.find("ECONNRESET") != std::string::npos || sent.Note.find("EPIPE") != std::string::npos);
        EXPECT_TRUE(failed || partial) << "send() = " << sent.Result << " " << ErrnoName(sent.Errno) << ": " << sent.Note;
        EXPECT_LE(sent.Data.size(), MaxCallData);

        // Later calls on the descriptor say what the kernel says, and SIGPIPE kills nobody.
        CallEvent again = b.Do("server", "send", [](CallRequest& r) {
            r.Fd = "conn";
            r.Data = "more";
        });
        EXPECT_EQ(again.Result, -1);
        EXPECT_EQ(ErrnoName(again.Errno), "EPIPE");
        CallEvent write_call = b.Do("server", "write", [](CallRequest& r) {
            r.Fd = "conn";
            r.Generate = true;
            r.Len = 1 << 20;
        });
        EXPECT_EQ(write_call.Result, -1);
        EXPECT_EQ(ErrnoName(write_call.Errno), "EPIPE");
        CallEvent read = b.Do("server", "recv", Fd("conn"));
        EXPECT_LE(read.Result, 0) << "nothing to read from a reset connection";
        EXPECT_EQ(b.Do("server", "close", Fd("conn")).Result, 0);

        // The lab goes on: the same listener takes a new connection that carries bytes.
        EXPECT_GE(b.Do("client", "socket").Result, 0);
        EXPECT_EQ(b.Do("client", "connect", [&](CallRequest& r) { r.Port = port; }).Result, 0);
        EXPECT_GE(b.Do("server", "accept", As("conn")).Result, 0);
        EXPECT_EQ(b.Do("client", "send", [](CallRequest& r) { r.Data = "still here"; }).Result, 10);
        EXPECT_EQ(b.Do("server", "recv", Fd("conn")).Data, "still here");

        std::printf("[ figures  ] reset during a 100 MB send: send() = %ld (%s%s), RSS %ld KiB before, %ld while "
                    "blocked\n",
                    sent.Result, ErrnoName(sent.Errno).c_str(), sent.Note.c_str(), rss_before, rss_blocked);
        b.TheLab.Reset();
        EXPECT_TRUE(WaitUntil([&] { return SsRows(port).empty(); }));
    }
    EXPECT_TRUE(WaitUntil([&] { return Threads() == threads_before; })) << Threads() << " vs " << threads_before;
    EXPECT_EQ(OpenFds(), fds_before);
}

TEST(Flood, ALessonSendsGeneratedBytesWithLen)
{
    std::string error;
    auto lesson = ParseLesson(R"({
      "name": "big", "title": "big",
      "actors": [{"name": "server", "kind": "server"}, {"name": "client1", "kind": "client"}],
      "steps": [
        {"title": "connect",
         "calls": [{"actor": "server", "call": "socket", "expect": "fd"},
                   {"actor": "server", "call": "bind", "addr": "127.0.0.1", "port": "$port", "expect": 0},
                   {"actor": "server", "call": "listen", "backlog": 5, "expect": 0},
                   {"actor": "client1", "call": "socket", "expect": "fd"},
                   {"actor": "client1", "call": "connect", "addr": "127.0.0.1", "port": "$port", "expect": 0},
                   {"actor": "server", "call": "accept", "as": "conn1", "expect": "fd"}],
         "expect": []},
        {"title": "send 50000 generated bytes",
         "calls": [{"actor": "client1", "call": "send", "len": 50000, "expect": 50000}],
         "expect": [{"sockets": {"role": "server", "recv_q": 50000}, "count": 1}]}
      ]
    })", "big.json", error);
    ASSERT_TRUE(lesson) << error;
    Lab lab;
    World world;
    LessonPlayer player(lab, world);
    player.Load(*lesson);
    for (int i = 0; i < 2; ++i) {
        player.StepForward();
        ASSERT_TRUE(DriveUntilIdle(lab, world, player, 20.0));
        std::string failures;
        for (const auto& r : player.Results())
            if (!r.Ok)
                failures += r.Claim + " (seen: " + r.Seen + "); ";
        ASSERT_EQ(player.CurrentStatus(), StepStatus::Passed) << "step " << i + 1 << ": " << failures;
    }

    // "data" and "len" together on a send is a mistake, named as such.
    auto both = ParseLesson(R"({"name": "x", "title": "x", "actors": [{"name": "c", "kind": "client"}],
      "steps": [{"title": "t", "calls": [{"actor": "c", "call": "send", "data": "a", "len": 5}], "expect": []}]})",
                            "both.json", error);
    EXPECT_FALSE(both);
    EXPECT_NE(error.find("steps[0].calls[0].len"), std::string::npos) << error;
}
