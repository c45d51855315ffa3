// An actor that is a program (a lesson actor's "run"): its one call starts the program
// under the tracer (net/tracer.hpp), whose processes and threads then report into the lab
// as lanes of their own, PROGRAM[pid], made by this actor. What the program prints goes
// to sockscope's standard error. Destroying the actor (a reset,
// another lesson, the end) kills every process of the program and waits for them.
#include "actor.hpp"

#include "lab.hpp"
#include "tracer.hpp"

#include <cerrno>
#include <mutex>
#include <unistd.h>

namespace sockscope {

namespace {

// How execv's arguments would be written in C: "\"/x/fork_server\", (char *[]){...}".
std::string ArgvText(const std::vector<std::string>& argv)
{
    std::string list;
    for (const auto& a : argv)
        list += "\"" + EscapeBytes(a, 200) + "\", ";
    return "\"" + EscapeBytes(argv.empty() ? "" : argv[0], 200) + "\", (char *[]){" + list + "NULL}";
}

} // namespace

void Actor::DoRun(CallEvent& call, const CallRequest& request)
{
    call.Args.Text = ArgvText(request.Argv);
    Announce(call);
    if (request.Argv.empty()) {
        call.Note = Say(PhraseId::RunNoProgram);
        Finish(call, -1, EINVAL);
        return;
    }
    if (Program && !Program->Done()) {
        call.Note = Say(PhraseId::RunStillRunning);
        Finish(call, -1, EBUSY);
        return;
    }
    Program.reset();
    std::string error;
    if (!FindProgram(request.Argv[0], error)) {
        call.Note = Say(PhraseId::RunFailed, error);
        Finish(call, -1, access(request.Argv[0].c_str(), F_OK) == 0 ? EACCES : ENOENT);
        return;
    }
    // The lab's tracer (MakeLabTracer), but its lanes are laid out as this actor's kind,
    // and the program's first process names this actor as the lane that made it.
    struct Root {
        std::mutex Mutex;
        std::string Name; // the first lane that reported: the program's first process
    };
    auto root = std::make_shared<Root>();
    Lab& lab = LabRef;
    auto events = [&lab, root, kind = Kind, parent = ActorName](LaneReport&& event) {
        std::visit([&](auto& e) { e.ActorKind = kind; }, event);
        {
            std::lock_guard lock(root->Mutex);
            const std::string& actor = std::visit([](const auto& e) -> const std::string& { return e.Actor; }, event);
            if (root->Name.empty())
                root->Name = actor;
            // The program's first process was made by this actor's run().
            if (auto* life = std::get_if<LaneEvent>(&event);
                life && life->Actor == root->Name && life->Parent.empty() && life->Kind == LaneEventKind::Started)
                life->Parent = parent;
        }
        const auto* c = std::get_if<CallEvent>(&event);
        bool accepted = c && c->Phase == CallPhase::Finished && c->NewFd &&
                        (c->Call == CallId::Accept || c->Call == CallId::Accept4);
        lab.Report(ToLabEvent(std::move(event)), Lab::Notify::Now);
        if (accepted) // the connection left the accept queue: look again
            lab.RefreshProbe();
    };
    TracerOptions options;
    options.Argv = request.Argv;
    options.AnnounceRoot = true;
    options.StdoutToStderr = true; // sockscope's standard output is its own (--json lines)
    Program = std::make_unique<Tracer>(
        std::move(options), std::move(events), [&lab](std::uint16_t port) { lab.WatchPort(port); },
        [&lab] { return lab.NewCallId(); });
    if (!Program->Start(error)) {
        Program.reset();
        call.Note = Say(PhraseId::RunFailed, error);
        // Start() fails before the program runs: ptrace refused (EPERM), or execve failed.
        Finish(call, -1, error.starts_with("tracing is not permitted") ? EPERM : ENOEXEC);
        return;
    }
    int pid = Program->RootPid();
    call.Note = Say(PhraseId::RunStarted, request.Argv[0].substr(request.Argv[0].rfind('/') + 1), pid);
    Finish(call, pid, 0);
}

} // namespace sockscope
