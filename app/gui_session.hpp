// The GUI's session: the window's lab, world, player, playground, program, history and
// pictures. Split over gui_app.cpp (the loop and the commands), gui_pictures.cpp
// (screenshots and exports) and gui_time.cpp (the timeline's moments and replays).
// Internal to app/.
#pragma once

#include "gui_app.hpp"

#include "gui_redraw.hpp"

#include "bench_report.hpp"
#include "clock.hpp"
#include "font_texture.hpp"
#include "gate.hpp"
#include "history.hpp"
#include "gui_program.hpp"
#include "i18n.hpp"
#include "lab.hpp"
#include "player.hpp"
#include "presenter.hpp"
#include "presenter_window.hpp"
#include "recording.hpp"
#include "screenshot.hpp"
#include "session.hpp"
#include "settings.hpp"
#include "state_model.hpp"
#include "svg_export.hpp"
#include "theme.hpp"
#include "trace.hpp"
#include "ui.hpp"
#include "world.hpp"

#include <glad/gl.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

namespace sockscope::gui_detail {

inline constexpr float kFontSize = 18.0f;
inline constexpr double kBusyWait = 1.0 / 60.0;  // while a step runs: tick the player often
inline constexpr double kIdleWait = 1.0;         // otherwise sleep until an event (or this long)
inline constexpr double kScriptSlice = 0.008;    // --script: lines run per turn of the loop for at least this
inline constexpr double kScriptSliceMax = 0.1;   // ... and at most this long (frames keep coming)
inline constexpr int kSettleFrames = 3;          // frames drawn after a change, for ImGui to settle
inline constexpr double kStepTimeout = 30.0;     // seconds one step may take with --screenshot
inline constexpr double kNoticeSeconds = 4.0;    // how long "saved <path>" stays in the status bar


// One line on stderr: "sockscope: <message>".
void Fail(const std::string& message);
// Pictures (--screenshot, --screenshot-steps, --export-png) into a buffer of a fixed size, no settings.
bool Offscreen(const GuiOptions& options);

class GuiSession {
public:
    GuiSession(GLFWwindow* window, const GuiOptions& options, const Settings& settings, bool remember)
        : Window(window), Options(options), Saved(settings), Remember(remember)
    {
    }

    int Run(Lesson lesson);

private:
    bool OpenTrace();
    void ApplyLabEvents();
    void RunScriptLines(double until);
    // Applies what the lab reported (the history notes each event first), then ticks.
    void ApplyDrained(double now);
    // `render` false: ImGui lays the frame out, OpenGL draws nothing (a settling frame).
    // `alone` >= 0: that diagram alone (DrawDiagramAlone), on a copy of the UI state.
    std::vector<UiCommand> DrawFrame(const OffscreenTarget* target, bool render = true, int alone = -1);
    void Execute(const std::vector<UiCommand>& commands);
    int InteractiveLoop();
    int TakeScreenshot();
    void RunStepOffscreen(int number);
    bool SaveOffscreen(const OffscreenTarget& target, const std::string& path);
    void ApplyScale(float scale);
    void SaveWindowScreenshot();
    // The View menu's Export SVG / Export PNG: the three diagrams into ExportDirPath(now),
    // said in the status bar.
    void ExportFromMenu(bool png);
    // The three diagrams into `dir` (which exists), as SVG or as PNG (each drawn alone
    // offscreen). false: `error` says why, in one line.
    bool ExportDiagrams(bool png, const std::string& dir, std::string& error);
    // One line of the playground's command line (typed or from --script); `save NAME`
    // shows where it saved.
    void RunPlaygroundLine(const std::string& line);
    void RestartInPrivateNetwork();
    void RestartProgram(); // --run's Reset: the program killed and reaped, the lab emptied, run again

    GLFWwindow* Window;
    const GuiOptions& Options;
    UiState Ui;
    std::atomic<bool> WakePosted{false}; // before the lab: its threads use it until joined
    // A replay makes no socket: no probe, no capture.
    Lab LabInstance{Options.Replay.empty() ? LabOptions{} : LabOptions{false, false}};
    std::vector<LabEvent> Drained; // one buffer, handed back and forth with the lab
    World Model;
    LessonPlayer Player{LabInstance, Model};
    Session Playground{LabInstance, Model, Player}; // the playground's, when open
    std::unique_ptr<GuiProgram> Program;            // --run / --watch; before the lab goes
    std::deque<std::string> ScriptLines;            // --script: lines still to run
    double LastFrameCost = 0;                       // seconds the last frame took to draw
    TraceWriter Trace;
    GuiHistory History;             // every moment of the session, or the replayed recording's
    std::optional<std::size_t> Viewing; // the timeline's moment shown; nullopt: the present
    void BeginHistory(const std::string& mode);
    // What the panels show: the present, or the timeline's moment (the past, a replay).
    const World& ShownWorld();
    LessonView ShownLesson() const;
    double ShownTime() const;
    bool ExecuteInReplay(const UiCommand& command);
    Settings Saved;                 // as read at start; rewritten on exit when Remember
    bool Remember = false;
    float ContentScale = 1.0f;      // the monitor's; the presenter's scale multiplies it
    std::vector<std::string> FontTexts;
    FontTexture Atlas;              // the fonts' texture, made by ApplyScale
    WindowedPlace Windowed;         // where the window was before fullscreen
};

} // namespace sockscope::gui_detail
