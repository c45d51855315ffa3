// sockscope: watch the TCP socket lifecycle happen for real.
#include "cli.hpp"
#include "environment.hpp"
#include "headless.hpp"
#include "run_mode.hpp"
#include "gate.hpp"
#include "helper_client.hpp"
#include "lane.hpp"
#include "server_loop.hpp"
#include "tracer.hpp"
#include "lesson.hpp"

#ifdef SOCKSCOPE_HAVE_GUI
#include "export.hpp"
#include "gui_app.hpp"
#endif

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>

int main(int argc, char** argv)
{
    using namespace sockscope;
    // A write to a connection the peer reset must return EPIPE, not kill the teacher's
    // session (the actors also pass MSG_NOSIGNAL).
    std::signal(SIGPIPE, SIG_IGN);

    // A child of the fork server model (not for users: sockscope execs itself).
    if (argc > 1 && std::strcmp(argv[1], "--worker") == 0)
        return RunWorker(argc, argv);

    Environment env = ReadEnvironment();
    // Where sockscope-helper is, when not beside this program or in ../libexec/sockscope.
    if (const char* helper = std::getenv("SOCKSCOPE_HELPER"); helper && *helper)
        SetHelperPath(helper);

    int exit_code = 0;
    auto options = ParseCommandLine(argc, argv, exit_code);
    if (!options)
        return exit_code;
    options->Env = env;
    SetDefaultWorkerPath(env.Worker);

    // Before any thread exists: unshare() of a user namespace refuses a threaded process.
    if (options->PrivateNetwork) {
        if (int err = EnterPrivateNetwork(); err != 0) {
            std::cerr << "sockscope: cannot enter a private network namespace: " << std::strerror(err)
                      << " (unprivileged user namespaces may be disabled)\n";
            return 2;
        }
    }

    if (options->ListLessons) {
        std::vector<std::string> invalid;
        for (const auto& name : ListLessons(&invalid, LessonDirs(env.Lessons)))
            std::cout << name << "\n";
        for (const auto& error : invalid)
            std::cerr << "sockscope: invalid lesson file: " << error << "\n";
        return 0;
    }
    if (!options->ExportSvg.empty()) {
#ifdef SOCKSCOPE_HAVE_GUI
        return RunExport(*options);
#else
        std::cerr << "sockscope: --export-svg needs the diagrams of the GUI's library; this build has none "
                     "(SOCKSCOPE_BUILD_GUI=OFF)\n";
        return 2;
#endif
    }
    if (options->Run && options->Headless)
        return RunTraced(*options);
    if (!options->Watch.empty() && options->Headless)
        return RunWatch(*options);
    if (!options->Replay.empty() && options->Headless)
        return RunReplayHeadless(*options);
    if (options->Headless)
        return options->Script.empty() ? RunHeadless(*options) : RunScript(*options);

#ifdef SOCKSCOPE_HAVE_GUI
    GuiOptions gui; // RunGui reports an unknown lesson itself (exit status 2)
    gui.Lesson = options->Lesson;
    gui.Step = std::max(0, options->Step);
    gui.Port = options->Port;
    gui.Backlog = options->Backlog;
    gui.BindAll = options->BindAll;
    gui.Screenshot = options->Screenshot;
    gui.ScreenshotSteps = options->ScreenshotSteps;
    gui.ExportPng = options->ExportPng;
    gui.Trace = options->Trace;
    gui.Record = options->Record;
    gui.Replay = options->Replay;
    gui.Playground = options->Playground || !options->Script.empty();
    if (!options->Script.empty()) {
        int steps = 0;
        std::string error;
        if (!LoadScript(options->Script, gui.ScriptLines, steps, error)) {
            std::cerr << "sockscope: " << error << "\n";
            return 2;
        }
    }
    gui.Language = options->Language;
    gui.Width = options->Width;
    gui.Height = options->Height;
    gui.Env = env;
    gui.PrivateNetwork = options->PrivateNetwork;
    gui.Argv.assign(argv, argv + argc);
    gui.Program = options->Program;
    gui.Watch = options->Watch;
    gui.Duration = options->Duration;
    if (options->Run) { // one line now for a program that does not exist, not a window
        std::string error;
        if (!FindProgram(options->Program.front(), error)) {
            std::cerr << "sockscope: " << error << "\n";
            return 2;
        }
    }
    return RunGui(gui);
#else
    std::cerr << "sockscope: this build has no GUI (SOCKSCOPE_BUILD_GUI=OFF); use --headless\n";
    return 2;
#endif
}
