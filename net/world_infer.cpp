// Without a capture, the segments the World can prove were sent: from a socket's change
// of state and from the lab's writes. Marked inferred, with no numbers (only a capture
// knows those). And the datagrams UDP sockets' sends and receives prove, with the ICMP
// port unreachable an ECONNREFUSED proves.
#include "world.hpp"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <netinet/in.h>
#include <sys/socket.h>

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
    // A UDP socket's "state" is only whether it is connected: connect() sends nothing.
    if (row.Proto == IPPROTO_UDP || row.State == TcpState::Listen || before == row.State)
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
    if (!InferSegments || record.Udp || !record.Local || !record.Remote)
        return; // (a UDP socket's write is a datagram: InferDatagram)
    Segment s;
    s.T = call.TEnd;
    s.Src = *record.Local;
    s.Dst = *record.Remote;
    s.Flags = FlagPsh | FlagAck;
    s.Len = static_cast<std::uint32_t>(call.Result);
    s.Inferred = true;
    Apply(s);
}

bool World::IsUdp(std::uint64_t cookie) const
{
    if (const SocketRecord* record = FindRecord(cookie); record && record->Udp)
        return true;
    for (const auto& row : Known.Rows)
        if (row.Cookie == cookie)
            return row.Proto == IPPROTO_UDP;
    return false;
}

// Where a socket is bound: as its calls said, else as the kernel lists it (a traced
// program's first sendto() binds it without a call that says where).
std::optional<Endpoint> World::LocalEnd(std::uint64_t cookie) const
{
    for (const auto& row : Known.Rows)
        if (row.Cookie == cookie && row.Local.Port != 0)
            return row.Local;
    const SocketRecord* record = FindRecord(cookie);
    if (record && record->Local && record->Local->Port != 0)
        return record->Local;
    return std::nullopt;
}

namespace {

bool Wildcard(const Endpoint& e)
{
    Endpoint any;
    any.Family = e.Family;
    any.Port = e.Port;
    return e == any;
}

// The same end, as one socket names it and another sees it: a socket bound to the
// wildcard address (0.0.0.0:5000) sends from, and receives at, 127.0.0.1:5000.
bool SameEnd(const Endpoint& a, const Endpoint& b)
{
    return a.Port == b.Port && (a == b || Wildcard(a) || Wildcard(b));
}

// The address a socket bound to the wildcard uses with a loopback peer: the kernel's
// route for 127.0.0.0/8 (and ::1) on lo gives it 127.0.0.1 (::1), as a capture shows.
Endpoint OnLoopback(Endpoint local, const Endpoint& peer)
{
    if (!Wildcard(local) || local.Family != peer.Family)
        return local;
    if (local.Family == AF_INET && peer.Addr[0] == 127)
        local.Addr[0] = 127, local.Addr[3] = 1;
    else if (local.Family == AF_INET6 && peer.Addr[15] == 1 &&
             std::all_of(peer.Addr.begin(), peer.Addr.begin() + 15, [](std::uint8_t b) { return b == 0; }))
        local.Addr[15] = 1;
    return local;
}

} // namespace

// A UDP socket's call, seen without a capture of UDP:
// - a send that returned n > 0 sent one datagram of n bytes (to the address it passed,
//   else to the connected peer);
// - a receive that returned n >= 0 took one datagram off the socket's queue: if a send
//   inferred here explains it, nothing new; else (another program sent it) one arrived;
// - ECONNREFUSED on a connected socket: an ICMP port unreachable came back from the
//   peer, about the socket's previous datagram there (Linux keeps it as a pending error).
// An end the model does not know (a socket never bound, an unknown sender) proves nothing.
void World::InferDatagram(std::uint64_t cookie, const CallEvent& call)
{
    const CallRow& row = RowOf(call.Call);
    if (!row.Has(MovesData) || !IsUdp(cookie))
        return;
    const SocketRecord& record = Known.Records[cookie];
    auto local = LocalEnd(cookie);
    std::optional<Endpoint> peer = record.Remote;
    if (call.Args.AddrLen > 0 && call.Args.Addr.Port != 0)
        peer = call.Args.Addr;
    if (!local || !peer)
        return;
    local = OnLoopback(*local, *peer);
    auto& in_flight = Known.DatagramsInFlight;
    if (call.Errno == ECONNREFUSED) {
        Segment datagram; // the datagram it is about: the latest sent there, if inferred here
        datagram.Src = *local;
        datagram.Dst = *peer;
        for (auto it = in_flight.rbegin(); it != in_flight.rend(); ++it)
            if (SameEnd(it->Src, *local) && SameEnd(it->Dst, *peer)) {
                datagram = *it;
                in_flight.erase(std::next(it).base());
                break;
            }
        Segment icmp = PortUnreachableFor(datagram);
        icmp.T = call.TStart;
        icmp.Inferred = true;
        Apply(icmp);
        return;
    }
    if (call.Result < 0)
        return;
    Segment s;
    s.Proto = IPPROTO_UDP;
    s.Len = static_cast<std::uint32_t>(call.Result);
    s.Payload = call.Data.substr(0, SegmentPayloadKept);
    s.Inferred = true;
    if (!row.Has(Receives)) {
        if (call.Result == 0 && call.Args.Len != 0)
            return;
        s.T = call.TEnd;
        s.Src = *local;
        s.Dst = *peer;
        in_flight.push_back(s);
        if (in_flight.size() > MaxInFlight)
            in_flight.pop_front();
        Apply(s);
        return;
    }
    for (auto it = in_flight.begin(); it != in_flight.end(); ++it)
        if (SameEnd(it->Src, *peer) && SameEnd(it->Dst, *local)) {
            in_flight.erase(it);
            return;
        }
    s.T = call.TStart; // it was there before the call took it
    s.Src = *peer;
    s.Dst = *local;
    Apply(s);
}

} // namespace sockscope
