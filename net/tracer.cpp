#include "tracer.hpp"

#include "clock.hpp"
#include "lab.hpp"
#include "sockets.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <set>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sockscope {

namespace {

constexpr int kTraced[] = {
    SYS_socket,      SYS_socketpair,    SYS_bind,       SYS_listen,    SYS_accept,      SYS_accept4,
    SYS_connect,     SYS_shutdown,      SYS_setsockopt, SYS_getsockopt, SYS_getsockname, SYS_getpeername,
    SYS_sendto,      SYS_recvfrom,      SYS_sendmsg,    SYS_recvmsg,   SYS_read,        SYS_write,
    SYS_close,       SYS_dup,           SYS_dup2,       SYS_dup3,      SYS_fcntl,       SYS_epoll_create,
    SYS_epoll_create1, SYS_epoll_ctl,   SYS_epoll_wait, SYS_epoll_pwait, SYS_select,    SYS_pselect6,
    SYS_poll,        SYS_ppoll,
};

struct SyscallRow {
    int Nr;
    CallId Call;
    bool OnSocketOnly; // shown only when its first argument is a socket descriptor
};

const SyscallRow kSyscalls[] = {
    {SYS_socket, CallId::Socket, false},           {SYS_socketpair, CallId::Socketpair, false},
    {SYS_bind, CallId::Bind, false},               {SYS_listen, CallId::Listen, false},
    {SYS_accept, CallId::Accept, false},           {SYS_accept4, CallId::Accept4, false},
    {SYS_connect, CallId::Connect, false},         {SYS_shutdown, CallId::Shutdown, false},
    {SYS_setsockopt, CallId::Setsockopt, false},   {SYS_getsockopt, CallId::Getsockopt, false},
    {SYS_getsockname, CallId::Getsockname, false}, {SYS_getpeername, CallId::Getpeername, false},
    {SYS_sendto, CallId::Sendto, false},           {SYS_recvfrom, CallId::Recvfrom, false},
    {SYS_sendmsg, CallId::Sendmsg, false},         {SYS_recvmsg, CallId::Recvmsg, false},
    {SYS_read, CallId::Read, true},                {SYS_write, CallId::Write, true},
    {SYS_close, CallId::Close, true},              {SYS_dup, CallId::Dup, true},
    {SYS_dup2, CallId::Dup2, true},                {SYS_dup3, CallId::Dup3, true},
    {SYS_fcntl, CallId::Fcntl, true},              {SYS_epoll_create, CallId::EpollCreate, false},
    {SYS_epoll_create1, CallId::EpollCreate1, false}, {SYS_epoll_ctl, CallId::EpollCtl, true},
    {SYS_epoll_wait, CallId::EpollWait, false},    {SYS_epoll_pwait, CallId::EpollPwait, false},
    {SYS_select, CallId::Select, false},           {SYS_pselect6, CallId::Pselect6, false},
    {SYS_poll, CallId::Poll, false},               {SYS_ppoll, CallId::Ppoll, false},
};

const SyscallRow* RowOfSyscall(std::uint64_t nr)
{
    for (const SyscallRow& row : kSyscalls)
        if (static_cast<std::uint64_t>(row.Nr) == nr)
            return &row;
    return nullptr;
}

// The filter the child installs: on x86-64, SECCOMP_RET_TRACE for the calls above,
// SECCOMP_RET_ALLOW for everything else (and for any other architecture).
std::vector<sock_filter> BuildFilter()
{
    std::vector<sock_filter> f;
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    for (int nr : kTraced) {
        f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1));
        f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
    }
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    return f;
}

std::string Basename(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The socket's inode when /proc/TID/fd/N is "socket:[inode]", else 0.
std::uint32_t SocketInode(int tid, long fd)
{
    if (fd < 0 || fd > (1 << 24))
        return 0;
    char path[64], link[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%ld", tid, fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return 0;
    link[n] = 0;
    unsigned long inode = 0;
    if (std::sscanf(link, "socket:[%lu]", &inode) != 1)
        return 0;
    return static_cast<std::uint32_t>(inode);
}

// Up to `len` bytes of the tracee's memory at `addr`; fewer if it cannot all be read.
std::string ReadMemory(int tid, std::uint64_t addr, std::size_t len)
{
    std::string out;
    if (addr == 0 || len == 0)
        return out;
    out.resize(len);
    iovec local{out.data(), len};
    iovec remote{reinterpret_cast<void*>(addr), len};
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

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
void ReadSockaddr(int tid, std::uint64_t addr, std::uint32_t len, CallArgs& a)
{
    a.AddrLen = static_cast<std::int32_t>(len);
    if (addr == 0 || len < sizeof(sa_family_t))
        return;
    sockaddr_storage ss{};
    std::string bytes = ReadMemory(tid, addr, std::min<std::size_t>(len, sizeof ss));
    std::memcpy(&ss, bytes.data(), bytes.size());
    if (auto e = EndpointOf(ss); e && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
        a.Addr = *e;
        return;
    }
    a.Addr.Family = ss.ss_family;
    if (ss.ss_family == AF_UNIX && bytes.size() > offsetof(sockaddr_un, sun_path)) {
        const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
        std::size_t n = bytes.size() - offsetof(sockaddr_un, sun_path);
        std::string path(un->sun_path, strnlen(un->sun_path, n));
        if (n > 0 && un->sun_path[0] == 0) // abstract
            path = "@" + std::string(un->sun_path + 1, n - 1);
        a.Text = "\"" + EscapeBytes(path, 108) + "\"";
    }
}

// The bytes of an iovec array (sendmsg, recvmsg), at most `max` of them.
std::string ReadIovecs(int tid, std::uint64_t msg_addr, std::size_t max, std::int64_t* total)
{
    msghdr msg{};
    std::string out;
    if (!ReadValue(tid, msg_addr, msg))
        return out;
    std::size_t n = std::min<std::size_t>(msg.msg_iovlen, 64);
    std::vector<iovec> iov(n);
    std::string raw = ReadMemory(tid, reinterpret_cast<std::uint64_t>(msg.msg_iov), n * sizeof(iovec));
    n = raw.size() / sizeof(iovec);
    std::memcpy(iov.data(), raw.data(), n * sizeof(iovec));
    *total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        *total += static_cast<std::int64_t>(iov[i].iov_len);
        if (out.size() < max)
            out += ReadMemory(tid, reinterpret_cast<std::uint64_t>(iov[i].iov_base),
                              std::min(iov[i].iov_len, max - out.size()));
    }
    return out;
}

std::string PollArgs(int tid, std::uint64_t fds, std::uint64_t nfds, const std::string& timeout)
{
    std::string out = "[";
    std::size_t n = std::min<std::uint64_t>(nfds, 16);
    std::string raw = ReadMemory(tid, fds, n * 8);
    for (std::size_t i = 0; i + 8 <= raw.size(); i += 8) {
        int fd;
        short events;
        std::memcpy(&fd, raw.data() + i, 4);
        std::memcpy(&events, raw.data() + i + 4, 2);
        std::string ev;
        if (events & 0x001) ev += "POLLIN";
        if (events & 0x004) ev += std::string(ev.empty() ? "" : "|") + "POLLOUT";
        if (ev.empty()) ev = std::to_string(events);
        out += std::string(i ? ", " : "") + "{fd=" + std::to_string(fd) + ", events=" + ev + "}";
    }
    if (nfds > n)
        out += ", ...";
    return out + "], " + std::to_string(nfds) + ", " + timeout;
}

std::string ExecArgs(int tid, const std::string& path)
{
    std::string out = "\"" + EscapeBytes(path, 256) + "\", [";
    char cmdline[4096];
    char file[64];
    std::snprintf(file, sizeof file, "/proc/%d/cmdline", tid);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, cmdline, sizeof cmdline) : 0;
    if (fd >= 0)
        close(fd);
    std::size_t start = 0;
    int count = 0;
    for (ssize_t i = 0; i < n; ++i)
        if (cmdline[i] == 0) {
            out += std::string(count++ ? ", " : "") + "\"" +
                   EscapeBytes(std::string_view(cmdline + start, static_cast<std::size_t>(i) - start), 64) + "\"";
            start = static_cast<std::size_t>(i) + 1;
        }
    return out + "]";
}

// True when the thread sleeps in a system call (state S or D in /proc/TID/stat).
bool Sleeping(int tid)
{
    char file[64], buf[512];
    std::snprintf(file, sizeof file, "/proc/%d/stat", tid);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    const char* paren = std::strrchr(buf, ')'); // the command may hold spaces and parentheses
    return paren && paren[1] == ' ' && (paren[2] == 'S' || paren[2] == 'D');
}

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
    // `call` (Started) is in the kernel now.
    void Entered(const CallEvent& call)
    {
        std::lock_guard lock(Mutex);
        bool idle = std::all_of(Entries.begin(), Entries.end(), [](const auto& e) { return e.second.Sent; });
        Entries[call.Tid] = {call.TStart + After, call, false};
        if (idle) // else the watcher wakes before this one is due anyway
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
            if (next == 1e300)
                Wake.wait(lock);
            else
                Wake.wait_for(lock, std::chrono::duration<double>(next - now));
        }
    }

    struct Entry {
        double Due;
        CallEvent Call;
        bool Sent;
    };
    double After;
    std::function<void(CallEvent&&)> Report;
    std::mutex Mutex; // guards everything below; held while reporting
    std::condition_variable Wake;
    bool Stopping = false;
    std::map<int, Entry> Entries; // by tid: the call each thread is in
    std::thread Worker;           // last: starts when the rest is ready
};

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }
int PidfdGetfd(int pidfd, int fd) { return static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0)); }

} // namespace

std::span<const int> TracedSyscalls() { return kTraced; }

std::string SignalName(int sig)
{
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

std::optional<std::string> FindProgram(const std::string& name, std::string& error)
{
    if (name.empty()) {
        error = "no program given (sockscope --run -- PROGRAM [ARGS...])";
        return std::nullopt;
    }
    auto check = [&](const std::string& path) -> int {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0)
            return ENOENT;
        if (S_ISDIR(st.st_mode))
            return EISDIR;
        return access(path.c_str(), X_OK) == 0 ? 0 : EACCES;
    };
    if (name.find('/') != std::string::npos) {
        int err = check(name);
        if (err == 0)
            return name;
        error = err == ENOENT ? "no such program: " + name : "cannot run " + name + ": " + std::strerror(err);
        return std::nullopt;
    }
    const char* env = std::getenv("PATH");
    std::string path = env ? env : "/usr/local/bin:/usr/bin:/bin";
    int found_err = ENOENT;
    for (std::size_t start = 0; start <= path.size();) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos)
            end = path.size();
        std::string dir = path.substr(start, end - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        int err = check(candidate);
        if (err == 0)
            return candidate;
        if (err != ENOENT)
            found_err = err;
        start = end + 1;
    }
    error = found_err == ENOENT ? "no such program: " + name + " (not found in $PATH)"
                                : "cannot run " + name + ": " + std::strerror(found_err);
    return std::nullopt;
}

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
        const SyscallRow* Row = nullptr;
        std::uint64_t Args[6] = {};
        CallEvent Call;
    };
    struct Process {
        std::string Program;              // basename of what it runs
        std::map<int, FdInfo> Sockets;    // socket descriptors it holds, as far as seen
        int PidFd = -1;
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
    BlockWatch Watch{T.Options.BlockedAfter, [this](CallEvent&& c) { T.Events(std::move(c)); }};

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
    bool OnEntry(Task& t);
    void OnExit(Task& t);
    void EndLane(int tid, int status);
    void Resume(int tid, int request, int sig = 0);
    void OnNewTask(Task& parent, int event);
};


Tracer::Tracer(TracerOptions options, EventSink events, PortSink ports, IdSource ids)
    : Options(std::move(options)), Events(std::move(events)), Ports(std::move(ports)), Ids(std::move(ids))
{
}

Tracer::~Tracer() { Stop(); }

bool Tracer::Start(std::string& error)
{
    if (Options.Argv.empty()) {
        error = "no program given (sockscope --run -- PROGRAM [ARGS...])";
        return false;
    }
    auto program = FindProgram(Options.Argv[0], error);
    if (!program)
        return false;
    {
        std::lock_guard lock(Mutex);
        StartState = Phase::Starting;
    }
    Worker = std::thread([this, p = *program] { Run(p); });
    std::unique_lock lock(Mutex);
    Changed.wait(lock, [&] { return StartState != Phase::Starting; });
    if (StartState == Phase::Failed) {
        error = StartError;
        lock.unlock();
        Worker.join();
        return false;
    }
    return true;
}

void Tracer::Stop()
{
    Stopping = true;
    {
        std::lock_guard lock(Mutex);
        for (int pid : Live)
            kill(pid, SIGKILL);
    }
    if (Worker.joinable())
        Worker.join();
}

bool Tracer::WaitDone(double seconds)
{
    std::unique_lock lock(Mutex);
    return Changed.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return Finished.load(); });
}

std::string Tracer::ExitText() const
{
    std::lock_guard lock(Mutex);
    return ExitLine;
}

void Tracer::Run(std::string program)
{
    // Everything the child needs, made before fork(): after it, in a threaded process,
    // the child may only make async-signal-safe calls.
    std::vector<sock_filter> filter = BuildFilter();
    sock_fprog prog{static_cast<unsigned short>(filter.size()), filter.data()};
    std::vector<char*> argv;
    for (auto& a : Options.Argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const char* path = program.c_str();
    const bool stdout_to_stderr = Options.StdoutToStderr;
    int go[2], report[2];
    auto fail = [&](std::string why) {
        std::lock_guard lock(Mutex);
        StartState = Phase::Failed;
        StartError = std::move(why);
        Finished = true;
        Changed.notify_all();
    };
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
        fail(std::string("pipe: ") + std::strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child < 0) {
        fail(std::string("fork: ") + std::strerror(errno));
        return;
    }
    if (child == 0) {
        // Wait until the parent has seized us: a SECCOMP_RET_TRACE with no tracer fails
        // the call with ENOSYS.
        char byte;
        close(go[1]);
        close(report[0]);
        int err = 0;
        if (read(go[0], &byte, 1) != 1)
            _exit(127);
        // sockscope ignores SIGPIPE; an ignored signal stays ignored across execve.
        signal(SIGPIPE, SIG_DFL);
        if (stdout_to_stderr)
            dup2(2, 1);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            err = errno;
        else {
            execv(path, argv.data());
            err = errno;
        }
        // writev, not write: write is in the filter, and the parent is not looking yet.
        iovec iov{&err, sizeof err};
        ssize_t ignored = writev(report[1], &iov, 1);
        (void)ignored;
        _exit(127);
    }
    close(go[0]);
    close(report[1]);
    Root = child;
    long options = PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                   PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;
    if (ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(options)) != 0) {
        int err = errno;
        kill(child, SIGKILL);
        close(go[1]);
        close(report[0]);
        waitpid(child, nullptr, 0);
        fail(err == EPERM ? "tracing is not permitted here (ptrace: Operation not permitted); "
                            "sockscope --watch PORT shows a program's sockets without tracing it"
                          : std::string("ptrace: ") + std::strerror(err));
        return;
    }
    {
        std::lock_guard lock(Mutex);
        Live.push_back(child);
    }
    S = std::make_unique<State>(*this, program);
    State& st = *S;
    std::string name = Basename(Options.Argv[0]);
    {
        auto& proc = st.Processes[child];
        proc = std::make_unique<State::Process>();
        proc->Program = name;
        proc->PidFd = PidfdOpen(child);
        auto& task = st.Tasks[child];
        task.Tid = task.Pid = child;
        task.Name = name + "[" + std::to_string(child) + "]";
        task.Announced = true;
        task.Running = true;
        LaneCount++;
        if (Options.AnnounceRoot)
            Events(LaneEvent{.Id = Ids(), .Kind = LaneEventKind::Started, .Type = LaneType::Process,
                             .Actor = task.Name, .ActorKind = "client", .Pid = child, .Tid = child,
                             .T = MonotonicSeconds(), .Traced = true});
    }
    char byte = 1;
    ssize_t ignored = write(go[1], &byte, 1);
    (void)ignored;
    close(go[1]);

    // The root's lane: its execve (or why it failed).
    int exec_err = 0;
    bool exec_reported = read(report[0], &exec_err, sizeof exec_err) == sizeof exec_err;
    close(report[0]);
    if (exec_reported) {
        // The child could not exec: it has exited (127); reap it.
        int status;
        while (waitpid(child, &status, __WALL) == child && !WIFEXITED(status) && !WIFSIGNALED(status))
            ptrace(PTRACE_CONT, child, nullptr, nullptr);
        fail("cannot run " + program + ": " + std::strerror(exec_err));
        return;
    }
    {
        std::lock_guard lock(Mutex);
        StartState = Phase::Running;
        Changed.notify_all();
    }

    st.Loop();
    S.reset(); // joins the blocked-call watcher
    std::lock_guard lock(Mutex);
    Live.clear();
    if (ExitLine.empty())
        ExitLine = "ended";
    Finished = true;
    StartState = Phase::Done;
    Changed.notify_all();
}


CallEvent Tracer::State::EventOf(const Task& t, CallId call)
{
    CallEvent c;
    c.Id = T.Ids();
    c.Actor = t.Name;
    c.ActorKind = "client";
    c.Call = call;
    c.Phase = CallPhase::Finished;
    c.Pid = t.Pid;
    c.Tid = t.Tid;
    c.Traced = true;
    c.TStart = c.TEnd = MonotonicSeconds();
    return c;
}

LaneEvent Tracer::State::LifeOf(const Task& t, LaneEventKind kind, LaneType type)
{
    return {.Id = T.Ids(), .Kind = kind, .Type = type, .Actor = t.Name, .ActorKind = "client", .Pid = t.Pid,
            .Tid = t.Tid, .T = MonotonicSeconds(), .Traced = true};
}

void Tracer::State::ReportFork(const Task& parent, CallId call, long result, std::string text)
{
    CallEvent c = EventOf(parent, call);
    c.Result = result;
    c.Args.Text = std::move(text);
    T.Events(std::move(c));
}

void Tracer::State::Inspect(int pid, int fd, FdInfo* info, std::optional<Endpoint>* local,
                            std::optional<Endpoint>* remote)
{
    auto it = Processes.find(pid);
    if (it == Processes.end() || it->second->PidFd < 0)
        return;
    int copy = PidfdGetfd(it->second->PidFd, fd);
    if (copy < 0)
        return;
    if (info) {
        std::uint64_t cookie = 0;
        socklen_t len = sizeof cookie;
        if (getsockopt(copy, SOL_SOCKET, SO_COOKIE, &cookie, &len) == 0)
            info->Cookie = cookie;
    }
    if (local)
        *local = LocalOf(copy);
    if (remote)
        *remote = RemoteOf(copy);
    close(copy);
    if (local && *local && (*local)->Port != 0 && (*local)->Family != 0)
        T.Ports((*local)->Port);
    if (remote && *remote && (*remote)->Port != 0 && (*remote)->Family != 0)
        T.Ports((*remote)->Port);
}

void Tracer::State::TakeSocket(Task& t, int fd)
{
    FdInfo info;
    info.Fd = fd;
    info.Handle = "fd" + std::to_string(fd);
    info.Inode = SocketInode(t.Tid, fd);
    if (info.Inode == 0)
        return;
    Inspect(t.Pid, fd, &info, nullptr, nullptr);
    Processes[t.Pid]->Sockets[fd] = info;
    t.Call.NewFd = info;
}

bool Tracer::State::OnEntry(Task& t)
{
    __ptrace_syscall_info info{};
    if (ptrace(PTRACE_GET_SYSCALL_INFO, t.Tid, sizeof info, &info) <= 0 || info.op != PTRACE_SYSCALL_INFO_SECCOMP)
        return false;
    const SyscallRow* row = RowOfSyscall(info.seccomp.nr);
    if (!row)
        return false;
    const std::uint64_t* a = info.seccomp.args;
    int fd_arg = static_cast<int>(a[0]);
    std::uint32_t inode = 0;
    if (row->OnSocketOnly) {
        int fd = row->Call == CallId::EpollCtl ? static_cast<int>(a[2]) : fd_arg;
        inode = SocketInode(t.Tid, fd);
        if (inode == 0)
            return false;
    }
    t.Row = row;
    std::copy(a, a + 6, t.Args);
    CallEvent& c = t.Call;
    c = EventOf(t, row->Call);
    c.TEnd = 0;
    c.Phase = CallPhase::Started;
    CallArgs& args = c.Args;
    bool takes_fd = RowOf(row->Call).Has(TakesFd) && row->Call != CallId::EpollCtl;
    if (takes_fd) {
        c.Fd = fd_arg;
        c.Handle = "fd" + std::to_string(fd_arg);
    }
    switch (row->Call) {
    case CallId::Socket:
    case CallId::Socketpair:
        args.Family = static_cast<int>(a[0]);
        args.Type = static_cast<int>(a[1]);
        args.Value = static_cast<std::int64_t>(a[2]);
        break;
    case CallId::Bind:
    case CallId::Connect: ReadSockaddr(t.Tid, a[1], static_cast<std::uint32_t>(a[2]), args); break;
    case CallId::Listen: args.Value = static_cast<int>(a[1]); break;
    case CallId::Accept4: args.Flags = static_cast<int>(a[3]); break;
    case CallId::Shutdown: args.Value = static_cast<int>(a[1]); break;
    case CallId::Setsockopt:
        args.Level = static_cast<int>(a[1]);
        args.Option = static_cast<int>(a[2]);
        args.Len = static_cast<int>(a[4]);
        if (args.Len == sizeof(int)) {
            int v = 0;
            ReadValue(t.Tid, a[3], v);
            args.Value = v;
        }
        break;
    case CallId::Getsockopt:
        args.Level = static_cast<int>(a[1]);
        args.Option = static_cast<int>(a[2]);
        break;
    case CallId::Sendto:
    case CallId::Write:
        args.Len = static_cast<std::int64_t>(a[2]);
        c.Data = ReadMemory(t.Tid, a[1], std::min<std::uint64_t>(a[2], MaxCallData));
        if (row->Call == CallId::Sendto) {
            args.Flags = static_cast<int>(a[3]);
            if (a[4] != 0)
                ReadSockaddr(t.Tid, a[4], static_cast<std::uint32_t>(a[5]), args);
        }
        break;
    case CallId::Recvfrom:
        args.Flags = static_cast<int>(a[3]);
        [[fallthrough]];
    case CallId::Read: args.Len = static_cast<std::int64_t>(a[2]); break;
    case CallId::Sendmsg:
        args.Flags = static_cast<int>(a[2]);
        c.Data = ReadIovecs(t.Tid, a[1], MaxCallData, &args.Len);
        break;
    case CallId::Recvmsg: args.Flags = static_cast<int>(a[2]); break;
    case CallId::Dup2:
    case CallId::Dup3:
        args.Value = static_cast<int>(a[1]);
        args.Flags = static_cast<int>(a[2]);
        break;
    case CallId::Fcntl:
        args.Option = static_cast<int>(a[1]);
        args.Value = static_cast<std::int64_t>(a[2]);
        break;
    case CallId::EpollCreate: args.Value = static_cast<int>(a[0]); break;
    case CallId::EpollCreate1: args.Flags = static_cast<int>(a[0]); break;
    case CallId::EpollCtl: {
        args.Value = static_cast<int>(a[0]);
        args.Option = static_cast<int>(a[1]);
        c.Fd = static_cast<int>(a[2]);
        c.Handle = "fd" + std::to_string(c.Fd);
        epoll_event ev{};
        if (a[3] && ReadValue(t.Tid, a[3], ev))
            args.Flags = static_cast<int>(ev.events);
        break;
    }
    case CallId::EpollWait:
    case CallId::EpollPwait:
        c.Fd = fd_arg;
        args.Value = static_cast<int>(a[2]);
        args.Len = static_cast<int>(a[3]);
        break;
    case CallId::Select:
    case CallId::Pselect6:
        args.Value = static_cast<int>(a[0]);
        args.Text = std::to_string(static_cast<int>(a[0])) + ", " + (a[1] ? "&readfds" : "NULL") + ", " +
                    (a[2] ? "&writefds" : "NULL") + ", " + (a[3] ? "&exceptfds" : "NULL") + ", " +
                    (a[4] ? "&timeout" : "NULL");
        break;
    case CallId::Poll:
        args.Text = PollArgs(t.Tid, a[0], a[1], std::to_string(static_cast<int>(a[2])));
        break;
    case CallId::Ppoll: args.Text = PollArgs(t.Tid, a[0], a[1], a[2] ? "&timeout" : "NULL"); break;
    default: break;
    }
    if (inode != 0 && row->Call == CallId::Close) {
        c.Closed = true;
        Processes[t.Pid]->Sockets.erase(fd_arg);
    }
    t.InCall = true;
    Watch.Entered(c);
    return true;
}

void Tracer::State::OnExit(Task& t)
{
    __ptrace_syscall_info info{};
    CallEvent& c = t.Call;
    long rval = 0;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, t.Tid, sizeof info, &info) > 0 && info.op == PTRACE_SYSCALL_INFO_EXIT)
        rval = static_cast<long>(info.exit.rval);
    c.TEnd = MonotonicSeconds();
    c.Phase = CallPhase::Finished;
    if (rval < 0 && rval >= -4095) {
        c.Result = -1;
        c.Errno = static_cast<int>(-rval);
    } else {
        c.Result = rval;
    }
    const std::uint64_t* a = t.Args;
    bool ok = c.Errno == 0;
    switch (c.Call) {
    case CallId::Socket:
        if (ok)
            TakeSocket(t, static_cast<int>(rval));
        break;
    case CallId::Socketpair:
        if (ok) {
            int sv[2] = {-1, -1};
            if (ReadValue(t.Tid, a[3], sv))
                c.Args.Text = "[" + std::to_string(sv[0]) + ", " + std::to_string(sv[1]) + "]";
        }
        break;
    case CallId::Accept:
    case CallId::Accept4:
        if (ok) {
            std::uint32_t len = 0;
            if (a[1] && ReadValue(t.Tid, a[2], len))
                ReadSockaddr(t.Tid, a[1], len, c.Args);
            TakeSocket(t, static_cast<int>(rval));
            Inspect(t.Pid, static_cast<int>(rval), nullptr, &c.Local, &c.Remote);
        }
        break;
    case CallId::Dup:
    case CallId::Dup2:
    case CallId::Dup3:
        if (ok)
            TakeSocket(t, static_cast<int>(rval));
        break;
    case CallId::Fcntl:
        if (ok && (c.Args.Option == F_DUPFD || c.Args.Option == F_DUPFD_CLOEXEC))
            TakeSocket(t, static_cast<int>(rval));
        break;
    case CallId::Bind:
    case CallId::Listen:
    case CallId::Getsockname:
        if (ok)
            Inspect(t.Pid, c.Fd, nullptr, &c.Local, nullptr);
        break;
    case CallId::Connect:
        // A refused or pending connect still tells where it goes.
        if (c.Args.Addr.Family == AF_INET || c.Args.Addr.Family == AF_INET6)
            T.Ports(c.Args.Addr.Port);
        Inspect(t.Pid, c.Fd, nullptr, &c.Local, &c.Remote);
        break;
    case CallId::Getpeername:
        if (ok)
            Inspect(t.Pid, c.Fd, nullptr, nullptr, &c.Remote);
        break;
    case CallId::Getsockopt:
        if (ok) {
            socklen_t len = 0;
            ReadValue(t.Tid, a[4], len);
            c.Args.Len = len;
            if (len == sizeof(int)) {
                int v = 0;
                ReadValue(t.Tid, a[3], v);
                c.Args.Value = v;
            }
        }
        break;
    case CallId::Read:
    case CallId::Recvfrom:
        if (ok && rval > 0)
            c.Data = ReadMemory(t.Tid, a[1], std::min<std::uint64_t>(static_cast<std::uint64_t>(rval), MaxCallData));
        if (ok && c.Call == CallId::Recvfrom && a[4]) {
            std::uint32_t len = 0;
            if (ReadValue(t.Tid, a[5], len))
                ReadSockaddr(t.Tid, a[4], len, c.Args);
        }
        break;
    case CallId::Recvmsg:
        if (ok && rval > 0) {
            std::int64_t total = 0;
            c.Data = ReadIovecs(t.Tid, a[1], std::min<std::uint64_t>(static_cast<std::uint64_t>(rval), MaxCallData),
                                &total);
            c.Args.Len = total;
        }
        break;
    default: break;
    }
    t.InCall = false;
    Watch.Returned(t.Tid, CallEvent(c));
}

void Tracer::State::EndLane(int tid, int status)
{
    auto it = Tasks.find(tid);
    if (it == Tasks.end())
        return;
    Task& t = it->second;
    if (t.InCall) { // killed inside a call: it never returned
        t.Call.Phase = CallPhase::Finished;
        t.Call.TEnd = MonotonicSeconds();
        t.Call.Result = -1;
        t.Call.Note = Say(PhraseId::TracedNeverReturned);
        Watch.Returned(tid, CallEvent(t.Call));
    }
    bool thread = t.Tid != t.Pid;
    LaneEvent e = LifeOf(t, LaneEventKind::Exited, thread ? LaneType::Thread : LaneType::Process);
    if (WIFSIGNALED(status)) {
        e.Signal = WTERMSIG(status);
        e.Note = Say(PhraseId::TracedKilled, SignalName(e.Signal));
    } else {
        e.Status = WEXITSTATUS(status);
        e.Note = Say(PhraseId::TracedExited, e.Status);
    }
    std::string text = e.Note.English();
    long code = e.Signal ? 128 + e.Signal : e.Status;
    T.Events(std::move(e));
    if (!thread) {
        Processes.erase(t.Pid);
        std::lock_guard lock(T.Mutex);
        std::erase(T.Live, t.Pid);
        if (t.Pid == T.Root) {
            T.ExitLine = text;
            T.ExitCode = static_cast<int>(code);
        }
    }
    Tasks.erase(it);
}

void Tracer::State::Resume(int tid, int request, int sig)
{
    ptrace(static_cast<__ptrace_request>(request), tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
}

void Tracer::State::OnNewTask(Task& parent, int event)
{
    unsigned long msg = 0;
    ptrace(PTRACE_GETEVENTMSG, parent.Tid, nullptr, &msg);
    int tid = static_cast<int>(msg);
    if (tid <= 0)
        return;
    // A thread shares its process; fork, vfork and clone without CLONE_THREAD make one.
    int tgid = tid;
    char file[64];
    std::snprintf(file, sizeof file, "/proc/%d/status", tid);
    if (FILE* f = std::fopen(file, "re")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "Tgid: %d", &tgid) == 1)
                break;
        std::fclose(f);
    }
    bool thread = tgid != tid;
    Task& t = Tasks[tid];
    t.Tid = tid;
    t.Pid = tgid;
    std::vector<FdInfo> inherited;
    auto& parent_proc = Processes[parent.Pid];
    if (!parent_proc)
        parent_proc = std::make_unique<Process>();
    for (const auto& [fd, info] : parent_proc->Sockets)
        inherited.push_back(info);
    std::string program = parent_proc->Program;
    if (thread) {
        t.Name = program + "[" + std::to_string(tgid) + "/" + std::to_string(tid) + "]";
    } else {
        t.Name = program + "[" + std::to_string(tgid) + "]";
        auto proc = std::make_unique<Process>();
        proc->Program = program;
        proc->Sockets = parent_proc->Sockets;
        proc->PidFd = PidfdOpen(tgid);
        Processes[tgid] = std::move(proc);
        std::lock_guard lock(T.Mutex);
        T.Live.push_back(tgid);
    }
    T.LaneCount++;
    // The parent's side: the call returned the new lane's id.
    CallId call = thread ? CallId::Clone
                  : event == PTRACE_EVENT_VFORK ? CallId::Vfork
                  : event == PTRACE_EVENT_FORK  ? CallId::Fork
                                                : CallId::Clone;
    ReportFork(parent, call, tid,
               call == CallId::Clone ? (thread ? "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|..."
                                               : "child_stack=NULL, flags=...|SIGCHLD")
                                     : "");
    // The new lane's first event.
    LaneEvent born = thread ? LifeOf(t, LaneEventKind::Started, LaneType::Thread)
                            : LifeOf(t, LaneEventKind::Forked, LaneType::Process);
    born.Parent = parent.Name;
    born.Inherited = std::move(inherited);
    T.Events(std::move(born));
    t.Announced = true;
    if (t.Held) {
        t.Held = false;
        t.Running = true;
        Resume(tid, PTRACE_CONT);
    }
}

void Tracer::State::Loop()
{
    // Wait for any traced task; each stop says what it is. Only this thread's own
    // (__WNOTHREAD): another tracer in the process (a lesson runs two programs) or a
    // server model's children are someone else's to wait for.
    int status = 0;
    for (;;) {
        int tid = waitpid(-1, &status, __WALL | __WNOTHREAD);
        if (tid < 0) {
            if (errno == EINTR)
                continue;
            break; // ECHILD: every traced process has gone
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            EndLane(tid, status);
            continue;
        }
        if (!WIFSTOPPED(status))
            continue;
        auto found = Tasks.find(tid);
        if (found == Tasks.end()) {
            // A new task's first stop before its parent's fork/clone event: hold it there.
            Task& t = Tasks[tid];
            t.Tid = t.Pid = tid;
            t.Held = true;
            continue;
        }
        Task& t = found->second;
        int sig = WSTOPSIG(status);
        int event = status >> 16;
        if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
            T.StopCount++;
            if (!T.Stopping && OnEntry(t))
                Resume(tid, PTRACE_SYSCALL);
            else
                Resume(tid, PTRACE_CONT);
        } else if (sig == (SIGTRAP | 0x80)) {
            if (t.InCall)
                OnExit(t);
            Resume(tid, PTRACE_CONT);
        } else if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
                                      event == PTRACE_EVENT_CLONE)) {
            OnNewTask(t, event);
            Resume(tid, PTRACE_CONT);
        } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
            // After execve by a thread, the process continues under the leader's id: the
            // thread's own id is gone (its other threads have ended).
            unsigned long old_tid = 0;
            ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &old_tid);
            if (static_cast<int>(old_tid) != tid)
                Tasks.erase(static_cast<int>(old_tid));
            char exe[4096];
            char file[64];
            std::snprintf(file, sizeof file, "/proc/%d/exe", tid);
            ssize_t n = readlink(file, exe, sizeof exe - 1);
            std::string path = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : Program;
            if (auto proc = Processes.find(t.Pid); proc != Processes.end() && proc->second) {
                proc->second->Sockets.clear(); // close-on-exec ones are gone; others stay unseen
            }
            CallEvent c = EventOf(t, CallId::Execve);
            c.Args.Text = ExecArgs(tid, path);
            T.Events(std::move(c));
            Resume(tid, PTRACE_CONT);
        } else if (event == PTRACE_EVENT_STOP) {
            if (!t.Announced) {
                t.Held = true; // wait for the parent's event
                continue;
            }
            if (!t.Running) { // a new task's first stop
                t.Running = true;
                Resume(tid, PTRACE_CONT);
            } else if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                Resume(tid, PTRACE_LISTEN); // a group stop: stay stopped until SIGCONT
            else
                Resume(tid, PTRACE_CONT);
        } else {
            // A signal for the program: deliver it.
            Resume(tid, PTRACE_CONT, sig);
        }
}
}

std::unique_ptr<Tracer> MakeLabTracer(Lab& lab, TracerOptions options)
{
    return std::make_unique<Tracer>(
        std::move(options),
        [&lab](LaneReport&& event) {
            // Report() prompts the probe (and asks for a sweep after a call that may make
            // a socket); an accepted connection leaves the accept queue: sweep too.
            const auto* c = std::get_if<CallEvent>(&event);
            bool accepted = c && c->Phase == CallPhase::Finished && c->NewFd &&
                            (c->Call == CallId::Accept || c->Call == CallId::Accept4);
            lab.Report(ToLabEvent(std::move(event)), Lab::Notify::Now);
            if (accepted)
                lab.RefreshProbe();
        },
        [&lab](std::uint16_t port) { lab.WatchPort(port); }, [&lab] { return lab.NewCallId(); });
}

} // namespace sockscope
