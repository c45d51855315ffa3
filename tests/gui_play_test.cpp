// Play (issue 5, "faster when playing at speed"): the lesson steps itself, a pause to read
// between steps, stopping at the end and at a step that did not show what it claims.
#include "gui_test_util.hpp"

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

TEST(GuiPlay, TheNextStepComesAPauseAfterTheLastOneEnded)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    LessonView view;
    view.Data = &*lesson;
    AutoPlay play;
    EXPECT_FALSE(PlayTick(play, view, 10.0)) << "off";

    TogglePlay(play, 10.0);
    EXPECT_TRUE(PlayTick(play, view, 10.0)) << "the first step at once";
    view.Busy = true; // the step runs: no pause counted yet, however long it takes
    EXPECT_FALSE(PlayTick(play, view, 11.0));
    EXPECT_FALSE(PlayTick(play, view, 30.0));
    view.Busy = false;
    view.StepsDone = view.StepIndex = 1;
    view.Status = StepStatus::Passed;
    EXPECT_FALSE(PlayTick(play, view, 31.0)) << "ended at 31: the pause starts";
    EXPECT_FALSE(PlayTick(play, view, 31.0 + kPlayPauseSeconds - 0.01));
    EXPECT_TRUE(PlayTick(play, view, 31.0 + kPlayPauseSeconds));
    EXPECT_FALSE(PlayTick(play, view, 31.0 + kPlayPauseSeconds)) << "once";

    play.Speed = 4.0f; // a quarter of the pause
    view.Busy = true;
    EXPECT_FALSE(PlayTick(play, view, 40.0));
    view.Busy = false;
    view.StepsDone = view.StepIndex = 2;
    EXPECT_FALSE(PlayTick(play, view, 50.0));
    EXPECT_FALSE(PlayTick(play, view, 50.0 + kPlayPauseSeconds / 4.0 - 0.01));
    EXPECT_TRUE(PlayTick(play, view, 50.0 + kPlayPauseSeconds / 4.0));

    TogglePlay(play, 60.0);
    EXPECT_FALSE(play.On);
    EXPECT_FALSE(PlayTick(play, view, 100.0)) << "paused";
}

TEST(GuiPlay, ItStopsAtTheEndAndAtAFailedStep)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    LessonView view;
    view.Data = &*lesson;
    AutoPlay play;
    TogglePlay(play, 0.0);
    view.Status = StepStatus::Failed;
    EXPECT_FALSE(PlayTick(play, view, 100.0));
    EXPECT_FALSE(play.On) << "a step that did not show what it claims: the class looks at it";

    view.Status = StepStatus::Passed;
    TogglePlay(play, 0.0);
    view.AtEnd = true;
    EXPECT_FALSE(PlayTick(play, view, 100.0));
    EXPECT_FALSE(play.On);

    view.AtEnd = false;
    view.Data = nullptr;
    TogglePlay(play, 0.0);
    EXPECT_FALSE(PlayTick(play, view, 100.0));
    EXPECT_FALSE(play.On) << "no lesson";
}

TEST(GuiPlay, MotionsAreFasterOnlyWhilePlayingAboveOneX)
{
    UiState state;
    EXPECT_EQ(EaseSeconds(state), kEaseSeconds);
    state.Play.Speed = 4.0f;
    EXPECT_EQ(EaseSeconds(state), kEaseSeconds) << "not playing";
    state.Play.On = true;
    EXPECT_DOUBLE_EQ(EaseSeconds(state), kEaseSeconds / 4.0);
    EXPECT_DOUBLE_EQ(FlightSeconds(state), kFlightSeconds / 4.0);
    state.Play.Speed = 0.5f;
    EXPECT_EQ(EaseSeconds(state), kEaseSeconds) << "a slow play keeps the motions readable";
}

// The P key in real frames: Play on, the step command in the next frame, none while the
// step runs, the next one after the pause; the key again pauses.
TEST_F(ImGuiFrames, PTogglesPlayAndTheLessonPanelStepsWhenDue)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    World world;
    UiState state;
    LessonView view;
    view.Data = &*lesson;
    ImGuiIO& io = ImGui::GetIO();
    io.KeyMap[ImGuiKey_Space] = ' ';
    const int p = 80; // GLFW_KEY_P, as the GLFW backend fills KeysDown

    UiFrame idle{world, view, 5.0, true};
    EXPECT_TRUE(Frame(idle, state).empty());
    io.KeysDown[p] = true;
    auto pressed = Frame(idle, state);
    io.KeysDown[p] = false;
    EXPECT_TRUE(state.Play.On);
    auto steps = [](const std::vector<UiCommand>& commands) {
        return std::count_if(commands.begin(), commands.end(),
                             [](const UiCommand& c) { return c.What == UiCommand::StepForward; });
    };
    EXPECT_EQ(steps(pressed) + steps(Frame(idle, state)), 1) << "the first step at once, once";

    UiFrame running{world, view, 6.0, true};
    running.Lesson.Busy = true;
    EXPECT_EQ(steps(Frame(running, state)), 0);
    UiFrame done{world, view, 7.0, true};
    done.Lesson.StepsDone = done.Lesson.StepIndex = 1;
    done.Lesson.Status = StepStatus::Passed;
    EXPECT_EQ(steps(Frame(done, state)), 0) << "the pause to read";
    done.Now = 7.0 + kPlayPauseSeconds;
    EXPECT_EQ(steps(Frame(done, state)), 1);

    io.KeysDown[p] = true;
    Frame(running, state);
    io.KeysDown[p] = false;
    EXPECT_FALSE(state.Play.On);
    EXPECT_EQ(steps(Frame(done, state)), 0);
}

} // namespace
