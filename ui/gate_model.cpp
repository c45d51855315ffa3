#include "gate_model.hpp"

#include <netinet/in.h>

#include "format.hpp"
#include "i18n.hpp"

namespace sockscope {

GateStatus GateOf(const World& world, const std::string& actor, const std::string& handle)
{
    GateStatus status;
    const ActorView* view = world.FindActor(actor);
    if (!view)
        return status;
    for (const auto& call : view->Calls) {
        bool finished = call.Phase == CallPhase::Finished;
        if (finished && call.NewFd && call.NewFd->Handle == handle) {
            status = GateStatus{}; // a new descriptor under this name
            continue;
        }
        if (call.Handle != handle)
            continue;
        if (call.Call == CallId::Close && finished && call.Closed) {
            status = GateStatus{};
        } else if (call.Call == CallId::Gate || call.Call == CallId::Ungate) {
            if (!finished) {
                status.Changing = true;
            } else if (call.Result == 0) {
                status.Held = call.Call == CallId::Gate ? call.Gate : "";
                status.Failure.clear();
            } else {
                status.Failure = ErrnoName(call.Errno);
            }
        }
    }
    return status;
}

std::vector<std::string> GateChoices(const SocketView& socket)
{
    // A gate holds TCP segments; a UDP socket has none of those to hold.
    if (!socket.Fd || socket.Actor.empty() || socket.Handle.empty() || !socket.InKernel ||
        socket.K.Proto == IPPROTO_UDP)
        return {};
    if (socket.Role == SocketRole::Listener || socket.State() == TcpState::Listen)
        return {"syn", "handshake-ack"};
    return {"fin", "ack"};
}

UiCommand GateCommand(const World& world, const SocketView& socket, const std::string& kind, bool on)
{
    UiCommand command;
    command.What = UiCommand::Submit;
    CallRequest& request = command.Request;
    request.Actor = socket.Actor;
    const ActorView* actor = world.FindActor(socket.Actor);
    if (actor && !actor->Kind.empty())
        request.ActorKind = actor->Kind;
    else
        request.ActorKind = socket.Role == SocketRole::Client ? "client" : "server";
    request.Call = on ? CallId::Gate : CallId::Ungate;
    request.Option = on ? kind : "";
    request.Fd = socket.Handle;
    return command;
}

const char* GateSegmentName(const std::string& kind)
{
    if (kind == "syn")
        return "SYN";
    if (kind == "handshake-ack")
        return "handshake ACK";
    if (kind == "fin")
        return "FIN";
    if (kind == "ack")
        return "ACK";
    return "?";
}

std::string GateToggleLabel(const std::string& kind, bool held, Lang lang)
{
    return Format(Tr(lang, held ? "holding %s" : "hold %s"), Tr(lang, GateSegmentName(kind)));
}

const char* GateExplanation(const std::string& kind, Lang lang)
{
    if (kind == "syn")
        return Tr(lang, "Drop the SYNs that reach this listener: new clients stay in SYN-SENT and keep "
                        "resending their SYN.");
    if (kind == "handshake-ack")
        return Tr(lang, "Drop the handshake's last ACK: the listener keeps the connection in SYN-RECEIVED (the "
                        "SYN queue) while the client is already ESTABLISHED.");
    if (kind == "fin")
        return Tr(lang, "Drop FINs that reach this socket: the peer that closes stays in FIN-WAIT-1 and resends "
                        "its FIN.");
    if (kind == "ack")
        return Tr(lang, "Drop pure ACKs that reach this socket: after close() it stays in LAST-ACK (or CLOSING) "
                        "until the gate is released.");
    return "";
}

} // namespace sockscope
