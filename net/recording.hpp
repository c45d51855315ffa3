// A session as what it was made of: the typed events the World applied (calls, lane
// events, snapshots, segments), the moments the lesson player was seen at, and the
// World::Clear()s between them. Kept in memory for the GUI's history (step back through
// the session), written to a file by --record, read back by --replay.
//
// The World is deterministic (world.hpp): a fresh one with the recorded settings, given
// the recorded events in order, is the live one at each recorded moment. Nothing is re-run.
//
// The file (DESIGN.md, "Recording format"): JSON lines, the first a header
// {"sockscope_recording": 1, "info": {...}}, then one of {"clear": true},
// {"event": {...}} (a call or lane event, lane.hpp's JSON, times on the lab clock),
// {"snap": {...}}, {"seg": {...}} or {"tick": {...}} (the moment after the events before
// it, with the player's state) per line, and last {"end": {...}}. A reader refuses a
// newer format number; fields it does not know are ignored.
#pragma once

#include "events.hpp"
#include "player.hpp"
#include "world.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sockscope {

inline constexpr int kRecordingFormat = 1;

// What the lesson player showed at a moment (LessonView's fields, ui.hpp).
struct PlayerMoment {
    int StepIndex = -1;        // as shown: the step being attempted while earlier ones are made again
    int RawStep = -1;          // LessonPlayer::StepIndex() (the trace's "step")
    int StepsDone = 0;
    StepStatus Status = StepStatus::Idle;
    bool Busy = false;
    bool AtEnd = false;
    int CallIndex = -1;
    int Port = 0;
    int Attempt = 1;
    bool Replaying = false;
    bool BindAll = false;
    std::string StatusLine;
    std::vector<CheckResult> Results;
    std::vector<std::string> Retries;
    // (step, call) -> the lab's call id; shared between moments while it does not change.
    std::shared_ptr<const std::map<std::pair<int, int>, std::uint64_t>> CallIds;
};
// The player as it is now; `previous` lends its CallIds when they are the same.
PlayerMoment MomentOf(const LessonPlayer& player, const PlayerMoment* previous = nullptr);

struct RecordedTick {
    std::size_t EventEnd = 0;  // the events before it: Events[0, EventEnd)
    std::size_t ClearEnd = 0;  // the clears before it: Clears[0, ClearEnd)
    double T = 0;              // the lab clock
    PlayerMoment Player;
    bool StepEnd = false;      // a step was over (the headless runner's report follows)
    bool StepDone = true;      // StepEnd: it finished in time
};

// What the session was, said once at its start.
struct RecordingInfo {
    std::string Mode = "lesson";   // "lesson", "playground", "run", "watch"
    std::string Lesson;            // its name ("" for none)
    std::string LessonText;        // the lesson file's text, so a replay needs no file
    std::string Program;           // --run: the command line; --watch: the ports
    std::string Language = "en";
    bool InferSegments = false;    // the World's settings
    bool InferDatagrams = false;
    bool Watching = false;
    bool Capturing = false;        // segments were captured (else inferred)
    Phrase CaptureError;
    bool ProbeRunning = true;
    std::string Version;           // sockscope's
};

// Said at the end.
struct RecordingEnd {
    bool Present = false;
    std::uint64_t Captured = 0;    // segments captured on lo
    bool ViaHelper = false;
    bool Capturing = false;
    Phrase CaptureError;
};

struct Recording {
    RecordingInfo Info;
    std::vector<LabEvent> Events;
    std::vector<std::size_t> Clears; // a World::Clear() before Events[i] (i may be Events.size())
    std::vector<RecordedTick> Ticks;
    RecordingEnd End;
};

// The text of the file a lesson was read from ("" when it has none or it cannot be read).
std::string LessonFileText(const Lesson& lesson);

// Reads a recording. nullopt and `error` (one line naming the file, and the line when
// one is wrong) for a missing file, garbage, a newer format or a truncated file.
std::optional<Recording> LoadRecording(const std::string& path, std::string& error);
// The same from text already read (fuzzing, tests); `name` is used in messages.
std::optional<Recording> ParseRecording(const std::string& text, const std::string& name, std::string& error);

// Watches a live session: each event as the World applies it (Note, before Apply), and
// the moments (Tick, where a trace line would be written). Keeps the recording in memory
// and, when a file is open, writes it as it goes. A Tick at which nothing a user could see
// changed is kept only once a second (the timers' countdown), and the snapshots before it
// are dropped, so an idle session costs little.
class Recorder {
public:
    Recorder() = default;
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Starts afresh (the World is as `world` is now, which must be a fresh World with
    // Info's settings, or cleared since).
    void Begin(RecordingInfo info, const World& world);
    // Writes what is recorded from now on (and what was before) to `path`.
    bool OpenFile(const std::string& path, std::string& error);
    bool FileOpen() const { return File != nullptr; }
    void Note(const LabEvent& event, const World& world);
    // Returns true when a moment was kept.
    bool Tick(const World& world, const LessonPlayer* player, double t);
    // The headless runner's step report: always kept.
    void StepEnded(const World& world, const LessonPlayer& player, double t, bool done);
    void Finish(const RecordingEnd& end);
    // The lesson changed in the meantime (the playground saved its steps): the file's
    // text at the end says it (LessonText of the end record).
    void SetLessonText(std::string text) { Data.Info.LessonText = std::move(text); }
    // A moment at which only the kernel-wide counters moved is kept at most once in this
    // many seconds (0: every one, so that a replay writes every trace line the live run
    // wrote). The GUI's long sessions on a busy machine set 1.
    void CoalesceCounters(double seconds) { CounterGap = seconds; }

    const Recording& Get() const { return Data; }
    // Bytes of memory the recording holds, roughly (the benchmark's figure).
    std::size_t MemoryBytes() const;
    // Keep no more than about this many bytes in memory (0: no limit): once past it, the
    // moments that follow are still written to the file, if one is open, but not kept
    // (Full()). A lab of 10,000 connections changes its 20,000 rows for minutes, and
    // kept every snapshot of them (gigabytes) until the machine ran out.
    void SetMemoryLimit(std::size_t bytes) { Limit = bytes; }
    bool Full() const { return IsFull; }
    double FullSince() const { return FullT; } // the lab clock when it filled up

private:
    bool Keep(const World& world, const LessonPlayer* player, double t, bool force, bool step_end, bool done);
    void NoteClears(const World& world);
    void WriteLine(const std::string& line);

    struct Pending {
        bool Clear = false;
        LabEvent Event;
    };
    Recording Data;
    std::vector<Pending> Waiting;
    std::uint64_t SeenGeneration = 0;
    std::uint64_t LastVersion = ~0ull;
    int LastStep = -2;
    double LastT = -1e9;
    std::uint64_t LastCountersOnly = 0;
    double CounterGap = 0;
    PlayerMoment LastWritten;  // the player as the file last said it
    bool PlayerWritten = false;
    std::string HeaderLesson;  // the lesson's text as the header said it
    std::FILE* File = nullptr;
    Snapshot LastMaps;         // the counters and settings last written (a snapshot repeats
    bool HaveMaps = false;     // them only when they moved)
    std::size_t Bytes = 0;
    std::size_t Limit = 0;
    bool IsFull = false;
    double FullT = 0;
};

// The World at any recorded moment, made by applying the recorded events to a fresh World
// (from the nearest checkpoint: a copy kept every kCheckpointEvents events, further apart
// once the copies would hold more than kCheckpointBytes: then every other one is dropped
// and the spacing doubles, so a big lab's copies stay within the budget).
class ReplayCursor {
public:
    static constexpr std::size_t kCheckpointEvents = 1000;
    static constexpr std::size_t kCheckpointBytes = std::size_t{256} << 20;
    // `every` events between checkpoints at first, `budget` bytes for them (tests make
    // them small).
    explicit ReplayCursor(const Recording& recording, std::size_t every = kCheckpointEvents,
                          std::size_t budget = kCheckpointBytes);
    // The World after tick `tick` (the last when out of range). Moving forward applies
    // only what lies between; moving back starts from a checkpoint.
    const World& At(std::size_t tick);
    // New ticks were recorded (the live history): a checkpoint from `live`, the World
    // after the newest tick, when enough events came since the last one.
    void Grew(const World& live);
    // A recording read whole (a replay): its checkpoints, made in one pass forward.
    void CheckpointAll();
    std::size_t Checkpoints() const { return Saved.size(); }
    std::size_t CheckpointSpacing() const { return Spacing; }

private:
    void Save(std::size_t tick, std::shared_ptr<const World> world);
    void Fresh(World& world) const;
    void ApplyBetween(World& world, std::size_t from_tick, std::size_t to_tick) const; // from_tick: SIZE_MAX = start

    const Recording& Rec;
    struct Checkpoint {
        std::size_t Tick;
        std::shared_ptr<const World> At;
        std::size_t Bytes = 0; // roughly (ApproxWorldBytes)
    };
    std::vector<Checkpoint> Saved;
    std::size_t LastCheckpointEvents = 0;
    std::size_t Spacing = kCheckpointEvents;
    std::size_t Budget = kCheckpointBytes;
    std::size_t SavedBytes = 0;
    World Current;
    std::optional<std::size_t> CurrentTick;
};

} // namespace sockscope
