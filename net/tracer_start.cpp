#include "tracer_internal.hpp"

#include "lab.hpp"

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

namespace sockscope {

namespace {

constexpr int kTraced[] = {
    SYS_socket,      SYS_socketpair,    SYS_bind,       SYS_listen,    SYS_accept,      SYS_accept4,
    SYS_connect,     SYS_shutdown,      SYS_setsockopt, SYS_getsockopt, SYS_getsockname, SYS_getpeername,
    SYS_sendto,      SYS_recvfrom,      SYS_sendmsg,    SYS_recvmsg,   SYS_read,        SYS_write,
    SYS_close,       SYS_dup,           SYS_dup2,       SYS_dup3,      SYS_fcntl,       SYS_epoll_create,
    SYS_epoll_create1, SYS_epoll_ctl,   SYS_epoll_wait, SYS_epoll_pwait, SYS_select,    SYS_pselect6,
    SYS_poll,        SYS_ppoll,         SYS_wait4,      SYS_waitid,
    // Not shown: stopped so that what the tracer knows of the descriptors it closes
    // (Process::Sockets, Process::NotSockets) is forgotten.
    SYS_close_range,
};

} // namespace

namespace traced {

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
    {SYS_wait4, CallId::Waitpid, false},           {SYS_waitid, CallId::Waitid, false},
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

} // namespace traced

using namespace traced;

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
    const int stdin_fd = Options.Stdin, output_fd = Options.Output;
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
        // The GUI's pipes (close-on-exec where they are; not so once dup2'd).
        if (stdin_fd >= 0)
            dup2(stdin_fd, 0);
        if (output_fd >= 0) {
            dup2(output_fd, 1);
            dup2(output_fd, 2);
        }
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
    {
        std::lock_guard lock(Mutex);
        Live.clear();
        if (ExitLine.empty())
            ExitLine = "ended";
        Finished = true;
        StartState = Phase::Done;
        Changed.notify_all();
    }
    if (Options.OnDone)
        Options.OnDone();
}

std::unique_ptr<Tracer> MakeLabTracer(Lab& lab, TracerOptions options)
{
    if (!options.OnDone)
        options.OnDone = [&lab] { lab.Poke(); }; // a reader waiting for events hears of the end at once
    return std::make_unique<Tracer>(
        std::move(options),
        [&lab](LaneReport&& event) {
            // Report() prompts the probe (and asks for a sweep after a call that may make
            // a socket). An accept needs no sweep of its own: the connection it takes was
            // in the accept queue the probe follows, and the prompt shows it leave. (A
            // forced sweep per accept cost a loop of connections 40 % of its time: every
            // sweep walks the machine's whole TCP hash table, 262,144 buckets here.)
            lab.Report(ToLabEvent(std::move(event)), Lab::Notify::Now);
        },
        [&lab](std::uint16_t port) { lab.WatchPort(port); }, [&lab] { return lab.NewCallId(); });
}

} // namespace sockscope
