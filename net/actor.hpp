// An actor: one background thread that owns some socket descriptors and makes one real
// system call at a time, on command, reporting each call to the lab as events.
// A call that would block (accept on an empty queue, recv with nothing to read, connect
// while the handshake is under way) is reported as Blocked, and waits in poll() on the
// descriptor plus an eventfd, so destroying the actor wakes it at once.
#pragma once

#include "events.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sockscope {

class Lab;
class ServerLoop;
class Tracer;

// Owns a descriptor; closes it in the destructor (so leaks are easy to find).
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : Fd(fd) {}
    ~UniqueFd() { Reset(); }
    UniqueFd(UniqueFd&& other) noexcept : Fd(std::exchange(other.Fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept
    {
        if (this != &other) {
            Reset();
            Fd = std::exchange(other.Fd, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    int Get() const { return Fd; }
    int Release() { return std::exchange(Fd, -1); }
    void Reset();

private:
    int Fd = -1;
};

class Actor {
public:
    // Starts the thread. `lab` must outlive the actor.
    Actor(std::string name, std::string kind, Lab& lab);
    // Wakes a blocked call (reported as interrupted), drops queued calls, closes every
    // descriptor with a reset (SO_LINGER 0, so no TIME-WAIT is left behind), joins.
    ~Actor();
    Actor(const Actor&) = delete;
    Actor& operator=(const Actor&) = delete;

    // Queue a call. Safe from any thread.
    void Post(std::uint64_t id, CallRequest request);
    const std::string& Name() const { return ActorName; }

private:
    enum class Wait { Ready, Stopped };

    void Run();
    void Execute(std::uint64_t id, const CallRequest& request);
    // Poll `fd` for `events` and the wake eventfd. Reports `call` as Blocked first.
    Wait WaitFor(int fd, short events, CallEvent& call);
    // WaitFor; on a reset, finishes `call` as interrupted (EINTR) and returns false.
    bool BlockUntilReady(int fd, short events, CallEvent& call);
    bool StopRequested();
    int WakePollTimeout() const; // poll()'s timeout on WakeFd: -1, or 10 ms if there is none
    int FdOf(const std::string& handle) const;
    std::string NewHandle(const std::string& wanted, const char* prefix);
    // A call has begun (Started). That event is not sent by itself: the call's next one
    // says all it would, microseconds later (Blocked if it must wait, else Finished), so a
    // call that neither waits nor takes long is one event. Announce sends it at once, for
    // calls that can take long without waiting in WaitFor (close with SO_LINGER,
    // getaddrinfo, and those whose lanes report while they run: serve, waitpid).
    static void Begin(CallEvent& call) { call.Phase = CallPhase::Started; }
    void Announce(CallEvent& call);
    // Sends the call's last event (moved from `call`, which is not to be read again).
    void Finish(CallEvent& call, long result, int err);

    void DoSocket(CallEvent& call, const CallRequest& request);
    void DoSetsockopt(CallEvent& call, const CallRequest& request, int fd);
    void DoGetsockopt(CallEvent& call, const CallRequest& request, int fd);
    // The text was no address inet_pton reads: EINVAL, said so.
    void FinishBadAddress(CallEvent& call, const std::string& addr);
    void DoBind(CallEvent& call, const CallRequest& request, int fd);
    void DoGate(CallEvent& call, const CallRequest& request, int fd);
    void DoAwait(CallEvent& call, const CallRequest& request, int fd);
    void DoConnect(CallEvent& call, const CallRequest& request, int fd);
    void DoAccept(CallEvent& call, const CallRequest& request, int fd);
    void DoRecv(CallEvent& call, const CallRequest& request, int fd);
    void DoSend(CallEvent& call, const CallRequest& request, int fd);
    void DoServe(CallEvent& call, const CallRequest& request);
    void DoGetaddrinfo(CallEvent& call, const CallRequest& request);
    void DoWaitpid(CallEvent& call);
    void DoRun(CallEvent& call, const CallRequest& request); // actor_run.cpp

    std::string ActorName;
    std::string Kind;
    Lab& LabRef;
    UniqueFd WakeFd;
    std::mutex Mutex; // guards Queue; Stopping is set under it
    // Taken whole by the thread (a deque would allocate a node per request: they are large).
    std::vector<std::pair<std::uint64_t, CallRequest>> Queue;
    std::atomic<bool> Stopping{false};
    std::unordered_map<std::string, UniqueFd> Fds; // actor thread only (thousands after a flood)
    std::map<std::string, int> NextSuffix; // NewHandle's next number per name (actor thread only)
    std::set<int> Gated; // descriptors that ever had a gate attached (actor thread only)
    std::unique_ptr<ServerLoop> Server; // after "serve": the server model's lanes (actor thread only)
    std::unique_ptr<Tracer> Program;    // after "run": the traced program (actor thread only)
    std::thread Thread;
};

} // namespace sockscope
