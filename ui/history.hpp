// The GUI's memory of the session (time travel, issue "Time travel"): every moment the
// World changed, kept as the events that made it (net/recording.hpp), so that any earlier
// moment can be shown again without re-running anything; --record writes the same to a
// file, and --replay opens one instead of a live lab.
#pragma once

#include "lesson.hpp"
#include "recording.hpp"
#include "ui.hpp"

#include <memory>
#include <optional>
#include <string>

namespace sockscope {

class GuiHistory {
public:
    // The moments kept in memory stop once they hold about this much (a lesson's hour
    // holds a few megabytes; a lab of 10,000 connections fills it in minutes); --record
    // still writes every moment to its file. The World copies that make going back
    // quick have a budget of their own (ReplayCursor::kCheckpointBytes).
    static constexpr std::size_t kMemoryLimit = std::size_t{512} << 20;

    // Live: starts afresh (a lesson loaded, the playground opened, a program started).
    // The recording file, if one is open, ends first.
    void Begin(RecordingInfo info, const World& live);
    // --record FILE: from Begin on, the session is also written there.
    bool Record(const std::string& path, std::string& error);
    void Note(const LabEvent& event, const World& live) { Rec.Note(event, live); }
    // Where a trace line would be written: a moment, when something changed. A step that
    // has just ended is marked as such (for --replay --headless and --step K).
    void Tick(const World& live, const LessonPlayer* player, double t);
    void Finish(const RecordingEnd& end);
    // The lesson the session ended with (the playground's steps, as `save` writes them).
    void SetLessonText(std::string text) { Rec.SetLessonText(std::move(text)); }

    // --replay FILE: the recorded session instead of a lab. false and `error` (one line).
    bool OpenReplay(const std::string& path, std::string& error);
    bool Replaying() const { return Replay.has_value(); }
    const Lesson* ReplayLesson() const { return ReplayedLesson ? &*ReplayedLesson : nullptr; }
    const RecordingInfo& Info() const { return Data().Info; }

    std::size_t Moments() const { return Data().Ticks.size(); }
    const RecordedTick& Moment(std::size_t i) const { return Data().Ticks[i]; }
    const World& WorldAt(std::size_t i);
    // The moment at which step `step` (from 0) ended, if it did.
    std::optional<std::size_t> StepEnd(int step) const;
    // The timeline's view of it (ui.hpp), for `viewing` (nullopt: the present).
    TimelineView View(std::optional<std::size_t> viewing, double live_t) const;
    std::size_t MemoryBytes() const { return Rec.MemoryBytes(); }

private:
    const Recording& Data() const { return Replay ? *Replay : Rec.Get(); }
    Recorder Rec;
    std::optional<Recording> Replay;
    std::optional<Lesson> ReplayedLesson;
    std::unique_ptr<ReplayCursor> Cursor;
    std::string RecordPath;
    int LastStepsDone = 0;
    bool LastBusy = false;
};

} // namespace sockscope
