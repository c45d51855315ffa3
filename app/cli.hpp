// The command line (DESIGN.md, "Command-line contract").
#pragma once

#include "environment.hpp"
#include "lesson.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sockscope {

struct Options {
    bool Headless = false;
    bool Json = false;
    bool ListLessons = false;
    bool PrivateNetwork = false;
    bool BindAll = false;   // listeners bind every interface, not loopback
    std::string Lesson = "no-accept";
    bool LessonGiven = false;
    int Step = -1;          // -1: all steps (headless) / none done (GUI)
    int Port = 0;           // 0: a free port
    int Backlog = -1;       // -1: the lesson's own
    std::string Trace;
    std::string Record;        // --record FILE: the session, for --replay
    std::string Replay;        // --replay FILE: a recorded session instead of a lesson
    bool Playground = false;   // --playground: the GUI opens the playground
    std::string Script;        // --script FILE: playground command lines
    std::string SaveLesson;    // --save-lesson OUT.json: the script's session as a lesson
    std::string Screenshot;
    std::string ScreenshotSteps; // a directory: a PNG before step 1 and after each step
    std::string ExportSvg;   // --export-svg DIR: ladder.svg, packets.svg, states.svg after --step K
    std::string ExportPng;   // --export-png DIR: the same as PNG, drawn by the GUI offscreen
    Lang Language = Lang::En;
    // --run -- PROGRAM ARGS: trace PROGRAM; --watch PORTS: the probe alone on those ports.
    bool Run = false;
    std::vector<std::string> Program;
    std::vector<std::uint16_t> Watch;
    double Duration = 0;    // seconds; 0: until the program ends (--run) or a signal (--watch)
    int Width = 1600;
    int Height = 900;
    Environment Env; // not from argv: main() fills it in
};

// Parses argv. Returns the options, or nullopt with `exit_code` set: 0 after --help or
// --version (already printed), 2 after a bad argument (one line on stderr).
std::optional<Options> ParseCommandLine(int argc, char** argv, int& exit_code);

} // namespace sockscope
