// sockscope's own operations, as an actor makes them: a gate (a socket filter), waiting
// for a TCP state, handing a listener to a server model, and reaping its children.
#include "actor.hpp"

#include "clock.hpp"
#include "gate.hpp"
#include "lab.hpp"
#include "server_loop.hpp"

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sockscope {

void Actor::DoGate(CallEvent& call, const CallRequest& request, int fd)
{
    if (call.Call == CallId::Ungate) {
        Begin(call);
        int err = DetachGate(fd);
        Finish(call, err == 0 ? 0 : -1, err);
        return;
    }
    auto kind = GateKindFromName(request.Option);
    if (kind) {
        call.Gate = std::string(GateKindName(*kind));
        call.Args.Option = static_cast<int>(*kind);
        call.Args.Value = static_cast<std::int64_t>(GateProgram(*kind, static_cast<std::uint16_t>(request.Port)).size());
    }
    Begin(call);
    if (!kind) {
        call.Note = Say(PhraseId::UnknownGate, request.Option);
        Finish(call, -1, EINVAL);
        return;
    }
    int err = AttachGate(fd, *kind, static_cast<std::uint16_t>(request.Port));
    if (err == 0)
        Gated.insert(fd);
    if (err == EPERM)
        call.Note = Say(PhraseId::GateNeedsCapNetAdmin);
    Finish(call, err == 0 ? 0 : -1, err);
}

void Actor::DoAwait(CallEvent& call, const CallRequest& request, int fd)
{
    auto want = TcpStateFromName(request.Option);
    if (want)
        call.Args.Option = static_cast<int>(*want);
    Begin(call);
    if (!want) {
        call.Note = Say(PhraseId::UnknownState, request.Option);
        Finish(call, -1, EINVAL);
        return;
    }
    bool reported_blocked = false;
    double give_up = MonotonicSeconds() + 10.0;
    std::optional<TcpState> first;
    for (;;) {
        tcp_info info{};
        socklen_t len = sizeof info;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
            Finish(call, -1, errno);
            return;
        }
        auto state = static_cast<TcpState>(info.tcpi_state);
        if (state == *want || (state == TcpState::NewSynRecv && *want == TcpState::SynRecv)) {
            Finish(call, 0, 0);
            return;
        }
        // await waits for the socket's next state: when it moves to another one, the
        // race the lesson set up was lost; say so now rather than after ten seconds.
        if (!first)
            first = state;
        else if (state != *first) {
            call.Note = Say(PhraseId::AwaitWentElsewhere, TcpStateName(*first), TcpStateName(state), request.Option);
            Finish(call, -1, ECANCELED);
            return;
        }
        if (MonotonicSeconds() > give_up) {
            call.Note = Say(PhraseId::AwaitTimedOut, TcpStateName(state));
            Finish(call, -1, ETIMEDOUT);
            return;
        }
        if (!reported_blocked) {
            call.Phase = CallPhase::Blocked;
            LabRef.Report(call);
            reported_blocked = true;
        }
        // One millisecond between looks, woken at once by a reset.
        pollfd pfd{WakeFd.Get(), POLLIN, 0};
        if (poll(&pfd, 1, 1) > 0 || WakeFd.Get() < 0) {
            std::uint64_t count;
            [[maybe_unused]] auto n = read(WakeFd.Get(), &count, sizeof count);
            if (StopRequested()) {
                call.Note = Say(PhraseId::WokenByReset);
                Finish(call, -1, EINTR);
                return;
            }
        }
    }
}

void Actor::DoServe(CallEvent& call, const CallRequest& request)
{
    call.Args.Text = request.Model;
    Announce(call);
    if (Server) {
        call.Note = Say(PhraseId::AlreadyServing);
        Finish(call, -1, EBUSY);
        return;
    }
    if (!IsServerModel(request.Model)) {
        call.Note = Say(PhraseId::UnknownServerModel, request.Model);
        Finish(call, -1, EINVAL);
        return;
    }
    auto it = Fds.find(call.Handle);
    if (it == Fds.end()) {
        call.Note = Say(PhraseId::NoDescriptorNamed, call.Handle);
        Finish(call, -1, EBADF);
        return;
    }
    int type = 0;
    socklen_t len = sizeof type;
    int listening = 0;
    socklen_t llen = sizeof listening;
    if (getsockopt(it->second.Get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        getsockopt(it->second.Get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0 || !listening) {
        call.Note = Say(PhraseId::ServeNeedsListener);
        Finish(call, -1, EINVAL);
        return;
    }
    ServerSpec spec;
    spec.Model = request.Model;
    spec.ReapAtOnce = request.Reap != "later";
    spec.Len = request.Len > 0 ? request.Len : 1024;
    // The loop owns the listener from now on; it reports under this actor's name.
    Server = std::make_unique<ServerLoop>(LabRef, ActorName, call.Handle, std::move(it->second), std::move(spec));
    Fds.erase(it);
    call.Note = Say(PhraseId::ServerOnItsLanes, request.Model);
    Finish(call, 0, 0);
}

void Actor::DoWaitpid(CallEvent& call)
{
    if (!Server) {
        Begin(call);
        int err = 0;
        long rc = PeekExitedChild(err);
        call.Note = Say(PhraseId::NoForkServer);
        Finish(call, rc, err);
        return;
    }
    // The server's lane makes the waitpid() calls; this call reports how many it reaped.
    Lane lane(
        ActorName, Kind, [this](LaneReport r) { LabRef.Report(ToLabEvent(std::move(r))); },
        [this] { return LabRef.NewCallId(); });
    call.Args.Value = -1; // every exited child
    Announce(call);
    int reaped = Server->ReapZombies(lane);
    call.Note = Say(PhraseId::ZombiesReaped, reaped);
    Finish(call, reaped, 0);
}

} // namespace sockscope
