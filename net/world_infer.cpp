// Without a capture, the segments the World can prove were sent: from a socket's change
// of state and from the lab's writes. Marked inferred, with no numbers (only a capture
// knows those).
#include "world.hpp"

namespace sockscope {

namespace {

bool FinSentIn(TcpState s)
{
    return s == TcpState::FinWait1 || s == TcpState::FinWait2 || s == TcpState::Closing ||
           s == TcpState::TimeWait || s == TcpState::LastAck;
}

} // namespace

// The probe looks every few milliseconds and loopback is faster, so a change may skip
// states: a client first seen ESTABLISHED has done the whole handshake; a socket that
// reached a state after its FIN has sent it.
void World::InferFromState(const KernelSocket& row, TcpState before, double t)
{
    if (row.State == TcpState::Listen || before == row.State)
        return;
    auto add = [&](const Endpoint& from, const Endpoint& to, std::uint8_t flags) {
        Segment s;
        s.T = t;
        s.Src = from;
        s.Dst = to;
        s.Flags = flags;
        s.Inferred = true;
        Apply(s);
    };
    const SocketRecord* record = FindRecord(row.Cookie);
    bool client = record && record->Role == SocketRole::Client;
    if (client && before == TcpState::Unknown && row.State == TcpState::SynSent)
        add(row.Local, row.Remote, FlagSyn);
    if (client && (before == TcpState::Unknown || before == TcpState::SynSent) && row.State != TcpState::SynSent) {
        if (before == TcpState::Unknown)
            add(row.Local, row.Remote, FlagSyn);
        add(row.Remote, row.Local, FlagSyn | FlagAck);
        add(row.Local, row.Remote, FlagAck);
    }
    if (FinSentIn(row.State) && !FinSentIn(before))
        add(row.Local, row.Remote, FlagFin | FlagAck);
}

// A write the lab made on a socket whose ends the calls reported: one data segment.
void World::InferWrite(const SocketRecord& record, const CallEvent& call)
{
    if (!InferSegments || !record.Local || !record.Remote)
        return;
    Segment s;
    s.T = call.TEnd;
    s.Src = *record.Local;
    s.Dst = *record.Remote;
    s.Flags = FlagPsh | FlagAck;
    s.Len = static_cast<std::uint32_t>(call.Result);
    s.Inferred = true;
    Apply(s);
}

} // namespace sockscope
