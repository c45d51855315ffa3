#include "export.hpp"

#include "clock.hpp"
#include "headless.hpp"
#include "history.hpp"
#include "lab.hpp"
#include "player.hpp"
#include "svg_export.hpp"
#include "trace.hpp"
#include "ui.hpp"
#include "world.hpp"

#include <iostream>

namespace sockscope {

namespace {

// --replay FILE --export-svg DIR [--step K]: the diagrams of a recorded moment, no socket made.
int ExportReplay(const Options& options)
{
    std::string error;
    GuiHistory history;
    if (!history.OpenReplay(options.Replay, error)) {
        std::cerr << "sockscope: " << error << "\n";
        return 2;
    }
    if (history.Moments() == 0) {
        std::cerr << "sockscope: " << options.Replay << " has no moment to draw\n";
        return 2;
    }
    std::size_t moment = history.Moments() - 1;
    if (options.Step > 0) {
        auto end = history.StepEnd(options.Step - 1);
        if (!end) {
            std::cerr << "sockscope: " << options.Replay << " has no end of step " << options.Step << "\n";
            return 2;
        }
        moment = *end;
    }
    const RecordedTick& tick = history.Moment(moment);
    auto files = ExportSvgs(history.WorldAt(moment), LessonViewAt(tick.Player, history.ReplayLesson()),
                            options.Language, tick.T);
    auto written = WriteExports(options.ExportSvg, files, error);
    if (written.empty()) {
        std::cerr << "sockscope: " << error << "\n";
        return 2;
    }
    for (const auto& path : written)
        std::cout << "wrote " << path << "\n";
    return 0;
}

} // namespace

int RunExport(const Options& options)
{
    auto fail = [](const std::string& line) {
        std::cerr << "sockscope: " << line << "\n";
        return 2;
    };
    // Everything that can be wrong is found before a socket is made.
    std::string error;
    if (!CheckExportDir(options.ExportSvg, error))
        return fail(error);
    if (!options.Replay.empty())
        return ExportReplay(options);
    auto lesson = FindLesson(options.Lesson, error, LessonDirs(options.Env.Lessons));
    if (!lesson)
        return fail(error);
    int steps = static_cast<int>(lesson->Steps.size());
    if (options.Step > steps)
        return fail("lesson '" + lesson->Name + "' has " + std::to_string(steps) + " steps: --step goes from 0 to " +
                    std::to_string(steps));
    TraceWriter trace;
    if (!OpenTrace(options, trace))
        return 2;

    Lab lab;
    World world;
    InferWhatIsNotCaptured(lab, world);
    LessonPlayer player(lab, world);
    player.SetBacklogOverride(options.Backlog);
    player.SetBindAll(options.BindAll);
    player.Load(std::move(*lesson), options.Port);
    int last = options.Step >= 0 ? options.Step : steps;
    bool passed = true;
    for (int i = 0; i < last; ++i) {
        player.StepForward();
        double limit = 30.0 + std::max(0.0, player.Current()->Steps[static_cast<std::size_t>(i)].Timeout);
        bool done = DriveUntilIdle(lab, world, player, limit, [&] { trace.Update(world, &player, MonotonicSeconds()); });
        if (!done || player.CurrentStatus() != StepStatus::Passed) {
            std::cerr << "sockscope: step " << i + 1 << " of '" << player.Current()->Name << "' "
                      << (done ? "did not show what it claims: " + player.StatusLine() : "did not finish in time")
                      << "; the pictures show where it is\n";
            passed = false;
        }
    }
    auto files = ExportSvgs(world, MakeLessonView(player), options.Language, MonotonicSeconds());
    auto written = WriteExports(options.ExportSvg, files, error);
    if (written.empty())
        return fail(error);
    for (const auto& path : written)
        std::cout << "wrote " << path << "\n";
    return passed ? 0 : 1;
}

} // namespace sockscope
