// What the flood and peer tests share: resident memory, a watchdog, a lab with its
// world and player (Bench), a raw peer on its own thread (Peer), descriptor limits.
#pragma once

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


// A sanitizer's quarantine and shadow memory make resident memory say little about
// sockscope's own: the memory bounds are checked in plain builds only (the tests run).
inline constexpr bool CheckMemory = !sockscope::test::Sanitized;

namespace sockscope::flood {

using namespace sockscope::test;
using namespace std::chrono_literals;


// Resident memory of this process, in KiB (/proc/self/status VmRSS).
inline long RssKb()
{
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

inline std::string CookieHex(std::uint64_t cookie)
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

inline int LowestFreeFd()
{
    for (int fd = 0;; ++fd)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            return fd;
}

inline int RawConnect(int port)
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
        r.Call = CallFromName(call).value();
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
            out.Note = Say(PhraseId::Verbatim, "did not finish");
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

inline auto Fd(std::string handle)
{
    return [handle](CallRequest& r) { r.Fd = handle; };
}
inline auto As(std::string handle)
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

inline bool AllPrintable(const std::string& s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

} // namespace sockscope::flood
