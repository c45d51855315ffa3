// The world model: everything sockscope knows, merged from the lab's call events and the
// probe's snapshots. Plain data, updated on one thread only (the UI thread, or the
// headless runner's thread) by Apply(), in the order the events were reported.
// Deterministic: the same events give the same model, so it is tested without sockets.
#pragma once

#include "events.hpp"
#include "kernel_types.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sockscope {

enum class SocketRole : std::uint8_t { Listener, Client, Server };
enum class QueueKind : std::uint8_t { None, Syn, Accept };
std::string_view SocketRoleName(SocketRole r); // "listener", "client", "server"
std::string_view QueueKindName(QueueKind q);   // "syn", "accept", ""

struct StateChange {
    double T = 0;
    TcpState From = TcpState::Unknown;
    TcpState To = TcpState::Unknown;
};

// One socket as sockscope shows it: the kernel's row (when the kernel has one) plus what
// the lab knows about it (which actor holds it under which descriptor).
struct SocketView {
    std::uint64_t Cookie = 0;
    bool InKernel = false;          // false: a lab descriptor the kernel's tables do not list
                                    // (created but not bound/listening/connected, or closed)
    KernelSocket K;                 // the kernel's row (State Close when !InKernel)
    SocketRole Role = SocketRole::Client;
    QueueKind Queue = QueueKind::None;
    std::optional<int> Fd;          // the lab's descriptor, if it holds one
    std::string Actor;              // holder ("" if none)
    std::string Handle;             // the holder's name for the descriptor
    bool External = false;          // a connection from a process that is not sockscope
    double FirstSeen = 0;
    std::vector<StateChange> History; // every state this connection was seen in
    TcpState State() const { return InKernel ? K.State : TcpState::Close; }
    // A connection the kernel made (or is making) that waits in a queue for accept():
    // it has no descriptor *yet*. (An orphan finishing its close has none any more.)
    bool NoFdYet() const { return !Fd && InKernel && Queue != QueueKind::None; }
    // The bytes waiting in the kernel, when sockscope saw them being written: those in
    // this socket's receive queue (sent by its peer, not read yet) and in its send queue
    // (written, not yet acknowledged). Empty when nothing waits; unknown (nullopt) when
    // the writer was not the lab (an external peer) or wrote more than it kept.
    std::optional<std::string> RecvBytes;
    std::optional<std::string> SendBytes;
};

struct ListenerView {
    std::uint64_t Cookie = 0;
    Endpoint Local;
    std::uint32_t Backlog = 0;      // inet_diag wqueue: the limit listen() set (capped by somaxconn)
    std::uint32_t AcceptQueue = 0;  // inet_diag rqueue: completed connections waiting for accept()
    std::uint32_t SynQueue = 0;     // SYN-RECEIVED request sockets for this listener
    std::string Actor;
    std::optional<int> Fd;
};

// One actor (a thread of the lab) and the calls it has made, oldest first.
// A lab actor, or a lane of a server model: a thread or a process of its own.
struct ActorView {
    std::string Name;
    std::string Kind;               // "server" or "client"
    std::vector<CallEvent> Calls;   // each call's latest phase
    std::map<std::string, FdInfo> Fds; // descriptors it holds now, by handle
    const CallEvent* Current() const;   // the call in progress (Started/Blocked), if any
    int Pid = 0;                    // the process and thread that made its latest call
    int Tid = 0;
    std::string Parent;             // the lane that created it ("" for a lab actor)
    std::string LaneKind;           // "thread" | "process" | "" (a lab actor)
    std::string Status = "running"; // "running", "exited" (a thread returned), "zombie"
                                    // (a process exited, not yet reaped), "reaped"
};

class World {
public:
    static constexpr std::size_t MaxCallsPerActor = 4096;

    void Apply(const LabEvent& event);
    void Apply(const CallEvent& call);
    void Apply(const Snapshot& snap);
    void Apply(const Segment& segment);
    void Clear();                   // forget everything (after Lab::Reset)

    // The socket and listener lists are rebuilt lazily: a call event only marks them
    // stale, and the first read after it rebuilds them (once per frame, not per event).
    const std::vector<SocketView>& Sockets() const { EnsureBuilt(); return SocketsList; }
    const std::vector<ListenerView>& Listeners() const { EnsureBuilt(); return ListenersList; }
    const std::vector<ActorView>& Actors() const { return ActorsList; }
    const ActorView* FindActor(std::string_view name) const;
    const CallEvent* FindCall(std::uint64_t id) const;
    const SocketView* FindSocket(std::uint64_t cookie) const;

    // Bumps whenever anything a user could see changed (timer countdowns excepted).
    std::uint64_t Version() const { return VersionCounter; }
    // Time of the latest snapshot applied (lab clock), and the probe's error if any.
    double SnapshotTime() const { return LastSnapshotT; }
    std::uint64_t SnapshotCount() const { return Snapshots; }
    const Phrase& ProbeError() const { return LastProbeError; }

    // Kernel-wide TCP counters: the latest values and how much each moved since the
    // first snapshot after Clear() (the lesson's start). And the TCP sysctls.
    const std::map<std::string, std::uint64_t>& CounterValues() const { return CountersNow; }
    std::uint64_t CounterDelta(const std::string& name) const;
    const std::map<std::string, std::string>& Sysctls() const { return SysctlValues; }

    // Calls that finished since the previous call of this function (for the trace).
    std::vector<CallEvent> TakeFinishedCalls();

    // The lab's TCP segments, oldest first (the most recent MaxSegments), captured on the
    // loopback interface; and those since the previous TakeNewSegments() (for the trace).
    static constexpr std::size_t MaxSegments = 20000;
    const std::deque<Segment>& Segments() const { return SegmentList; }
    std::vector<Segment> TakeNewSegments();
    // No capture: deduce the segments state changes and writes prove, marked inferred.
    void SetInferSegments(bool infer) { InferSegments = infer; }

private:
    void Rebuild();
    void EnsureBuilt() const
    {
        if (Stale)
            const_cast<World*>(this)->Rebuild(); // single-threaded by contract (see above)
    }
    void NoteState(std::uint64_t cookie, TcpState state, double t);
    void AddWaitingBytes();
    void InferFromState(const KernelSocket& row, TcpState before, double t);
    ActorView& ActorFor(const CallEvent& call);

    std::vector<KernelSocket> Rows;       // latest snapshot
    bool Stale = false;
    std::vector<SocketView> SocketsList;
    std::vector<ListenerView> ListenersList;
    std::vector<ActorView> ActorsList;
    std::map<std::uint64_t, std::vector<StateChange>> HistoryByCookie;
    std::map<std::uint64_t, double> FirstSeenByCookie;
    std::set<std::uint64_t> EverHeld;     // cookies a descriptor has held (accepted or created)
    std::map<std::uint64_t, std::pair<std::size_t, std::string>> LabCookies; // cookie -> (actor index, handle)
    std::map<std::uint32_t, std::uint64_t> LabInodes; // inode -> cookie, for lab descriptors
    std::set<std::uint64_t> SharedCookies; // sockets that more than one lane held (fork's copies)
    struct SentLog {
        std::string Tail;             // the last bytes written on the socket (at most MaxSentTail)
        bool Complete = true;         // false once a write kept only part of what it sent
    };
    static constexpr std::size_t MaxSentTail = 64 * 1024;
    std::map<std::uint64_t, SentLog> Sent; // cookie -> what the lab wrote on it
    std::map<std::uint64_t, Endpoint> LabLocal, LabRemote; // what calls reported, for sockets not in the kernel
    std::map<std::uint64_t, SocketRole> LabRoles; // Listener after listen(), Server after accept(), Client after connect()
    std::vector<CallEvent> Finished;
    std::deque<Segment> SegmentList;
    bool InferSegments = false;
    std::size_t SegmentsNew = 0;   // the newest segments TakeNewSegments() has not returned
    std::uint64_t VersionCounter = 0;
    double LastSnapshotT = 0;
    std::uint64_t Snapshots = 0;
    Phrase LastProbeError;
    std::map<std::string, std::uint64_t> CountersNow, CountersAtStart;
    std::map<std::string, std::string> SysctlValues;
};

} // namespace sockscope
