// The timeline's side of the session: the history begun with each lesson, program or
// playground, the moment the panels show, and a replay's commands.
#include "gui_session.hpp"

namespace sockscope::gui_detail {

// The history starts afresh with each lesson, playground or program; --record writes it.
void GuiSession::BeginHistory(const std::string& mode)
{
    RecordingInfo info;
    info.Mode = mode;
    if (const Lesson* lesson = Player.Current(); lesson && mode == "lesson") {
        info.Lesson = lesson->Name;
        info.LessonText = LessonFileText(*lesson);
    }
    if (!Options.Program.empty())
        for (const auto& arg : Options.Program)
            info.Program += (info.Program.empty() ? "" : " ") + arg;
    for (auto port : Options.Watch)
        info.Program += (info.Program.empty() ? "" : ",") + std::to_string(port);
    info.Language = Ui.Language == Lang::Zh ? "zh" : "en";
    info.InferSegments = !LabInstance.Capturing();
    info.InferDatagrams = !LabInstance.CapturesDatagrams();
    info.Watching = !Options.Watch.empty();
    info.Capturing = LabInstance.Capturing();
    info.CaptureError = LabInstance.CaptureError();
    info.ProbeRunning = LabInstance.ProbeRunning();
    info.Version = SOCKSCOPE_VERSION;
    History.Begin(std::move(info), Model);
    Viewing.reset();
}

const World& GuiSession::ShownWorld()
{
    return Viewing && *Viewing < History.Moments() ? History.WorldAt(*Viewing) : Model;
}

LessonView GuiSession::ShownLesson() const
{
    if (!Viewing || *Viewing >= History.Moments())
        return MakeLessonView(Player);
    const Lesson* lesson = History.Replaying() ? History.ReplayLesson() : Player.Current();
    return LessonViewAt(History.Moment(*Viewing).Player, lesson);
}

double GuiSession::ShownTime() const
{
    return Viewing && *Viewing < History.Moments() ? History.Moment(*Viewing).T : MonotonicSeconds();
}

// A replay has no lab: Step and Reset walk the recording; what would make a call says why not.
bool GuiSession::ExecuteInReplay(const UiCommand& command)
{
    std::size_t last = History.Moments() ? History.Moments() - 1 : 0;
    std::size_t here = Viewing.value_or(last);
    switch (command.What) {
    case UiCommand::StepForward: {
        const TimelineView view = History.View(Viewing, 0);
        for (std::size_t end : view.StepEnds)
            if (end > here) {
                Viewing = end;
                return true;
            }
        Viewing = last;
        return true;
    }
    case UiCommand::Reset:
        Viewing = 0;
        return true;
    case UiCommand::LoadLesson:
    case UiCommand::Submit:
    case UiCommand::OpenPlayground:
    case UiCommand::RunLine:
    case UiCommand::PlaygroundFromHere:
    case UiCommand::WriteStdin:
    case UiCommand::CloseStdin:
    case UiCommand::RestartPrivateNetwork:
        Ui.Message = Tr(Ui.Language, "This is a recording: it makes no socket. Start sockscope without --replay to run calls.");
        return true;
    default:
        return false;
    }
}

} // namespace sockscope::gui_detail
