#include "cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <vector>

namespace sockscope {

namespace {

constexpr const char* Description =
    "sockscope: watch the TCP socket lifecycle happen for real.\n"
    "Runs real listener and client sockets on loopback and shows what the kernel does with\n"
    "them: every system call, the SYN and accept queues, each connection's state and\n"
    "four-tuple (from netlink sock_diag, as `ss` sees it).";

constexpr const char* Footer =
    "Examples:\n"
    "  sockscope                                 open the GUI on the default lesson\n"
    "  sockscope --lesson no-accept --step 5     open the GUI with steps 1..5 done\n"
    "  sockscope --headless --lesson no-accept   run a lesson and print what the kernel shows\n"
    "  sockscope --headless --lesson all --json  every lesson, as JSON lines\n"
    "  sockscope --screenshot shot.png --lesson no-accept --step 5\n"
    "  sockscope --screenshot-steps shots --lesson close --lang zh   shots/close-step0-zh.png ...\n"
    "  sockscope --export-svg out --lesson no-accept --step 3 --lang zh   out/ladder.svg, packets.svg, states.svg\n"
    "  sockscope --run -- ./server 8080            trace a program's socket calls (ptrace + seccomp);\n"
    "                                            its output and a line for its stdin in the window\n"
    "  sockscope --run --headless -- ./server 8080   the same, printed\n"
    "  sockscope --watch 8080,9090               show any program's sockets on those ports (GUI)\n"
    "  sockscope --watch 8080,9090 --headless --json  ... as JSON lines\n"
    "  sockscope --playground                    type calls yourself: server listen 2, client1 connect\n"
    "  sockscope --headless --script s.txt --save-lesson mine.json   run a script, save it as a lesson\n"
    "Environment: SOCKSCOPE_LESSONS=DIR (lessons), SOCKSCOPE_I18N=DIR (translations, e.g. zh_CN.po)\n"
    "  are searched before the built-in folders; SOCKSCOPE_NO_SETTINGS=1 neither reads nor writes settings.\n"
    "Exit status: 0 ok; 1 a lesson step did not show what it claims, a script call did not return\n"
    "or block in time, or tracing failed; 2 bad arguments (or no such program, or a bad script line).";

} // namespace

std::optional<Options> ParseCommandLine(int argc, char** argv, int& exit_code)
{
    Options o;
    // Everything after "--" is the program --run starts, with its own arguments.
    std::vector<char*> args(argv, argv + argc);
    bool dashdash = false;
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--") {
            o.Program.assign(argv + i + 1, argv + argc);
            args.resize(static_cast<std::size_t>(i));
            dashdash = true;
            break;
        }
    argc = static_cast<int>(args.size());
    argv = args.data();
    std::string watch;
    CLI::App app{Description, "sockscope"};
    app.footer(Footer);
    app.set_version_flag("--version", std::string("sockscope ") + SOCKSCOPE_VERSION);
    app.add_flag("--headless", o.Headless, "Run without a window: print each step's calls and the kernel's view");
    app.add_flag("--json", o.Json, "With --headless: print JSON lines (the trace contract's shape)");
    auto* lesson = app.add_option("--lesson", o.Lesson, "Lesson name (see --list-lessons), a lesson file, or 'all' (headless)")
                      ->type_name("NAME");
    app.add_option("--step", o.Step, "Do steps 1..K (GUI: then wait; headless: stop after K)")
        ->check(CLI::Range(0, 10000))
        ->type_name("K");
    app.add_option("--port", o.Port, "Port for the lesson's listener on 127.0.0.1 (default: a free port)")
        ->check(CLI::Range(0, 65535))
        ->type_name("N");
    app.add_option("--backlog", o.Backlog, "Override the backlog the lesson passes to listen()")
        ->check(CLI::Range(0, 1 << 30))
        ->type_name("N");
    app.add_flag("--playground", o.Playground,
                 "Open the playground: make any call on any actor from its command line (see the README)");
    app.add_option("--script", o.Script,
                   "Run the playground command lines of FILE, one after the other (GUI or --headless); with "
                   "--headless --lesson NAME [--step K], on that lesson's lab after its step K (default: all)")
        ->type_name("FILE");
    app.add_option("--save-lesson", o.SaveLesson,
                   "With --headless --script: save the session as a lesson file (expect and checks from what "
                   "the kernel did)")
        ->type_name("OUT.json");
    app.add_option("--trace", o.Trace, "Append the world model to FILE as JSON lines each time it changes")
        ->type_name("FILE");
    app.add_option("--record", o.Record,
                   "Record the session (a lesson, the playground, --run or --watch) to FILE for --replay; "
                   "headless: one lesson")
        ->type_name("FILE");
    app.add_option("--replay", o.Replay,
                   "Open a recorded session (--record) with every panel and the timeline, making no socket; "
                   "with --headless: print its per-step output again")
        ->type_name("FILE");
    app.add_option("--screenshot", o.Screenshot, "Render the state after --step K to FILE.png and exit")
        ->type_name("FILE.png");
    app.add_option("--screenshot-steps", o.ScreenshotSteps,
                   "Render the lesson before step 1 and after each step (up to --step K if given) to "
                   "DIR/NAME-stepN-LANG.png and exit")
        ->type_name("DIR");
    app.add_option("--export-svg", o.ExportSvg,
                   "Run --lesson NAME to --step K (real sockets, no window) and write the ladder of calls, the "
                   "packet ladder and the state machine as DIR/ladder.svg, packets.svg, states.svg (in --lang); "
                   "DIR must exist")
        ->type_name("DIR");
    app.add_option("--export-png", o.ExportPng,
                   "The same three diagrams as DIR/ladder.png, packets.png, states.png, each drawn by the GUI alone "
                   "offscreen (needs a display, e.g. xvfb-run); DIR must exist")
        ->type_name("DIR");
    std::string lang = "en";
    app.add_option("--lang", lang, "Language of the narration: en or zh")->check(CLI::IsMember({"en", "zh"}))->type_name("LANG");
    app.add_option("--width", o.Width, "Window width in pixels")->check(CLI::Range(320, 8192))->type_name("PX");
    app.add_option("--height", o.Height, "Window height in pixels")->check(CLI::Range(240, 8192))->type_name("PX");
    app.add_flag("--list-lessons", o.ListLessons, "List the lessons found and exit");
    app.add_flag("--bind-all", o.BindAll,
                 "Bind the lessons' listeners to every interface (0.0.0.0, ::) instead of 127.0.0.1 and ::1, "
                 "so that students' machines can connect over the classroom network (the GUI shows a warning)");
    app.add_flag("--private-network", o.PrivateNetwork,
                 "Run the lab in a private network namespace with its own loopback, where packet gates "
                 "work without root (other programs, e.g. a student's nc, cannot reach it there)");
    app.add_flag("--run", o.Run,
                 "Trace the program given after -- (sockscope --run [--headless] -- PROGRAM ARGS): its socket "
                 "calls, processes and threads, and the kernel's view of its sockets; in the GUI also its "
                 "output and a line for its stdin");
    auto* watch_opt = app.add_option("--watch", watch,
                                     "Show every TCP socket on these ports, whoever holds it, and which process "
                                     "(as ss -p); no tracing; GUI or --headless")
                          ->type_name("PORT[,PORT...]");
    app.add_option("--duration", o.Duration,
                   "With --run or --watch: stop after this many seconds (the GUI's window closes; with --screenshot: "
                   "the picture then, or when the program ends; default 3)")
        ->check(CLI::PositiveNumber)
        ->type_name("SECONDS");
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        exit_code = app.exit(e); // --help, --version
        return std::nullopt;
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        if (auto pos = what.find('\n'); pos != std::string::npos)
            what.resize(pos);
        std::cerr << "sockscope: " << what << " (see sockscope --help)\n";
        exit_code = 2;
        return std::nullopt;
    }
    o.LessonGiven = lesson->count() > 0;
    auto fail = [&](const std::string& line) {
        std::cerr << "sockscope: " << line << "\n";
        exit_code = 2;
        return std::nullopt;
    };
    if (!o.ExportSvg.empty() && !o.ExportPng.empty())
        return fail("--export-svg and --export-png cannot be combined: run sockscope twice");
    if (!o.ExportPng.empty()) {
        if (o.Headless)
            return fail("--export-png needs the GUI (drawn offscreen); it cannot be combined with --headless");
        if (o.Run || !watch.empty() || o.Playground || !o.Script.empty() || !o.Screenshot.empty() ||
            !o.ScreenshotSteps.empty())
            return fail("--export-png DIR goes with --lesson NAME --step K (and --lang, --port, --backlog) only");
        if ((!o.LessonGiven || o.Lesson == "all") && o.Replay.empty())
            return fail("--export-png DIR needs a lesson (--lesson NAME --step K) or a recording (--replay FILE)");
    }
    if (!o.ExportSvg.empty()) {
        if (o.Run || !watch.empty() || o.Playground || !o.Script.empty() || !o.Screenshot.empty() ||
            !o.ScreenshotSteps.empty() || o.Json || !o.SaveLesson.empty())
            return fail("--export-svg DIR goes with --lesson NAME --step K (and --lang, --port, --backlog, --trace) only");
        if ((!o.LessonGiven || o.Lesson == "all") && o.Replay.empty())
            return fail("--export-svg DIR needs a lesson (--lesson NAME --step K) or a recording (--replay FILE)");
    }
    if (watch_opt->count() > 0) {
        std::size_t start = 0;
        while (start <= watch.size()) {
            std::size_t end = std::min(watch.find(',', start), watch.size());
            std::string item = watch.substr(start, end - start);
            char* rest = nullptr;
            long port = std::strtol(item.c_str(), &rest, 10);
            if (item.empty() || *rest != 0 || port < 1 || port > 65535)
                return fail("--watch takes ports 1-65535 separated by commas, not '" + item + "'");
            o.Watch.push_back(static_cast<std::uint16_t>(port));
            start = end + 1;
        }
    }
    if (dashdash && !o.Run)
        return fail("a program after -- goes with --run (sockscope --run --headless -- PROGRAM ARGS)");
    if (o.Run && o.Program.empty())
        return fail("--run needs a program after -- (sockscope --run --headless -- PROGRAM ARGS)");
    if (o.Run && !o.Watch.empty())
        return fail("--run and --watch cannot be combined");
    if ((o.Run || !o.Watch.empty()) && o.LessonGiven)
        return fail(std::string(o.Run ? "--run" : "--watch") + " shows the program or the ports instead of a lesson; "
                    "--lesson cannot be combined with it");
    if ((o.Run || !o.Watch.empty()) && !o.ScreenshotSteps.empty())
        return fail("--screenshot-steps goes with a lesson; with --run or --watch, use --screenshot FILE.png");
    if ((o.Run || !o.Watch.empty()) && (o.Playground || !o.Script.empty()))
        return fail(std::string(o.Run ? "--run" : "--watch") + " cannot be combined with --playground or --script");
    if (o.Duration > 0 && !o.Run && o.Watch.empty())
        return fail("--duration goes with --run or --watch");
    o.Language = lang == "zh" ? Lang::Zh : Lang::En;
    if (o.Headless && (!o.Screenshot.empty() || !o.ScreenshotSteps.empty())) {
        std::cerr << "sockscope: --screenshot" << (o.Screenshot.empty() ? "-steps" : "")
                  << " needs the GUI; it cannot be combined with --headless\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (!o.Screenshot.empty() && !o.ScreenshotSteps.empty()) {
        std::cerr << "sockscope: --screenshot and --screenshot-steps cannot be combined\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (o.Json && !o.Headless) {
        std::cerr << "sockscope: --json goes with --headless (for the GUI, use --trace FILE)\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (!o.SaveLesson.empty() && (o.Script.empty() || !o.Headless)) {
        std::cerr << "sockscope: --save-lesson goes with --headless --script FILE\n";
        exit_code = 2;
        return std::nullopt;
    }
    if ((o.Playground || !o.Script.empty()) && o.LessonGiven && !o.Headless) {
        std::cerr << "sockscope: --" << (o.Playground ? "playground" : "script")
                  << " starts an empty playground in the GUI; to go on from a lesson's step there, use its "
                     "'What if...?' button (headless: --lesson NAME --step K --script FILE)\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (o.Playground && o.Headless && o.Script.empty()) {
        std::cerr << "sockscope: --playground is the GUI's; headless, give --script FILE\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (!o.Replay.empty()) {
        if (!o.Record.empty())
            return fail("--replay and --record cannot be combined");
        if (o.LessonGiven || o.Run || !o.Watch.empty() || o.Playground || !o.Script.empty())
            return fail("--replay shows the recorded session; --lesson, --run, --watch, --playground and --script "
                        "cannot be combined with it");
        if (o.Port != 0 || o.Backlog >= 0 || o.BindAll || o.PrivateNetwork)
            return fail("--replay makes no socket: --port, --backlog, --bind-all and --private-network do not apply");
        if (!o.ScreenshotSteps.empty())
            return fail("--screenshot-steps goes with a lesson; with --replay, use --screenshot FILE.png --step K");
    }
    if (!o.Record.empty() && o.Headless && (o.Lesson == "all" || !o.Script.empty() || o.Run || !o.Watch.empty()))
        return fail("--record with --headless records one lesson; record the playground, --run and --watch in the GUI");
    if (o.Lesson == "all" && !o.Headless) {
        std::cerr << "sockscope: --lesson all goes with --headless\n";
        exit_code = 2;
        return std::nullopt;
    }
    exit_code = 0;
    return o;
}

} // namespace sockscope
