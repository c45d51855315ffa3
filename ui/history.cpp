#include "history.hpp"

namespace sockscope {

void GuiHistory::Begin(RecordingInfo info, const World& live)
{
    if (Rec.FileOpen())
        Rec.Finish(RecordingEnd{});
    Rec.Begin(std::move(info), live);
    Rec.CoalesceCounters(1.0); // a long class on a busy machine: counters alone, once a second
    Rec.SetMemoryLimit(kMemoryLimit);
    Cursor = std::make_unique<ReplayCursor>(Rec.Get());
    LastStepsDone = 0;
    LastBusy = false;
}

bool GuiHistory::Record(const std::string& path, std::string& error)
{
    RecordPath = path;
    return Rec.OpenFile(path, error);
}

void GuiHistory::Tick(const World& live, const LessonPlayer* player, double t)
{
    if (Replay)
        return;
    bool kept = false;
    int done = player ? player->StepsDone() : 0;
    bool busy = player && player->Busy();
    if (player && !busy && done > LastStepsDone) {
        // A step has just ended: its own moment, as the headless runner marks it.
        Rec.StepEnded(live, *player, t, true);
        kept = true;
    } else {
        kept = Rec.Tick(live, player, t);
    }
    LastStepsDone = done;
    LastBusy = busy;
    if (kept && Cursor)
        Cursor->Grew(live);
}

void GuiHistory::Finish(const RecordingEnd& end)
{
    if (!Replay)
        Rec.Finish(end);
}

bool GuiHistory::OpenReplay(const std::string& path, std::string& error)
{
    auto loaded = LoadRecording(path, error);
    if (!loaded)
        return false;
    if (!loaded->Info.LessonText.empty()) {
        ReplayedLesson = ParseLesson(loaded->Info.LessonText, path + " (its lesson)", error);
        if (!ReplayedLesson)
            return false;
    }
    Replay = std::move(loaded);
    Cursor = std::make_unique<ReplayCursor>(*Replay);
    Cursor->CheckpointAll(); // dragging the timeline back starts from the nearest copy
    return true;
}

const World& GuiHistory::WorldAt(std::size_t i)
{
    if (!Cursor)
        Cursor = std::make_unique<ReplayCursor>(Data());
    return Cursor->At(i);
}

std::optional<std::size_t> GuiHistory::StepEnd(int step) const
{
    const auto& ticks = Data().Ticks;
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < ticks.size(); ++i)
        if (ticks[i].StepEnd && ticks[i].Player.RawStep == step)
            found = i; // the last attempt's
    return found;
}

TimelineView GuiHistory::View(std::optional<std::size_t> viewing, double live_t) const
{
    TimelineView v;
    const auto& ticks = Data().Ticks;
    v.Moments = ticks.size();
    v.Replay = Replay.has_value();
    v.LiveT = live_t;
    if (!ticks.empty()) {
        v.FirstT = ticks.front().T;
        if (v.Replay)
            v.LiveT = ticks.back().T;
    }
    if (viewing && *viewing < ticks.size()) {
        v.Viewing = viewing;
        v.ViewT = ticks[*viewing].T;
        v.ViewStep = ticks[*viewing].Player.StepIndex;
    }
    for (std::size_t i = 0; i < ticks.size(); ++i)
        if (ticks[i].StepEnd) {
            v.StepEnds.push_back(i);
            v.StepEndSteps.push_back(ticks[i].Player.StepIndex);
        }
    v.Full = !v.Replay && Rec.Full();
    v.FullT = Rec.FullSince();
    if (v.Viewing)
        v.HereStep = v.ViewStep;
    else if (!ticks.empty())
        v.HereStep = ticks.back().Player.StepIndex;
    return v;
}

} // namespace sockscope
