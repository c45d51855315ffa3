// The desktop front end: a GLFW window with OpenGL 3.3 (glad) and Dear ImGui, drawing
// the lab's world model through the ui/ panels.
#pragma once

#include "environment.hpp"
#include "lesson.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sockscope {

struct GuiOptions {
    std::string Lesson = "no-accept";
    int Step = 0;              // open with steps 1..Step done
    int Port = 0;              // 0: a free port is picked
    int Backlog = -1;          // -1: the lesson's own; otherwise every listen() uses it
    bool BindAll = false;      // listeners on every interface (shown as a warning)
    std::string Screenshot;    // non-empty: render Width x Height into this PNG and exit
    std::string ScreenshotSteps; // non-empty: a PNG before step 1 and after each step into this
                                 // directory (NAME-stepN-LANG.png), then exit
    std::string ExportPng;     // non-empty: after Step, the three diagrams as PNG into this
                               // directory (ladder.png, packets.png, states.png), then exit
    std::string Trace;         // non-empty: append the world as JSON lines (DESIGN.md)
    std::string Record;        // non-empty: write the session there (recording.hpp)
    std::string Replay;        // non-empty: show this recording instead of a lab
    bool Playground = false;   // open the playground instead of Lesson
    std::vector<std::string> ScriptLines; // --script: playground lines to run one by one
    Lang Language = Lang::En;
    int Width = 1600;
    int Height = 900;
    Environment Env;           // the SOCKSCOPE_* variables
    bool PrivateNetwork = false;   // --private-network was given (and entered)
    std::vector<std::string> Argv; // the command line, to restart with --private-network
    // --run -- PROGRAM ARGS / --watch PORTS: the program or the ports instead of a lesson;
    // with --screenshot, the picture once the program has ended or after Duration seconds.
    std::vector<std::string> Program;
    std::vector<std::uint16_t> Watch;
    double Duration = 0;
};

// Runs the GUI until its window is closed (or the screenshot is written). Returns the
// process exit code; problems are printed to stderr as one line each
// ("sockscope: cannot open a window (no display?); use --headless"). Main thread only.
int RunGui(const GuiOptions& options);

} // namespace sockscope
