#include "world.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <algorithm>
#include <tuple>

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

bool ActorView::InExit() const
{
    return std::any_of(Life.begin(), Life.end(), [](const LaneEvent& e) { return e.Kind == LaneEventKind::Exiting; });
}

namespace {

// The kernel's row compared as a user sees it: timer countdowns and tcp_info counters
// move on their own and do not make the model "change".
bool SameShown(const KernelSocket& a, const KernelSocket& b)
{
    return std::tie(a.State, a.Local, a.Remote, a.Cookie, a.Inode, a.RecvQ, a.SendQ, a.Timer, a.Retransmits,
                    a.Proto, a.Drops) ==
           std::tie(b.State, b.Local, b.Remote, b.Cookie, b.Inode, b.RecvQ, b.SendQ, b.Timer, b.Retransmits,
                    b.Proto, b.Drops);
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

} // namespace

void World::Apply(const LabEvent& event)
{
    std::visit([this](const auto& e) { Apply(e); }, event);
}

namespace {

// Only a call that changes who holds which socket, or what the lab knows of its
// addresses, changes the socket list; the ladder itself is read from Actors().
bool ChangesSocketList(const CallEvent& call)
{
    return call.Phase == CallPhase::Finished &&
           (call.NewFd || call.Closed || call.Local || call.Remote || call.Call == CallId::Listen);
}

} // namespace

void World::Apply(const CallEvent& call)
{
    ActorView& actor = ActorFor(call.Actor, call.ActorKind);
    auto index = static_cast<std::size_t>(&actor - Known.ActorsList.data());
    RecordCall(actor, call);
    bool sockets_change = ChangesSocketList(call);
    if (call.Pid != 0) // the process and thread that made its latest call
        actor.Pid = call.Pid;
    if (call.Tid != 0)
        actor.Tid = call.Tid;
    if (call.Phase == CallPhase::Finished) {
        TakeNewDescriptor(index, call);
        const std::size_t holder = DescriptorHolder(index, call);
        std::uint64_t cookie = 0;
        const ActorView& fds = Known.ActorsList[holder];
        if (auto fd = fds.Fds.find(call.Handle); fd != fds.Fds.end())
            cookie = fd->second.Cookie;
        if (cookie != 0)
            NoteAddressesAndRole(cookie, call);
        if (NoteWrite(cookie, call))
            sockets_change = true;
        if (InferDatagrams && cookie != 0)
            InferDatagram(cookie, call);
        if (call.Closed)
            ReleaseDescriptor(holder, cookie, call);
        KeepFinished(call);
    }
    if (sockets_change)
        Known.Stale = true;
    ++VersionCounter; // a call event is always visible (the ladder)
}

ActorView& World::ActorFor(const std::string& name, const std::string& kind)
{
    for (auto& a : Known.ActorsList)
        if (a.Name == name) {
            if (kind == "server") // a traced program's lane becomes a server when it listens
                a.Kind = kind;
            return a;
        }
    ActorView& a = Known.ActorsList.emplace_back();
    a.Name = name;
    a.Kind = kind;
    return a;
}

// The actor's ladder: a new call at the bottom, or a later phase of one it shows.
void World::RecordCall(ActorView& actor, const CallEvent& call)
{
    // The call being updated is almost always one of the newest: look from the back.
    auto same_id = [&](const CallEvent& c) { return c.Id == call.Id; };
    auto it = std::find_if(actor.Calls.rbegin(), actor.Calls.rend(), same_id);
    if (it != actor.Calls.rend()) {
        *it = call;
        return;
    }
    actor.Calls.push_back(call);
    if (actor.Calls.size() > MaxCallsPerActor) // a long run keeps the recent ladder only
        actor.Calls.erase(actor.Calls.begin(), actor.Calls.begin() + MaxCallsPerActor / 4);
}

// A moment of a lane's life: who made it and what it starts with, or how it ends.
void World::Apply(const LaneEvent& event)
{
    ActorView& lane = ActorFor(event.Actor, event.ActorKind);
    auto index = static_cast<std::size_t>(&lane - Known.ActorsList.data());
    if (event.Pid != 0)
        lane.Pid = event.Pid;
    if (event.Tid != 0)
        lane.Tid = event.Tid;
    if (event.Kind == LaneEventKind::Started || event.Kind == LaneEventKind::Forked) {
        lane.Parent = event.Parent;
        TakeInherited(index, event.Inherited);
        if (!event.Inherited.empty())
            Known.Stale = true;
    }
    UpdateStatus(lane, event);
    if (ShownAsRow(event))
        lane.Life.push_back(event);
    if (Completed(event))
        KeepFinished(event);
    ++VersionCounter;
}

// What the lane is (a thread, a process) and whether it still runs: "exiting" while in
// exit(), then a "zombie" once its parent learns it is gone, "reaped" by waitpid(); a
// thread has "exited" when it returned, a traced lane when the tracer saw it end.
void World::UpdateStatus(ActorView& lane, const LaneEvent& event)
{
    if (event.Kind == LaneEventKind::Reaped) {
        if (lane.LaneKind == "process") // a lane the model knows as a process
            lane.Status = "reaped";
        return;
    }
    if (event.Kind != LaneEventKind::Zombie) // the parent's report: the lane's kind is its own to say
        lane.LaneKind = event.Type == LaneType::Thread ? "thread" : "process";
    switch (event.Kind) {
    case LaneEventKind::Returned:
    case LaneEventKind::Exited: lane.Status = "exited"; break;
    case LaneEventKind::Exiting:
        if (lane.Status == "running")
            lane.Status = "exiting";
        break;
    case LaneEventKind::Zombie:
        if (lane.Status != "reaped") // a late report does not bring it back
            lane.Status = "zombie";
        break;
    default: break;
    }
}

// A lane that starts with descriptors: fork's copies, or the one a thread serves.
void World::TakeInherited(std::size_t actor, const std::vector<FdInfo>& fds)
{
    for (const auto& f : fds) {
        Known.ActorsList[actor].Fds[f.Handle] = f;
        SocketRecord& record = Record(f.Cookie);
        if (record.HeldBy)
            record.Shared = true;
        record.HeldBy = SocketRecord::Holder{actor, f.Handle};
        if (f.Inode != 0)
            Known.LabInodes[f.Inode] = f.Cookie;
    }
}

// socket() or accept() gave the actor a descriptor.
void World::TakeNewDescriptor(std::size_t actor, const CallEvent& call)
{
    if (!call.NewFd)
        return;
    const FdInfo& fd = *call.NewFd;
    Known.ActorsList[actor].Fds[fd.Handle] = fd;
    SocketRecord& record = Record(fd.Cookie);
    record.HeldBy = SocketRecord::Holder{actor, fd.Handle};
    if (fd.Inode != 0)
        Known.LabInodes[fd.Inode] = fd.Cookie;
    record.EverHeld = true;
    if (!record.FirstSeen)
        record.FirstSeen = call.TEnd;
    if (call.Call == CallId::Accept)
        record.Role = SocketRole::Server;
    // A traced program's type may carry SOCK_NONBLOCK and SOCK_CLOEXEC (0xf: the type's bits).
    if (call.Call == CallId::Socket && (call.Args.Type & 0xf) == SOCK_DGRAM)
        record.Udp = true;
}

// The lane whose descriptor table the call used: its own, or (a traced program's threads
// share one table) that of another thread of the same process that holds the handle.
std::size_t World::DescriptorHolder(std::size_t actor, const CallEvent& call) const
{
    const ActorView& self = Known.ActorsList[actor];
    if (!call.Traced || call.Pid == 0 || self.Fds.count(call.Handle))
        return actor;
    for (std::size_t i = 0; i < Known.ActorsList.size(); ++i)
        if (Known.ActorsList[i].Pid == call.Pid && Known.ActorsList[i].Fds.count(call.Handle))
            return i;
    return actor;
}

// What the call said of the socket's addresses, and what the socket is for.
void World::NoteAddressesAndRole(std::uint64_t cookie, const CallEvent& call)
{
    SocketRecord& record = Record(cookie);
    if (call.Local)
        record.Local = *call.Local;
    if (call.Remote)
        record.Remote = *call.Remote;
    if (call.Result == 0 && call.Call == CallId::Listen)
        record.Role = SocketRole::Listener;
    if (call.Call == CallId::Connect)
        record.Role = record.Role.value_or(SocketRole::Client); // accept()'s socket stays a Server
}

// Keeps the tail of what the lab wrote, to show the bytes waiting in the kernel's queues.
// Returns true if the call wrote.
bool World::NoteWrite(std::uint64_t cookie, const CallEvent& call)
{
    if (cookie != 0 && (call.Call == CallId::Send || call.Call == CallId::Write) && call.Result > 0) {
        SocketRecord& record = Record(cookie);
        InferWrite(record, call);
        SocketRecord::SentLog& log = record.Sent ? *record.Sent : record.Sent.emplace();
        log.Complete = log.Complete && call.Data.size() == static_cast<std::size_t>(call.Result);
        log.Tail += call.Data;
        if (log.Tail.size() > SocketRecord::MaxSentTail)
            log.Tail.erase(0, log.Tail.size() - SocketRecord::MaxSentTail);
        return true;
    }
    return false;
}

// close(): the actor's descriptor is gone; the socket may still be held by another lane.
void World::ReleaseDescriptor(std::size_t actor, std::uint64_t cookie, const CallEvent& call)
{
    Known.ActorsList[actor].Fds.erase(call.Handle);
    auto record = Known.Records.find(cookie);
    if (cookie != 0 && record != Known.Records.end() && record->second.HeldBy &&
        record->second.HeldBy->Actor == actor && record->second.HeldBy->Handle == call.Handle) {
        record->second.HeldBy.reset();
        // After fork() two processes hold the socket: it stays held by the other.
        if (record->second.Shared)
            record->second.HeldBy = AnotherHolder(cookie);
    }
    if (record == Known.Records.end() || !record->second.HeldBy)
        std::erase_if(Known.LabInodes, [&](const auto& entry) { return entry.second == cookie; });
}

std::optional<SocketRecord::Holder> World::AnotherHolder(std::uint64_t cookie) const
{
    for (std::size_t i = 0; i < Known.ActorsList.size(); ++i)
        for (const auto& [handle, f] : Known.ActorsList[i].Fds)
            if (f.Cookie == cookie)
                return SocketRecord::Holder{i, handle};
    return std::nullopt;
}

void World::KeepFinished(LaneReport event)
{
    Known.Finished.push_back({++CallsFinished, std::move(event)});
    if (Known.Finished.size() > MaxFinishedKept)
        Known.Finished.pop_front();
}

void World::Apply(const Snapshot& snap)
{
    ++Known.Snapshots;
    Known.LastSnapshotT = snap.T;
    bool error_changed = Known.LastProbeError != snap.Error;
    Known.LastProbeError = snap.Error;
    if (snap.Error.Empty())
        Known.Rows = snap.Sockets;
    bool counters_changed = NoteCounters(snap);
    NoteRows(snap.T);
    // Compare with what a reader saw before this snapshot (if the lists were stale, a call
    // event has already counted as a change).
    bool was_stale = Known.Stale;
    auto old_sockets = std::move(Known.SocketsList);
    auto old_listeners = std::move(Known.ListenersList);
    Rebuild();
    for (auto& s : Known.SocketsList) {
        if (!s.InKernel) {
            NoteState(s.Cookie, TcpState::Close, snap.T);
            s.History = Known.Records[s.Cookie].History;
        }
    }
    bool views_changed = was_stale || error_changed || !SameList(old_sockets, Known.SocketsList) ||
                         !SameList(old_listeners, Known.ListenersList);
    if (views_changed || counters_changed)
        ++VersionCounter;
    if (counters_changed && !views_changed)
        ++CountersOnly;
}

// The kernel-wide counters and sysctls; returns true if any changed.
bool World::NoteCounters(const Snapshot& snap)
{
    bool changed = false;
    if (!snap.Counters.empty()) {
        if (Known.CountersAtStart.empty())
            Known.CountersAtStart = snap.CountersAtReset.empty() ? snap.Counters : snap.CountersAtReset;
        changed = Known.CountersNow != snap.Counters;
        Known.CountersNow = snap.Counters;
    }
    if (!snap.Sysctls.empty()) {
        changed = changed || Known.SysctlValues != snap.Sysctls;
        Known.SysctlValues = snap.Sysctls;
    }
    return changed;
}

// Each listed socket's first sighting and state history (and, without a capture, the
// segments its change of state proves).
void World::NoteRows(double t)
{
    for (const auto& row : Known.Rows) {
        SocketRecord& record = Record(row.Cookie);
        if (!record.FirstSeen)
            record.FirstSeen = t;
        TcpState before = record.History.empty() ? TcpState::Unknown : record.History.back().To;
        NoteState(row.Cookie, row.State, t);
        if (InferSegments)
            InferFromState(row, before, t);
    }
}

void World::NoteState(std::uint64_t cookie, TcpState state, double t)
{
    if (state == TcpState::NewSynRecv)
        state = TcpState::SynRecv;
    auto& history = Record(cookie).History;
    if (history.empty() || history.back().To != state)
        history.push_back({t, history.empty() ? TcpState::Unknown : history.back().To, state});
}

void World::Apply(const Segment& segment)
{
    Known.SegmentList.push_back(segment);
    ++SegmentCount;
    if (Known.SegmentList.size() > MaxSegments)
        Known.SegmentList.pop_front();
    ++VersionCounter;
}

void World::Clear()
{
    Known = {};
    ++VersionCounter;
    ++Generations;
}

std::uint64_t World::CounterDelta(const std::string& name) const
{
    auto now = Known.CountersNow.find(name);
    auto start = Known.CountersAtStart.find(name);
    if (now == Known.CountersNow.end() || start == Known.CountersAtStart.end() || now->second < start->second)
        return 0;
    return now->second - start->second;
}

const ActorView* World::FindActor(std::string_view name) const
{
    for (const auto& a : Known.ActorsList)
        if (a.Name == name)
            return &a;
    return nullptr;
}

const CallEvent* World::FindCall(std::uint64_t id) const
{
    for (const auto& a : Known.ActorsList)
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

const SocketRecord* World::FindRecord(std::uint64_t cookie) const
{
    auto it = Known.Records.find(cookie);
    return it == Known.Records.end() ? nullptr : &it->second;
}

} // namespace sockscope
