// Play: the lesson steps itself, with a pause to read between steps (ui.hpp).
#include "ui.hpp"

#include <algorithm>

namespace sockscope {

double EaseSeconds(const UiState& state)
{
    return state.Play.On && state.Play.Speed > 1.0f ? kEaseSeconds / state.Play.Speed : kEaseSeconds;
}

double FlightSeconds(const UiState& state)
{
    return state.Play.On && state.Play.Speed > 1.0f ? kFlightSeconds / state.Play.Speed : kFlightSeconds;
}

bool PlayTick(AutoPlay& play, const LessonView& lesson, double now)
{
    if (!play.On)
        return false;
    if (!lesson.Data || lesson.AtEnd || lesson.Status == StepStatus::Failed) {
        play.On = false;
        play.NextAt = 0;
        return false;
    }
    if (lesson.Busy) { // the pause starts when the step is over
        play.NextAt = 0;
        return false;
    }
    if (play.NextAt == 0)
        play.NextAt = now + kPlayPauseSeconds / std::max(play.Speed, 0.1f);
    if (now < play.NextAt)
        return false;
    play.NextAt = 0;
    return true;
}

void TogglePlay(AutoPlay& play, double now)
{
    play.On = !play.On;
    play.NextAt = play.On ? now : 0;
}

} // namespace sockscope
