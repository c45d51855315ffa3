// Hostile peers, against the real kernel on loopback: one that sends 100 MB nobody
// reads, one that sends garbage, one that resets in the middle of a large send. Memory
// stays bounded (kernel buffers are the kernel's, not sockscope's), peer bytes are shown
// escaped, and SIGPIPE never kills the process.
#include "flood_util.hpp"

using namespace sockscope;
using namespace sockscope::flood;
using namespace sockscope::test;
using namespace std::chrono_literals;

TEST(Peers, APeerSending100MBNobodyReadsCostsKernelBuffersNotMemory)
{
    constexpr long long Total = 100'000'000;
    Watchdog dog(120s, "APeerSending100MB");
    std::thread([] {}).join();
    int fds_before = OpenFds();
    const std::set<int> threads_before = ThreadIds();
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
    EXPECT_TRUE(WaitUntil([&] { return NewThreads(threads_before).empty(); })) << "threads left: " << NewThreads(threads_before);
    EXPECT_EQ(OpenFds(), fds_before);
}

TEST(Peers, GarbageFromAPeerIsShownEscapedAndHarmsNothing)
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
    std::vector<LaneReport> calls;
    for (const auto& f : b.TheWorld.FinishedCalls())
        calls.push_back(f.Event);
    auto line = TraceLine(b.TheWorld, nullptr, 0, calls);
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
    EXPECT_TRUE(AllPrintable(FormatArgs(echo))) << FormatArgs(echo);
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

TEST(Peers, APeerThatResetsDuringALargeSendGivesAnErrorNotSigpipe)
{
    // SIGPIPE must be able to kill this test, or surviving it proves nothing.
    struct sigaction pipe_action{};
    ASSERT_EQ(sigaction(SIGPIPE, nullptr, &pipe_action), 0);
    ASSERT_EQ(pipe_action.sa_handler, SIG_DFL);

    constexpr int Total = 100'000'000;
    Watchdog dog(60s, "APeerThatResets");
    std::thread([] {}).join();
    int fds_before = OpenFds();
    const std::set<int> threads_before = ThreadIds();
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
        std::string args = FormatArgs(*b.TheWorld.FindCall(id));
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
                       (sent.Note.English().find("ECONNRESET") != std::string::npos ||
                        sent.Note.English().find("EPIPE") != std::string::npos);
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
                    sent.Result, ErrnoName(sent.Errno).c_str(), sent.Note.English().c_str(), rss_before, rss_blocked);
        b.TheLab.Reset();
        EXPECT_TRUE(WaitUntil([&] { return SsRows(port).empty(); }));
    }
    EXPECT_TRUE(WaitUntil([&] { return NewThreads(threads_before).empty(); })) << "threads left: " << NewThreads(threads_before);
    EXPECT_EQ(OpenFds(), fds_before);
}

TEST(Peers, ALessonSendsGeneratedBytesWithLen)
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
                failures += r.Claim.English() + " (seen: " + r.Seen.English() + "); ";
        ASSERT_EQ(player.CurrentStatus(), StepStatus::Passed) << "step " << i + 1 << ": " << failures;
    }

    // "data" and "len" together on a send is a mistake, named as such.
    auto both = ParseLesson(R"({"name": "x", "title": "x", "actors": [{"name": "c", "kind": "client"}],
      "steps": [{"title": "t", "calls": [{"actor": "c", "call": "send", "data": "a", "len": 5}], "expect": []}]})",
                            "both.json", error);
    EXPECT_FALSE(both);
    EXPECT_NE(error.find("steps[0].calls[0].len"), std::string::npos) << error;
}
