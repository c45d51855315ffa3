// The socket and listener lists a reader sees, rebuilt from the latest snapshot's rows
// and the socket records (World::Rebuild and its parts).
#include "world.hpp"

#include <algorithm>

#include <netinet/in.h>
#include <tuple>

#include <sys/socket.h>

namespace sockscope {

namespace {

// Does a listener bound to `listen` accept connections addressed to `local`?
bool ListensFor(const Endpoint& listen, const Endpoint& local)
{
    if (listen.Port != local.Port)
        return false;
    bool wildcard = std::all_of(listen.Addr.begin(), listen.Addr.end(), [](auto b) { return b == 0; });
    return wildcard || listen.Addr == local.Addr;
}

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a dual-stack listener's connections
// see IPv4 peers) as the IPv4 address it is, so both ends of a connection match.
Endpoint Plain(const Endpoint& e)
{
    static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (e.Family != AF_INET6 || !std::equal(prefix, prefix + 12, e.Addr.begin()))
        return e;
    Endpoint v4;
    v4.Family = AF_INET;
    std::copy(e.Addr.begin() + 12, e.Addr.end(), v4.Addr.begin());
    v4.Port = e.Port;
    return v4;
}

bool Waiting(TcpState s)
{
    // States a completed-but-unaccepted child can be in while it sits in the accept queue.
    return s == TcpState::Established || s == TcpState::CloseWait;
}

bool InSynQueue(TcpState s)
{
    return s == TcpState::SynRecv || s == TcpState::NewSynRecv;
}

} // namespace

void World::Rebuild()
{
    Known.Stale = false;
    Known.ListenersList.clear();
    Known.SocketsList.clear();
    for (const auto& row : Known.Rows)
        if (row.State == TcpState::Listen)
            Known.ListenersList.push_back(ListenerFor(row));
    std::vector<Endpoint> server_ends = ServerEnds();
    FourTuples lab_ends = LabFourTuples();
    std::set<std::uint64_t> in_kernel;
    for (const auto& row : Known.Rows) {
        in_kernel.insert(row.Cookie);
        Known.SocketsList.push_back(KernelSocketView(row, server_ends, lab_ends));
    }
    AddWaitingBytes();
    for (const auto& [cookie, record] : Known.Records)
        if (record.HeldBy && !in_kernel.count(cookie))
            Known.SocketsList.push_back(HeldOutsideKernel(cookie, record));
    AddHistoryAndSort();
}

// Four-tuples of the sockets the lab made, to tell lab connections from external ones.
World::FourTuples World::LabFourTuples() const
{
    FourTuples ends;
    for (const auto& row : Known.Rows)
        if (const SocketRecord* record = FindRecord(row.Cookie); record && record->EverHeld)
            ends.emplace(Plain(row.Local), Plain(row.Remote));
    return ends;
}

// Each socket's history, then the order the panels list them in: listeners, clients,
// servers, each oldest first.
void World::AddHistoryAndSort()
{
    for (auto& s : Known.SocketsList) {
        if (const SocketRecord* record = FindRecord(s.Cookie)) {
            s.History = record->History;
            s.FirstSeen = record->FirstSeen.value_or(0);
        }
    }
    std::stable_sort(Known.SocketsList.begin(), Known.SocketsList.end(), [](const SocketView& a, const SocketView& b) {
        return std::tie(a.Role, a.FirstSeen, a.K.Local.Port, a.K.Remote.Port, a.Cookie) <
               std::tie(b.Role, b.FirstSeen, b.K.Local.Port, b.K.Remote.Port, b.Cookie);
    });
}

// Which lab descriptor holds a kernel socket: by cookie (SO_COOKIE, stable across
// accept()), or else by inode (fstat), the way `ss -p` finds a process's sockets.
// Fills the view's actor, handle and descriptor; returns false if none holds it.
bool World::FillHolder(SocketView& view, std::uint64_t cookie, std::uint32_t inode) const
{
    const SocketRecord* record = FindRecord(cookie);
    if ((!record || !record->HeldBy) && inode != 0) {
        if (auto by_inode = Known.LabInodes.find(inode); by_inode != Known.LabInodes.end())
            record = FindRecord(by_inode->second);
    }
    if (!record || !record->HeldBy)
        return false;
    const ActorView& actor = Known.ActorsList[record->HeldBy->Actor];
    view.Actor = actor.Name;
    view.Handle = record->HeldBy->Handle;
    if (auto fd = actor.Fds.find(view.Handle); fd != actor.Fds.end())
        view.Fd = fd->second.Fd;
    return true;
}

ListenerView World::ListenerFor(const KernelSocket& row) const
{
    ListenerView l;
    l.Cookie = row.Cookie;
    l.Local = row.Local;
    l.Backlog = row.SendQ;
    l.AcceptQueue = row.RecvQ;
    for (const auto& other : Known.Rows)
        if (InSynQueue(other.State) && ListensFor(row.Local, other.Local))
            ++l.SynQueue;
    SocketView holder;
    if (FillHolder(holder, row.Cookie)) {
        l.Actor = holder.Actor;
        l.Fd = holder.Fd;
    }
    return l;
}

// Ports the lab listens on (or did): server-side connections are those whose local end
// is one of them.
std::vector<Endpoint> World::ServerEnds() const
{
    std::vector<Endpoint> ends;
    for (const auto& l : Known.ListenersList)
        ends.push_back(l.Local);
    for (const auto& [cookie, record] : Known.Records)
        if (record.Role == SocketRole::Listener && record.Local)
            ends.push_back(*record.Local);
    return ends;
}

// A socket the kernel lists: its role, the queue it waits in, whether the lab made it.
SocketView World::KernelSocketView(const KernelSocket& row, const std::vector<Endpoint>& server_ends,
                                   const FourTuples& lab_ends) const
{
    SocketView v;
    v.Cookie = row.Cookie;
    v.InKernel = true;
    v.K = row;
    bool lab = FillHolder(v, row.Cookie, row.Inode);
    const SocketRecord* record = FindRecord(row.Cookie);
    std::optional<SocketRole> known = record ? record->Role : std::nullopt;
    bool ever_held = record && record->EverHeld;
    bool server_end = std::any_of(server_ends.begin(), server_ends.end(),
                                  [&](const Endpoint& e) { return ListensFor(e, row.Local); });
    if (row.Proto == IPPROTO_UDP) {
        // No listener, no accept: a UDP socket is its actor's, server or client.
        const ActorView* holder = lab ? FindActor(v.Actor) : nullptr;
        bool server = holder && holder->Kind == "server";
        v.Role = server ? SocketRole::Server : SocketRole::Client;
        v.External = !ever_held || (Watching && !lab);
        return v;
    }
    if (row.State == TcpState::Listen)
        v.Role = SocketRole::Listener;
    else if (known && *known != SocketRole::Listener)
        v.Role = *known; // accepted, or connected, by the lab
    else
        v.Role = server_end ? SocketRole::Server : SocketRole::Client;

    if (v.Role == SocketRole::Server && !lab) {
        if (InSynQueue(row.State))
            v.Queue = QueueKind::Syn;
        else if (row.Inode == 0 && !ever_held && Waiting(row.State))
            v.Queue = QueueKind::Accept;
    }
    if (v.Role == SocketRole::Client) {
        v.External = !ever_held;
    } else if (v.Role == SocketRole::Server) {
        // Lab-made if the other end is a socket the lab created.
        bool lab_peer = lab_ends.count({Plain(row.Remote), Plain(row.Local)}) > 0;
        v.External = !lab_peer && !ever_held; // an accepted socket is the lab's
    }
    if (Watching && !lab && !ever_held)
        v.External = true;
    return v;
}

// A descriptor the lab holds that the kernel's tables do not list: made but not yet
// bound, listening or connected (or failed to connect). Its state is CLOSED.
SocketView World::HeldOutsideKernel(std::uint64_t cookie, const SocketRecord& record) const
{
    SocketView v;
    v.Cookie = cookie;
    v.InKernel = false;
    v.K.State = TcpState::Close;
    v.K.Cookie = cookie;
    if (record.Local)
        v.K.Local = *record.Local;
    if (record.Remote)
        v.K.Remote = *record.Remote;
    FillHolder(v, cookie);
    const bool server = Known.ActorsList[record.HeldBy->Actor].Kind == "server";
    if (record.Udp) {
        v.K.Proto = IPPROTO_UDP;
        v.Role = server ? SocketRole::Server : SocketRole::Client;
    } else if (record.Role)
        v.Role = *record.Role;
    else // not yet listening or connected: what its actor is for
        v.Role = server ? SocketRole::Listener : SocketRole::Client;
    return v;
}

namespace {

// Queue lengths count sequence space: a FIN not yet read (receive side) or not yet
// acknowledged (send side) adds one that is not a byte.
bool FinReceived(TcpState s)
{
    return s == TcpState::CloseWait || s == TcpState::LastAck || s == TcpState::Closing || s == TcpState::TimeWait;
}
bool FinSent(TcpState s)
{
    return s == TcpState::FinWait1 || s == TcpState::Closing || s == TcpState::LastAck;
}

// The last `n` bytes of what was written, if they are known.
std::optional<std::string> Tail(const std::optional<SocketRecord::SentLog>& log, std::size_t n)
{
    if (n == 0)
        return std::string();
    if (!log || !log->Complete || log->Tail.size() < n)
        return std::nullopt;
    return log->Tail.substr(log->Tail.size() - n);
}

} // namespace

// The bytes in each connection's queues, from what its writer sent (the lab's tail).
void World::AddWaitingBytes()
{
    // Until the lab writes, nothing is known of any queue's bytes.
    if (std::none_of(Known.Records.begin(), Known.Records.end(), [](const auto& r) { return r.second.Sent.has_value(); }))
        return;
    std::map<std::pair<Endpoint, Endpoint>, std::uint64_t> by_ends;
    for (const auto& v : Known.SocketsList)
        if (v.InKernel && v.State() != TcpState::Listen)
            by_ends[{Plain(v.K.Local), Plain(v.K.Remote)}] = v.Cookie;
    for (auto& v : Known.SocketsList) {
        if (!v.InKernel || v.State() == TcpState::Listen)
            continue;
        std::size_t recv = v.K.RecvQ, send = v.K.SendQ;
        if (recv > 0 && FinReceived(v.State()))
            --recv;
        if (send > 0 && FinSent(v.State()))
            --send;
        if (recv == 0) {
            v.RecvBytes = std::string();
        } else if (auto peer = by_ends.find({Plain(v.K.Remote), Plain(v.K.Local)}); peer != by_ends.end()) {
            if (const SocketRecord* record = FindRecord(peer->second); record && record->Sent)
                v.RecvBytes = Tail(record->Sent, recv);
        }
        if (send == 0)
            v.SendBytes = std::string();
        else if (const SocketRecord* record = FindRecord(v.Cookie); record && record->Sent)
            v.SendBytes = Tail(record->Sent, send);
    }
}

} // namespace sockscope
