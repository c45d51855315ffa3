// Pictures of the session: screenshots (the window, --screenshot, --screenshot-steps) and
// the diagrams exported as SVG and PNG.
#include "gui_session.hpp"

namespace sockscope::gui_detail {

void Fail(const std::string& message)
{
    std::fprintf(stderr, "sockscope: %s\n", message.c_str());
}

// --screenshot or --screenshot-steps: pictures into a buffer of a fixed size, no settings.
bool Offscreen(const GuiOptions& options)
{
    return !options.Screenshot.empty() || !options.ScreenshotSteps.empty() || !options.ExportPng.empty();
}

void GuiSession::SaveWindowScreenshot()
{
    int width = 0, height = 0;
    glfwGetFramebufferSize(Window, &width, &height);
    std::string error;
    std::string path = ScreenshotPath(std::time(nullptr));
    OffscreenTarget target;
    bool saved = target.Create(width, height, error);
    if (saved) {
        DrawFrame(&target); // its commands were given in the frame before; nothing new
        saved = WritePng(path, target.Width(), target.Height(), target.ReadRgb(), error);
    }
    char notice[1024];
    if (saved)
        std::snprintf(notice, sizeof notice, Tr(Ui.Language, "saved %s"), path.c_str());
    else
        std::snprintf(notice, sizeof notice, Tr(Ui.Language, "cannot save the screenshot: %s"), error.c_str());
    Ui.Notice = notice;
    Ui.NoticeUntil = MonotonicSeconds() + kNoticeSeconds;
}

bool GuiSession::ExportDiagrams(bool png, const std::string& dir, std::string& error)
{
    if (!png)
        return !WriteExports(dir, ExportSvgs(ShownWorld(), ShownLesson(), Ui.Language, ShownTime()), error).empty();
    if (!CheckExportDir(dir, error))
        return false;
    // Sizes of a slide: the ladder and the state machine want width, the packets height.
    constexpr int kSizes[][2] = {{1600, 1000}, {1300, 1000}, {1600, 1000}};
    const auto& names = ExportNames();
    for (std::size_t i = 0; i < names.size(); ++i) {
        OffscreenTarget target;
        if (!target.Create(kSizes[i][0], kSizes[i][1], error))
            return false;
        // A few frames for the table's columns and scrolling to settle (SaveOffscreen).
        constexpr int kFrames = 6;
        for (int frame = 0; frame < kFrames; ++frame)
            DrawFrame(&target, frame == kFrames - 1, static_cast<int>(i));
        if (!WritePng(dir + "/" + names[i] + ".png", target.Width(), target.Height(), target.ReadRgb(), error))
            return false;
    }
    return true;
}

void GuiSession::ExportFromMenu(bool png)
{
    std::string dir = ExportDirPath(std::time(nullptr));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::string error = ec ? dir + ": " + ec.message() : "";
    char notice[1024];
    if (error.empty() && ExportDiagrams(png, dir, error)) {
        const auto& names = ExportNames();
        std::string files = dir + "/{" + names[0] + "," + names[1] + "," + names[2] + (png ? "}.png" : "}.svg");
        std::snprintf(notice, sizeof notice, Tr(Ui.Language, "exported %s"), files.c_str());
    } else {
        std::snprintf(notice, sizeof notice, Tr(Ui.Language, "cannot export: %s"), error.c_str());
    }
    Ui.Notice = notice;
    Ui.NoticeUntil = MonotonicSeconds() + kNoticeSeconds;
}

// Performs step `number` (from 1) and waits until it is over; says on stderr when it
// did not finish or did not show what it claims (the picture is taken anyway).
void GuiSession::RunStepOffscreen(int number)
{
    Player.StepForward();
    bool idle = DriveUntilIdle(
        LabInstance, Model, Player, kStepTimeout,
        [this] {
            double now = MonotonicSeconds();
            if (Trace.IsOpen())
                Trace.Update(Model, &Player, now);
            History.Tick(Model, &Player, now);
        },
        [this](const LabEvent& event) { History.Note(event, Model); });
    if (!idle)
        Fail("step " + std::to_string(number) + " did not finish in " + std::to_string(int(kStepTimeout)) + " s");
    else if (Player.CurrentStatus() == StepStatus::Failed)
        Fail("step " + std::to_string(number) + " failed: " + Player.StatusLine());
}

// A few frames so that ImGui's layout (table column widths, scrolling) settles, then
// the picture as a PNG. Four were too few for the ladder to scroll down to the newest
// calls (no-accept after step 6 showed accept() cut in half and no read()). Only the
// last is rendered (the software renderer of a CI machine spends most of the time there).
bool GuiSession::SaveOffscreen(const OffscreenTarget& target, const std::string& path)
{
    constexpr int kFrames = 6;
    for (int frame = 0; frame < kFrames; ++frame) {
        glfwPollEvents();
        ApplyLabEvents();
        DrawFrame(&target, frame == kFrames - 1);
    }
    std::string error;
    if (!WritePng(path, target.Width(), target.Height(), target.ReadRgb(), error)) {
        Fail(error);
        return false;
    }
    return true;
}

// --screenshot FILE --step K: the state after step K. --screenshot-steps DIR: the lesson
// before step 1 and after each step (up to --step K when K > 0), as DIR/NAME-stepN-LANG.png.
int GuiSession::TakeScreenshot()
{
    // --run / --watch (no lesson: no step): once the program has ended, or after --duration.
    for (double until = MonotonicSeconds() + (Options.Duration > 0 ? Options.Duration : 3.0);
         Program && MonotonicSeconds() < until && !Program->Ended(); ApplyLabEvents())
        LabInstance.WaitForEvents(std::chrono::milliseconds(20));
    // --script: every line run, the last call returned or blocked (at most a minute).
    for (double until = MonotonicSeconds() + 60.0; !ScriptLines.empty() || Player.Busy(); ApplyLabEvents()) {
        if (MonotonicSeconds() > until) {
            Fail("the script did not finish within a minute; the picture shows where it is");
            break;
        }
        LabInstance.WaitForEvents(std::chrono::milliseconds(20));
    }
    const Lesson* lesson = History.Replaying() ? History.ReplayLesson() : Player.Current();
    int steps = lesson ? static_cast<int>(lesson->Steps.size()) : 0;
    if (!Options.ExportPng.empty()) { // bad input: one line, before any step is made
        std::string error;
        if (Options.Step > steps)
            error = "lesson '" + Options.Lesson + "' has " + std::to_string(steps) + " steps: --step goes from 0 to " +
                    std::to_string(steps);
        if (error.empty())
            CheckExportDir(Options.ExportPng, error);
        if (!error.empty()) {
            Fail(error);
            return 2;
        }
    }
    if (Options.Step > steps)
        Fail("lesson '" + Options.Lesson + "' has " + std::to_string(steps) + " steps; showing all of them");
    bool each_step = !Options.ScreenshotSteps.empty();
    int last = std::min(Options.Step, steps);
    if (each_step && Options.Step == 0)
        last = steps;
    std::string error;
    OffscreenTarget target;
    if (!target.Create(Options.Width, Options.Height, error)) {
        Fail(error);
        return 1;
    }
    if (!Options.ExportPng.empty()) {
        if (!History.Replaying())
            for (int i = 0; i < last; ++i)
                RunStepOffscreen(i + 1);
        if (!ExportDiagrams(true, Options.ExportPng, error)) {
            Fail(error);
            return 2;
        }
        return 0;
    }
    if (History.Replaying()) // the moment was chosen from --step K at the start
        return SaveOffscreen(target, Options.Screenshot) ? 0 : 1;
    if (!each_step) {
        for (int i = 0; i < last; ++i)
            RunStepOffscreen(i + 1);
        return SaveOffscreen(target, Options.Screenshot) ? 0 : 1;
    }

    std::filesystem::path dir(Options.ScreenshotSteps);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        Fail("cannot create " + dir.string() + ": " + ec.message());
        return 1;
    }
    std::string name = lesson ? std::filesystem::path(lesson->Path).stem().string() : Options.Lesson;
    std::string lang = Ui.Language == Lang::Zh ? "zh" : "en"; // the language shown
    for (int i = 0; i <= last; ++i) {
        if (i > 0)
            RunStepOffscreen(i);
        std::string file = name + "-step" + std::to_string(i) + "-" + lang + ".png";
        if (!SaveOffscreen(target, (dir / file).string()))
            return 1;
    }
    return 0;
}

} // namespace sockscope::gui_detail
