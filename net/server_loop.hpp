// The server models of the lecture notes, run for real on a lab listener:
//   iterative  one connection at a time: accept, echo until "bye" or EOF, close, accept
//   thread     accept, then a new thread per connection runs the echo service
//   fork       accept, then fork(): the child (exec'd as `sockscope --worker echo`, since
//              sockscope has threads and a forked copy may only make async-signal-safe
//              calls) closes its copy of the listener and serves; the parent closes its
//              copy of the connection; SIGCHLD and waitpid() reap the child
//   epoll      one thread: epoll_wait on the listener and every connection
// Each thread and process is a lane (lane.hpp) that reports every call it makes.
#pragma once

#include "actor.hpp"
#include "lane.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sockscope {

class Lab;

struct ServerSpec {
    std::string Model = "iterative"; // "iterative" | "thread" | "fork" | "epoll"
    bool ReapAtOnce = true;          // fork: waitpid() on SIGCHLD, or only when asked
    int Len = 1024;                  // bytes per recv()
    std::string WorkerPath;          // fork: the sockscope binary to exec
};

bool IsServerModel(const std::string& model);

// The binary the fork model execs when a spec names none: the app sets it once at start
// from $SOCKSCOPE_WORKER ("" or never set: this program if it is sockscope, else a
// sockscope next to it, as a test binary in the build tree finds ../app/sockscope).
// Safe from any thread.
void SetDefaultWorkerPath(std::string path);

// With no zombie of its own to reap, a waitpid step only looks: waitid(P_ALL, WNOHANG |
// WNOWAIT) reaps nothing, so it cannot take a child that another server (or another part
// of the process) is waiting for, as waitpid(-1) would. Returns the pid of an exited
// child, 0 if none, -1 with `err` set (ECHILD: no child at all).
inline constexpr const char* kPeekArgs = "P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT";
long PeekExitedChild(int& err);

class ServerLoop {
public:
    // Takes the listening descriptor; the loop runs on a thread of its own, as the lane
    // `name` (the actor's name: the ladder goes on in the same column).
    ServerLoop(Lab& lab, std::string name, std::string listen_handle, UniqueFd listener, ServerSpec spec);
    // Stops every lane: wakes blocked calls, kills and reaps child processes, joins
    // threads, closes every descriptor with a reset (no TIME-WAIT left behind).
    ~ServerLoop();
    ServerLoop(const ServerLoop&) = delete;
    ServerLoop& operator=(const ServerLoop&) = delete;

    // Reap the children that have exited (the zombies), each with a reported waitpid()
    // on `lane`. Returns how many. Safe from any thread.
    int ReapZombies(Lane& lane);

    // Threads of the thread model started and not joined yet: those serving a connection
    // (a finished one is joined by the accept loop as soon as it ends). Safe from any thread.
    std::size_t WorkerThreads() const;

private:
    struct Child;
    struct Worker;

    void Run();
    void RunIterative(Lane& lane);
    void RunThreads(Lane& lane);
    void RunFork(Lane& lane);
    void RunEpoll(Lane& lane);
    // accept() as a blocking call would: reported Blocked, woken by the stop descriptor.
    // Returns the descriptor (then `handle` names it), -1 on an error, -2 when stopped.
    int AcceptBlocking(Lane& lane, std::string& handle);
    // Until the listener is readable (true) or the loop must stop (false), joining the
    // threads that finish meanwhile.
    bool WaitForConnection(int lfd);
    void JoinFinishedWorkers();
    // One accept4() for `call`: the descriptor (finished; `handle` names it), -1 when none
    // is waiting (call still open), -2 on an error (finished with it).
    int TryAccept(Lane& lane, CallEvent& call, std::string& handle);
    std::string NextHandle();
    void ForkChild(Lane& lane, int conn, const std::string& handle);
    bool PumpChild(Child& child);     // false at EOF
    void ReapChild(Lane& lane, int pid, bool in_handler); // in the SIGCHLD handler, or a waitpid step
    // A child's exit as its parent learns it (Zombie), and its reaping (`wait_status`:
    // what waitpid() filled in).
    void ReportChild(int pid, LaneEventKind kind, Phrase note, int wait_status = 0);
    bool Stopped() const;

    Lab& LabRef;
    std::string Name;
    std::string ListenHandle;
    UniqueFd Listener;
    ServerSpec Spec;
    UniqueFd StopFd; // readable once the loop must stop (never read: every lane sees it)
    UniqueFd WorkerDoneFd; // readable when a thread of the thread model has finished
    int Accepted = 0;

    mutable std::mutex Mutex; // guards Children's pids, Zombies and Workers (the vector and descriptors)
    std::vector<std::unique_ptr<Child>> Children;
    std::set<int> Zombies;            // exited, not yet reaped
    std::vector<std::unique_ptr<Worker>> Workers;
    std::thread Thread;
};

} // namespace sockscope
