// The GUI's main loop, in the shape of Dear ImGui's example_glfw_opengl3: init in order,
// loop (wait/poll, apply the lab's events, new frame, draw, render, swap), shut down in
// reverse. It sleeps while nothing changes: the lab wakes it (glfwPostEmptyEvent) when
// an event arrives, GLFW when the user does something.
#include "gui_session.hpp"

#include "stop_signals.hpp"

namespace sockscope::gui_detail {
namespace {

std::string LastGlfwError;

void OnGlfwError(int, const char* description)
{
    LastGlfwError = description ? description : "";
}

// Set by GLFW's callbacks (on the main thread, inside poll/wait): the user did something.
struct InputSeen {
    bool Any = true;
};

void MarkInput(GLFWwindow* window)
{
    if (auto* seen = static_cast<InputSeen*>(glfwGetWindowUserPointer(window)))
        seen->Any = true;
}

// Installed before the ImGui backend, which chains to them. The window's user pointer
// names the InputSeen to mark (none yet: nothing is marked).
void WatchInput(GLFWwindow* window)
{
    glfwSetCursorPosCallback(window, [](GLFWwindow* w, double, double) { MarkInput(w); });
    glfwSetCursorEnterCallback(window, [](GLFWwindow* w, int) { MarkInput(w); });
    glfwSetMouseButtonCallback(window, [](GLFWwindow* w, int, int, int) { MarkInput(w); });
    glfwSetScrollCallback(window, [](GLFWwindow* w, double, double) { MarkInput(w); });
    glfwSetKeyCallback(window, [](GLFWwindow* w, int, int, int, int) { MarkInput(w); });
    glfwSetCharCallback(window, [](GLFWwindow* w, unsigned int) { MarkInput(w); });
    glfwSetWindowFocusCallback(window, [](GLFWwindow* w, int) { MarkInput(w); });
    glfwSetWindowSizeCallback(window, [](GLFWwindow* w, int, int) { MarkInput(w); });
    glfwSetWindowRefreshCallback(window, [](GLFWwindow* w) { MarkInput(w); });
}



} // namespace

// Fonts are rebuilt at the new pixel size (crisp, unlike FontGlobalScale) and the style
// scaled from a fresh one. Only between frames: the atlas is in use inside a frame.
void GuiSession::ApplyScale(float scale)
{
    Ui.Scale = SnapScale(scale);
    float total = ContentScale * Ui.Scale;
    ApplyStyle(Ui.Theme, total);
    FontReport fonts = LoadFonts(kFontSize * total, FontTexts, FontOptions{Options.Env.CjkFont});
    Ui.CjkAvailable = fonts.Cjk;
    Ui.FontMessage = fonts.Message;
    Ui.TitleFont = fonts.Title;
    Ui.MonoFont = fonts.Mono;
    Atlas.Upload();
}

// One more frame, into an offscreen target as large as the window's framebuffer: the
// picture is what the window shows, without the notice that follows.
// The lesson notice's button: sockscope again, as it was started, in a private network.
// The settings are saved first (exec skips the usual exit); on failure, Ui.Message says why.
void GuiSession::RestartInPrivateNetwork()
{
    std::string error;
    if (Remember)
        SaveSettings(SettingsToSave(Window, Saved, Ui, Windowed), error);
    std::vector<std::string> args = Options.Argv;
    if (args.empty())
        args.push_back("sockscope");
    args.push_back("--private-network");
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    Ui.Message = std::string("cannot restart sockscope: ") + std::strerror(errno);
}

void GuiSession::RestartProgram()
{
    Program->Stop();
    LabInstance.Reset(); // the old program's events dropped, its ports forgotten
    LabInstance.Drain(Drained);
    Model.Clear();
    Ui.ProgramInput = {};
    Program->Start();
}

void GuiSession::RunPlaygroundLine(const std::string& line)
{
    if (!Playground.Run(line, Ui.CommandLine.Error))
        return;
    Ui.CommandLine.Ran(line);
    const std::string& saved = Playground.SavedPath();
    if (saved.empty())
        return;
    // `save NAME`: say where, and offer the lesson in the picker from now on.
    char notice[1024];
    std::snprintf(notice, sizeof notice, Tr(Ui.Language, "saved %s"), saved.c_str());
    Ui.Notice = notice;
    Ui.NoticeUntil = MonotonicSeconds() + kNoticeSeconds;
    std::string name = std::filesystem::path(saved).stem().string();
    if (std::find(Ui.LessonNames.begin(), Ui.LessonNames.end(), name) == Ui.LessonNames.end())
        Ui.LessonNames.push_back(name);
}

bool GuiSession::OpenTrace()
{
    if (Options.Trace.empty())
        return true;
    std::string error;
    if (!Trace.Open(Options.Trace, error)) {
        Fail(error);
        return false;
    }
    return true;
}

void GuiSession::ApplyLabEvents()
{
    WakePosted = false;
    LabInstance.Drain(Drained);
    double now = MonotonicSeconds();
    ApplyDrained(now);
    // Two thirds of the time to the script, a third to the frames: with Mesa's software
    // renderer a frame costs 40 ms, with a GPU a few.
    RunScriptLines(now + std::clamp(2 * LastFrameCost, kScriptSlice, kScriptSliceMax));
}

void GuiSession::ApplyDrained(double now)
{
    for (auto& event : Drained) {
        History.Note(event, Model);
        Model.Apply(event);
    }
    Player.Tick(now);
    Playground.Tick();
    if (Trace.IsOpen())
        Trace.Update(Model, &Player, now);
    History.Tick(Model, Program ? nullptr : &Player, now);
}

// --script: each line once the previous call has returned or blocked, as many as fit
// before `until` (then the loop draws a frame): one line a frame made a script of
// 30,000 lines take 30,000 frames, and a wait of the whole script would stop them.
void GuiSession::RunScriptLines(double until)
{
    while (!ScriptLines.empty()) {
        if (!Playground.Busy()) {
            std::string line = std::move(ScriptLines.front());
            ScriptLines.pop_front();
            RunPlaygroundLine(line);
            continue;
        }
        if (MonotonicSeconds() >= until)
            return;
        LabInstance.WaitForEvents(std::chrono::milliseconds(1));
        LabInstance.Drain(Drained);
        ApplyDrained(MonotonicSeconds());
    }
}

std::vector<UiCommand> GuiSession::DrawFrame(const OffscreenTarget* target, bool render, int alone)
{
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    if (target) {
        // A screenshot has the requested size whatever the window manager did.
        ImGuiIO& io = ImGui::GetIO();
        io.DisplaySize = ImVec2(static_cast<float>(target->Width()), static_cast<float>(target->Height()));
        io.DisplayFramebufferScale = ImVec2(1, 1);
    }
    ImGui::NewFrame();
    TimelineView timeline = History.View(Viewing, MonotonicSeconds());
    Ui.ViewingPast = Viewing.has_value();
    Ui.Replay = History.Replaying();
    bool past = Viewing && *Viewing < History.Moments();
    UiFrame frame{ShownWorld(), ShownLesson(), ShownTime(),
                  History.Replaying() ? History.Info().ProbeRunning : LabInstance.ProbeRunning(),
                  History.Replaying() ? History.Info().Capturing : LabInstance.Capturing(),
                  History.Replaying() ? History.Info().CaptureError : LabInstance.CaptureError()};
    if (Program)
        frame.Program = &Program->View();
    frame.Timeline = &timeline;
    // A picture shows every motion finished; so does the past (nothing moves there).
    frame.Animate = !Offscreen(Options) && alone < 0 && !past;
    std::vector<UiCommand> commands;
    if (alone >= 0) {
        UiState copy = Ui; // the panels' memory of what they showed stays the main layout's
        DrawDiagramAlone(alone, frame, copy);
    } else {
        commands = DrawMainLayout(frame, Ui);
    }
    ImGui::Render();
    if (!render)
        return commands;

    if (target) {
        target->Bind();
    } else {
        int width = 0, height = 0;
        glfwGetFramebufferSize(Window, &width, &height);
        glViewport(0, 0, width, height);
    }
    ImVec4 clear = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(clear.x, clear.y, clear.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (target)
        OffscreenTarget::Unbind();
    else
        glfwSwapBuffers(Window);
    return commands;
}

void GuiSession::Execute(const std::vector<UiCommand>& commands)
{
    for (const auto& command : commands) {
        if (command.What == UiCommand::ShowMoment) {
            if (command.Moment < 0 || static_cast<std::size_t>(command.Moment) >= History.Moments())
                Viewing = History.Replaying() && History.Moments() ? std::optional<std::size_t>(History.Moments() - 1)
                                                                   : std::nullopt;
            else
                Viewing = static_cast<std::size_t>(command.Moment);
            continue;
        }
        if (History.Replaying() && ExecuteInReplay(command))
            continue;
        bool view_only = command.What == UiCommand::SetLanguage || command.What == UiCommand::SetScale ||
                         command.What == UiCommand::SetTheme || command.What == UiCommand::ToggleFullscreen ||
                         command.What == UiCommand::SaveScreenshot;
        if (!view_only && !History.Replaying())
            Viewing.reset(); // doing something comes back to the present
        switch (command.What) {
        case UiCommand::ShowMoment:
            break;
        case UiCommand::StepForward:
            Player.StepForward();
            break;
        case UiCommand::Reset:
            if (Program)
                RestartProgram();
            else if (Ui.CommandLine.On)
                Playground.Start(command.Port > 0 ? command.Port : Player.Port());
            else
                Player.Reset(command.Port);
            Ui.Play = AutoPlay{false, Ui.Play.Speed, 0};
            break;
        case UiCommand::LoadLesson: {
            Ui.Play = AutoPlay{false, Ui.Play.Speed, 0};
            std::string error;
            if (auto lesson = FindLesson(command.Lesson, error, LessonDirs(Options.Env.Lessons))) {
                Player.Load(std::move(*lesson), Options.Port);
                BeginHistory("lesson");
                Ui.Message.clear();
                Ui.CommandLine.On = false;
                ScriptLines.clear();
            } else {
                Ui.Message = error;
            }
            break;
        }
        case UiCommand::Submit:
            LabInstance.Submit(command.Request);
            break;
        case UiCommand::SetLanguage:
            Ui.Language = command.Language;
            break;
        case UiCommand::SetScale:
            ApplyScale(command.Scale);
            break;
        case UiCommand::SetTheme:
            Ui.Theme = command.Theme;
            ApplyStyle(Ui.Theme, ContentScale * Ui.Scale);
            break;
        case UiCommand::ToggleFullscreen: {
            std::string error;
            Ui.Fullscreen = ToggleFullscreen(Window, Ui.Fullscreen, Windowed, error);
            if (!error.empty())
                Ui.Message = error;
            break;
        }
        case UiCommand::SaveScreenshot:
            SaveWindowScreenshot();
            break;
        case UiCommand::ExportSvg:
        case UiCommand::ExportPng:
            ExportFromMenu(command.What == UiCommand::ExportPng);
            break;
        case UiCommand::RestartPrivateNetwork:
            RestartInPrivateNetwork();
            break;
        case UiCommand::OpenPlayground:
            Ui.Play = AutoPlay{false, Ui.Play.Speed, 0};
            Playground.Start(Options.Port);
            BeginHistory("playground");
            Ui.CommandLine.On = true;
            Ui.CommandLine.Focus = true;
            break;
        case UiCommand::WriteStdin:
            if (Program)
                Program->Write(command.Line);
            break;
        case UiCommand::CloseStdin:
            if (Program)
                Program->CloseStdin();
            break;
        case UiCommand::RunLine:
            RunPlaygroundLine(command.Line);
            break;
        case UiCommand::PlaygroundFromHere: {
            Ui.Play = AutoPlay{false, Ui.Play.Speed, 0};
            std::string error;
            if (Playground.ContinueFrom(error)) {
                Ui.CommandLine.On = true;
                Ui.CommandLine.Focus = true;
                Ui.Message.clear();
            } else {
                Ui.Message = error;
            }
            break;
        }
        }
    }
}

int GuiSession::InteractiveLoop()
{
    int steps_to_run = Options.Step; // --step K: run them on screen, one after the other
    int frames_left = kSettleFrames;
    Visible shown; // what the last frame showed
    InputSeen input;
    glfwSetWindowUserPointer(Window, &input);
    BenchReport bench;

    // --run/--watch --duration S: the window closes after S seconds, as the headless run ends.
    double close_at = Program && Options.Duration > 0 ? MonotonicSeconds() + Options.Duration : 0;
    while (!glfwWindowShouldClose(Window)) {
        if ((close_at > 0 && MonotonicSeconds() >= close_at) || StopSignal.load() != 0)
            break;
        bool busy = Player.Busy() || steps_to_run > 0 || !ScriptLines.empty();
        if (bench.Busy)
            frames_left = std::max(frames_left, 1);
        // Play: a frame when the next step is due (the lesson panel asks for it then).
        double wait = busy ? kBusyWait : kIdleWait;
        if (Ui.Play.On && !Player.Busy() && !glfwGetWindowAttrib(Window, GLFW_ICONIFIED)) {
            double until = Ui.Play.NextAt - MonotonicSeconds();
            if (Ui.Play.NextAt == 0 || until <= 0)
                frames_left = std::max(frames_left, 1);
            else
                wait = std::min(wait, until);
        }
        if (frames_left > 0)
            glfwPollEvents();
        else
            glfwWaitEventsTimeout(wait);

        ApplyLabEvents();
        if (steps_to_run > 0 && !Player.Busy()) {
            if (Player.AtEnd())
                steps_to_run = 0;
            else {
                Player.StepForward();
                --steps_to_run;
            }
        }

        Visible now = WhatIsVisible(Model, Player, Ui, MonotonicSeconds());
        if (Program) {
            now.Output = Program->View().OutputVersion;
            now.Ended = Program->Ended();
        }
        bool changed = input.Any || now != shown;
        input.Any = false;
        shown = std::move(now);
        // A segment flying across the packet ladder, a state easing in, a connection
        // sliding to its next queue: draw every frame until they have landed (then one
        // more, to show them still).
        if (Animating(Model, Ui.Tab, MonotonicSeconds() - 0.05) || QueuesMoving(Ui, MonotonicSeconds() - 0.05))
            frames_left = std::max(frames_left, 1);
        if (changed)
            frames_left = std::max(frames_left, kSettleFrames);
        if (bench.Finished(steps_to_run == 0 && !Player.Busy() && (bench.Busy || frames_left == 0)))
            glfwSetWindowShouldClose(Window, GLFW_TRUE);
        int width = 0, height = 0;
        glfwGetFramebufferSize(Window, &width, &height);
        if (frames_left == 0 || width == 0 || height == 0) // nothing new, or minimised
            continue;
        --frames_left;

        double frame_start = MonotonicSeconds();
        auto commands = DrawFrame(nullptr);
        LastFrameCost = MonotonicSeconds() - frame_start;
        bench.FrameShown();
        bench.LabShown(Model.Sockets().empty());
        if (bench.ScriptTurn(!ScriptLines.empty() || Playground.Busy())) {
            UiCommand reset;
            reset.What = UiCommand::Reset;
            commands.push_back(reset);
        }
        if (!commands.empty())
            frames_left = kSettleFrames;
        Execute(commands);
    }
    glfwSetWindowUserPointer(Window, nullptr);
    return 0;
}

int GuiSession::Run(Lesson lesson)
{
    if (!OpenTrace())
        return 2;

    ImGuiIO& io = ImGui::GetIO();
    io.ConfigInputTextCursorBlink = false; // a blinking cursor would keep redrawing
    // On a high-density screen everything grows with the monitor's scale; a screenshot
    // stays at scale 1 so that it is the same picture everywhere.
    float scale = 1.0f;
    if (!Offscreen(Options)) {
        float scale_y = 1.0f;
        glfwGetWindowContentScale(Window, &scale, &scale_y);
        scale = std::clamp(scale, 1.0f, 4.0f);
    }
    ContentScale = scale;
    Ui.Language = Options.Language;
    if (!Offscreen(Options)) {
        // --lang zh always wins; otherwise the language of the last run.
        Ui.Scale = Saved.Scale;
        Ui.Theme = Saved.Theme;
        if (Options.Language == Lang::En && Saved.HasLanguage)
            Ui.Language = Saved.Language;
    } else {
        // Screenshots never read settings; two variables may choose scale and theme.
        ApplyScreenshotPresenterEnv(Ui);
    }
    // The translations before the fonts, which need their glyphs. A missing or broken
    // file is said once; that language shows English.
    for (const auto& problem : LoadTranslations(TranslationDirs(Options.Env.Translations)))
        Fail(problem);
    // Every lesson file is read once: for the picker's names and the font's glyphs.
    std::vector<Lesson> lessons = LoadAllLessons(&Ui.InvalidLessons, LessonDirs(Options.Env.Lessons));
    for (const auto& l : lessons) {
        Ui.LessonNames.push_back(std::filesystem::path(l.Path).stem().string());
        for (const auto& step : l.Steps)
            for (const auto& call : step.Calls)
                if (call.Request.Call == CallId::Gate && (Ui.GateLessons.empty() || Ui.GateLessons.back() != Ui.LessonNames.back()))
                    Ui.GateLessons.push_back(Ui.LessonNames.back());
    }
    // Whether gates (root, sockscope-helper, a private network) and capture work here.
    Ui.PrivateNetwork = Options.PrivateNetwork;
    Ui.GatesWork = ProbeGateSupport() == 0;
    // $SOCKSCOPE_TAB=state|kernel|code|packets|sockets opens the lower area on that tab (for screenshots).
    if (const char* tab = std::getenv("SOCKSCOPE_TAB")) {
        if (auto chosen = LowerTabFromName(tab))
            Ui.Tab = *chosen;
        else
            Fail(std::string("SOCKSCOPE_TAB='") + tab + "' is not one of sockets, state, kernel, code, packets; ignored");
    }
    // The playground's `save NAME` writes to the lesson folder of $SOCKSCOPE_LESSONS, else the
    // user's; it refuses the name of a lesson another folder holds.
    std::string save_dir = Options.Env.Lessons.empty() ? UserLessonDir() : Options.Env.Lessons;
    std::vector<std::string> taken;
    for (const auto& l : lessons)
        if (std::filesystem::path(l.Path).parent_path().lexically_normal() !=
            std::filesystem::path(save_dir).lexically_normal())
            taken.push_back(std::filesystem::path(l.Path).stem().string());
    Playground.SetSaveDir(save_dir, std::move(taken));
    // The fonts get the glyphs of every lesson on the picker, of this one (a file given
    // by path may be elsewhere), of the playground and of a "What if..." title.
    if (!Options.Replay.empty()) {
        std::string error;
        if (!History.OpenReplay(Options.Replay, error)) {
            Fail(error);
            return 2;
        }
        // --step K: the end of step K; otherwise the last moment.
        Viewing = History.Moments() ? History.Moments() - 1 : 0;
        if (Options.Step > 0) {
            if (auto end = History.StepEnd(Options.Step - 1))
                Viewing = *end;
            else
                Fail("the recording has no end of step " + std::to_string(Options.Step) + "; showing its last moment");
        }
        if (const Lesson* recorded = History.ReplayLesson())
            lessons.push_back(*recorded); // its glyphs: the lesson may be no file here
    }
    lessons.push_back(PlaygroundLesson());
    lessons.push_back(lesson);
    FontTexts = LessonFontTexts(lessons);
    Text what_if = ContinueTitle(Text{}, 0);
    FontTexts.push_back(what_if.En + what_if.Zh);
    ApplyScale(Ui.Scale);
    if (!Ui.CjkAvailable && Ui.Language == Lang::Zh) {
        Fail(Ui.FontMessage);
        Ui.Language = Lang::En;
    }

    LabInstance.SetWakeCallback([this] {
        // One empty event is enough to wake the loop; it drains everything queued.
        if (!WakePosted.exchange(true))
            glfwPostEmptyEvent();
    });
    Player.SetBacklogOverride(Options.Backlog);
    Player.SetBindAll(Options.BindAll);
    InferWhatIsNotCaptured(LabInstance, Model);
    Model.SetWatching(!Options.Watch.empty());
    if (!Options.Replay.empty()) {
        // Opened above, before the fonts.
    } else if (!Options.Program.empty() || !Options.Watch.empty()) {
        Program = std::make_unique<GuiProgram>(LabInstance, Options.Program, Options.Watch, [this] {
            if (!WakePosted.exchange(true))
                glfwPostEmptyEvent();
        });
        Program->Start(); // a failure is shown in the panel
    } else {
        Player.Load(std::move(lesson), Options.Port);
    }
    if (Options.Playground) {
        Playground.Start(Options.Port);
        Ui.CommandLine.On = true;
        ScriptLines.assign(Options.ScriptLines.begin(), Options.ScriptLines.end());
    }
    if (Options.Replay.empty()) {
        BeginHistory(Program ? (Options.Watch.empty() ? "run" : "watch") : Options.Playground ? "playground" : "lesson");
        std::string error;
        if (!Options.Record.empty() && !History.Record(Options.Record, error)) {
            Fail(error);
            return 2;
        }
    }

    int code = Offscreen(Options) ? TakeScreenshot() : InteractiveLoop();
    ApplyLabEvents(); // the last moments, for the recording
    History.Finish(RecordingEnd{true, LabInstance.CapturedSegments(), LabInstance.CaptureViaHelper(),
                                LabInstance.Capturing(), LabInstance.CaptureError()});
    std::string error;
    if (Remember && !SaveSettings(SettingsToSave(Window, Saved, Ui, Windowed), error))
        Fail("settings not saved: " + error);
    LabInstance.SetWakeCallback({});
    Program.reset(); // its output thread may wake GLFW: gone before GLFW is
    return code;
}

} // namespace sockscope::gui_detail

namespace sockscope {

using gui_detail::Fail;
using gui_detail::LastGlfwError;
using gui_detail::OnGlfwError;
using gui_detail::WatchInput;
using gui_detail::GuiSession;
using gui_detail::Offscreen;

int RunGui(const GuiOptions& options)
{
    std::string error;
    // A replay's lesson is in its recording (an empty one stands in until then).
    auto lesson = options.Replay.empty() ? FindLesson(options.Lesson, error, LessonDirs(options.Env.Lessons))
                                         : std::optional<Lesson>(Lesson{});
    if (!lesson) {
        Fail(error);
        return 2;
    }
    if (options.Width < 320 || options.Height < 240) {
        Fail("the window must be at least 320x240");
        return 2;
    }

    glfwSetErrorCallback(OnGlfwError);
    if (!glfwInit()) {
        Fail("cannot open a window (no display?); use --headless" +
             (LastGlfwError.empty() ? std::string() : " (" + LastGlfwError + ")"));
        return 1;
    }
    bool screenshot = Offscreen(options);
    // Screenshots are reproducible: they neither read nor write settings (nor does any
    // run with $SOCKSCOPE_NO_SETTINGS set).
    bool remember = !screenshot && !options.Env.NoSettings && SettingsDirectory().has_value();
    Settings settings = remember ? LoadSettings() : Settings{};
    int width = options.Width, height = options.Height;
    bool default_size = options.Width == GuiOptions{}.Width && options.Height == GuiOptions{}.Height;
    if (settings.HasPosition && default_size) { // --width/--height win over the last run
        width = settings.WindowWidth;
        height = settings.WindowHeight;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    glfwWindowHint(GLFW_VISIBLE, screenshot ? GLFW_FALSE : GLFW_TRUE);
    GLFWwindow* window = glfwCreateWindow(width, height, "sockscope", nullptr, nullptr);
    if (!window) {
        Fail("cannot open a window (no display?); use --headless" +
             (LastGlfwError.empty() ? std::string() : " (" + LastGlfwError + ")"));
        glfwTerminate();
        return 1;
    }
    if (settings.HasPosition && default_size)
        glfwSetWindowPos(window, settings.WindowX, settings.WindowY);
    glfwMakeContextCurrent(window);
    // No vsync for screenshots, nor when bench/ asks for the most frames per second.
    glfwSwapInterval(screenshot || BenchReport().Busy ? 0 : 1);
    if (gladLoadGL(glfwGetProcAddress) == 0) {
        Fail("cannot load OpenGL 3.3 functions; use --headless");
        glfwDestroyWindow(window);
        glfwTerminate();
        return 1;
    }

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    WatchInput(window);
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 330");
    // Dear ImGui's own layout file sits beside our settings (it must outlive the context,
    // which writes it when destroyed).
    std::string ini_path;
    ImGui::GetIO().IniFilename = nullptr;
    if (remember) {
        std::error_code ec;
        std::filesystem::create_directories(*SettingsDirectory(), ec);
        ini_path = *SettingsDirectory() + "/imgui.ini";
        ImGui::GetIO().IniFilename = ini_path.c_str();
    }

    int code = 0;
    {
        // The session owns the lab: its threads are joined before GLFW goes away, so no
        // thread can post an event to a terminated GLFW.
        StopSignals stop; // SIGINT and SIGTERM close the window as its button does (settings saved, a recording ended)
        GuiSession session(window, options, settings, remember);
        code = session.Run(std::move(*lesson));
    }

    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
    return code;
}

} // namespace sockscope
