#include "ui.hpp"

#include <algorithm>

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
    if (view.Data)
        for (int s = 0; s <= std::min(player.TargetStep(), static_cast<int>(view.Data->Steps.size()) - 1); ++s)
            for (int c = 0; c < static_cast<int>(view.Data->Steps[static_cast<std::size_t>(s)].Calls.size()); ++c)
                if (auto id = player.CallId(s, c))
                    view.CallIds[{s, c}] = id;
    if (view.Replaying) {
        // Show the step being attempted, not the earlier ones being made again.
        view.StepIndex = player.TargetStep();
        view.StepsDone = view.StepIndex;
        view.AtEnd = false;
    }
    return view;
}

} // namespace sockscope
