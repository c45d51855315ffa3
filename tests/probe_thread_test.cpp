// The probe's thread against the real kernel: what it delivers and when (at once for
// new ports, promptly after a call, not again for a quiet lab), and that it stops at once.
#include "probe.hpp"
#include "probe_test_util.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace {

using namespace sockscope;
using namespace sockscope::probe_test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sockscope::test::WaitUntil;

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
