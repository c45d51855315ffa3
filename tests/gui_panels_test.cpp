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
    CallEvent listen = Finished(2, "server", "server", "listen", "3, 5");
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
    CallEvent close = Finished(35, "client1", "client", "close", "4");
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
    EXPECT_EQ(hold.Request.Call, "gate");
    EXPECT_EQ(hold.Request.Option, "syn");
    EXPECT_EQ(hold.Request.Fd, "main");
    UiCommand release = GateCommand(world, *client, "fin", false);
    EXPECT_EQ(release.Request.Actor, client->Actor);
    EXPECT_EQ(release.Request.ActorKind, "client");
    EXPECT_EQ(release.Request.Call, "ungate");
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
    EXPECT_EQ(r.Call, "gate");
    EXPECT_EQ(r.Option, "syn");
    EXPECT_EQ(r.Fd, "main");

    // While a lesson step runs, the toggles do nothing.
    EXPECT_TRUE(Click(world, listener, true, box).empty());

    // Once the lab reports the gate, the same checkbox releases it.
    world.Apply(GateCall(30, "server", "main", "syn"));
    commands = Click(world, listener, false, box);
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0].Request.Call, "ungate");
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

