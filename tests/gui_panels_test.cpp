// The GUI panels added for the lifecycle lessons: the TCP state machine, packet gates,
// and the kernel's settings and counters. ImGui frames, no GL.
#include "gui_test_util.hpp"

using namespace sockscope;
using namespace sockscope::guitest;

// --- the TCP state machine ---------------------------------------------------------------

TEST(GuiStateMachine, EachBoxCountsTheSocketsInThatState)
{
    World world = NoAcceptAfterThreeConnects();
    // client4 made a socket and has not connected: the kernel does not list it.
    world.Apply(NewSocket(20, "client4", "client", 9, 0x204));
    auto counts = StateCounts(world);
    auto count = [&](DiagramBox box) { return counts[static_cast<int>(box)]; };
    EXPECT_EQ(count(DiagramBox::Listen), 1);
    EXPECT_EQ(count(DiagramBox::Established), 6) << "three clients and the three ends the kernel made";
    EXPECT_EQ(count(DiagramBox::Closed), 1) << "client4's descriptor";
    EXPECT_EQ(count(DiagramBox::SynReceived), 0);
    EXPECT_EQ(count(DiagramBox::ClosedEnd), 0);

    // A request socket (the kernel's NEW_SYN_RECV) is SYN-RECEIVED; TIME-WAIT is listed too.
    Snapshot snap;
    snap.T = 21;
    snap.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 0x100, 1003, 0, 5));
    snap.Sockets.push_back(Row(TcpState::NewSynRecv, "127.0.0.1:4000", "127.0.0.1:50009", 0x400, 0));
    snap.Sockets.push_back(Row(TcpState::TimeWait, "127.0.0.1:50001", "127.0.0.1:4000", 0x500, 0));
    world.Apply(snap);
    counts = StateCounts(world);
    EXPECT_EQ(count(DiagramBox::SynReceived), 1);
    EXPECT_EQ(count(DiagramBox::TimeWait), 1);
    EXPECT_EQ(count(DiagramBox::Established), 0);
    EXPECT_EQ(count(DiagramBox::Closed), 4) << "client1..3 (not listed any more) and client4";
    EXPECT_EQ(SocketsInBox(world, DiagramBox::SynReceived, Lang::En),
              std::vector<std::string>{"server  127.0.0.1:4000 → 127.0.0.1:50009  no fd yet"});
}

// A UDP socket has no TCP state: the kernel keeps an unconnected one in TCP_CLOSE and a
// connected one in TCP_ESTABLISHED, but neither belongs in the diagram, and a gate (which
// holds TCP segments) is never offered for it.
TEST(GuiStateMachine, UdpSocketsAreNotCountedAsTcpStates)
{
    World world = NoAcceptAfterThreeConnects();
    const auto before = StateCounts(world);
    world.Apply(NewSocket(30, "server", "server", 9, 0x900));
    Snapshot snap;
    snap.T = 30;
    KernelSocket bound = Row(TcpState::Close, "127.0.0.1:5000", "0.0.0.0:0", 0x900, 1009);
    KernelSocket connected = Row(TcpState::Established, "127.0.0.1:5001", "127.0.0.1:5000", 0x901, 0);
    bound.Proto = connected.Proto = IPPROTO_UDP;
    snap.Sockets = {bound, connected};
    for (const auto& s : world.Sockets())
        if (s.InKernel)
            snap.Sockets.push_back(s.K);
    world.Apply(snap);
    EXPECT_EQ(UdpSocketCount(world), 2);
    EXPECT_EQ(StateCounts(world), before);
    const SocketView* udp = world.FindSocket(0x900);
    ASSERT_TRUE(udp);
    ASSERT_TRUE(udp->Fd) << "the server holds it";
    EXPECT_TRUE(GateChoices(*udp).empty());
    EXPECT_EQ(SocketStateName(udp->State(), udp->K.Proto), "UNCONN");
}

TEST(GuiStateMachine, AMissedStepIsFilledInOnlyWhenTheDiagramHasOne)
{
    auto path = [](DiagramBox from, TcpState to) {
        std::vector<std::pair<DiagramBox, DiagramBox>> out;
        for (int i : ArrowPath(from, to))
            out.emplace_back(DiagramArrows()[i].From, DiagramArrows()[i].To);
        return out;
    };
    using B = DiagramBox;
    using P = std::vector<std::pair<B, B>>;
    EXPECT_EQ(path(B::Closed, TcpState::SynSent), (P{{B::Closed, B::SynSent}}));
    // SYN-SENT lasts microseconds on loopback: the probe sees CLOSED, then ESTABLISHED.
    EXPECT_EQ(path(B::Closed, TcpState::Established), (P{{B::Closed, B::SynSent}, {B::SynSent, B::Established}}));
    EXPECT_EQ(path(B::Listen, TcpState::Established),
              (P{{B::Listen, B::SynReceived}, {B::SynReceived, B::Established}}));
    EXPECT_EQ(path(B::Established, TcpState::FinWait2),
              (P{{B::Established, B::FinWait1}, {B::FinWait1, B::FinWait2}}));
    EXPECT_EQ(path(B::LastAck, TcpState::Close), (P{{B::LastAck, B::ClosedEnd}}));
    EXPECT_EQ(path(B::SynSent, TcpState::Close), (P{{B::SynSent, B::Closed}}));
    EXPECT_TRUE(path(B::Established, TcpState::Close).empty()) << "a reset is no arrow of the diagram";
    EXPECT_TRUE(path(B::Established, TcpState::Established).empty());
    EXPECT_EQ(FindArrow(B::TimeWait, B::ClosedEnd) >= 0, true);
    EXPECT_STREQ(DiagramArrows()[FindArrow(B::TimeWait, B::ClosedEnd)].Label, "timeout 2MSL");
}

TEST(GuiStateMachine, ArrowsTakenInTheLastTwoSecondsAreRecent)
{
    World world;
    world.Apply(NewSocket(1, "server", "server", 3, 0x100));
    CallEvent listen = Finished(2, "server", "server", "listen", {.Value = 5}, 0, 3);
    listen.Local = Ep("127.0.0.1:4000");
    world.Apply(listen);
    world.Apply(NewSocket(3, "client1", "client", 4, 0x201));
    auto recent = [&](DiagramBox from, DiagramBox to) { return RecentArrowCounts(world)[FindArrow(from, to)]; };
    auto total = [&] {
        auto counts = RecentArrowCounts(world);
        return std::accumulate(counts.begin(), counts.end(), 0);
    };

    Snapshot listening; // the client's descriptor is CLOSED: the kernel does not list it
    listening.T = 1;
    listening.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 0x100, 1003, 0, 5));
    world.Apply(listening);
    EXPECT_EQ(recent(DiagramBox::Closed, DiagramBox::Listen), 1);
    EXPECT_EQ(total(), 1);

    Snapshot connected = listening;
    connected.T = 2;
    connected.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:50001", "127.0.0.1:4000", 0x201, 1004));
    connected.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:4000", "127.0.0.1:50001", 0x301, 0));
    world.Apply(connected);
    EXPECT_EQ(recent(DiagramBox::Closed, DiagramBox::SynSent), 1) << "the client, through SYN-SENT";
    EXPECT_EQ(recent(DiagramBox::SynSent, DiagramBox::Established), 1);
    EXPECT_EQ(recent(DiagramBox::Listen, DiagramBox::SynReceived), 1) << "the server's end, made by the listener";
    EXPECT_EQ(recent(DiagramBox::SynReceived, DiagramBox::Established), 1);
    EXPECT_EQ(recent(DiagramBox::Closed, DiagramBox::Listen), 1);
    EXPECT_EQ(total(), 5);

    connected.T = 4.5; // nothing moved for 2.5 s
    world.Apply(connected);
    EXPECT_EQ(total(), 0);

    Snapshot closing = listening;
    closing.T = 5;
    closing.Sockets.push_back(Row(TcpState::FinWait2, "127.0.0.1:50001", "127.0.0.1:4000", 0x201, 1004));
    closing.Sockets.push_back(Row(TcpState::CloseWait, "127.0.0.1:4000", "127.0.0.1:50001", 0x301, 0));
    world.Apply(closing);
    EXPECT_EQ(recent(DiagramBox::Established, DiagramBox::FinWait1), 1);
    EXPECT_EQ(recent(DiagramBox::FinWait1, DiagramBox::FinWait2), 1);
    EXPECT_EQ(recent(DiagramBox::Established, DiagramBox::CloseWait), 1);
    EXPECT_EQ(total(), 3);
}

// --- packet gates ---------------------------------------------------------------------------

TEST(GuiGates, TheGateIsReadBackFromTheActorsCalls)
{
    World world = NoAcceptAfterThreeConnects();
    EXPECT_EQ(GateOf(world, "server", "main").Held, "");
    world.Apply(GateCall(30, "server", "main", "handshake-ack"));
    EXPECT_EQ(GateOf(world, "server", "main").Held, "handshake-ack");
    EXPECT_EQ(GateOf(world, "client1", "main").Held, "") << "another actor";
    world.Apply(GateCall(31, "server", "main", "syn"));
    EXPECT_EQ(GateOf(world, "server", "main").Held, "syn") << "attaching replaces the gate";
    world.Apply(GateCall(32, "server", "main", "", CallPhase::Queued));
    EXPECT_TRUE(GateOf(world, "server", "main").Changing);
    world.Apply(GateCall(32, "server", "main", ""));
    EXPECT_EQ(GateOf(world, "server", "main").Held, "");
    EXPECT_FALSE(GateOf(world, "server", "main").Changing);
    world.Apply(GateCall(33, "server", "main", "syn", CallPhase::Finished, -1));
    EXPECT_EQ(GateOf(world, "server", "main").Held, "");
    EXPECT_EQ(GateOf(world, "server", "main").Failure, "EPERM");

    // A new descriptor under the same name starts without a gate.
    world.Apply(GateCall(34, "client1", "main", "fin"));
    EXPECT_EQ(GateOf(world, "client1", "main").Held, "fin");
    CallEvent close = Finished(35, "client1", "client", "close", {}, 0, 4);
    close.Closed = true;
    world.Apply(close);
    EXPECT_EQ(GateOf(world, "client1", "main").Held, "");
}

TEST(GuiGates, AToggleSubmitsGateOrUngateForTheSocketsDescriptor)
{
    World world = NoAcceptAfterThreeConnects();
    const SocketView* listener = FindByRole(world, SocketRole::Listener);
    const SocketView* client = FindByRole(world, SocketRole::Client);
    const SocketView* unaccepted = FindByRole(world, SocketRole::Server);
    ASSERT_TRUE(listener && client && unaccepted);
    EXPECT_EQ(GateChoices(*listener), (std::vector<std::string>{"syn", "handshake-ack"}));
    EXPECT_EQ(GateChoices(*client), (std::vector<std::string>{"fin", "ack"}));
    EXPECT_TRUE(GateChoices(*unaccepted).empty()) << "no descriptor to attach a filter to";

    UiCommand hold = GateCommand(world, *listener, "syn", true);
    EXPECT_EQ(hold.What, UiCommand::Submit);
    EXPECT_EQ(hold.Request.Actor, "server");
    EXPECT_EQ(hold.Request.ActorKind, "server");
    EXPECT_EQ(hold.Request.Call, CallId::Gate);
    EXPECT_EQ(hold.Request.Option, "syn");
    EXPECT_EQ(hold.Request.Fd, "main");
    UiCommand release = GateCommand(world, *client, "fin", false);
    EXPECT_EQ(release.Request.Actor, client->Actor);
    EXPECT_EQ(release.Request.ActorKind, "client");
    EXPECT_EQ(release.Request.Call, CallId::Ungate);
    EXPECT_EQ(release.Request.Fd, "main");

    EXPECT_EQ(GateToggleLabel("handshake-ack", false, Lang::En), "hold handshake ACK");
    EXPECT_EQ(GateToggleLabel("fin", true, Lang::En), "holding FIN");
    EXPECT_EQ(GateToggleLabel("fin", true, Lang::Zh), "正在拦截 FIN");
    for (const char* kind : {"syn", "handshake-ack", "fin", "ack"})
        EXPECT_STRNE(GateExplanation(kind, Lang::Zh), GateExplanation(kind, Lang::En)) << kind;
}

TEST_F(ImGuiFrames, ClickingHoldSynSubmitsTheGateAndClickingAgainReleasesIt)
{
    World world = NoAcceptAfterThreeConnects();
    const SocketView listener = *FindByRole(world, SocketRole::Listener);
    ImVec2 first;
    EXPECT_TRUE(ToggleFrame(world, listener, false, &first).empty());
    ImVec2 box(first.x + 6, first.y + 6); // inside the first checkbox, "hold SYN"

    auto commands = Click(world, listener, false, box);
    ASSERT_EQ(commands.size(), 1u);
    const CallRequest& r = commands[0].Request;
    EXPECT_EQ(commands[0].What, UiCommand::Submit);
    EXPECT_EQ(r.Actor, "server");
    EXPECT_EQ(r.ActorKind, "server");
    EXPECT_EQ(r.Call, CallId::Gate);
    EXPECT_EQ(r.Option, "syn");
    EXPECT_EQ(r.Fd, "main");

    // While a lesson step runs, the toggles do nothing.
    EXPECT_TRUE(Click(world, listener, true, box).empty());

    // Once the lab reports the gate, the same checkbox releases it.
    world.Apply(GateCall(30, "server", "main", "syn"));
    commands = Click(world, listener, false, box);
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0].Request.Call, CallId::Ungate);
    EXPECT_EQ(commands[0].Request.Fd, "main");
}

// --- the kernel panel ----------------------------------------------------------------------

TEST(GuiKernelPanel, CountersShowTheirTotalAndWhatTheLessonAdded)
{
    EXPECT_EQ(CounterChangeLabel(0), "0");
    EXPECT_EQ(CounterChangeLabel(3), "+3");

    World world;
    EXPECT_EQ(CounterRows(world)[0].Total, "-") << "nothing read yet";
    Snapshot first;
    first.T = 1;
    first.Counters = {{"ListenOverflows", 10}, {"ActiveOpens", 100}};
    first.Sysctls = {{"net.core.somaxconn", "4096"}, {"net.ipv4.tcp_syncookies", "1"}};
    world.Apply(first);
    Snapshot later = first;
    later.T = 2;
    later.Counters = {{"ListenOverflows", 13}, {"ActiveOpens", 100}, {"SomethingNew", 7}};
    world.Apply(later);

    auto rows = CounterRows(world);
    auto row = [&](const std::string& name) {
        for (const auto& r : rows)
            if (r.Name == name)
                return r;
        ADD_FAILURE() << name << " is not listed";
        return CounterRow{};
    };
    EXPECT_EQ(rows[0].Name, "ListenOverflows");
    EXPECT_EQ(row("ListenOverflows").Total, "13");
    EXPECT_EQ(row("ListenOverflows").Change, "+3");
    EXPECT_TRUE(row("ListenOverflows").Moved);
    EXPECT_EQ(row("ActiveOpens").Change, "0");
    EXPECT_FALSE(row("ActiveOpens").Moved);
    EXPECT_EQ(row("OutRsts").Total, "-") << "a counter the probe did not read";
    EXPECT_EQ(rows.back().Name, "SomethingNew") << "unknown counters come last";
    for (const char* name : {"ListenOverflows", "ListenDrops", "TCPReqQFullDrop", "SyncookiesSent", "TCPAbortOnClose",
                             "TCPAbortOnData", "TCPAbortOnLinger", "TCPTimeouts", "TCPSynRetrans", "ActiveOpens",
                             "PassiveOpens", "AttemptFails", "EstabResets", "RetransSegs", "OutRsts"}) {
        CounterRow r = row(name);
        ASSERT_NE(r.Meaning, nullptr);
        EXPECT_STRNE(Tr(Lang::Zh, r.Meaning), r.Meaning) << name << ": no Chinese";
    }

    auto sysctls = SysctlRows(world);
    ASSERT_EQ(sysctls.size(), 8u);
    EXPECT_EQ(sysctls[0].Name, "net.core.somaxconn");
    EXPECT_EQ(sysctls[0].Value, "4096");
    EXPECT_EQ(sysctls[1].Value, "-") << "tcp_max_syn_backlog was not read";
    for (const auto& s : sysctls)
        EXPECT_STRNE(Tr(Lang::Zh, s.Meaning), s.Meaning) << s.Name << ": no Chinese";
}

TEST_F(ImGuiFrames, TheStateMachineAndKernelTabsDraw)
{
    World world = NoAcceptAfterThreeConnects();
    Snapshot counters;
    counters.T = 21;
    counters.Sockets = {Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 0x100, 1003, 0, 5)};
    counters.Counters = {{"ListenOverflows", 1}};
    counters.Sysctls = {{"net.core.somaxconn", "4096"}};
    world.Apply(counters);
    UiFrame frame{world, LessonView{}, 30.0, true};
    UiState state;

    int sockets_vertices = 0;
    Frame(frame, state, &sockets_vertices);
    EXPECT_EQ(state.Tab, LowerTab::Sockets) << "the socket table is the default";
    EXPECT_FALSE(state.SelectTab);

    for (LowerTab tab : {LowerTab::StateMachine, LowerTab::Kernel}) {
        state.Tab = tab;
        state.SelectTab = true;
        int vertices = 0;
        for (int i = 0; i < 3; ++i)
            Frame(frame, state, &vertices);
        EXPECT_EQ(state.Tab, tab) << "the requested tab stays selected";
        EXPECT_FALSE(state.SelectTab);
        EXPECT_GT(vertices, 1000);
        state.Language = Lang::Zh;
        Frame(frame, state);
        state.Language = Lang::En;
        World empty;
        Frame(UiFrame{empty, LessonView{}, 0.0, false}, state);
    }
    EXPECT_EQ(LowerTabFromName("state"), LowerTab::StateMachine);
    EXPECT_EQ(LowerTabFromName("kernel"), LowerTab::Kernel);
    EXPECT_EQ(LowerTabFromName("sockets"), LowerTab::Sockets);
    EXPECT_FALSE(LowerTabFromName("tables"));
}


// --- presenter mode: scale, theme, keys, settings ----------------------------------------

namespace {

// A fresh, empty directory under the test's temporary directory.
std::string FreshDir(const std::string& name)
{
    std::string dir = ::testing::TempDir() + "sockscope_presenter_" + std::to_string(getpid()) + "_" + name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

bool IsEmptyDir(const std::string& dir)
{
    return std::filesystem::is_empty(dir);
}

// Sets an environment variable for one scope, then puts the old value back.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : Name(name)
    {
        if (const char* old = std::getenv(name))
            Old = old;
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~ScopedEnv()
    {
        if (Old)
            setenv(Name, Old->c_str(), 1);
        else
            unsetenv(Name);
    }

private:
    const char* Name;
    std::optional<std::string> Old;
};

} // namespace

TEST(GuiPresenter, ScaleStepsStayWithinOneAndTwo)
{
    EXPECT_EQ(StepScale(1.0f, +1), 1.25f);
    EXPECT_EQ(StepScale(1.25f, +1), 1.5f);
    EXPECT_EQ(StepScale(1.75f, +1), 2.0f);
    EXPECT_EQ(StepScale(2.0f, +1), 2.0f) << "200% is the largest";
    EXPECT_EQ(StepScale(1.0f, -1), 1.0f) << "100% is the smallest";
    EXPECT_EQ(StepScale(1.5f, -1), 1.25f);
    EXPECT_EQ(StepScale(1.3f, +1), 1.5f) << "an odd scale snaps to a step first";
    EXPECT_EQ(SnapScale(9.0f), 2.0f);
    EXPECT_EQ(SnapScale(0.1f), 1.0f);
    EXPECT_EQ(SnapScale(std::nanf("")), 1.0f);
    EXPECT_EQ(ScaleCommand(1.5f).What, UiCommand::SetScale);
}

TEST(GuiPresenter, ScreenshotsAreNamedByTheLocalTime)
{
    std::tm when{};
    when.tm_year = 2024 - 1900;
    when.tm_mon = 2;
    when.tm_mday = 7;
    when.tm_hour = 9;
    when.tm_min = 5;
    when.tm_sec = 3;
    when.tm_isdst = -1;
    std::time_t t = std::mktime(&when);
    EXPECT_EQ(ScreenshotFileName(t), "sockscope-20240307-090503.png");
    {
        ScopedEnv pictures("XDG_PICTURES_DIR", "/tmp/pics");
        EXPECT_EQ(ScreenshotPath(t), "/tmp/pics/sockscope-20240307-090503.png");
    }
    ScopedEnv none("XDG_PICTURES_DIR", nullptr);
    EXPECT_EQ(ScreenshotPath(t), "sockscope-20240307-090503.png");
}

TEST_F(ImGuiFrames, TheHighContrastThemeIsBlackOnWhiteWithThickBorders)
{
    ApplyTheme(ThemeKind::Contrast);
    const ImGuiStyle& style = ImGui::GetStyle();
    auto is = [](ImVec4 c, float r, float g, float b) { return c.x == r && c.y == g && c.z == b && c.w == 1.0f; };
    EXPECT_TRUE(is(style.Colors[ImGuiCol_Text], 0, 0, 0));
    EXPECT_TRUE(is(style.Colors[ImGuiCol_WindowBg], 1, 1, 1));
    EXPECT_TRUE(is(style.Colors[ImGuiCol_Border], 0, 0, 0));
    EXPECT_TRUE(is(style.Colors[ImGuiCol_TableBorderStrong], 0, 0, 0));
    EXPECT_LE(style.Colors[ImGuiCol_TextDisabled].x, 0.25f) << "no pale grey text";
    EXPECT_GE(style.WindowBorderSize, 2.0f);
    EXPECT_GE(style.FrameBorderSize, 2.0f);

    // Back to normal, then scaled: sizes come from a fresh style, not from the last call.
    ApplyStyle(ThemeKind::Normal, 1.5f);
    ApplyStyle(ThemeKind::Normal, 1.5f);
    EXPECT_FALSE(is(ImGui::GetStyle().Colors[ImGuiCol_WindowBg], 1, 1, 1));
    EXPECT_FLOAT_EQ(ImGui::GetStyle().ScrollbarSize, 16.0f * 1.5f);
    EXPECT_FLOAT_EQ(ImGui::GetStyle().WindowBorderSize, 1.0f) << "ScaleAllSizes leaves borders alone";
}

// The View menu (the status bar's "View" button) offers the diagrams' export, as SVG and
// as PNG: clicking each item asks for it.
TEST_F(ImGuiFrames, TheViewMenuExportsTheDiagramsAsSvgAndPng)
{
    World world;
    UiState state;
    UiFrame frame{world, LessonView{}, 0.0, false};
    ImGuiIO& io = ImGui::GetIO();
    auto click = [&](ImVec2 at) {
        io.MousePos = at;
        auto commands = Frame(frame, state);
        io.MouseDown[0] = true;
        for (auto& c : Frame(frame, state))
            commands.push_back(c);
        io.MouseDown[0] = false;
        for (auto& c : Frame(frame, state))
            commands.push_back(c);
        return commands;
    };
    Frame(frame, state);
    ImGuiWindow* status = ImGui::FindWindowByName("##status");
    ASSERT_NE(status, nullptr);
    // The View button is at the right end of the status line: click from the right until a popup opens.
    std::optional<ImVec2> button;
    for (float x = status->Rect().Max.x - 4; x > status->Rect().Min.x && !button; x -= 8.0f) {
        ImVec2 at(x, status->Rect().GetCenter().y);
        click(at);
        if (ImGui::GetCurrentContext()->OpenPopupStack.Size > 0)
            button = at;
    }
    ASSERT_TRUE(button) << "no View menu in the status bar";
    Frame(frame, state); // a popup is sized in the frame after it opens
    ASSERT_GT(ImGui::GetCurrentContext()->OpenPopupStack.Size, 0);
    ImRect menu = ImGui::GetCurrentContext()->OpenPopupStack[0].Window->Rect();
    ASSERT_GT(menu.GetHeight(), ImGui::GetFontSize() * 4) << "the menu's items";
    std::set<UiCommand::Kind> asked;
    for (float y = menu.Min.y + 2; y < menu.Max.y; y += ImGui::GetFontSize() * 0.5f) {
        if (ImGui::GetCurrentContext()->OpenPopupStack.Size == 0)
            click(*button); // the last item closed it
        for (const auto& c : click(ImVec2(menu.Min.x + 30, y)))
            asked.insert(c.What);
    }
    EXPECT_TRUE(asked.count(UiCommand::ExportSvg));
    EXPECT_TRUE(asked.count(UiCommand::ExportPng));
    EXPECT_TRUE(asked.count(UiCommand::SaveScreenshot)) << "the screenshot is still offered";
}

TEST_F(ImGuiFrames, PresenterKeysBecomeCommands)
{
    World world;
    UiState state;
    UiFrame frame{world, LessonView{}, 0.0, false};
    ImGuiIO& io = ImGui::GetIO();
    // Press `key` (with Ctrl or not) for one frame; the commands of that frame.
    auto press = [&](int key, bool ctrl) {
        io.KeyCtrl = ctrl;
        io.KeysDown[key] = true;
        auto commands = Frame(frame, state);
        io.KeysDown[key] = false;
        io.KeyCtrl = false;
        Frame(frame, state);
        return commands;
    };

    auto up = press(keys::Equal, true);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(up[0].What, UiCommand::SetScale);
    EXPECT_EQ(up[0].Scale, 1.25f);
    EXPECT_TRUE(press(keys::Equal, false).empty()) << "'=' alone is typing, not scaling";
    EXPECT_TRUE(press(keys::Minus, true).empty()) << "already at 100%";
    EXPECT_EQ(press(keys::KeypadPlus, true).at(0).Scale, 1.25f);

    state.Scale = 2.0f;
    EXPECT_TRUE(press(keys::Equal, true).empty()) << "already at 200%";
    auto down = press(keys::Minus, true);
    ASSERT_EQ(down.size(), 1u);
    EXPECT_EQ(down[0].Scale, 1.75f);
    auto reset = press(keys::Zero, true);
    ASSERT_EQ(reset.size(), 1u);
    EXPECT_EQ(reset[0].Scale, 1.0f);

    auto full = press(keys::F11, false);
    ASSERT_EQ(full.size(), 1u);
    EXPECT_EQ(full[0].What, UiCommand::ToggleFullscreen);
    for (auto [key, ctrl] : {std::pair{keys::F12, false}, std::pair{keys::S, true}}) {
        auto shot = press(key, ctrl);
        ASSERT_EQ(shot.size(), 1u) << key;
        EXPECT_EQ(shot[0].What, UiCommand::SaveScreenshot);
    }
    EXPECT_TRUE(press(keys::S, false).empty());

    // Holding a key gives one command, not one a frame.
    io.KeysDown[keys::F11] = true;
    EXPECT_EQ(Frame(frame, state).size(), 1u);
    EXPECT_TRUE(Frame(frame, state).empty());
    io.KeysDown[keys::F11] = false;
}

TEST_F(ImGuiFrames, TheStatusBarShowsTheNoticeUntilItExpires)
{
    World world;
    UiState state;
    state.Notice = "saved /tmp/sockscope-20240307-090503.png";
    state.NoticeUntil = 10.0;
    // The status bar's vertices, once the layout has settled (two frames).
    auto status_vertices = [&](double now) {
        Frame(UiFrame{world, LessonView{}, now, false}, state);
        Frame(UiFrame{world, LessonView{}, now, false}, state);
        ImGuiWindow* bar = ImGui::FindWindowByName("##status");
        return bar ? bar->DrawList->VtxBuffer.Size : 0;
    };
    int with = status_vertices(5.0);
    int without = status_vertices(11.0);
    // Four vertices a glyph: the notice has over 30 of them.
    EXPECT_GT(with, without + 4 * 30) << "the notice is drawn only before NoticeUntil";
    EXPECT_NE(KeyHelp(Lang::En).find("F11"), std::string::npos);
    EXPECT_NE(KeyHelp(Lang::Zh).find("全屏"), std::string::npos);
}

TEST(GuiSettings, WhatIsWrittenIsReadBack)
{
    std::string dir = FreshDir("roundtrip");
    std::string path = dir + "/sub/settings.ini";
    Settings settings;
    settings.Scale = 1.75f;
    settings.Theme = ThemeKind::Contrast;
    settings.Language = Lang::Zh;
    settings.HasLanguage = true;
    settings.WindowX = -20;
    settings.WindowY = 40;
    settings.WindowWidth = 1280;
    settings.WindowHeight = 720;
    settings.HasPosition = true;
    std::string error;
    ASSERT_TRUE(WriteSettings(path, settings, error)) << error;
    EXPECT_EQ(ReadSettings(path), settings);
    std::filesystem::remove_all(dir);
}

TEST(GuiSettings, AMissingOrCorruptFileGivesTheDefaults)
{
    std::string dir = FreshDir("corrupt");
    EXPECT_EQ(ReadSettings(dir + "/none.ini"), Settings{});
    EXPECT_EQ(ReadSettings(dir), Settings{}) << "a directory, not a file";

    std::string path = dir + "/settings.ini";
    {
        std::ofstream out(path, std::ios::binary);
        out << "scale = 7.5\ntheme = neon\nlanguage = fr\nwindow_x = 1e99\nwindow_width = 100\n"
            << std::string("\0\xff\xfe garbage", 11) << "\n=\n==\nscale\n";
    }
    EXPECT_EQ(ReadSettings(path), Settings{});

    // Good lines survive beside bad ones; a window is remembered only whole.
    {
        std::ofstream out(path, std::ios::trunc);
        out << "# comment\nscale = 1.5\ntheme=contrast\nwindow_x = 10\nwindow_width = 1280\n";
    }
    Settings partial = ReadSettings(path);
    EXPECT_EQ(partial.Scale, 1.5f);
    EXPECT_EQ(partial.Theme, ThemeKind::Contrast);
    EXPECT_FALSE(partial.HasPosition);
    std::filesystem::remove_all(dir);
}

TEST(GuiSettings, TheyLiveInXdgConfigHome)
{
    std::string dir = FreshDir("xdg");
    ScopedEnv config("XDG_CONFIG_HOME", dir.c_str());
    ASSERT_EQ(SettingsDirectory(), dir + "/sockscope");
    Settings settings;
    settings.Scale = 1.25f;
    std::string error;
    ASSERT_TRUE(SaveSettings(settings, error)) << error;
    EXPECT_TRUE(std::filesystem::exists(dir + "/sockscope/settings.ini")) << "the directory is created";
    EXPECT_EQ(LoadSettings().Scale, 1.25f);
    std::filesystem::remove_all(dir);
}

// The real binary, interactive (it closes itself: bench/'s report after 0.1 s), writes
// its settings on exit, unless SOCKSCOPE_NO_SETTINGS is set.
TEST(GuiSettings, TheProgramWritesThemOnExitButNotWithNoSettings)
{
    const char* display = std::getenv("DISPLAY");
    std::string prefix = display && *display ? "" : "xvfb-run -a ";
    if (!prefix.empty() && access("/usr/bin/xvfb-run", X_OK) != 0)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run";
    for (bool off : {true, false}) {
        SCOPED_TRACE(off ? "SOCKSCOPE_NO_SETTINGS=1" : "no SOCKSCOPE_NO_SETTINGS");
        std::string dir = FreshDir(off ? "off" : "on");
        std::string config = dir + "/config";
        std::filesystem::create_directories(config);
        std::string report = dir + "/report";
        auto run = test::Run(prefix + "env -u SOCKSCOPE_NO_SETTINGS XDG_CONFIG_HOME=" + config +
                                 (off ? " SOCKSCOPE_NO_SETTINGS=1" : "") + " SOCKSCOPE_BENCH_REPORT=" + report +
                                 " SOCKSCOPE_BENCH_SECONDS=0.1 " + SOCKSCOPE_BINARY + " --width 640 --height 480",
                             true);
        ASSERT_EQ(run.Status, 0) << run.Out;
        ASSERT_TRUE(std::filesystem::exists(report)) << "the window was shown and closed itself: " << run.Out;
        if (off)
            EXPECT_TRUE(IsEmptyDir(config)) << "nothing written with SOCKSCOPE_NO_SETTINGS=1";
        else
            EXPECT_TRUE(std::filesystem::exists(config + "/sockscope/settings.ini"));
        std::filesystem::remove_all(dir);
    }
}

// --- shown names in Chinese: a socket's role, an actor's kind ------------------------------

namespace {

// Every column header of every table drawn in the last frame.
std::vector<std::string> TableHeaders()
{
    std::vector<std::string> headers;
    ImGuiContext& g = *ImGui::GetCurrentContext();
    for (int i = 0; i < g.Tables.GetMapSize(); ++i)
        if (ImGuiTable* table = g.Tables.TryGetMapData(i))
            for (int column = 0; column < table->ColumnsCount; ++column)
                headers.emplace_back(ImGui::TableGetColumnName(table, column));
    return headers;
}

} // namespace

TEST_F(ImGuiFrames, InChineseTheLadderNamesAnActorsKindAndTheTableItsRoleInChinese)
{
    World world = NoAcceptAfterThreeConnects();
    Lesson lesson;
    lesson.Actors = {{"server", "server"}, {"client1", "client"}, {"client2", "client"}, {"client3", "client"}};
    UiState state;
    state.Language = Lang::Zh;
    LessonView view;
    view.Data = &lesson;
    for (int i = 0; i < 3; ++i)
        Frame(UiFrame{world, view, 0.0, false}, state);
    auto headers = TableHeaders();
    auto has = [&](const std::string& text) {
        return std::any_of(headers.begin(), headers.end(),
                           [&](const std::string& h) { return h.find(text) != std::string::npos; });
    };
    EXPECT_TRUE(has("client1 (客户端)")) << "the ladder's header";
    EXPECT_TRUE(has("server (服务器)")) << "the name stays, the kind is translated";
    EXPECT_FALSE(has("(client)"));
    EXPECT_TRUE(has("角色")) << "the socket table was drawn";
    // The role column's words, and the trace keeps the English.
    for (SocketRole role : {SocketRole::Listener, SocketRole::Client, SocketRole::Server}) {
        std::string english(SocketRoleName(role));
        EXPECT_STRNE(Tr(Lang::Zh, english.c_str()), english.c_str()) << english;
    }
    EXPECT_EQ(SocketRoleName(SocketRole::Listener), "listener");
}
