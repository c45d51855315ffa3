#include "ui.hpp"

namespace sockscope {

LessonView MakeLessonView(const LessonPlayer& player)
{
    LessonView view;
    view.Data = player.Current();
    view.StepIndex = player.StepIndex();
    view.StepsDone = player.StepsDone();
    view.Status = player.CurrentStatus();
    view.Busy = player.Busy();
    view.AtEnd = player.AtEnd();
    view.CallIndex = player.CallIndex();
    view.Port = player.Port();
    view.StatusLine = player.StatusLine();
    view.Results = player.Results();
    view.Attempt = player.Attempt();
    view.Replaying = player.Replaying();
    view.BindAll = player.BindsAll();
    if (view.Replaying) {
        // Show the step being attempted, not the earlier ones being made again.
        view.StepIndex = player.TargetStep();
        view.StepsDone = view.StepIndex;
        view.AtEnd = false;
    }
    return view;
}

} // namespace sockscope
