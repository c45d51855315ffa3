// `--run` and `--watch` in the GUI: a real program traced into a real lab, its output
// panel and its stdin line drawn in ImGui frames (no window), Reset leaving nothing
// behind; and the real binary under Xvfb watching a python3 listener.
#include "child_process.hpp"
#include "gui_program.hpp"
#include "gui_test_util.hpp"
#include "clock.hpp"
#include "lab.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

constexpr int kEnter = 257; // GLFW's, as its backend fills KeysDown

const std::string kExamples = SOCKSCOPE_EXAMPLES_DIR;

std::size_t Entries(const char* dir)
{
    std::size_t n = 0;
    if (DIR* d = opendir(dir)) {
        while (readdir(d))
            ++n;
        closedir(d);
    }
    return n;
}

class ProgramFrames : public ImGuiFrames {
protected:
    Lab TheLab;
    World TheWorld;
    LessonPlayer Player{TheLab, TheWorld};
    UiState State;
    std::unique_ptr<GuiProgram> Program;
    std::vector<LabEvent> Events;

    void SetUp() override
    {
        ImGuiFrames::SetUp();
        ImGui::GetIO().KeyMap[ImGuiKey_Enter] = kEnter;
        TheWorld.SetInferSegments(true);
    }
    void TearDown() override
    {
        Program.reset();
        ImGuiFrames::TearDown();
    }
    void Run(std::vector<std::string> argv)
    {
        Program = std::make_unique<GuiProgram>(TheLab, std::move(argv), std::vector<std::uint16_t>{}, [] {});
        ASSERT_TRUE(Program->Start()) << Program->View().Error;
    }
    // One frame of the whole layout, the lab's events applied first; stdin commands run
    // as the app runs them.
    std::vector<UiCommand> Draw()
    {
        TheLab.Drain(Events);
        for (auto& e : Events)
            TheWorld.Apply(e);
        UiFrame frame{TheWorld, MakeLessonView(Player), MonotonicSeconds(), true};
        frame.Program = &Program->View();
        auto commands = Frame(frame, State);
        for (const auto& c : commands) {
            if (c.What == UiCommand::WriteStdin)
                Program->Write(c.Line);
            else if (c.What == UiCommand::CloseStdin)
                Program->CloseStdin();
        }
        return commands;
    }
    bool DrawUntil(const std::function<bool()>& condition)
    {
        return test::WaitUntil([&] {
            Draw();
            return condition();
        }, std::chrono::seconds(10));
    }
    std::string Output() { return Program->View().Output; }
};

TEST_F(ProgramFrames, OutputPanelShowsTheProgramsOutputAndKeepsOnlyTheLast64KiB)
{
    // 100,000 lines of 11 bytes: 1.1 MB through the pipe, 64 KiB kept.
    Run({"/bin/sh", "-c", "yes 0123456789 | head -n 100000; echo last-line"});
    ASSERT_TRUE(DrawUntil([&] { return Program->Ended() && Output().ends_with("last-line\n"); })) << Output().size();
    const ProgramView& view = Program->View();
    EXPECT_EQ(view.OutputTotal, 100000u * 11 + 10);
    EXPECT_LE(view.Output.size(), 64u * 1024);
    EXPECT_GE(view.Output.size(), 60u * 1024);
    EXPECT_TRUE(view.Ended);
    EXPECT_EQ(view.ExitStatus, 0);
    EXPECT_EQ(view.ExitSignal, 0);
    // The panel shows it scrolled to the end (two frames: the scroll lands in the next).
    Draw();
    Draw();
    ImGuiWindow* shown = nullptr;
    for (ImGuiWindow* w : GImGui->Windows)
        if (std::string(w->Name).find("##program-output") != std::string::npos)
            shown = w;
    ASSERT_NE(shown, nullptr);
    EXPECT_GT(shown->ScrollMax.y, 0.0f);
    EXPECT_EQ(shown->Scroll.y, shown->ScrollMax.y);
}

TEST_F(ProgramFrames, ALineTypedReachesTheProgramsStdin)
{
    // no_accept_server prints its port, waits for a line on stdin, then closes and exits 0.
    Run({kExamples + "/no_accept_server", "0"});
    ASSERT_TRUE(DrawUntil([&] { return Output().find("listening on port") != std::string::npos; })) << Output();
    // The probe sees its listener, after its listen(fd, 2) (open_listenfd listened with 8 first).
    ASSERT_TRUE(DrawUntil([&] { return !TheWorld.Listeners().empty() && TheWorld.Listeners().front().Backlog == 2u; }));
    // Type into the panel's stdin line (once it has the keyboard) and press Enter.
    for (int i = 0; i < 20 && State.ProgramInput.Focus; ++i)
        Draw();
    Draw();
    for (char c : std::string("bye"))
        ImGui::GetIO().AddInputCharacter(static_cast<unsigned>(c));
    Draw();
    ASSERT_STREQ(State.ProgramInput.Input, "bye");
    ImGui::GetIO().KeysDown[kEnter] = true;
    auto commands = Draw();
    ImGui::GetIO().KeysDown[kEnter] = false;
    bool wrote = false;
    for (const auto& c : commands)
        wrote = wrote || (c.What == UiCommand::WriteStdin && c.Line == "bye\n");
    ASSERT_TRUE(wrote);
    // The program ends; its last events reach the World a frame or more after the tracer
    // has seen the end (they wait in the lab's queue): draw until the lane shows it.
    ASSERT_TRUE(DrawUntil([&] {
        return Program->Ended() && !TheWorld.Actors().empty() && TheWorld.Actors().front().Status == "exited";
    }));
    EXPECT_EQ(Program->View().ExitStatus, 0);
    // Its lane ended with its status, after its close().
    const ActorView* lane = TheWorld.Actors().empty() ? nullptr : &TheWorld.Actors().front();
    ASSERT_NE(lane, nullptr);
    EXPECT_EQ(lane->Status, "exited");
    ASSERT_FALSE(lane->Calls.empty());
    EXPECT_EQ(lane->Calls.back().Call, CallId::Close);
}

TEST_F(ProgramFrames, ClosingStdinEndsCat)
{
    Run({"cat"});
    Program->Write("one line\n");
    ASSERT_TRUE(DrawUntil([&] { return Output() == "one line\n"; })) << Output();
    EXPECT_TRUE(Program->View().StdinOpen);
    Program->CloseStdin();
    ASSERT_TRUE(DrawUntil([&] { return Program->Ended(); }));
    EXPECT_EQ(Program->View().ExitStatus, 0);
    EXPECT_FALSE(Program->View().StdinOpen);
}

TEST_F(ProgramFrames, ResetRunsTheProgramAgainAndLeavesNoChildNoDescriptorNoThread)
{
    Run({kExamples + "/no_accept_server", "0"});
    ASSERT_TRUE(DrawUntil([&] { return Output().find("listening on port") != std::string::npos; }));
    std::size_t fds = Entries("/proc/self/fd"), threads = Entries("/proc/self/task");
    int first = Program->Pid();
    // What the app's Reset does (GuiSession::RestartProgram).
    Program->Stop();
    TheLab.Reset();
    TheLab.Drain(Events);
    TheWorld.Clear();
    EXPECT_EQ(kill(first, 0), -1); // killed and reaped: not even a zombie
    EXPECT_EQ(errno, ESRCH);
    ASSERT_TRUE(Program->Start()) << Program->View().Error;
    EXPECT_NE(Program->Pid(), first);
    ASSERT_TRUE(DrawUntil([&] { return Output().find("listening on port") != std::string::npos; }));
    EXPECT_EQ(Output().find("listening on port"), 0u); // the new program's output only
    // The old program's pipes and reader thread are gone (a sanitizer's slower threads may
    // take a moment to close what they held: wait for it, with a deadline).
    EXPECT_TRUE(test::WaitUntil([&] { return Entries("/proc/self/fd") == fds; }))
        << Entries("/proc/self/fd") << " descriptors, " << fds << " before";
    EXPECT_TRUE(test::WaitUntil([&] { return Entries("/proc/self/task") == threads; }))
        << Entries("/proc/self/task") << " threads, " << threads << " before";
    int second = Program->Pid();
    Program->Stop();
    EXPECT_EQ(kill(second, 0), -1);
    EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1); // no child of ours left to reap
    EXPECT_EQ(errno, ECHILD);
}

TEST_F(ProgramFrames, NotPermittedOffersWatchOnItsPorts)
{
    EXPECT_EQ(WatchOffer({"./server", "8080", "-v", "9090"}), "sockscope --watch 8080,9090");
    EXPECT_EQ(WatchOffer({"./server"}), "sockscope --watch PORT");
}

// The real binary under Xvfb, `--watch PORT` with no --headless, on a python3 listener
// sockscope did not make: the window's trace shows its accept queue as ss does.
TEST(GuiWatch, TheWindowWatchingAPython3ListenerShowsItsAcceptQueue)
{
    const char* display = std::getenv("DISPLAY");
    std::string prefix = display && *display ? "" : "xvfb-run -a ";
    if (!prefix.empty() && access("/usr/bin/xvfb-run", X_OK) != 0)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run";
    if (access("/usr/bin/python3", X_OK) != 0)
        GTEST_SKIP() << "no python3";
    test::Child python({"/usr/bin/python3", "-c",
                        "import socket, sys\n"
                        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(4)\n"
                        "print(s.getsockname()[1], flush=True); sys.stdin.read()\n"});
    ASSERT_TRUE(test::WaitUntil([&] {
        python.Pump(5);
        return python.Text.find('\n') != std::string::npos;
    }, std::chrono::seconds(10)));
    int port = std::stoi(python.Text);
    int a = test::ConnectTo(port), b = test::ConnectTo(port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    std::string dir = std::filesystem::temp_directory_path() / ("sockscope-gui-watch-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto run = test::Run(prefix + SOCKSCOPE_BINARY + " --watch " + std::to_string(port) + " --trace " + dir +
                             "/trace.jsonl --screenshot " + dir + "/watch.png --duration 1 --width 1280 --height 720",
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;
    EXPECT_TRUE(std::filesystem::exists(dir + "/watch.png"));
    std::ifstream trace(dir + "/trace.jsonl");
    std::string line, last;
    while (std::getline(trace, line))
        last = line;
    ASSERT_FALSE(last.empty()) << "no trace line";
    auto j = nlohmann::json::parse(last);
    const auto* listener = test::Listener(j, port);
    ASSERT_NE(listener, nullptr) << last;
    EXPECT_EQ((*listener)["accept_queue"], 2);
    EXPECT_EQ((*listener)["backlog"], 4);
    for (const auto& s : j["sockets"])
        EXPECT_EQ(s["owner"], "external") << s.dump(); // sockscope made none of them
    close(a);
    close(b);
    std::filesystem::remove_all(dir);
}

} // namespace
