// [7] The GUI.
//
// (a) CPU time to build one frame: DrawMainLayout between ImGui::NewFrame and Render (the
//     function the GUI calls every frame: layout, text, tessellation; no OpenGL), with the
//     GUI's fonts and style, on a World made from recorded events: a listener whose accept
//     queue holds N connections nobody accepted (N client rows, held by one client actor
//     that made 2 N calls, and N server rows with "no fd yet"), N = 10, 1,000, 10,000.
//     Timed with CLOCK_THREAD_CPUTIME_ID, one frame at a time.
// (b) The real binary under Xvfb at 1920x1080 (xvfb-run), with the hook
//     SOCKSCOPE_BENCH_REPORT of app/gui_app.cpp: the time from the process's start to its
//     first frame, the CPU it uses over 10 s while nothing changes (the no-accept lesson
//     after its 6 steps), and the frames per second when it draws continuously
//     (SOCKSCOPE_BENCH_BUSY=1: no waiting, no vsync; Mesa's software renderer here).
//     And its resident memory at rest (VmRSS and where it is mapped, from /proc/self), as
//     a new user meets it: no-accept after step 3, the default window, each language.
// [8] (--only playground) A playground script of 10,000 connections in the real GUI: the
//     time between frames while it runs, and from Reset to a frame showing an empty lab.
#include "bench.hpp"

#include "clock.hpp"

#include "lesson.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "world.hpp"

#include <imgui.h>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>

namespace sockscope::bench {
namespace {

constexpr double kFrameTarget = 0.002;   // frame build at 1,000 connections
constexpr double kIdleTarget = 0.01;     // share of one core while idle
constexpr double kFirstFrameTarget = 0.5; // seconds from start to the first frame
constexpr double kRestingTargetMb = 100;  // the GUI's resident memory at rest (issue 15)
constexpr int kFirstPort = 20000;        // the clients' ports: 20000, 20001, ...

Endpoint Loopback(int port)
{
    Endpoint e;
    if (auto parsed = Endpoint::Parse("127.0.0.1:" + std::to_string(port)))
        e = *parsed;
    return e;
}

CallEvent Call(std::uint64_t id, const char* actor, const char* kind, CallId call, const std::string& handle,
               int fd, CallArgs args, long result = 0)
{
    CallEvent c;
    c.Id = id;
    c.Actor = actor;
    c.ActorKind = kind;
    c.Call = call;
    c.Handle = handle;
    c.Fd = fd;
    c.Args = std::move(args);
    c.Phase = CallPhase::Finished;
    c.Result = result;
    c.TStart = c.TEnd = static_cast<double>(id) * 1e-4;
    return c;
}

KernelSocket Row(TcpState state, const Endpoint& local, const Endpoint& remote, std::uint64_t cookie,
                 std::uint32_t inode, std::uint32_t recv_q = 0, std::uint32_t send_q = 0)
{
    KernelSocket k;
    k.State = state;
    k.Local = local;
    k.Remote = remote;
    k.Cookie = cookie;
    k.Inode = inode;
    k.RecvQ = recv_q;
    k.SendQ = send_q;
    return k;
}

// The server listened with backlog `n` on 127.0.0.1:`port` and never accepted; the actor
// "client" opened `n` sockets (c0, c1, ...) and connected each. The kernel lists the
// listener (accept queue n), n client ends and n server ends without a descriptor.
World BacklogWorld(int n, int port)
{
    World world;
    const Endpoint listen_at = Loopback(port);
    std::uint64_t id = 1;
    CallEvent socket = Call(id++, "server", "server", CallId::Socket, "main", 3, {.Family = AF_INET, .Type = SOCK_STREAM}, 3);
    socket.NewFd = FdInfo{"main", 3, 1003, 0x100};
    world.Apply(socket);
    CallEvent bind = Call(id++, "server", "server", CallId::Bind, "main", 3, {.AddrLen = 16, .Addr = listen_at});
    bind.Local = listen_at;
    world.Apply(bind);
    world.Apply(Call(id++, "server", "server", CallId::Listen, "main", 3, {.Value = n}));

    Snapshot snap;
    snap.T = 1;
    snap.Sockets.push_back(Row(TcpState::Listen, listen_at, *Endpoint::Parse("0.0.0.0:0"), 0x100, 1003, static_cast<std::uint32_t>(n),
                               static_cast<std::uint32_t>(n)));
    for (int i = 0; i < n; ++i) {
        const std::string handle = Numbered("c", i);
        const int fd = 4 + i;
        const auto inode = static_cast<std::uint32_t>(2000 + i);
        const std::uint64_t client_cookie = 0x10000 + static_cast<std::uint64_t>(i);
        const std::uint64_t server_cookie = 0x80000 + static_cast<std::uint64_t>(i);
        CallEvent s = Call(id++, "client", "client", CallId::Socket, handle, fd, {.Family = AF_INET, .Type = SOCK_STREAM}, fd);
        s.NewFd = FdInfo{handle, fd, inode, client_cookie};
        world.Apply(s);
        CallEvent c = Call(id++, "client", "client", CallId::Connect, handle, fd, {.AddrLen = 16, .Addr = listen_at});
        const Endpoint client_at = Loopback(kFirstPort + i);
        c.Local = client_at;
        c.Remote = listen_at;
        world.Apply(c);
        snap.Sockets.push_back(Row(TcpState::Established, client_at, listen_at, client_cookie, inode));
        snap.Sockets.push_back(Row(TcpState::Established, listen_at, client_at, server_cookie, 0));
    }
    world.Apply(snap);
    return world;
}

// An ImGui context as the GUI sets it up (fonts with every lesson's glyphs, the style,
// a 1920x1080 display), without a window or OpenGL.
class HeadlessImGui {
public:
    HeadlessImGui()
    {
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(1920, 1080);
        io.DeltaTime = 1.0f / 60.0f;
        io.ConfigInputTextCursorBlink = false;
        ApplyStyle(ThemeKind::Normal, 1.0f);
        std::vector<std::string> texts;
        for (const auto& lesson : LoadAllLessons()) {
            State.LessonNames.push_back(std::filesystem::path(lesson.Path).stem().string());
            texts.push_back(lesson.Title.En + lesson.Title.Zh + lesson.Summary.En + lesson.Summary.Zh);
            for (const auto& step : lesson.Steps) {
                texts.push_back(step.Title.En + step.Title.Zh + step.Narration.En + step.Narration.Zh);
                for (const auto& check : step.Expect)
                    texts.push_back(check.Says.En + check.Says.Zh);
            }
        }
        FontReport fonts = LoadFonts(18.0f, texts);
        State.CjkAvailable = fonts.Cjk;
        State.TitleFont = fonts.Title;
        State.MonoFont = fonts.Mono;
        unsigned char* pixels = nullptr;
        int width = 0, height = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height); // built, as the backend would
    }
    ~HeadlessImGui() { ImGui::DestroyContext(); }
    HeadlessImGui(const HeadlessImGui&) = delete;
    HeadlessImGui& operator=(const HeadlessImGui&) = delete;

    // One frame; returns its thread CPU seconds.
    double Frame(const UiFrame& frame)
    {
        const double start = ThreadCpuSeconds();
        ImGui::NewFrame();
        DrawMainLayout(frame, State);
        ImGui::Render();
        return ThreadCpuSeconds() - start;
    }
    int Vertices() const { return ImGui::GetDrawData() ? ImGui::GetDrawData()->TotalVtxCount : 0; }

    // One frame with only `draw` in a window of `size`; returns its thread CPU seconds.
    double PanelFrame(const std::function<void()>& draw, ImVec2 size)
    {
        const double start = ThreadCpuSeconds();
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(size);
        ImGui::Begin("panel", nullptr, ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoTitleBar);
        draw();
        ImGui::End();
        ImGui::Render();
        return ThreadCpuSeconds() - start;
    }

    UiState State;
};

struct FrameFigures {
    Stats Cpu;
    int Vertices = 0;
};

FrameFigures TimeFrames(HeadlessImGui& gui, const UiFrame& frame, LowerTab tab)
{
    gui.State.Tab = tab;
    gui.State.SelectTab = true;
    for (int i = 0; i < 5; ++i) // the tab is selected and the tables' widths settle
        gui.Frame(frame);
    FrameFigures figures;
    figures.Cpu = Summarize(Sample([&] { return gui.Frame(frame); }, 1.5, 30, 500));
    figures.Vertices = gui.Vertices();
    return figures;
}

// Each panel alone, in a window about as large as the layout gives it: where a frame's
// time goes.
void TimePanels(Report& report, HeadlessImGui& gui, const UiFrame& frame, int n)
{
    std::vector<UiCommand> commands;
    UiState& state = gui.State;
    const ImVec2 display = ImGui::GetIO().DisplaySize;
    struct Panel {
        const char* Name;
        std::function<void()> Draw;
        ImVec2 Size;
    };
    const Panel panels[] = {
        {"lesson", [&] { DrawLessonPanel(frame, state, commands); }, ImVec2(display.x, display.y * 0.3f)},
        {"ladder", [&] { DrawLadderPanel(frame, state); }, ImVec2(display.x * 0.64f, display.y * 0.3f)},
        {"queues", [&] { DrawQueuePanel(frame, state, commands); }, ImVec2(display.x * 0.36f, display.y * 0.3f)},
        {"socket table", [&] { DrawSocketTable(frame, state, commands); }, ImVec2(display.x, display.y * 0.4f)},
        {"status bar", [&] { DrawStatusBar(frame, state, commands); }, ImVec2(display.x, display.y * 0.05f)},
    };
    std::string parts;
    for (const auto& panel : panels) {
        for (int i = 0; i < 3; ++i)
            gui.PanelFrame(panel.Draw, panel.Size);
        Stats cpu = Summarize(Sample([&] { return gui.PanelFrame(panel.Draw, panel.Size); }, 0.5, 10, 200));
        parts += std::string(parts.empty() ? "" : ", ") + panel.Name + " " + FormatSeconds(cpu.Median);
    }
    report.Note("each panel alone at " + FormatCount(n) + " connections (median): " + parts);
}

void RunFrameBuild(Report& report, const Options& options)
{
    std::string error;
    auto lesson = FindLesson("no-accept", error);
    if (!lesson) {
        report.Note("cannot load the no-accept lesson: " + error);
        return;
    }
    HeadlessImGui gui;
    for (int n : options.UiConnections) {
        const double built_at = ThreadCpuSeconds();
        World world = BacklogWorld(n, 4000);
        world.Sockets(); // the lazy rebuild happens here, not in the first timed frame
        const double build_s = ThreadCpuSeconds() - built_at;
        LessonView view;
        view.Data = &*lesson;
        view.StepIndex = 2; // "two more clients connect": passed
        view.StepsDone = 3;
        view.Status = StepStatus::Passed;
        view.Port = 4000;
        const UiFrame frame{world, view, 10.0, true};

        FrameFigures f = TimeFrames(gui, frame, LowerTab::Sockets);
        const bool judged = n == 1000;
        char detail[256];
        std::snprintf(detail, sizeof detail, "p95 %s, min %s, %zu frames, %s vertices; World built from %s events in %s",
                      FormatSeconds(f.Cpu.P95).c_str(), FormatSeconds(f.Cpu.Min).c_str(), f.Cpu.Count,
                      FormatCount(f.Vertices).c_str(), FormatCount(2.0 * n + 4).c_str(),
                      FormatSeconds(build_s).c_str());
        report.Add({"frame build, " + FormatCount(n) + " connections (sockets tab), median", FormatSeconds(f.Cpu.Median),
                    judged ? "< 2 ms" : "",
                    !judged ? Verdict::Info : f.Cpu.Median < kFrameTarget ? Verdict::Ok : Verdict::Missed, detail});
        if (judged) {
            report.Add({"frame build, " + FormatCount(n) + " connections (sockets tab), p95", FormatSeconds(f.Cpu.P95),
                        "< 2 ms", f.Cpu.P95 < kFrameTarget ? Verdict::Ok : Verdict::Missed, ""});
            TimePanels(report, gui, frame, n);
        }
        if (n != options.UiConnections[2])
            continue;
        // The other tabs at the largest count: the diagram and the counters look at every socket.
        for (const char* name : {"state", "kernel", "code", "packets"}) {
            auto tab = LowerTabFromName(name);
            if (!tab)
                continue;
            FrameFigures t = TimeFrames(gui, frame, *tab);
            report.Add({std::string("frame build, ") + FormatCount(n) + " connections (" + name + " tab), median",
                        FormatSeconds(t.Cpu.Median), "", Verdict::Info,
                        "p95 " + FormatSeconds(t.Cpu.P95) + ", " + FormatCount(t.Vertices) + " vertices"});
        }
        gui.State.Tab = LowerTab::Sockets;
        gui.State.SelectTab = true;
    }
}

using Fields = std::map<std::string, double>;

// The no-accept lesson after its 6 steps at 1920x1080, as the CPU and frame figures use it.
const std::vector<std::string> kSixSteps = {"--lesson", "no-accept", "--step", "6", "--width", "1920", "--height", "1080"};

// Runs the GUI under Xvfb with the benchmark hook and `args`; the key=value lines it wrote.
Fields RunGuiUnderXvfb(const std::string& report_file, bool busy, double seconds, std::string& error,
                       const std::vector<std::string>& args = kSixSteps)
{
    std::filesystem::remove(report_file);
    char seconds_text[32];
    std::snprintf(seconds_text, sizeof seconds_text, "%g", seconds);
    std::vector<std::string> argv = {"xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", "env", "SOCKSCOPE_NO_SETTINGS=1",
                                     "SOCKSCOPE_BENCH_REPORT=" + report_file,
                                     std::string("SOCKSCOPE_BENCH_SECONDS=") + seconds_text};
    if (busy)
        argv.push_back("SOCKSCOPE_BENCH_BUSY=1");
    argv.push_back(SOCKSCOPE_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult run = RunProcess(argv, seconds + 60);
    Fields fields;
    std::ifstream in(report_file);
    for (std::string line; std::getline(in, line);)
        if (auto eq = line.find('='); eq != std::string::npos)
            fields[line.substr(0, eq)] = std::atof(line.c_str() + eq + 1);
    std::filesystem::remove(report_file);
    if (fields.count("cpu_s") == 0)
        error = run.Error.empty() ? "no figures (exit status " + std::to_string(run.ExitStatus) + ")" : run.Error;
    return fields;
}

// The GUI's resident memory at rest, as a new user meets it: the no-accept lesson after
// step 3 in the window's default size, nothing changing for 2 s, in each language.
void RunRestingMemory(Report& report, const std::string& file)
{
    for (const char* lang : {"en", "zh"}) {
        std::string error;
        Fields at_rest = RunGuiUnderXvfb(file, false, 2.0, error, {"--lesson", "no-accept", "--step", "3", "--lang", lang});
        if (!error.empty() || at_rest.count("rss_kb") == 0) {
            report.Note(std::string("the GUI did not report its memory (") + lang + "): " +
                        (error.empty() ? "no rss_kb" : error));
            continue;
        }
        auto mb = [&](const char* key) { return at_rest[key] / 1024.0; };
        char figure[64], detail[400];
        std::snprintf(figure, sizeof figure, "%.1f MB", mb("rss_kb"));
        std::snprintf(detail, sizeof detail,
                      "Mesa (libLLVM, DRI driver) %.1f, heap %.1f, anonymous maps %.1f, X shared image %.1f, "
                      "sockscope's binary %.1f, other libraries %.1f, other %.1f MB",
                      mb("rss_mesa_kb"), mb("rss_heap_kb"), mb("rss_anon_kb"), mb("rss_shm_kb"), mb("rss_binary_kb"),
                      mb("rss_libs_kb"), mb("rss_other_kb"));
        report.Add({std::string("resident memory at rest, --lang ") + lang + " (no-accept after step 3, 1600x900)",
                    figure, "< 100 MB", mb("rss_kb") < kRestingTargetMb ? Verdict::Ok : Verdict::Missed, detail});
    }
}

// Issue 13 §6: a playground script of N connections (one client actor connecting, the
// server accepting each; N = 10,000, or what the open-file limit allows) in the real GUI
// under Xvfb: whether frames keep coming while it runs, and how soon Reset shows an
// empty lab (SOCKSCOPE_BENCH_RESET of app/bench_report.hpp).
void RunPlaygroundLoad(Report& report, const std::string& file)
{
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    const long n = std::min<long>(10000, (static_cast<long>(limit.rlim_cur) - 200) / 2);
    const std::string script = "/tmp/sockscope_bench_script_" + std::to_string(getpid()) + ".txt";
    {
        std::ofstream out(script);
        out << "server socket\nserver setsockopt SO_REUSEADDR 1\nserver bind\nserver listen 4096\n";
        for (long i = 0; i < n; ++i)
            out << "client socket\nclient connect\nserver accept\n";
    }
    std::string error;
    std::filesystem::remove(file);
    std::vector<std::string> argv = {"xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", "env", "SOCKSCOPE_NO_SETTINGS=1",
                                     "SOCKSCOPE_BENCH_REPORT=" + file, "SOCKSCOPE_BENCH_SECONDS=0.5",
                                     "SOCKSCOPE_BENCH_RESET=1", SOCKSCOPE_BINARY, "--playground", "--script", script};
    ProcessResult run = RunProcess(argv, 1200); // 9 minutes on a shared 2-core VM
    Fields fields;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
        if (auto eq = line.find('='); eq != std::string::npos)
            fields[line.substr(0, eq)] = std::atof(line.c_str() + eq + 1);
    std::filesystem::remove(file);
    std::filesystem::remove(script);
    if (fields.count("reset_s") == 0) {
        report.Note("the GUI did not report the playground script (" +
                    (run.Error.empty() ? "exit status " + std::to_string(run.ExitStatus) : run.Error) + ")");
        return;
    }
    const std::string what = FormatCount(n) + " connections";
    char detail[300];
    std::snprintf(detail, sizeof detail, "%.0f frames in %s (%.1f a second), p95 %s between two; %s lines",
                  fields["script_frames"], FormatSeconds(fields["script_s"]).c_str(),
                  fields["script_frames"] / std::max(fields["script_s"], 1e-9),
                  FormatSeconds(fields["frame_gap_p95_s"]).c_str(), FormatCount(3 * n + 4).c_str());
    report.Add({"playground script of " + what + ": longest time between frames", FormatSeconds(fields["frame_gap_max_s"]),
                "frames keep coming", Verdict::Info, detail});
    report.Add({"playground script of " + what + ": Reset to an empty lab on screen", FormatSeconds(fields["reset_s"]),
                "< 1 s", fields["reset_s"] < 1.0 ? Verdict::Ok : Verdict::Missed,
                "from the Reset command to the first frame showing no socket"});
}

void RunRealGui(Report& report, const Options& options)
{
    if (access("/usr/bin/xvfb-run", X_OK) != 0) {
        report.Note("no xvfb-run (apt-get install xvfb), so no display: the real binary's figures are skipped");
        return;
    }
    const std::string file = "/tmp/sockscope_bench_ui_" + std::to_string(getpid()) + ".txt";
    RunRestingMemory(report, file);
    std::string error;
    Fields idle = RunGuiUnderXvfb(file, false, options.IdleSeconds, error);
    if (!error.empty()) {
        report.Note("the GUI did not report (idle run): " + error);
    } else {
        report.Add({"first frame, from the process's start", FormatSeconds(idle["first_frame_s"]), "< 0.5 s",
                    idle["first_frame_s"] < kFirstFrameTarget ? Verdict::Ok : Verdict::Missed,
                    "the kernel's start time of the process to the first buffer swap; 6 steps done " +
                        FormatSeconds(idle["steps_done_s"]) + " after the start"});
        const double share = idle["cpu_s"] / idle["wall_s"];
        char figure[64], detail[160];
        std::snprintf(figure, sizeof figure, "%.2f %% of a core", share * 100);
        std::snprintf(detail, sizeof detail, "%s CPU in %s, every thread (lab, probe, GL); %.0f frames drawn",
                      FormatSeconds(idle["cpu_s"]).c_str(), FormatSeconds(idle["wall_s"]).c_str(), idle["frames"]);
        report.Add({"CPU while idle (nothing changing)", figure, "< 1 %",
                    share < kIdleTarget ? Verdict::Ok : Verdict::Missed, detail});
    }
    error.clear();
    Fields busy = RunGuiUnderXvfb(file, true, options.BusySeconds, error);
    if (!error.empty()) {
        report.Note("the GUI did not report (busy run): " + error);
        return;
    }
    char figure[64], detail[200];
    std::snprintf(figure, sizeof figure, "%.1f frames/s", busy["frames"] / busy["wall_s"]);
    std::snprintf(detail, sizeof detail,
                  "%.0f frames in %s, drawn back to back; %.0f %% of a core (Mesa llvmpipe renders on the CPU)",
                  busy["frames"], FormatSeconds(busy["wall_s"]).c_str(), busy["cpu_s"] / busy["wall_s"] * 100);
    report.Add({"frames per second, 1920x1080 under Xvfb", figure, "", Verdict::Info, detail});
}

} // namespace

void RunPlaygroundSection(Report& report, const Options&)
{
    report.Section("[8] The playground under load: a script of 10,000 connections in the GUI",
                   "the real binary under Xvfb with its benchmark hook; minutes, so not part of the full run");
    if (access("/usr/bin/xvfb-run", X_OK) != 0) {
        report.Note("no xvfb-run (apt-get install xvfb), so no display: skipped");
        return;
    }
    RunPlaygroundLoad(report, "/tmp/sockscope_bench_ui_" + std::to_string(getpid()) + ".txt");
}

void RunUiSection(Report& report, const Options& options)
{
    report.Section("[7] The GUI: building a frame, and the real binary under Xvfb",
                   "frames built without OpenGL; the real binary at 1920x1080 with its benchmark hook");
    RunFrameBuild(report, options);
    RunRealGui(report, options);
}

} // namespace sockscope::bench
