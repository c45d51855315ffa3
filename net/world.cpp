#include "world.hpp"

#include <algorithm>
#include <tuple>

#include <sys/socket.h>

namespace sockscope {

std::string_view SocketRoleName(SocketRole r)
{
    switch (r) {
    case SocketRole::Listener: return "listener";
    case SocketRole::Client: return "client";
    case SocketRole::Server: return "server";
    }
    return "?";
}

std::string_view QueueKindName(QueueKind q)
{
    switch (q) {
    case QueueKind::Syn: return "syn";
    case QueueKind::Accept: return "accept";
    case QueueKind::None: break;
    }
    return "";
}

const CallEvent* ActorView::Current() const
{
    for (auto it = Calls.rbegin(); it != Calls.rend(); ++it)
        if (it->Phase == CallPhase::Started || it->Phase == CallPhase::Blocked)
            return &*it;
    return nullptr;
}

namespace {

// The kernel's row compared as a user sees it: timer countdowns and tcp_info counters
// move on their own and do not make the model "change".
bool SameShown(const KernelSocket& a, const KernelSocket& b)
{
    return std::tie(a.State, a.Local, a.Remote, a.Cookie, a.Inode, a.RecvQ, a.SendQ, a.Timer, a.Retransmits) ==
           std::tie(b.State, b.Local, b.Remote, b.Cookie, b.Inode, b.RecvQ, b.SendQ, b.Timer, b.Retransmits);
}

bool SameShown(const SocketView& a, const SocketView& b)
{
    return a.Cookie == b.Cookie && a.InKernel == b.InKernel && SameShown(a.K, b.K) && a.Role == b.Role &&
           a.Queue == b.Queue && a.Fd == b.Fd && a.Actor == b.Actor && a.Handle == b.Handle &&
           a.External == b.External && a.RecvBytes == b.RecvBytes && a.SendBytes == b.SendBytes;
}

bool SameShown(const ListenerView& a, const ListenerView& b)
{
    return std::tie(a.Cookie, a.Local, a.Backlog, a.AcceptQueue, a.SynQueue, a.Actor, a.Fd) ==
           std::tie(b.Cookie, b.Local, b.Backlog, b.AcceptQueue, b.SynQueue, b.Actor, b.Fd);
}

template <typename T>
bool SameList(const std::vector<T>& a, const std::vector<T>& b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const T& x, const T& y) { return SameShown(x, y); });
}

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

} // namespace

void World::Apply(const LabEvent& event)
{
    std::visit([this](const auto& e) { Apply(e); }, event);
}

ActorView& World::ActorFor(const CallEvent& call)
{
    for (auto& a : ActorsList)
        if (a.Name == call.Actor)
            return a;
    ActorView& a = ActorsList.emplace_back();
    a.Name = call.Actor;
    a.Kind = call.ActorKind;
    return a;
}

void World::Apply(const CallEvent& call)
{
    ActorView& actor = ActorFor(call);
    auto index = static_cast<std::size_t>(&actor - ActorsList.data());
    // The call being updated is almost always one of the newest: look from the back.
    auto same_id = [&](const CallEvent& c) { return c.Id == call.Id; };
    auto it = std::find_if(actor.Calls.rbegin(), actor.Calls.rend(), same_id);
    if (it == actor.Calls.rend()) {
        actor.Calls.push_back(call);
        if (actor.Calls.size() > MaxCallsPerActor) // a long run keeps the recent ladder only
            actor.Calls.erase(actor.Calls.begin(), actor.Calls.begin() + MaxCallsPerActor / 4);
    } else {
        *it = call;
    }
    // Only a call that changes who holds which socket, or what the lab knows of its
    // addresses, changes the socket list; the ladder itself is read from Actors().
    bool sockets_change = call.Phase == CallPhase::Finished &&
                          (call.NewFd || call.Closed || call.Local || call.Remote || call.Call == CallId::Listen ||
                           !call.Inherited.empty());
    if (call.Pid != 0)
        actor.Pid = call.Pid;
    if (call.Tid != 0)
        actor.Tid = call.Tid;
    if (!call.Parent.empty())
        actor.Parent = call.Parent;
    if (!call.LaneKind.empty())
        actor.LaneKind = call.LaneKind;
    // The process has exited (its parent saw the pidfd, i.e. SIGCHLD): a zombie until
    // reaped. (Its own exit() call comes first and never returns.)
    if (call.Call == CallId::Zombie && actor.Status != "reaped")
        actor.Status = "zombie";
    if (call.Call == CallId::Exit && actor.LaneKind == "process" && actor.Status == "running")
        actor.Status = "exiting";
    if (call.Call == CallId::Exit && call.Traced) // the tracer saw it end (its status is the call's note)
        actor.Status = "exited";
    if (call.Phase == CallPhase::Finished && call.Call == CallId::Return && actor.LaneKind == "thread")
        actor.Status = "exited";
    if (call.Phase == CallPhase::Finished && call.Call == CallId::Waitpid && call.Result > 0)
        for (auto& lane : ActorsList)
            if (lane.LaneKind == "process" && lane.Pid == call.Result)
                lane.Status = "reaped";
    if (call.Phase == CallPhase::Finished) {
        // A lane that starts with descriptors: fork's copies, or the one a thread serves.
        for (const auto& f : call.Inherited) {
            actor.Fds[f.Handle] = f;
            if (LabCookies.count(f.Cookie))
                SharedCookies.insert(f.Cookie);
            LabCookies[f.Cookie] = {index, f.Handle};
            if (f.Inode != 0)
                LabInodes[f.Inode] = f.Cookie;
        }
    }

    if (call.Phase == CallPhase::Finished) {
        if (call.NewFd) {
            actor.Fds[call.NewFd->Handle] = *call.NewFd;
            LabCookies[call.NewFd->Cookie] = {index, call.NewFd->Handle};
            if (call.NewFd->Inode != 0)
                LabInodes[call.NewFd->Inode] = call.NewFd->Cookie;
            EverHeld.insert(call.NewFd->Cookie);
            FirstSeenByCookie.emplace(call.NewFd->Cookie, call.TEnd);
            if (call.Call == CallId::Accept)
                LabRoles[call.NewFd->Cookie] = SocketRole::Server;
        }
        // The lane holding the descriptor: this one, or (a traced program's threads
        // share one descriptor table) another thread of the same process.
        ActorView* fds = &actor;
        std::size_t fds_index = index;
        if (call.Traced && call.Pid != 0 && !actor.Fds.count(call.Handle))
            for (std::size_t i = 0; i < ActorsList.size(); ++i)
                if (ActorsList[i].Pid == call.Pid && ActorsList[i].Fds.count(call.Handle)) {
                    fds = &ActorsList[i];
                    fds_index = i;
                    break;
                }
        std::uint64_t cookie = 0;
        if (auto fd = fds->Fds.find(call.Handle); fd != fds->Fds.end())
            cookie = fd->second.Cookie;
        if (cookie != 0) {
            if (call.Local)
                LabLocal[cookie] = *call.Local;
            if (call.Remote)
                LabRemote[cookie] = *call.Remote;
            if (call.Result == 0 && call.Call == CallId::Listen)
                LabRoles[cookie] = SocketRole::Listener;
            if (call.Call == CallId::Connect)
                LabRoles.emplace(cookie, SocketRole::Client);
        }
        if (cookie != 0 && (call.Call == CallId::Send || call.Call == CallId::Write) && call.Result > 0) {
            auto local = LabLocal.find(cookie), remote = LabRemote.find(cookie);
            if (InferSegments && local != LabLocal.end() && remote != LabRemote.end()) {
                Segment s;
                s.T = call.TEnd;
                s.Src = local->second;
                s.Dst = remote->second;
                s.Flags = FlagPsh | FlagAck;
                s.Len = static_cast<std::uint32_t>(call.Result);
                s.Inferred = true;
                Apply(s);
            }
            SentLog& log = Sent[cookie];
            log.Complete = log.Complete && call.Data.size() == static_cast<std::size_t>(call.Result);
            log.Tail += call.Data;
            if (log.Tail.size() > MaxSentTail)
                log.Tail.erase(0, log.Tail.size() - MaxSentTail);
            sockets_change = true;
        }
        if (call.Closed) {
            fds->Fds.erase(call.Handle);
            auto holder = LabCookies.find(cookie);
            if (cookie != 0 && holder != LabCookies.end() && holder->second == std::pair{fds_index, call.Handle}) {
                LabCookies.erase(holder);
                // After fork() two processes hold the socket: it stays held by the other.
                if (SharedCookies.count(cookie))
                    for (std::size_t i = 0; i < ActorsList.size() && !LabCookies.count(cookie); ++i)
                        for (const auto& [handle, f] : ActorsList[i].Fds)
                            if (f.Cookie == cookie) {
                                LabCookies[cookie] = {i, handle};
                                break;
                            }
            }
            if (!LabCookies.count(cookie))
                std::erase_if(LabInodes, [&](const auto& entry) { return entry.second == cookie; });
        }
        Finished.push_back(call);
        if (Finished.size() > 4096) // nobody is taking them (no trace): keep the recent ones
            Finished.erase(Finished.begin(), Finished.begin() + 2048);
    }
    if (sockets_change)
        Stale = true;
    ++VersionCounter; // a call event is always visible (the ladder)
}

void World::Apply(const Snapshot& snap)
{
    ++Snapshots;
    LastSnapshotT = snap.T;
    bool error_changed = LastProbeError != snap.Error;
    LastProbeError = snap.Error;
    if (snap.Error.Empty())
        Rows = snap.Sockets;
    bool counters_changed = false;
    if (!snap.Counters.empty()) {
        if (CountersAtStart.empty())
            CountersAtStart = snap.Counters;
        counters_changed = CountersNow != snap.Counters;
        CountersNow = snap.Counters;
    }
    if (!snap.Sysctls.empty()) {
        counters_changed = counters_changed || SysctlValues != snap.Sysctls;
        SysctlValues = snap.Sysctls;
    }
    for (const auto& row : Rows) {
        FirstSeenByCookie.emplace(row.Cookie, snap.T);
        auto& history = HistoryByCookie[row.Cookie];
        TcpState before = history.empty() ? TcpState::Unknown : history.back().To;
        NoteState(row.Cookie, row.State, snap.T);
        if (InferSegments)
            InferFromState(row, before, snap.T);
    }
    // Compare with what a reader saw before this snapshot (if the lists were stale, a call
    // event has already counted as a change).
    bool was_stale = Stale;
    auto old_sockets = std::move(SocketsList);
    auto old_listeners = std::move(ListenersList);
    Rebuild();
    for (auto& s : SocketsList) {
        if (!s.InKernel) {
            NoteState(s.Cookie, TcpState::Close, snap.T);
            s.History = HistoryByCookie[s.Cookie];
        }
    }
    if (was_stale || error_changed || counters_changed || !SameList(old_sockets, SocketsList) || !SameList(old_listeners, ListenersList))
        ++VersionCounter;
}

void World::Apply(const Segment& segment)
{
    SegmentList.push_back(segment);
    ++SegmentsNew;
    if (SegmentList.size() > MaxSegments)
        SegmentList.pop_front();
    ++VersionCounter;
}

std::vector<Segment> World::TakeNewSegments()
{
    std::size_t n = std::min(SegmentsNew, SegmentList.size());
    SegmentsNew = 0;
    return {SegmentList.end() - static_cast<std::ptrdiff_t>(n), SegmentList.end()};
}

void World::Rebuild()
{
    Stale = false;
    ListenersList.clear();
    SocketsList.clear();

    // Which lab descriptor holds a kernel socket: by cookie (SO_COOKIE, stable across
    // accept()), or else by inode (fstat), the way `ss -p` finds a process's sockets.
    auto lab_holder = [&](std::uint64_t cookie, SocketView& view, std::uint32_t inode = 0) {
        auto it = LabCookies.find(cookie);
        if (it == LabCookies.end() && inode != 0) {
            auto by_inode = LabInodes.find(inode);
            if (by_inode != LabInodes.end())
                it = LabCookies.find(by_inode->second);
        }
        if (it == LabCookies.end())
            return false;
        const ActorView& actor = ActorsList[it->second.first];
        view.Actor = actor.Name;
        view.Handle = it->second.second;
        if (auto fd = actor.Fds.find(view.Handle); fd != actor.Fds.end())
            view.Fd = fd->second.Fd;
        return true;
    };

    for (const auto& row : Rows) {
        if (row.State != TcpState::Listen)
            continue;
        ListenerView l;
        l.Cookie = row.Cookie;
        l.Local = row.Local;
        l.Backlog = row.SendQ;
        l.AcceptQueue = row.RecvQ;
        for (const auto& other : Rows)
            if ((other.State == TcpState::SynRecv || other.State == TcpState::NewSynRecv) &&
                ListensFor(row.Local, other.Local))
                ++l.SynQueue;
        SocketView tmp;
        if (lab_holder(row.Cookie, tmp)) {
            l.Actor = tmp.Actor;
            l.Fd = tmp.Fd;
        }
        ListenersList.push_back(l);
    }

    // Ports the lab listens on (or did): server-side connections are those whose local
    // end is one of them.
    std::vector<Endpoint> server_ends;
    for (const auto& l : ListenersList)
        server_ends.push_back(l.Local);
    for (const auto& [cookie, role] : LabRoles)
        if (role == SocketRole::Listener && LabLocal.count(cookie))
            server_ends.push_back(LabLocal[cookie]);

    auto is_server_end = [&](const Endpoint& local) {
        return std::any_of(server_ends.begin(), server_ends.end(),
                           [&](const Endpoint& e) { return ListensFor(e, local); });
    };

    // Four-tuples of the sockets the lab made, to tell lab connections from external ones.
    std::set<std::pair<Endpoint, Endpoint>> lab_ends;
    for (const auto& row : Rows)
        if (EverHeld.count(row.Cookie))
            lab_ends.emplace(Plain(row.Local), Plain(row.Remote));

    std::set<std::uint64_t> in_kernel;
    for (const auto& row : Rows) {
        SocketView v;
        v.Cookie = row.Cookie;
        v.InKernel = true;
        v.K = row;
        in_kernel.insert(row.Cookie);
        bool lab = lab_holder(row.Cookie, v, row.Inode);
        auto known = LabRoles.find(row.Cookie);
        if (row.State == TcpState::Listen)
            v.Role = SocketRole::Listener;
        else if (known != LabRoles.end() && known->second != SocketRole::Listener)
            v.Role = known->second; // accepted, or connected, by the lab
        else if (is_server_end(row.Local))
            v.Role = SocketRole::Server;
        else
            v.Role = SocketRole::Client;

        if (v.Role == SocketRole::Server && !lab) {
            if (row.State == TcpState::SynRecv || row.State == TcpState::NewSynRecv)
                v.Queue = QueueKind::Syn;
            else if (row.Inode == 0 && !EverHeld.count(row.Cookie) && Waiting(row.State))
                v.Queue = QueueKind::Accept;
        }
        if (v.Role == SocketRole::Client) {
            v.External = !EverHeld.count(row.Cookie);
        } else if (v.Role == SocketRole::Server) {
            // Lab-made if the other end is a socket the lab created.
            bool lab_peer = lab_ends.count({Plain(row.Remote), Plain(row.Local)}) > 0;
            v.External = !lab_peer && !EverHeld.count(row.Cookie); // an accepted socket is the lab's
        }
        SocketsList.push_back(std::move(v));
    }

    AddWaitingBytes();

    // Descriptors the lab holds that the kernel's tables do not list: made but not yet
    // bound, listening or connected (or failed to connect). Their state is CLOSED.
    for (const auto& [cookie, holder] : LabCookies) {
        if (in_kernel.count(cookie))
            continue;
        SocketView v;
        v.Cookie = cookie;
        v.InKernel = false;
        v.K.State = TcpState::Close;
        v.K.Cookie = cookie;
        if (auto it = LabLocal.find(cookie); it != LabLocal.end())
            v.K.Local = it->second;
        if (auto it = LabRemote.find(cookie); it != LabRemote.end())
            v.K.Remote = it->second;
        lab_holder(cookie, v);
        auto known = LabRoles.find(cookie);
        if (known != LabRoles.end())
            v.Role = known->second;
        else // not yet listening or connected: what its actor is for
            v.Role = ActorsList[holder.first].Kind == "server" ? SocketRole::Listener : SocketRole::Client;
        SocketsList.push_back(std::move(v));
    }

    for (auto& s : SocketsList) {
        if (auto it = HistoryByCookie.find(s.Cookie); it != HistoryByCookie.end())
            s.History = it->second;
        if (auto it = FirstSeenByCookie.find(s.Cookie); it != FirstSeenByCookie.end())
            s.FirstSeen = it->second;
    }
    std::stable_sort(SocketsList.begin(), SocketsList.end(), [](const SocketView& a, const SocketView& b) {
        return std::tie(a.Role, a.FirstSeen, a.K.Local.Port, a.K.Remote.Port, a.Cookie) <
               std::tie(b.Role, b.FirstSeen, b.K.Local.Port, b.K.Remote.Port, b.Cookie);
    });
}

void World::Clear()
{
    auto version = VersionCounter;
    bool infer = InferSegments;
    *this = World();
    VersionCounter = version + 1;
    InferSegments = infer;
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
std::optional<std::string> Tail(const std::string& written, bool complete, std::size_t n)
{
    if (n == 0)
        return std::string();
    if (!complete || written.size() < n)
        return std::nullopt;
    return written.substr(written.size() - n);
}

} // namespace

void World::AddWaitingBytes()
{
    if (Sent.empty())
        return;
    std::map<std::pair<Endpoint, Endpoint>, std::uint64_t> by_ends;
    for (const auto& v : SocketsList)
        if (v.InKernel && v.State() != TcpState::Listen)
            by_ends[{Plain(v.K.Local), Plain(v.K.Remote)}] = v.Cookie;
    for (auto& v : SocketsList) {
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
            if (auto log = Sent.find(peer->second); log != Sent.end())
                v.RecvBytes = Tail(log->second.Tail, log->second.Complete, recv);
        }
        if (send == 0)
            v.SendBytes = std::string();
        else if (auto log = Sent.find(v.Cookie); log != Sent.end())
            v.SendBytes = Tail(log->second.Tail, log->second.Complete, send);
    }
}

namespace {

bool FinSentIn(TcpState s)
{
    return s == TcpState::FinWait1 || s == TcpState::FinWait2 || s == TcpState::Closing ||
           s == TcpState::TimeWait || s == TcpState::LastAck;
}

} // namespace

// Without a capture, the segments a state change proves were sent, marked as inferred
// (no numbers: those only a capture knows). The probe looks every few milliseconds and
// loopback is faster, so a change may skip states: a client first seen ESTABLISHED has
// done the whole handshake; a socket that reached a state after its FIN has sent it.
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
    auto role = LabRoles.find(row.Cookie);
    bool client = role != LabRoles.end() && role->second == SocketRole::Client;
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

void World::NoteState(std::uint64_t cookie, TcpState state, double t)
{
    if (state == TcpState::NewSynRecv)
        state = TcpState::SynRecv;
    auto& history = HistoryByCookie[cookie];
    if (history.empty() || history.back().To != state)
        history.push_back({t, history.empty() ? TcpState::Unknown : history.back().To, state});
}

std::uint64_t World::CounterDelta(const std::string& name) const
{
    auto now = CountersNow.find(name);
    auto start = CountersAtStart.find(name);
    if (now == CountersNow.end() || start == CountersAtStart.end() || now->second < start->second)
        return 0;
    return now->second - start->second;
}

const ActorView* World::FindActor(std::string_view name) const
{
    for (const auto& a : ActorsList)
        if (a.Name == name)
            return &a;
    return nullptr;
}

const CallEvent* World::FindCall(std::uint64_t id) const
{
    for (const auto& a : ActorsList)
        for (const auto& c : a.Calls)
            if (c.Id == id)
                return &c;
    return nullptr;
}

const SocketView* World::FindSocket(std::uint64_t cookie) const
{
    for (const auto& s : Sockets())
        if (s.Cookie == cookie)
            return &s;
    return nullptr;
}

std::vector<CallEvent> World::TakeFinishedCalls()
{
    std::vector<CallEvent> out;
    out.swap(Finished);
    return out;
}

} // namespace sockscope
