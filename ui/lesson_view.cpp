#include "ui.hpp"

#include "recording.hpp"

#include <algorithm>

namespace sockscope {

LessonView LessonViewAt(const PlayerMoment& m, const Lesson* lesson)
{
    LessonView view;
    view.Data = lesson;
    view.StepIndex = m.StepIndex;
    view.StepsDone = m.StepsDone;
    view.Status = m.Status;
    view.Busy = m.Busy;
    view.AtEnd = m.AtEnd;
    view.CallIndex = m.CallIndex;
    view.Port = m.Port;
    view.StatusLine = m.StatusLine;
    view.Results = m.Results;
    view.Attempt = m.Attempt;
    view.Replaying = m.Replaying;
    view.BindAll = m.BindAll;
    if (m.CallIds)
        view.CallIds = *m.CallIds;
    return view;
}

LessonView MakeLessonView(const LessonPlayer& player)
{
    return LessonViewAt(MomentOf(player), player.Current());
}

} // namespace sockscope
