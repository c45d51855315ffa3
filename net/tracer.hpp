// Tracing someone else's program (`sockscope --run -- PROGRAM ARGS`): ptrace with a
// seccomp filter the child installs itself before execve, the way strace's --seccomp-bpf
// does. Only the socket-related calls stop the program (TracedSyscalls()); everything
// else runs at full speed. Each stop becomes the same typed CallEvent the lab's actors
// make (CallEvent::Traced set), reported Blocked when it has not returned within
// TracerOptions::BlockedAfter and Finished at its exit; each process and thread is a
// lane named PROGRAM[pid] or PROGRAM[pid/tid], whose start (fork, clone) and end (exit
// status or signal) are reported too. Lanes need no filter stop: fork, vfork, clone and
// execve are seen through PTRACE_O_TRACEFORK/VFORK/CLONE/EXEC events, and every end
// through waitpid(), so the filter stops the socket calls only (fewer stops than strace's
// -e trace=network,process).
//
// read, write, close, dup*, fcntl and epoll_ctl are reported only when their descriptor
// is a socket (/proc/PID/fd/N reads "socket:[inode]", as `ss -p` finds them). Data moved
// is kept up to MaxCallData bytes per call. The tracee dies with the tracer
// (PTRACE_O_EXITKILL): when the tracing thread ends, every traced process is killed.
#pragma once

#include "events.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace sockscope {

class Lab;

// The path execve gets for `name`: itself when it contains a '/', else the first
// executable file of that name in $PATH, as execvp searches. nullopt and one line in
// `error` ("no such program: foo", "not executable: ./x") when there is none.
std::optional<std::string> FindProgram(const std::string& name, std::string& error);

// The x86-64 system call numbers the seccomp filter stops (every other call is allowed
// without a stop).
std::span<const int> TracedSyscalls();

// "SIGSEGV" (sigabbrev_np), or the number.
std::string SignalName(int sig);

struct TracerOptions {
    std::vector<std::string> Argv;       // PROGRAM ARGS; Argv[0] is looked up in $PATH
    double BlockedAfter = 0.003;         // seconds in a call before it is shown blocked
    bool StdoutToStderr = false;         // the program's standard output is sockscope's stderr
    int Stdin = -1;                      // >= 0: the program's stdin (dup2'd in the child; ProgramIo)
    int Output = -1;                     // >= 0: its stdout and stderr
    bool AnnounceRoot = false;           // report the first process's Started (a lesson's run(): the lane
                                         // of the actor that ran it); --run shows it as the program itself
    std::function<void()> OnDone;        // called on the tracing thread once Done() is true (after the
                                         // last lane's end was reported); MakeLabTracer: Lab::Poke()
};

class Tracer {
public:
    // Called on the tracing thread and on its blocked-call watcher, possibly at once: it
    // must be thread-safe (Lab::Report is). A call's Blocked always comes before its
    // Finished. The lanes' lives (a thread starts, a process forks or ends) come as LaneEvents.
    using EventSink = std::function<void(LaneReport&&)>;
    using PortSink = std::function<void(std::uint16_t)>; // a port the program uses (bind, connect, accept)
    using IdSource = std::function<std::uint64_t()>;

    Tracer(TracerOptions options, EventSink events, PortSink ports, IdSource ids);
    ~Tracer(); // Stop()
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    // Starts the program under the tracer's own thread. Returns when the program is
    // running (its execve succeeded) or could not be started: false and one line in
    // `error` (no such program; ptrace not permitted; execve failed).
    bool Start(std::string& error);
    // Kills every traced process (SIGKILL), waits for them and the thread. Idempotent.
    void Stop();
    // Wait until every traced process has exited (true) or the timeout passes.
    bool WaitDone(double seconds);
    bool Done() const { return Finished.load(); }
    // The first process's end: "exited with status 3" / "killed by SIGSEGV"; "" while running.
    std::string ExitText() const;
    int ExitStatus() const { return ExitCode.load(); } // status, 128+signal, -1 running
    int ExitSignal() const { return ExitSig.load(); }  // the signal that killed it, else 0
    // Seccomp stops taken so far / processes and threads seen (for tests and benchmarks).
    std::uint64_t Stops() const { return StopCount.load(); }
    std::uint64_t Lanes() const { return LaneCount.load(); }
    int RootPid() const { return Root.load(); }

private:
    struct State;
    void Run(std::string program);

    TracerOptions Options;
    EventSink Events;
    PortSink Ports;
    IdSource Ids;
    std::unique_ptr<State> S; // the tracing thread's own state

    mutable std::mutex Mutex; // guards StartState, StartError, Live, ExitLine
    std::condition_variable Changed;
    enum class Phase { NotStarted, Starting, Running, Failed, Done } StartState = Phase::NotStarted;
    std::string StartError;
    std::vector<int> Live; // processes (tgids) alive, for Stop()
    std::string ExitLine;
    std::atomic<bool> Finished{false};
    std::atomic<bool> Stopping{false};
    std::atomic<int> ExitCode{-1};
    std::atomic<int> ExitSig{0};
    std::atomic<int> Root{0};
    std::atomic<std::uint64_t> StopCount{0};
    std::atomic<std::uint64_t> LaneCount{0};
    std::thread Worker;
};

// A tracer that reports into a lab: its calls through Lab::Report (ids from
// Lab::NewCallId), its ports to Lab::WatchPort, and asks the probe to look after each
// call that may have changed what the kernel shows.
std::unique_ptr<Tracer> MakeLabTracer(Lab& lab, TracerOptions options);

} // namespace sockscope
