#include "tracer_internal.hpp"

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <limits>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

namespace sockscope {

namespace traced {

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

// waitpid()'s options as the program wrote them: "WNOHANG|WUNTRACED", "0".
std::string WaitOptions(int options)
{
    std::string out;
    const std::pair<int, const char*> names[] = {{WNOHANG, "WNOHANG"},     {WUNTRACED, "WUNTRACED"},
                                                 {WEXITED, "WEXITED"},     {WCONTINUED, "WCONTINUED"},
                                                 {WNOWAIT, "WNOWAIT"},     {__WALL, "__WALL"}};
    for (auto [bit, name] : names)
        if (options & bit) {
            out += (out.empty() ? "" : "|") + std::string(name);
            options &= ~bit;
        }
    if (options)
        out += (out.empty() ? "" : "|") + std::to_string(options);
    return out.empty() ? "0" : out;
}

bool IgnoresSigchld(int pid)
{
    char file[64], line[256];
    std::snprintf(file, sizeof file, "/proc/%d/status", pid);
    FILE* f = std::fopen(file, "re");
    if (!f)
        return false;
    unsigned long long ignored = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, f))
        found = std::sscanf(line, "SigIgn: %llx", &ignored) == 1;
    std::fclose(f);
    return found && (ignored & (1ULL << (SIGCHLD - 1)));
}

} // namespace traced

using namespace traced;

CallEvent Tracer::State::EventOf(const Task& t, CallId call)
{
    CallEvent c;
    c.Id = T.Ids();
    c.Actor = t.Name;
    c.ActorKind = KindOf(t);
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
    return {.Id = T.Ids(), .Kind = kind, .Type = type, .Actor = t.Name, .ActorKind = KindOf(t), .Pid = t.Pid,
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
}

// The port the probe is to watch for a socket's address: a server's own port (bind,
// listen, accept's local end) or the service a client connects to. Never a client's
// ephemeral port: the service's port already shows its connections, and a port a
// connection would have added the dump's filter grows with (10,000 connections made the
// probe's filter 10,000 ports long and each dump a hundred times dearer).
void Tracer::State::WatchPortOf(const std::optional<Endpoint>& e)
{
    if (e && e->Port != 0 && e->Family != 0)
        T.Ports(e->Port);
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
    Processes[t.Pid]->NotSockets.erase(fd);
    t.Call.NewFd = info;
}

std::uint32_t Tracer::State::InodeOf(Task& t, int fd)
{
    auto found = Processes.find(t.Pid);
    if (found == Processes.end() || !found->second)
        return SocketInode(t.Tid, fd);
    Process& proc = *found->second;
    if (auto s = proc.Sockets.find(fd); s != proc.Sockets.end())
        return s->second.Inode;
    if (proc.NotSockets.count(fd))
        return 0;
    std::uint32_t inode = SocketInode(t.Tid, fd);
    if (inode == 0 && fd >= 0 && proc.NotSockets.size() < 65536)
        proc.NotSockets.insert(fd);
    return inode;
}

bool Tracer::State::OnEntry(Task& t)
{
    __ptrace_syscall_info info{};
    if (ptrace(PTRACE_GET_SYSCALL_INFO, t.Tid, sizeof info, &info) <= 0 || info.op != PTRACE_SYSCALL_INFO_SECCOMP)
        return false;
    const std::uint64_t* a = info.seccomp.args;
    auto proc = Processes.find(t.Pid);
    auto forget = [&](std::uint64_t fd) {
        if (proc != Processes.end() && proc->second && fd <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
            proc->second->Forget(static_cast<int>(fd));
    };
    if (info.seccomp.nr == SYS_close_range) {
        // close_range(first, last, flags): forget what it closes (CLOSE_RANGE_CLOEXEC: at
        // execve, which forgets everything anyway).
        auto closes = [&](int fd) {
            return fd >= 0 && static_cast<std::uint64_t>(fd) >= a[0] && static_cast<std::uint64_t>(fd) <= a[1];
        };
        if (proc != Processes.end() && proc->second && !(a[2] & 4 /* CLOSE_RANGE_CLOEXEC */)) {
            std::erase_if(proc->second->Sockets, [&](const auto& e) { return closes(e.first); });
            std::erase_if(proc->second->NotSockets, closes);
        }
        return false;
    }
    const SyscallRow* row = RowOfSyscall(info.seccomp.nr);
    if (!row)
        return false;
    int fd_arg = static_cast<int>(a[0]);
    // dup2 and dup3 replace their target, whatever their source is.
    if ((row->Call == CallId::Dup2 || row->Call == CallId::Dup3) && a[1] != a[0])
        forget(a[1]);
    std::uint32_t inode = 0;
    if (row->OnSocketOnly) {
        int fd = row->Call == CallId::EpollCtl ? static_cast<int>(a[2]) : fd_arg;
        inode = InodeOf(t, fd);
        if (row->Call == CallId::Close && inode == 0)
            forget(a[0]);
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
    case CallId::Waitpid: // wait4(pid, &status, options, &rusage), as waitpid() writes it
        args.Value = static_cast<int>(a[0]);
        args.Flags = static_cast<int>(a[2]);
        args.Text = std::to_string(static_cast<int>(a[0])) + ", " + (a[1] ? "&status" : "NULL") + ", " +
                    WaitOptions(static_cast<int>(a[2])) + (a[3] ? ", &rusage" : "");
        break;
    case CallId::Waitid: {
        static const char* const kIdTypes[] = {"P_ALL", "P_PID", "P_PGID", "P_PIDFD"};
        args.Flags = static_cast<int>(a[3]);
        args.Text = std::string(a[0] < 4 ? kIdTypes[a[0]] : std::to_string(a[0]).c_str()) + ", " +
                    std::to_string(static_cast<int>(a[1])) + ", &info, " + WaitOptions(static_cast<int>(a[3]));
        break;
    }
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
            WatchPortOf(c.Local);
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
        if (ok) {
            Inspect(t.Pid, c.Fd, nullptr, &c.Local, nullptr);
            if (c.Call != CallId::Getsockname) // a client's getsockname names its ephemeral port
                WatchPortOf(c.Local);
            // A process that listens is a server from now on (its lanes are laid out so).
            if (auto p = Processes.find(t.Pid); c.Call == CallId::Listen && p != Processes.end() && p->second)
                p->second->Server = true;
        }
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
    case CallId::Waitpid:
        if (ok && rval > 0) {
            int status = -1;
            if (a[1] == 0 || !ReadValue(t.Tid, a[1], status))
                status = -1;
            Reaped(t, static_cast<int>(rval), status);
        }
        break;
    case CallId::Waitid:
        // WNOWAIT looks without reaping; si_pid 0: WNOHANG and none has exited.
        if (ok && a[2] && !(a[3] & WNOWAIT)) {
            siginfo_t info{};
            if (ReadValue(t.Tid, a[2], info) && info.si_pid > 0) {
                int status = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0)
                             : (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) ? info.si_status
                                                                                           : -1;
                Reaped(t, info.si_pid, status);
            }
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

} // namespace sockscope
