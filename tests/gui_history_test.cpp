// Time travel in ImGui frames: a lesson run on real sockets with the GUI's history, then
// the timeline's keys take every panel back to an earlier moment and return to now. What
// is checked is what the frames drew: the queue panel's boxes and the commands asked.
#include "gui_test_util.hpp"
#include "history.hpp"
#include "lesson_run.hpp"
#include "queue_model.hpp"

#include "child_process.hpp"
#include "clock.hpp"
#include "recording.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

std::size_t AcceptBoxesDrawn(const UiState& state)
{
    std::size_t n = 0;
    for (const auto& box : state.Queues.Boxes)
        if (box.Row == static_cast<std::uint8_t>(QueueRow::Accept))
            ++n;
    return n;
}

class TimeTravel : public ImGuiFrames {
protected:
    // One frame of what the app would show with the timeline at `viewing`; returns its commands.
    std::vector<UiCommand> Show(std::optional<std::size_t> viewing)
    {
        TimelineView timeline = History.View(viewing, MonotonicSeconds());
        State.ViewingPast = viewing.has_value();
        const RecordedTick* moment = viewing ? &History.Moment(*viewing) : nullptr;
        UiFrame frame{viewing ? History.WorldAt(*viewing) : Run.TheWorld,
                      moment ? LessonViewAt(moment->Player, Run.Player.Current()) : MakeLessonView(Run.Player),
                      moment ? moment->T : MonotonicSeconds()};
        frame.Timeline = &timeline;
        frame.Animate = false;
        return Frame(frame, State);
    }
    // The moment a key (with Shift or not) asks for, from `viewing`; nullopt: none asked.
    std::optional<long> Key(std::optional<std::size_t> viewing, int key, bool shift)
    {
        ImGuiIO& io = ImGui::GetIO();
        io.KeyShift = shift;
        io.KeysDown[key] = true;
        auto commands = Show(viewing);
        io.KeysDown[key] = false;
        io.KeyShift = false;
        Show(viewing);
        for (const auto& c : commands)
            if (c.What == UiCommand::ShowMoment)
                return c.Moment;
        return std::nullopt;
    }

    LessonRun Run;
    GuiHistory History;
    UiState State;
};

TEST_F(TimeTravel, ShiftLeftShowsTheEarlierStepAndEndComesBack)
{
    ImGuiIO& io = ImGui::GetIO();
    io.KeyMap[ImGuiKey_LeftArrow] = 263;
    io.KeyMap[ImGuiKey_End] = 269;
    std::string error;
    auto lesson = FindLesson("no-accept", error, LessonDirs());
    ASSERT_TRUE(lesson) << error;
    Run.TheWorld.SetInferSegments(true);
    Run.Player.Load(std::move(*lesson));
    RecordingInfo info;
    info.InferSegments = true;
    History.Begin(info, Run.TheWorld);
    for (int step = 0; step < 3; ++step) {
        Run.Player.StepForward();
        ASSERT_TRUE(DriveUntilIdle(
            Run.TheLab, Run.TheWorld, Run.Player, 60.0,
            [&] { History.Tick(Run.TheWorld, &Run.Player, MonotonicSeconds()); },
            [&](const LabEvent& e) { History.Note(e, Run.TheWorld); }));
        History.Tick(Run.TheWorld, &Run.Player, MonotonicSeconds());
    }
    ASSERT_EQ(Run.Player.StepsDone(), 3) << Run.Failures();
    // The class looks at it for a while: moments after step 3's end (the timers' second).
    History.Tick(Run.TheWorld, &Run.Player, MonotonicSeconds() + 2.0);
    History.Tick(Run.TheWorld, &Run.Player, MonotonicSeconds() + 4.0);
    ASSERT_GT(History.Moments(), 3u);
    ASSERT_FALSE(History.Moment(History.Moments() - 1).StepEnd);

    // Now: three connections wait in the accept queue.
    for (int i = 0; i < 3; ++i)
        Show(std::nullopt);
    EXPECT_EQ(AcceptBoxesDrawn(State), 3u);

    // Shift+Left: the end of step 2, one connection waiting; every panel shows that world.
    auto back = Key(std::nullopt, 263, true);
    ASSERT_TRUE(back) << "Shift+Left asked for no moment";
    ASSERT_GE(*back, 0);
    auto step2 = History.StepEnd(1);
    ASSERT_TRUE(step2);
    EXPECT_EQ(static_cast<std::size_t>(*back), *step2);
    for (int i = 0; i < 3; ++i)
        Show(static_cast<std::size_t>(*back));
    EXPECT_EQ(AcceptBoxesDrawn(State), 1u);
    EXPECT_EQ(History.Moment(static_cast<std::size_t>(*back)).Player.StepIndex, 1);

    // Again: the end of step 1, a listener and no connection.
    auto further = Key(static_cast<std::size_t>(*back), 263, true);
    ASSERT_TRUE(further);
    for (int i = 0; i < 3; ++i)
        Show(static_cast<std::size_t>(*further));
    EXPECT_EQ(AcceptBoxesDrawn(State), 0u);
    EXPECT_EQ(History.WorldAt(static_cast<std::size_t>(*further)).Listeners().size(), 1u);

    // The lab lived on meanwhile: nothing was re-run (still three connections there).
    EXPECT_EQ(Run.TheWorld.Listeners().at(0).AcceptQueue, 3u);

    // End: the present again.
    auto now = Key(static_cast<std::size_t>(*further), 269, false);
    ASSERT_TRUE(now);
    EXPECT_EQ(*now, -1);
    for (int i = 0; i < 3; ++i)
        Show(std::nullopt);
    EXPECT_EQ(AcceptBoxesDrawn(State), 3u);
}

} // namespace

// SIGTERM (and Ctrl+C) close the GUI as its window's button does: it exits 0, and the
// recording it was writing has its end line, so it replays.
TEST(GuiRecording, SigtermEndsTheRecordingCleanly)
{
    const char* display = std::getenv("DISPLAY");
    if (!display || !*display)
        GTEST_SKIP() << "needs a display (the suite runs under xvfb-run)";
    std::string rec = ::testing::TempDir() + "sockscope_sigterm_" + std::to_string(getpid()) + ".rec";
    std::filesystem::remove(rec);
    setenv("SOCKSCOPE_NO_SETTINGS", "1", 0); // the GUI neither reads nor writes the user's settings
    test::Child gui({SOCKSCOPE_BINARY, "--lesson", "eof", "--step", "2", "--record", rec});
    ASSERT_GT(gui.Pid, 0);
    // Both steps done and recorded: the recording flushes a step's end as it happens.
    auto recorded_two_steps = [&] {
        std::ifstream in(rec);
        std::string line;
        int ends = 0;
        while (std::getline(in, line))
            ends += line.find("\"step_end\":true") != std::string::npos;
        return ends >= 2;
    };
    ASSERT_TRUE(test::WaitUntil(recorded_two_steps, std::chrono::seconds(60))) << gui.Text;
    ASSERT_EQ(kill(gui.Pid, SIGTERM), 0);
    EXPECT_EQ(gui.Wait(std::chrono::seconds(30)), 0) << gui.Text;
    std::string error;
    auto replay = LoadRecording(rec, error);
    ASSERT_TRUE(replay) << error;
    EXPECT_TRUE(replay->End.Present);
    int ends = 0;
    for (const auto& t : replay->Ticks)
        ends += t.StepEnd;
    EXPECT_EQ(ends, 2);
    std::filesystem::remove(rec);
}
