#include "tracer_internal.hpp"

#include <cerrno>
#include <csignal>
#include <mutex>

#include <sys/ptrace.h>
#include <sys/wait.h>

namespace sockscope {

using namespace traced;

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
        // A child of a traced process stays a zombie until its parent's waitpid() (unless
        // the parent ignores SIGCHLD: then the kernel reaps it at once). The root's parent
        // is sockscope, which reaps it here.
        auto proc = Processes.find(t.Pid);
        const int parent = proc != Processes.end() && proc->second ? proc->second->Parent : 0;
        if (parent != 0 && Processes.count(parent) && !IgnoresSigchld(parent)) {
            Zombies[t.Pid] = {t.Name, parent};
            LaneEvent z = LifeOf(t, LaneEventKind::Zombie, LaneType::Process);
            z.Tid = 0;
            z.Note = Say(PhraseId::ChildIsZombie);
            T.Events(std::move(z));
        }
        // Its own zombies are orphans now: init (or a subreaper) reaps them.
        for (auto z = Zombies.begin(); z != Zombies.end();) {
            if (z->second.second == t.Pid) {
                T.Events(LaneEvent{.Id = T.Ids(), .Kind = LaneEventKind::Reaped, .Type = LaneType::Process,
                                   .Actor = z->second.first, .ActorKind = KindOf(t), .Pid = z->first,
                                   .T = MonotonicSeconds(), .Traced = true});
                z = Zombies.erase(z);
            } else {
                ++z;
            }
        }
        Processes.erase(t.Pid);
        std::lock_guard lock(T.Mutex);
        std::erase(T.Live, t.Pid);
        if (t.Pid == T.Root) {
            T.ExitLine = text;
            T.ExitCode = static_cast<int>(code);
            T.ExitSig = e.Signal;
        }
    }
    Tasks.erase(it);
}

void Tracer::State::Reaped(Task& parent, int pid, int status)
{
    auto z = Zombies.find(pid);
    if (z == Zombies.end())
        return; // not a process the tracer followed
    Phrase note = status < 0                ? Say(PhraseId::ZombieReaped)
                  : WIFEXITED(status)   ? Say(PhraseId::ZombieReapedExited, pid, WEXITSTATUS(status))
                  : WIFSIGNALED(status) ? Say(PhraseId::ZombieReapedKilled, pid, SignalName(WTERMSIG(status)))
                                        : Say(PhraseId::ZombieReapedStatus, pid, status);
    parent.Call.Note = note;
    T.Events(LaneEvent{.Id = T.Ids(), .Kind = LaneEventKind::Reaped, .Type = LaneType::Process,
                       .Actor = z->second.first, .ActorKind = KindOf(parent), .Pid = pid,
                       .Note = std::move(note), .T = MonotonicSeconds(), .Traced = true});
    Zombies.erase(z);
}

const char* Tracer::State::KindOf(const Task& t) const
{
    auto p = Processes.find(t.Pid);
    return p != Processes.end() && p->second && p->second->Server ? "server" : "client";
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
    // A process starts with copies of its parent's descriptors; a thread shares its
    // process's table and holds nothing of its own (the process's lane keeps holding the
    // listener and the connections, whichever thread uses them).
    std::vector<FdInfo> inherited;
    auto& parent_proc = Processes[parent.Pid];
    if (!parent_proc)
        parent_proc = std::make_unique<Process>();
    if (!thread)
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
        proc->NotSockets = parent_proc->NotSockets;
        proc->Parent = parent.Pid;
        proc->Server = parent_proc->Server;
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
                proc->second->NotSockets.clear();
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

} // namespace sockscope
