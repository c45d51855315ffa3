// The playground's command line in real ImGui frames, on a real lab: typing a line and
// Enter runs it, Tab completes, Up recalls, a refused line stays with its one-line error.
#include "gui_test_util.hpp"
#include "lab.hpp"
#include "session.hpp"

#include <imgui_internal.h>

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

// GLFW's key numbers, as its backend fills KeysDown.
constexpr int kEnter = 257, kTab = 258, kUp = 265, kDown = 264, kBackspace = 259;

class PlaygroundFrames : public ImGuiFrames {
protected:
    Lab TheLab;
    World TheWorld;
    LessonPlayer Player{TheLab, TheWorld};
    Session ThePlayground{TheLab, TheWorld, Player};
    UiState State;

    void SetUp() override
    {
        ImGuiFrames::SetUp();
        ImGuiIO& io = ImGui::GetIO();
        io.KeyMap[ImGuiKey_Enter] = kEnter;
        io.KeyMap[ImGuiKey_Tab] = kTab;
        io.KeyMap[ImGuiKey_UpArrow] = kUp;
        io.KeyMap[ImGuiKey_DownArrow] = kDown;
        io.KeyMap[ImGuiKey_Backspace] = kBackspace;
        TheWorld.SetInferSegments(!TheLab.Capturing());
        ThePlayground.Start();
        State.CommandLine.On = true;
        AwaitKeyboard();
    }

    // Frames until the command line has the keyboard (it asks for it after Enter and
    // stops asking once it has it; the request takes a frame or two), at most 20.
    void AwaitKeyboard()
    {
        for (int i = 0; i < 20 && State.CommandLine.Focus; ++i)
            Draw();
    }

    // One frame of the whole layout; the commands run as the app runs them.
    void Draw()
    {
        for (const UiCommand& c : Frame(UiFrame{TheWorld, MakeLessonView(Player), 1.0, true}, State)) {
            if (c.What != UiCommand::RunLine)
                continue;
            if (ThePlayground.Run(c.Line, State.CommandLine.Error))
                State.CommandLine.Ran(c.Line);
            ASSERT_TRUE(ThePlayground.Drive(10.0)) << c.Line;
        }
    }
    void Type(const std::string& text)
    {
        for (char c : text)
            ImGui::GetIO().AddInputCharacter(static_cast<unsigned>(c));
        Draw();
    }
    void Press(int key)
    {
        ImGui::GetIO().KeysDown[key] = true;
        Draw();
        ImGui::GetIO().KeysDown[key] = false;
        Draw();
        AwaitKeyboard();
    }
    std::string Input() const { return State.CommandLine.Input; }
    const CallEvent* LastCallOf(const std::string& actor) const
    {
        const ActorView* a = TheWorld.FindActor(actor);
        return a && !a->Calls.empty() ? &a->Calls.back() : nullptr;
    }
};

TEST_F(PlaygroundFrames, TypingACommandAndEnterRunsIt)
{
    EXPECT_NE(ImGui::GetActiveID(), 0u) << "the command line has the keyboard";
    EXPECT_FALSE(State.CommandLine.Focus);
    Type("server soc");
    Press(kTab);
    EXPECT_EQ(Input(), "server socket ");
    Press(kEnter);
    const CallEvent* socket = LastCallOf("server");
    ASSERT_NE(socket, nullptr) << "the line ran";
    EXPECT_EQ(socket->Call, CallId::Socket);
    EXPECT_EQ(socket->Phase, CallPhase::Finished);
    EXPECT_GE(socket->Result, 0);
    EXPECT_EQ(Input(), "") << "an empty line for the next command";
    EXPECT_TRUE(State.CommandLine.Error.empty());

    for (const char* line : {"server bind", "server listen 1", "client1 socket", "client1 connect"}) {
        Type(line);
        Press(kEnter);
    }
    ASSERT_EQ(State.CommandLine.History,
              (std::vector<std::string>{"server socket ", "server bind", "server listen 1", "client1 socket",
                                        "client1 connect"}))
        << State.CommandLine.Error;
    // A call's line waits for no kernel view of its own: the listener shows at the
    // probe's next look.
    EXPECT_TRUE(test::WaitUntil([&] {
        ThePlayground.Drive(0.05);
        return !TheWorld.Listeners().empty() && TheWorld.Listeners()[0].AcceptQueue == 1;
    })) << "the kernel's accept queue holds client1's connection";
    EXPECT_EQ(LastCallOf("client1")->Result, 0);

    // Up recalls the last line, Up again the one before it.
    Press(kUp);
    EXPECT_EQ(Input(), "client1 connect");
    Press(kUp);
    EXPECT_EQ(Input(), "client1 socket");
    Press(kDown);
    EXPECT_EQ(Input(), "client1 connect");
}

TEST_F(PlaygroundFrames, ARefusedLineStaysWithItsOneLineError)
{
    Type("server listen lots");
    Press(kEnter);
    EXPECT_EQ(State.CommandLine.Error, "backlog: expected a whole number, found \"lots\"");
    EXPECT_EQ(Input(), "server listen lots") << "nothing typed is lost";
    EXPECT_EQ(TheWorld.FindActor("server"), nullptr) << "nothing ran";
    // The line has the keyboard again, the cursor after the text: mend it.
    for (int i = 0; i < 4; ++i)
        Press(kBackspace);
    Type("1");
    EXPECT_EQ(Input(), "server listen 1");
    for (int i = 0; i < 8; ++i) // back to "server "
        Press(kBackspace);
    // Tab with several answers offers them under the line.
    Type("re");
    Press(kTab);
    EXPECT_EQ(Input(), "server re");
    EXPECT_EQ(State.CommandLine.Offers.size(), 4u); // read, recv, recvfrom, release
}

// A question before a step (issue 13, part 4): drawn under "Next", with its choices;
// once one is picked, whether it is the answer.
TEST_F(ImGuiFrames, TheQuestionBeforeAStepShowsItsChoicesAndThenTheVerdict)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    Lesson plain = *lesson;
    lesson->Steps[0].Ask = Question{{"Which state is the listening socket in after listen()?", ""},
                                    {{"LISTEN", ""}, {"ESTABLISHED", ""}, {"CLOSED", ""}},
                                    0};
    World world;
    UiState state;
    LessonView without_view, asked_view;
    without_view.Data = &plain;
    asked_view.Data = &*lesson;
    int without = 0, asked = 0, answered = 0;
    Frame(UiFrame{world, without_view, 1.0, true}, state, &without);
    EXPECT_EQ(state.Asked.Of, nullptr) << "no question, nothing asked";
    Frame(UiFrame{world, asked_view, 1.0, true}, state, &asked);
    EXPECT_EQ(state.Asked.Of, &*lesson);
    EXPECT_EQ(state.Asked.Step, 0);
    EXPECT_EQ(state.Asked.Choice, -1);
    EXPECT_GT(asked, without) << "the question and its three choices";
    state.Asked.Choice = 2;
    Frame(UiFrame{world, asked_view, 1.0, true}, state, &answered);
    EXPECT_GT(answered, asked) << "the verdict under the choices";
    EXPECT_TRUE(OverlappingGlyphs(FrameGlyphs()).empty());
}

} // namespace

// The lesson panel's "What if...?" button asks for the playground on the lesson's lab; it
// is not offered once the command line is open.
TEST_F(ImGuiFrames, WhatIfOnALessonAsksForThePlaygroundFromThere)
{
    std::string error;
    auto lesson = LoadLessonFile(std::string(SOCKSCOPE_SOURCE_DIR) + "/assets/lessons/no-accept.json", error);
    ASSERT_TRUE(lesson) << error;
    World world;
    UiState state;
    state.LessonNames = {"no-accept"};
    LessonView view;
    view.Data = &*lesson;
    view.StepIndex = 1;
    view.StepsDone = 2;
    view.Status = StepStatus::Passed;
    UiFrame frame{world, view, 0.0, false, true};
    auto asks = [&] { return SomeClickAsks(frame, state, "lesson", UiCommand::PlaygroundFromHere); };
    EXPECT_TRUE(asks()) << "no 'What if...?' button on the lesson panel";
    state.CommandLine.On = true;
    EXPECT_FALSE(asks()) << "the playground is open already";
}
