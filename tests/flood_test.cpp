// Floods and limits, against the real kernel on loopback: running out of descriptors,
// and 10,000 connections from another process. The lab says what the kernel said, its
// memory stays bounded, nothing else is disturbed, and a reset leaves nothing.
#include "flood_util.hpp"

using namespace sockscope;
using namespace sockscope::flood;
using namespace sockscope::test;
using namespace std::chrono_literals;

TEST(Flood, OutOfDescriptorsAcceptSaysEmfileAndRecoversWhenOneIsFreed)
{
    Watchdog dog(60s, "OutOfDescriptors");
    std::thread([] {}).join(); // a sanitizer's helper thread, if any, exists before the baseline
    int fds_before = OpenFds();
    const std::set<int> threads_before = ThreadIds();
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
            EXPECT_NE(accept.Note.English().find("RLIMIT_NOFILE"), std::string::npos) << accept.Note;
            EXPECT_NE(accept.Note.English().find("accept queue"), std::string::npos) << accept.Note;

            // The kernel cannot be asked either (a netlink socket is a descriptor), and that is said.
            Snapshot snap = b.TheLab.DumpNow();
            EXPECT_NE(snap.Error.English().find("EMFILE"), std::string::npos) << snap.Error;

            // An actor made now gets no eventfd to be woken through: its calls still run.
            CallEvent sock = b.Do("client9", "socket");
            EXPECT_EQ(sock.Result, -1);
            EXPECT_EQ(ErrnoName(sock.Errno), "EMFILE");
            EXPECT_NE(sock.Note.English().find("RLIMIT_NOFILE"), std::string::npos) << sock.Note;

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
        EXPECT_TRUE(snap.Error.Empty()) << snap.Error;
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
    EXPECT_TRUE(WaitUntil([&] { return NewThreads(threads_before).empty(); })) << "threads left: " << NewThreads(threads_before);
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
    const std::set<int> threads_before = ThreadIds();
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
        EXPECT_TRUE(b.TheWorld.ProbeError().Empty()) << b.TheWorld.ProbeError();
        long rss_sat = RssKb();
        std::size_t model_sockets = b.TheWorld.Sockets().size();

        // The lab accepts every connection the queue held; each costs one descriptor.
        int fds_queued = OpenFds();
        int accepted = 0, failed = 0;
        std::string first_failure;
        b.OnCall = [&](const CallEvent& c) {
            if (c.Call != CallId::Accept || c.Phase != CallPhase::Finished)
                return;
            if (c.Result >= 0) {
                ++accepted;
            } else if (failed++ == 0) {
                first_failure = ErrnoName(c.Errno) + " " + c.Note.English();
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
    EXPECT_TRUE(WaitUntil([&] { return NewThreads(threads_before).empty(); })) << "threads left: " << NewThreads(threads_before);
    EXPECT_EQ(OpenFds(), fds_before);
}
