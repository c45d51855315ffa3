#include "server_loop.hpp"

#include "clock.hpp"
#include "lab.hpp"
#include "sockets.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sockscope {

namespace {

void CloseWithReset(int fd)
{
    linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
}

// What waitpid() reaped, `in_handler` (the SIGCHLD handler) or for a lesson's waitpid
// step: "the zombie is reaped: child 42 exited with status 0, reaped".
Phrase ReapedPhrase(bool in_handler, bool reaped, int pid, int status)
{
    if (!reaped)
        return Say(in_handler ? PhraseId::ReapedInHandler : PhraseId::ZombieReaped);
    if (WIFEXITED(status))
        return Say(in_handler ? PhraseId::ReapedInHandlerExited : PhraseId::ZombieReapedExited, pid,
                   WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return Say(in_handler ? PhraseId::ReapedInHandlerKilled : PhraseId::ZombieReapedKilled, pid,
                   strsignal(WTERMSIG(status)));
    return Say(in_handler ? PhraseId::ReapedInHandlerStatus : PhraseId::ZombieReapedStatus, pid, status);
}

std::mutex WorkerPathMutex;
std::string WorkerPathSet; // SetDefaultWorkerPath's

// The sockscope binary to exec as the fork server's child: the one the app set, this
// program if it is sockscope, or a sockscope next to it (a test binary in the build
// tree finds ../app/sockscope). Never another program: it would not understand --worker.
std::string DefaultWorkerPath()
{
    {
        std::lock_guard lock(WorkerPathMutex);
        if (!WorkerPathSet.empty())
            return WorkerPathSet;
    }
    char buf[4096];
    long n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return {};
    std::string self(buf, static_cast<std::size_t>(n));
    std::string dir = self.substr(0, self.rfind('/') + 1);
    if (self.substr(dir.size()) == "sockscope")
        return self;
    for (const char* candidate : {"sockscope", "../app/sockscope"})
        if (access((dir + candidate).c_str(), X_OK) == 0)
            return dir + candidate;
    return {};
}

} // namespace

long PeekExitedChild(int& err)
{
    siginfo_t info{};
    long rc = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
    err = errno;
    return rc == 0 ? info.si_pid : rc;
}

void SetDefaultWorkerPath(std::string path)
{
    std::lock_guard lock(WorkerPathMutex);
    WorkerPathSet = std::move(path);
}

bool IsServerModel(const std::string& model)
{
    return model == "iterative" || model == "thread" || model == "fork" || model == "epoll";
}

// A forked child: its pid, the pipe it reports through, and a pidfd that becomes
// readable when it exits (how sockscope hears SIGCHLD without a process-wide handler).
struct ServerLoop::Child {
    int Pid = 0;
    UniqueFd Pipe;
    UniqueFd PidFd;
    std::string Buffer;
    std::map<std::uint64_t, std::uint64_t> Ids; // the child's call ids -> the lab's
    bool PipeOpen = true;
    bool Exited = false;
};

// A thread of the thread-per-connection model and the connection it serves.
struct ServerLoop::Worker {
    std::thread Thread;
    std::atomic<int> Fd{-1};            // -1 once the thread closed it
    std::atomic<bool> Finished{false}; // its function has returned: join it
};

ServerLoop::ServerLoop(Lab& lab, std::string name, std::string listen_handle, UniqueFd listener, ServerSpec spec)
    : LabRef(lab), Name(std::move(name)), ListenHandle(std::move(listen_handle)), Listener(std::move(listener)),
      Spec(std::move(spec)), StopFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      WorkerDoneFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (Spec.WorkerPath.empty())
        Spec.WorkerPath = DefaultWorkerPath();
    // Lanes make blocking calls the way actors do: on a non-blocking descriptor, waiting
    // in poll() so that a reset can wake them.
    if (int flags = fcntl(Listener.Get(), F_GETFL); flags >= 0)
        fcntl(Listener.Get(), F_SETFL, flags | O_NONBLOCK);
    Thread = std::thread([this] { Run(); });
}

ServerLoop::~ServerLoop()
{
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(StopFd.Get(), &one, sizeof one);
    if (Thread.joinable())
        Thread.join();
}

bool ServerLoop::Stopped() const
{
    pollfd pfd{StopFd.Get(), POLLIN, 0};
    return poll(&pfd, 1, 0) > 0;
}

std::string ServerLoop::NextHandle()
{
    return "conn" + std::to_string(++Accepted);
}

void ServerLoop::Run()
{
    Lane lane(
        Name, "server", [this](LaneReport r) { LabRef.Report(ToLabEvent(std::move(r))); },
        [this] { return LabRef.NewCallId(); });
    if (Spec.Model == "thread")
        RunThreads(lane);
    else if (Spec.Model == "fork")
        RunFork(lane);
    else if (Spec.Model == "epoll")
        RunEpoll(lane);
    else
        RunIterative(lane);

    // Stopped: nothing may outlive the lab.
    for (auto& w : Workers)
        if (w->Thread.joinable())
            w->Thread.join();
    for (auto& w : Workers)
        if (int fd = w->Fd.exchange(-1); fd >= 0)
            CloseWithReset(fd);
    for (auto& c : Children) {
        if (!c->Exited)
            kill(c->Pid, SIGKILL);
        waitpid(c->Pid, nullptr, 0);
    }
    std::lock_guard lock(Mutex);
    Zombies.clear();
    if (Listener.Get() >= 0)
        CloseWithReset(Listener.Release());
}

int ServerLoop::TryAccept(Lane& lane, CallEvent& call, std::string& handle)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    // The lanes make blocking calls (emulated with poll): the descriptor itself stays
    // non-blocking so that a reset can always wake them.
    int conn = accept4(Listener.Get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    int err = errno;
    if (conn >= 0) {
        handle = NextHandle();
        call.NewFd = DescribeFd(handle, conn);
        call.Remote = EndpointOf(ss);
        call.Local = LocalOf(conn);
        lane.Finish(call, conn, 0);
        return conn;
    }
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
        return -1;
    if (err == EMFILE || err == ENFILE)
        call.Note = Say(PhraseId::OutOfDescriptors);
    lane.Finish(call, -1, err);
    return -2;
}

int ServerLoop::AcceptBlocking(Lane& lane, std::string& handle)
{
    int lfd = Listener.Get();
    CallEvent call = lane.Begin(CallId::Accept, ListenHandle, lfd);
    bool reported = false;
    for (;;) {
        int conn = TryAccept(lane, call, handle);
        if (conn >= 0)
            return conn;
        if (conn == -2) {
            // Do not spin on a lasting error: wait a little (or for the stop) first.
            pollfd pfd{StopFd.Get(), POLLIN, 0};
            return poll(&pfd, 1, 200) > 0 ? -2 : -1;
        }
        if (!reported) {
            lane.Blocked(call);
            reported = true;
        }
        if (!WaitForConnection(lfd)) {
            call.Note = Say(PhraseId::WokenByReset);
            lane.Finish(call, -1, EINTR);
            return -2;
        }
    }
}

bool ServerLoop::WaitForConnection(int lfd)
{
    for (;;) {
        pollfd pfds[3] = {{lfd, POLLIN, 0}, {StopFd.Get(), POLLIN, 0}, {WorkerDoneFd.Get(), POLLIN, 0}};
        int n = poll(pfds, 3, -1);
        if (n < 0 && errno != EINTR)
            return true; // accept() itself will report the error
        if (pfds[1].revents & POLLIN)
            return false;
        if (pfds[2].revents & POLLIN) {
            std::uint64_t count = 0;
            [[maybe_unused]] auto r = read(WorkerDoneFd.Get(), &count, sizeof count);
            JoinFinishedWorkers();
        }
        if (n > 0 && pfds[0].revents)
            return true;
    }
}

void ServerLoop::JoinFinishedWorkers()
{
    std::vector<std::unique_ptr<Worker>> finished;
    {
        std::lock_guard lock(Mutex);
        auto done = std::stable_partition(Workers.begin(), Workers.end(),
                                          [](const auto& w) { return !w->Finished.load(); });
        std::move(done, Workers.end(), std::back_inserter(finished));
        Workers.erase(done, Workers.end());
    }
    for (auto& w : finished)
        if (w->Thread.joinable())
            w->Thread.join(); // at once: its function has returned
}

std::size_t ServerLoop::WorkerThreads() const
{
    std::lock_guard lock(Mutex);
    return Workers.size();
}

void ServerLoop::RunIterative(Lane& lane)
{
    for (;;) {
        std::string handle;
        int conn = AcceptBlocking(lane, handle);
        if (conn == -2)
            return;
        if (conn < 0)
            continue;
        // While this connection is served, nobody calls accept(): the next clients'
        // handshakes complete in the kernel and they wait in the accept queue.
        if (ServeEcho(lane, conn, handle, Spec.Len, StopFd.Get()) == EchoRound::Stopped) {
            CloseWithReset(conn);
            return;
        }
    }
}

void ServerLoop::RunThreads(Lane& lane)
{
    for (;;) {
        std::string handle;
        int conn = AcceptBlocking(lane, handle);
        if (conn == -2)
            return;
        if (conn < 0)
            continue;
        CallArgs create_args;
        create_args.Value = conn;
        CallEvent create = lane.Begin(CallId::PthreadCreate, "", -1, create_args);
        auto worker = std::make_unique<Worker>();
        worker->Fd = conn;
        Worker* w = worker.get();
        std::string parent = Name;
        int stop = StopFd.Get();
        int done = WorkerDoneFd.Get();
        int len = Spec.Len;
        Lab* lab = &LabRef;
        {
            std::lock_guard lock(Mutex);
            Workers.push_back(std::move(worker));
        }
        w->Thread = std::thread([w, parent, handle, stop, done, len, lab] {
            Lane mine(
                "thread " + std::to_string(gettid()), "server",
                [lab](LaneReport r) { lab->Report(ToLabEvent(std::move(r))); }, [lab] { return lab->NewCallId(); });
            int fd = w->Fd.load();
            mine.Life(LaneEventKind::Started, LaneType::Thread, Say(PhraseId::ThreadStarts, fd), parent,
                      {DescribeFd(handle, fd)});
            if (ServeEcho(mine, fd, handle, len, stop) != EchoRound::Stopped) {
                w->Fd = -1; // ServeEcho closed it
                mine.Life(LaneEventKind::Returned, LaneType::Thread, Say(PhraseId::ThreadEnds));
            }
            // The accept loop joins it now, not when the server stops: a server that
            // serves all day leaves no finished threads behind.
            w->Finished = true;
            std::uint64_t one = 1;
            [[maybe_unused]] auto n = write(done, &one, sizeof one);
        });
        create.Note = Say(PhraseId::NewThreadServes, handle);
        lane.Finish(create, 0, 0);
    }
}

void ServerLoop::ForkChild(Lane& lane, int conn, const std::string& handle)
{
    int lfd = Listener.Get();
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        lane.Done(CallId::Fork, "", -1, {}, -1, errno, Say(PhraseId::NoReportPipe));
        lane.Close(conn, handle);
        return;
    }
    // Everything the child needs is built before fork(): in a multi-threaded process the
    // child may only make async-signal-safe calls until it execs.
    std::vector<std::string> args = {Spec.WorkerPath, "--worker",      "echo",
                                     "--report-fd",   std::to_string(p[1]), "--listen-fd",
                                     std::to_string(lfd), "--listen-handle", ListenHandle,
                                     "--conn-fd",     std::to_string(conn), "--conn-handle",
                                     handle,          "--parent",      Name,
                                     "--len",         std::to_string(Spec.Len)};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    CallEvent call = lane.Begin(CallId::Fork, "", -1);
    if (Spec.WorkerPath.empty()) {
        ::close(p[0]);
        ::close(p[1]);
        call.Note = Say(PhraseId::NoWorkerBinary);
        lane.Finish(call, -1, ENOENT);
        lane.Close(conn, handle);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        // The child keeps the parent's descriptor numbers, as fork() gives them.
        fcntl(lfd, F_SETFD, 0);
        fcntl(conn, F_SETFD, 0);
        fcntl(p[1], F_SETFD, 0);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int err = errno;
    ::close(p[1]);
    if (pid < 0) {
        ::close(p[0]);
        lane.Finish(call, -1, err);
        lane.Close(conn, handle);
        return;
    }
    auto child = std::make_unique<Child>();
    child->Pid = pid;
    child->Pipe = UniqueFd(p[0]);
    child->PidFd = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    {
        std::lock_guard lock(Mutex);
        Children.push_back(std::move(child));
    }
    call.Note = Say(PhraseId::ForkInParent);
    lane.Finish(call, pid, 0);
    // The parent's copy of the connection: closed, or the connection would never end.
    lane.Close(conn, handle);
}

bool ServerLoop::PumpChild(Child& child)
{
    char buf[4096];
    long n = read(child.Pipe.Get(), buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        child.PipeOpen = false;
        return false;
    }
    child.Buffer.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = child.Buffer.find('\n')) != std::string::npos) {
        std::string line = child.Buffer.substr(0, nl);
        child.Buffer.erase(0, nl + 1);
        auto event = DecodeEvent(line);
        if (!event)
            continue;
        std::uint64_t& id = std::visit([](auto& e) -> std::uint64_t& { return e.Id; }, *event);
        auto [it, fresh] = child.Ids.try_emplace(id, 0);
        if (fresh)
            it->second = LabRef.NewCallId();
        id = it->second;
        LabRef.Report(ToLabEvent(std::move(*event)));
    }
    return true;
}

// What the parent learns of a child's life: that it has exited (the kernel, through the
// pidfd, says so, not the child, whose last report comes before its exit() completes),
// and that waitpid() reaped it.
void ServerLoop::ReportChild(int pid, LaneEventKind kind, Phrase note, int wait_status)
{
    LaneEvent e;
    e.Id = LabRef.NewCallId();
    e.Kind = kind;
    e.Type = LaneType::Process;
    e.Actor = "child " + std::to_string(pid);
    e.ActorKind = "server";
    e.Pid = pid;
    e.T = MonotonicSeconds();
    e.Note = std::move(note);
    if (kind == LaneEventKind::Reaped && WIFEXITED(wait_status))
        e.Status = WEXITSTATUS(wait_status);
    if (kind == LaneEventKind::Reaped && WIFSIGNALED(wait_status))
        e.Signal = WTERMSIG(wait_status);
    LabRef.Report(std::move(e));
}

void ServerLoop::ReapChild(Lane& lane, int pid, bool in_handler)
{
    CallArgs wait_args;
    wait_args.Value = pid;
    CallEvent call = lane.Begin(CallId::Waitpid, "", -1, wait_args);
    int status = 0;
    long rc = waitpid(pid, &status, 0);
    int err = errno;
    call.Note = ReapedPhrase(in_handler, rc == pid, pid, status);
    lane.Finish(call, rc, err);
    if (rc == pid)
        ReportChild(pid, LaneEventKind::Reaped, {}, status);
}

int ServerLoop::ReapZombies(Lane& lane)
{
    std::set<int> zombies;
    {
        std::lock_guard lock(Mutex);
        zombies.swap(Zombies);
    }
    if (zombies.empty()) {
        CallEvent call = lane.Begin(CallId::Waitid, "", -1);
        int err = 0;
        long rc = PeekExitedChild(err);
        if (rc == 0)
            call.Note = Say(PhraseId::NoChildExited);
        lane.Finish(call, rc, err);
        return 0;
    }
    for (int pid : zombies)
        ReapChild(lane, pid, false);
    return static_cast<int>(zombies.size());
}

void ServerLoop::RunFork(Lane& lane)
{
    int lfd = Listener.Get();
    for (;;) {
        CallEvent call = lane.Begin(CallId::Accept, ListenHandle, lfd);
        bool reported = false;
        int conn = -1;
        std::string handle;
        for (;;) {
            conn = TryAccept(lane, call, handle);
            if (conn >= 0)
                break;
            if (conn == -2) {
                conn = -1;
                pollfd pfd{StopFd.Get(), POLLIN, 0};
                if (poll(&pfd, 1, 200) > 0)
                    return;
                break;
            }
            if (!reported) {
                lane.Blocked(call);
                reported = true;
            }
            // Wait for a connection, the stop, a child's report or a child's exit.
            std::vector<pollfd> pfds = {{lfd, POLLIN, 0}, {StopFd.Get(), POLLIN, 0}};
            std::vector<std::pair<Child*, bool>> who; // (child, is pidfd)
            for (auto& c : Children) {
                if (c->PipeOpen) {
                    pfds.push_back({c->Pipe.Get(), POLLIN, 0});
                    who.emplace_back(c.get(), false);
                }
                if (!c->Exited && c->PidFd.Get() >= 0) {
                    pfds.push_back({c->PidFd.Get(), POLLIN, 0});
                    who.emplace_back(c.get(), true);
                }
            }
            if (poll(pfds.data(), pfds.size(), -1) < 0 && errno != EINTR)
                continue;
            if (pfds[1].revents & POLLIN) {
                call.Note = Say(PhraseId::WokenByReset);
                lane.Finish(call, -1, EINTR);
                return;
            }
            Child* exited = nullptr;
            for (std::size_t i = 2; i < pfds.size(); ++i) {
                if (!pfds[i].revents)
                    continue;
                auto [child, is_pidfd] = who[i - 2];
                if (!is_pidfd)
                    PumpChild(*child);
                else if (!exited)
                    exited = child;
            }
            if (exited) {
                // Everything the child said comes before its death.
                while (exited->PipeOpen && PumpChild(*exited)) {
                }
                exited->Exited = true;
                if (!Spec.ReapAtOnce) {
                    {
                        std::lock_guard lock(Mutex); // before the report: a waitpid step finds it
                        Zombies.insert(exited->Pid);
                    }
                    ReportChild(exited->Pid, LaneEventKind::Zombie, Say(PhraseId::ChildIsZombie));
                    continue; // a zombie until a lesson step calls waitpid()
                }
                ReportChild(exited->Pid, LaneEventKind::Zombie, Say(PhraseId::ChildIsZombie));
                // SIGCHLD interrupts the blocked accept(); the handler reaps the child.
                call.Note = Say(PhraseId::InterruptedBySigchld, exited->Pid);
                lane.Finish(call, -1, EINTR);
                ReapChild(lane, exited->Pid, true);
                break; // accept() again, as a server must after EINTR
            }
        }
        if (conn >= 0)
            ForkChild(lane, conn, handle);
    }
}

void ServerLoop::RunEpoll(Lane& lane)
{
    int lfd = Listener.Get();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int err = errno;
    lane.Done(CallId::EpollCreate1, "", -1, {}, ep, err);
    if (ep < 0)
        return;
    UniqueFd epoll_fd(ep);
    std::map<int, std::string> conns;
    auto ctl = [&](int op, int fd, const std::string& handle) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        long rc = epoll_ctl(ep, op, fd, &ev);
        int e = errno;
        CallArgs ctl_args;
        ctl_args.Option = op;
        ctl_args.Value = ep;
        lane.Done(CallId::EpollCtl, handle, fd, ctl_args, rc, e);
    };
    ctl(EPOLL_CTL_ADD, lfd, ListenHandle);
    for (;;) {
        CallEvent wait = lane.Begin(CallId::EpollWait, "", ep);
        epoll_event events[64];
        int n = epoll_wait(ep, events, 64, 0);
        if (n == 0) {
            lane.Blocked(wait);
            if (!WaitReady(ep, POLLIN, StopFd.Get())) {
                wait.Note = Say(PhraseId::WokenByReset);
                lane.Finish(wait, -1, EINTR);
                break;
            }
            n = epoll_wait(ep, events, 64, 0);
        }
        lane.Finish(wait, n, errno);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                CallEvent acc = lane.Begin(CallId::Accept, ListenHandle, lfd);
                std::string handle;
                int conn = TryAccept(lane, acc, handle);
                if (conn >= 0) {
                    conns[conn] = handle;
                    ctl(EPOLL_CTL_ADD, conn, handle);
                } else if (conn == -1) { // the connection went away before accept() (a reset)
                    lane.Finish(acc, -1, EAGAIN);
                }
                continue;
            }
            auto it = conns.find(fd);
            if (it == conns.end())
                continue;
            EchoRound round = EchoOnce(lane, fd, it->second, Spec.Len, StopFd.Get());
            if (round == EchoRound::Stopped)
                break;
            if (round != EchoRound::Again) {
                ctl(EPOLL_CTL_DEL, fd, it->second);
                lane.Close(fd, it->second);
                conns.erase(it);
            }
        }
        if (Stopped())
            break;
    }
    for (auto& [fd, handle] : conns)
        CloseWithReset(fd);
}

} // namespace sockscope
