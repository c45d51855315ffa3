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
    std::vector<LaneEvent> Life;    // the moments of its life shown with its calls (ShownAsRow)
    std::map<std::string, FdInfo> Fds; // descriptors it holds now, by handle
    const CallEvent* Current() const;   // the call in progress (Started/Blocked), if any
    bool InExit() const;                // it called exit(), which never returns
    int Pid = 0;                    // the process and thread that made its latest call
    int Tid = 0;
    std::string Parent;             // the lane that created it ("" for a lab actor)
    std::string LaneKind;           // "thread" | "process" | "" (a lab actor)
    std::string Status = "running"; // "running", "exited" (a thread returned), "zombie"
                                    // (a process exited, not yet reaped), "reaped"
};

// Everything the model knows of one socket, kept by its cookie for as long as the session
// lasts: what the kernel showed of it, and what the lab's calls said about it.
struct SocketRecord {
    std::vector<StateChange> History;   // every state the kernel was seen to have it in
    std::optional<double> FirstSeen;    // when a snapshot listed it or a call made it
    bool EverHeld = false;              // a lab descriptor has held it (created or accepted)
    struct Holder {
        std::size_t Actor = 0;          // index into World::Actors()
        std::string Handle;             // that actor's name for the descriptor
    };
    std::optional<Holder> HeldBy;       // the lab descriptor that holds it now
    bool Shared = false;                // more than one lane held it (fork's copies)
    struct SentLog {
        std::string Tail;               // the last bytes written on it (at most MaxSentTail)
        bool Complete = true;           // false once a write kept only part of what it sent
    };
    static constexpr std::size_t MaxSentTail = 64 * 1024;
    std::optional<SentLog> Sent;        // what the lab wrote on it
    // Its ends as calls reported them (bind, connect, accept): shown while the kernel
    // does not list it, and the ends of the data segments its writes imply.
    std::optional<Endpoint> Local, Remote;
    // Listener after listen(), Server after accept(), Client after connect().
    std::optional<SocketRole> Role;
    bool Udp = false;                   // socket() made it SOCK_DGRAM
};

// A call that finished, or a moment of a lane's life that has happened (Completed),
// numbered in the order it was applied. The numbers keep growing across Clear(), so a
// reader (the trace writer) can remember how far it has read.
struct FinishedCall {
    std::uint64_t Seq = 0;
    LaneReport Event;
};

class World {
public:
    static constexpr std::size_t MaxCallsPerActor = 4096;

    void Apply(const LabEvent& event);
    void Apply(const CallEvent& call);
    void Apply(const LaneEvent& event);
    void Apply(const Snapshot& snap);
    void Apply(const Segment& segment);
    void Clear();                   // forget everything (after Lab::Reset)

    // The socket and listener lists are rebuilt lazily: a call event only marks them
    // stale, and the first read after it rebuilds them (once per frame, not per event).
    const std::vector<SocketView>& Sockets() const { EnsureBuilt(); return Known.SocketsList; }
    const std::vector<ListenerView>& Listeners() const { EnsureBuilt(); return Known.ListenersList; }
    const std::vector<ActorView>& Actors() const { return Known.ActorsList; }
    const ActorView* FindActor(std::string_view name) const;
    const CallEvent* FindCall(std::uint64_t id) const;
    const SocketView* FindSocket(std::uint64_t cookie) const;
    // What the model knows of a socket by its cookie, or nullptr.
    const SocketRecord* FindRecord(std::uint64_t cookie) const;

    // Bumps at each Clear(): a recorder learns from it that the model was cleared.
    std::uint64_t Generation() const { return Generations; }
    // Bumps (with Version) when a snapshot changed only the kernel-wide counters: a busy
    // machine's counters move all the time, and a recorder may keep fewer such moments.
    std::uint64_t CountersOnlyChanges() const { return CountersOnly; }
    // Bumps whenever anything a user could see changed (timer countdowns excepted).
    std::uint64_t Version() const { return VersionCounter; }
    // Time of the latest snapshot applied (lab clock), and the probe's error if any.
    double SnapshotTime() const { return Known.LastSnapshotT; }
    std::uint64_t SnapshotCount() const { return Known.Snapshots; }
    const Phrase& ProbeError() const { return Known.LastProbeError; }

    // Kernel-wide TCP counters: the latest values and how much each moved since the
    // first snapshot after Clear() (the lesson's start). And the TCP sysctls.
    const std::map<std::string, std::uint64_t>& CounterValues() const { return Known.CountersNow; }
    std::uint64_t CounterDelta(const std::string& name) const;
    const std::map<std::string, std::string>& Sysctls() const { return Known.SysctlValues; }

    // The most recent MaxFinishedKept finished calls (and lane events) since Clear(), oldest first.
    static constexpr std::size_t MaxFinishedKept = 4096;
    const std::deque<FinishedCall>& FinishedCalls() const { return Known.Finished; }

    // The lab's TCP segments, oldest first (the most recent MaxSegments since Clear()),
    // captured on the loopback interface. SegmentsApplied() counts every segment ever
    // applied (never reset), so Segments().back() is number SegmentsApplied().
    static constexpr std::size_t MaxSegments = 20000;
    const std::deque<Segment>& Segments() const { return Known.SegmentList; }
    std::uint64_t SegmentsApplied() const { return SegmentCount; }
    // No capture: deduce the segments state changes and writes prove, marked inferred.
    void SetInferSegments(bool infer) { InferSegments = infer; }
    // --watch: no socket on the watched ports is sockscope's, listeners included: every one
    // the lab does not hold is External (the socket table and the trace say "external").
    void SetWatching(bool watching) { Watching = watching; }
    // No capture of UDP (none at all, or only TCP through sockscope-helper): deduce the
    // datagrams UDP sockets' sends and receives prove, and the ICMP port unreachable an
    // ECONNREFUSED proves, marked inferred.
    void SetInferDatagrams(bool infer) { InferDatagrams = infer; }

private:
    // Apply(CallEvent), in world.cpp
    ActorView& ActorFor(const std::string& name, const std::string& kind);
    void RecordCall(ActorView& actor, const CallEvent& call);
    void TakeInherited(std::size_t actor, const std::vector<FdInfo>& fds);
    void TakeNewDescriptor(std::size_t actor, const CallEvent& call);
    void NoteAddressesAndRole(std::uint64_t cookie, const CallEvent& call);
    bool NoteWrite(std::uint64_t cookie, const CallEvent& call);
    void ReleaseDescriptor(std::size_t actor, std::uint64_t cookie, const CallEvent& call);
    std::optional<SocketRecord::Holder> AnotherHolder(std::uint64_t cookie) const;
    std::size_t DescriptorHolder(std::size_t actor, const CallEvent& call) const;
    void KeepFinished(LaneReport event);
    // Apply(LaneEvent), in world.cpp
    void UpdateStatus(ActorView& lane, const LaneEvent& event);
    // Apply(Snapshot), in world.cpp
    bool NoteCounters(const Snapshot& snap);
    void NoteRows(double t);
    void NoteState(std::uint64_t cookie, TcpState state, double t);
    // The socket and listener lists, in world_views.cpp
    void Rebuild();
    void EnsureBuilt() const
    {
        if (Known.Stale)
            const_cast<World*>(this)->Rebuild(); // single-threaded by contract (see above)
    }
    using FourTuples = std::set<std::pair<Endpoint, Endpoint>>; // (local, remote)
    bool FillHolder(SocketView& view, std::uint64_t cookie, std::uint32_t inode = 0) const;
    ListenerView ListenerFor(const KernelSocket& row) const;
    std::vector<Endpoint> ServerEnds() const;
    FourTuples LabFourTuples() const;
    SocketView KernelSocketView(const KernelSocket& row, const std::vector<Endpoint>& server_ends,
                                const FourTuples& lab_ends) const;
    SocketView HeldOutsideKernel(std::uint64_t cookie, const SocketRecord& record) const;
    void AddWaitingBytes();
    void AddHistoryAndSort();
    // Segments without a capture, in world_infer.cpp
    void InferFromState(const KernelSocket& row, TcpState before, double t);
    void InferWrite(const SocketRecord& record, const CallEvent& call);
    void InferDatagram(std::uint64_t cookie, const CallEvent& call);
    bool IsUdp(std::uint64_t cookie) const;
    std::optional<Endpoint> LocalEnd(std::uint64_t cookie) const;

    SocketRecord& Record(std::uint64_t cookie) { return Known.Records[cookie]; }

    // Everything a session knows: Clear() replaces it whole, so nothing can be forgotten.
    struct Session {
        std::vector<KernelSocket> Rows; // latest snapshot
        bool Stale = false;             // the lists below wait for Rebuild()
        std::vector<SocketView> SocketsList;
        std::vector<ListenerView> ListenersList;
        std::vector<ActorView> ActorsList;
        std::map<std::uint64_t, SocketRecord> Records;    // by cookie
        std::map<std::uint32_t, std::uint64_t> LabInodes; // inode -> cookie, for lab descriptors
        std::deque<FinishedCall> Finished;
        std::deque<Segment> SegmentList;
        // Datagrams inferred from a send that no inferred receive has matched yet (a
        // receive of one of them proves nothing new), oldest first; at most MaxInFlight.
        std::deque<Segment> DatagramsInFlight;
        double LastSnapshotT = 0;
        std::uint64_t Snapshots = 0;
        Phrase LastProbeError;
        std::map<std::string, std::uint64_t> CountersNow, CountersAtStart;
        std::map<std::string, std::string> SysctlValues;
    };
    Session Known;
    // Kept across Clear(): settings, and numbers readers compare with what they saw.
    bool InferSegments = false;
    bool Watching = false;
    bool InferDatagrams = false;
    static constexpr std::size_t MaxInFlight = 256;
    std::uint64_t VersionCounter = 0;
    std::uint64_t Generations = 0;
    std::uint64_t CountersOnly = 0;
    std::uint64_t CallsFinished = 0;  // the Seq of the newest FinishedCall
    std::uint64_t SegmentCount = 0;   // segments ever applied
};

} // namespace sockscope
