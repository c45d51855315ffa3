// The tracer's inside, shared by its files (not part of its interface): the table of
// traced system calls, the readers of a tracee's memory and /proc, the blocked-call
// watcher and the tracing thread's state.
//   tracer_start.cpp   the filter, the child's start, the tracer's life
//   tracer_decode.cpp  a call's arguments and results, decoded at entry and exit
//   tracer.cpp         the waitpid loop: stops, new tasks, ends of lanes
#pragma once

#include "tracer.hpp"

#include "clock.hpp"
#include "sockets.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <string_view>

#include <linux/filter.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sockscope {
namespace traced {

struct SyscallRow {
    int Nr;
    CallId Call;
    bool OnSocketOnly; // shown only when its first argument is a socket descriptor
};

const SyscallRow* RowOfSyscall(std::uint64_t nr);
// The filter the child installs: on x86-64, SECCOMP_RET_TRACE for the traced calls,
// SECCOMP_RET_ALLOW for everything else (and for any other architecture).
std::vector<sock_filter> BuildFilter();
std::string Basename(const std::string& path);

// The socket's inode when /proc/TID/fd/N is "socket:[inode]", else 0.
std::uint32_t SocketInode(int tid, long fd);
// Up to `len` bytes of the tracee's memory at `addr`; fewer if it cannot all be read.
std::string ReadMemory(int tid, std::uint64_t addr, std::size_t len);

template <typename T>
bool ReadValue(int tid, std::uint64_t addr, T& value)
{
    std::string bytes = ReadMemory(tid, addr, sizeof(T));
    if (bytes.size() != sizeof(T))
        return false;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return true;
}

// A sockaddr of `len` bytes at `addr`, field by field into Args (Addr, AddrLen; Text for
// an address that is not IP).
void ReadSockaddr(int tid, std::uint64_t addr, std::uint32_t len, CallArgs& a);
// The bytes of an iovec array (sendmsg, recvmsg), at most `max` of them.
std::string ReadIovecs(int tid, std::uint64_t msg_addr, std::size_t max, std::int64_t* total);
std::string PollArgs(int tid, std::uint64_t fds, std::uint64_t nfds, const std::string& timeout);
std::string ExecArgs(int tid, const std::string& path);
// True when the thread sleeps in a system call (state S or D in /proc/TID/stat).
bool Sleeping(int tid);
std::string WaitOptions(int options);
// True when the process ignores SIGCHLD (SigIgn in /proc/PID/status): its children are
// reaped by the kernel as they exit, never zombies.
bool IgnoresSigchld(int pid);

inline int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }
inline int PidfdGetfd(int pidfd, int fd) { return static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0)); }

// Shows a call blocked once it has slept in the kernel for `after` seconds. A thread of
// its own, so that the tracing thread always waits in waitpid() and never polls.
class BlockWatch {
public:
    BlockWatch(double after, std::function<void(CallEvent&&)> report)
        : After(after), Report(std::move(report)), Worker([this] { Run(); })
    {
    }
    ~BlockWatch()
    {
        {
            std::lock_guard lock(Mutex);
            Stopping = true;
        }
        Wake.notify_all();
        Worker.join();
    }
    // `call` (Started) is in the kernel now. Wakes the watcher only when it sleeps with
    // nothing to wait for: a program making calls keeps it ticking (Run), and a futex
    // wake per call cost a traced loop of connections a tenth of its time.
    void Entered(const CallEvent& call)
    {
        std::lock_guard lock(Mutex);
        Entries[call.Tid] = {call.TStart + After, call, false};
        LastEntered = call.TStart;
        if (Idle) // else the watcher wakes before this one is due anyway
            Wake.notify_one();
    }
    // Its call has returned (or will never): reports `finished` under the lock, so no
    // Blocked of that call can come after it.
    void Returned(int tid, CallEvent&& finished)
    {
        std::lock_guard lock(Mutex);
        Entries.erase(tid);
        Report(std::move(finished));
    }

private:
    void Run()
    {
        std::unique_lock lock(Mutex);
        while (!Stopping) {
            double now = MonotonicSeconds(), next = 1e300;
            for (auto& [tid, e] : Entries) {
                if (e.Sent)
                    continue;
                // Asleep in the kernel: a call still running, or one that has returned
                // and waits for the tracing thread to see it, is not blocked.
                if (e.Due <= now && Sleeping(tid)) {
                    CallEvent c = e.Call;
                    c.Phase = CallPhase::Blocked;
                    Report(std::move(c));
                    e.Sent = true;
                    continue;
                }
                if (e.Due <= now)
                    e.Due = now + 0.001; // look again in a millisecond
                next = std::min(next, e.Due);
            }
            if (next != 1e300) {
                Wake.wait_for(lock, std::chrono::duration<double>(next - now));
            } else if (now - LastEntered < Linger) {
                // Calls came lately: tick at half the delay, so that a call entered
                // meanwhile is looked at between After and 1.5 After, unannounced.
                Wake.wait_for(lock, std::chrono::duration<double>(After / 2));
            } else {
                Idle = true;
                Wake.wait(lock);
                Idle = false;
            }
        }
    }

    struct Entry {
        double Due;
        CallEvent Call;
        bool Sent;
    };
    static constexpr double Linger = 0.05; // seconds of ticking after the last call entered
    double After;
    double LastEntered = -1e300;
    bool Idle = false; // waiting with nothing due: Entered() must wake it
    std::function<void(CallEvent&&)> Report;
    std::mutex Mutex; // guards everything below; held while reporting
    std::condition_variable Wake;
    bool Stopping = false;
    std::map<int, Entry> Entries; // by tid: the call each thread is in
    std::thread Worker;           // last: starts when the rest is ready
};

} // namespace traced

// Everything the tracing thread knows of the processes and threads it follows.
struct Tracer::State {
    struct Task {
        int Tid = 0;
        int Pid = 0;            // its process (thread group)
        std::string Name;       // PROGRAM[pid] or PROGRAM[pid/tid]
        bool Announced = false; // its lane was reported (at its parent's fork/clone event)
        bool Held = false;      // stopped at its first stop until its parent's event is seen
        bool Running = false;   // resumed after its first stop
        bool InCall = false;    // between a seccomp stop and the syscall's exit
        const traced::SyscallRow* Row = nullptr;
        std::uint64_t Args[6] = {};
        CallEvent Call;
    };
    // What the tracer knows of a process's descriptors, so that a read, write or close
    // asks /proc whether its descriptor is a socket only the first time. An open
    // descriptor changes what it is only through calls the filter stops (close, dup2,
    // dup3, close_range, execve), which forget it; a new one is looked up once. (Not
    // followed: io_uring's close, and processes sharing one table with CLONE_FILES but
    // not CLONE_THREAD.)
    struct Process {
        std::string Program;              // basename of what it runs
        std::map<int, FdInfo> Sockets;    // socket descriptors it holds, as far as seen
        std::set<int> NotSockets;         // descriptors found not to be sockets
        int PidFd = -1;
        int Parent = 0;                   // the traced process that forked it (0: the root)
        bool Server = false;              // it (or the process it was forked from) called listen()
        void Forget(int fd)
        {
            Sockets.erase(fd);
            NotSockets.erase(fd);
        }
        ~Process()
        {
            if (PidFd >= 0)
                close(PidFd);
        }
    };

    State(Tracer& tracer, std::string program) : T(tracer), Program(std::move(program)) {}
    // Follows every traced task until none is left (waitpid says ECHILD).
    void Loop();

    Tracer& T;
    std::string Program; // the path the root execs
    std::map<int, Task> Tasks;
    std::map<int, std::unique_ptr<Process>> Processes;
    // Processes that have exited and wait for their parent's waitpid(): a zombie's lane
    // name and its parent's pid, by pid.
    std::map<int, std::pair<std::string, int>> Zombies;
    traced::BlockWatch Watch{T.Options.BlockedAfter, [this](CallEvent&& c) { T.Events(std::move(c)); }};

private:
    // A new event of a task's, finished now unless the caller says otherwise.
    CallEvent EventOf(const Task& t, CallId call);
    // A moment of a task's life, now.
    LaneEvent LifeOf(const Task& t, LaneEventKind kind, LaneType type);
    void ReportFork(const Task& parent, CallId call, long result, std::string text); // the parent's call
    // Socket details through a duplicate of the tracee's descriptor (pidfd_getfd): the
    // cookie the probe reports and the addresses the kernel gave it.
    void Inspect(int pid, int fd, FdInfo* info, std::optional<Endpoint>* local,
                 std::optional<Endpoint>* remote);
    void TakeSocket(Task& t, int fd);
    void WatchPortOf(const std::optional<Endpoint>& e);
    // The socket's inode when `fd` of the task's process is a socket, else 0: from what
    // is known, or from /proc the first time.
    std::uint32_t InodeOf(Task& t, int fd);
    bool OnEntry(Task& t);
    void OnExit(Task& t);
    void EndLane(int tid, int status);
    // The parent's waitpid()/waitid() collected `pid` (with `status` when known, else -1).
    void Reaped(Task& parent, int pid, int status);
    const char* KindOf(const Task& t) const; // "server" once its process has listened
    void Resume(int tid, int request, int sig = 0);
    void OnNewTask(Task& parent, int event);
};

} // namespace sockscope
