// The queue panel: each listener's accept queue, SYN queue and accepted connections, as
// boxes or (past 48 places) as bars, and a connection's box sliding to the row the model
// moves it to. The rows and the slides are checked as data (queue_model.hpp), then in
// ImGui frames with no GL, the clock driven through UiFrame::Now.
#include "gui_test_util.hpp"
#include "queue_model.hpp"

#include <algorithm>
#include <set>

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

constexpr std::uint64_t kListenerCookie = 0x100;

// A server on 127.0.0.1:4000 that called listen(3, backlog); the kernel then lists
// `accepted` connections the server accepted (fds from 10), `queued` more waiting in the
// accept queue and `syn` request sockets in SYN-RECEIVED. Client ports count up from
// 40000 in that order.
World QueuesWorld(std::uint32_t backlog, int accepted, int queued, int syn)
{
    World w;
    w.Apply(NewSocket(1, "server", "server", 3, kListenerCookie));
    CallEvent bind = Finished(2, "server", "server", "bind", To("127.0.0.1:4000"), 0, 3);
    bind.Local = Ep("127.0.0.1:4000");
    w.Apply(bind);
    w.Apply(Finished(3, "server", "server", "listen", {.Value = backlog}, 0, 3));
    Snapshot snap;
    snap.T = 20;
    snap.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", kListenerCookie, 1003,
                               static_cast<std::uint32_t>(queued), backlog));
    int port = 40000;
    for (int i = 0; i < accepted + queued + syn; ++i, ++port) {
        std::string client = "127.0.0.1:" + std::to_string(port);
        std::uint64_t cookie = 0x10000 + static_cast<std::uint64_t>(i);
        if (i < accepted) {
            CallEvent accept = Finished(10 + i, "server", "server", "accept", {}, 10 + i, 3);
            accept.NewFd = FdInfo{"conn" + std::to_string(i), 10 + i, static_cast<std::uint32_t>(5000 + i), cookie};
            w.Apply(accept);
        }
        TcpState state = i < accepted + queued ? TcpState::Established : TcpState::NewSynRecv;
        snap.Sockets.push_back(Row(state, "127.0.0.1:4000", client.c_str(), cookie,
                                   i < accepted ? static_cast<std::uint32_t>(5000 + i) : 0));
    }
    w.Apply(snap);
    return w;
}

// The queue panel alone, in a tall window at the top left. Returns the text it wrote
// (ImGui's log: every text item, not the labels drawn inside boxes and bars), its lines
// joined by spaces.
std::string QueuePanelFrame(const UiFrame& frame, UiState& state, int* vertices = nullptr)
{
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(640, 880));
    ImGui::Begin("queues alone", nullptr, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoSavedSettings);
    ImGui::LogToBuffer();
    std::vector<UiCommand> commands;
    DrawQueuePanel(frame, state, commands);
    std::string text = GImGui->LogBuffer.c_str();
    ImGui::LogFinish();
    std::replace(text.begin(), text.end(), '\n', ' '); // wrapped lines read as one
    ImGui::End();
    ImGui::Render();
    if (vertices)
        *vertices = ImGui::GetDrawData()->TotalVtxCount;
    return text;
}

// A frame at `now`; `animate` false is a still picture (a screenshot, a paused lesson).
UiFrame FrameAt(const World& world, double now, bool animate = true)
{
    UiFrame frame{world, LessonView{}, now, true};
    frame.Animate = animate;
    return frame;
}

const QueueBoxSeen* SeenBox(const UiState& state, std::uint16_t client_port)
{
    for (const auto& box : state.Queues.Boxes)
        if (box.Client.Port == client_port)
            return &box;
    return nullptr;
}

} // namespace

// --- what the panel draws in the no-accept lesson ----------------------------------------

namespace {

std::vector<std::string> Labels(const QueueRowView& row)
{
    std::vector<std::string> labels;
    for (const auto& box : row.Boxes)
        labels.push_back(box.Label);
    return labels;
}

} // namespace

TEST(QueueSlots, ThreeOfSixTakenWithTheClientPorts)
{
    World world = NoAcceptAfterThreeConnects();
    ASSERT_EQ(world.Listeners().size(), 1u);
    const ListenerView& listener = world.Listeners()[0];
    EXPECT_EQ(listener.Backlog, 5u);
    EXPECT_EQ(listener.AcceptQueue, 3u);

    ListenerQueues q = CollectListenerQueues(world, listener);
    EXPECT_EQ(q.Places, 6);
    EXPECT_EQ(q.Accept.Count, 3) << "three places taken, three free";
    EXPECT_FALSE(q.Accept.Bar);
    auto taken = Labels(q.Accept);
    EXPECT_EQ(std::multiset<std::string>(taken.begin(), taken.end()),
              (std::multiset<std::string>{":50001", ":50002", ":50003"}));
    EXPECT_EQ(q.Syn.Count, 0);
    EXPECT_TRUE(q.Syn.Boxes.empty());
    EXPECT_TRUE(q.Accepted.Boxes.empty()) << "nobody called accept()";
}

TEST(QueueSlots, TheKernelsCountWinsOverRowsNotYetSeen)
{
    World world = NoAcceptAfterThreeConnects();
    ListenerView listener = world.Listeners()[0];
    listener.AcceptQueue = 4; // the kernel counts a fourth the dump did not list yet
    ListenerQueues q = CollectListenerQueues(world, listener);
    ASSERT_EQ(q.Accept.Boxes.size(), 4u);
    EXPECT_EQ(q.Accept.Boxes[3].Label, ":?");
    EXPECT_EQ(q.Accept.Boxes[3].Client.Family, 0) << "not followed from frame to frame";
}

TEST(QueueSlots, ClientsStuckInSynSentAreListed)
{
    World world = NoAcceptAfterThreeConnects();
    Snapshot snap;
    snap.T = 21;
    snap.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 0x100, 1003, 6, 5));
    snap.Sockets.push_back(Row(TcpState::SynSent, "127.0.0.1:50009", "127.0.0.1:4000", 0x400, 2000));
    world.Apply(snap);
    ListenerQueues q = CollectListenerQueues(world, world.Listeners()[0]);
    EXPECT_EQ(q.SynSentCount, 1);
    EXPECT_EQ(q.SynSent, std::vector<std::uint16_t>{50009});
}

TEST(GuiQueues, PastFortyEightPlacesTheAcceptQueueIsOneBar)
{
    EXPECT_FALSE(DrawnAsBar(AcceptQueuePlaces(5)));
    EXPECT_FALSE(DrawnAsBar(AcceptQueuePlaces(47))) << "48 places still fit as boxes";
    EXPECT_TRUE(DrawnAsBar(AcceptQueuePlaces(48)));
    EXPECT_TRUE(DrawnAsBar(AcceptQueuePlaces(4096)));

    World world = QueuesWorld(4096, 1500, 3000, 60);
    ASSERT_EQ(world.Listeners().size(), 1u);
    ListenerQueues q = CollectListenerQueues(world, world.Listeners()[0]);
    EXPECT_EQ(q.Places, 4097);
    EXPECT_TRUE(q.Accept.Bar);
    EXPECT_EQ(q.Accept.Count, 3000) << "the kernel's figure";
    EXPECT_TRUE(q.Accept.Boxes.empty()) << "no box per connection";
    EXPECT_TRUE(q.Syn.Bar);
    EXPECT_EQ(q.Syn.Count, 60);
    EXPECT_TRUE(q.Accepted.Bar);
    EXPECT_EQ(q.Accepted.Count, 1500);
    EXPECT_TRUE(q.Syn.Boxes.empty() && q.Accepted.Boxes.empty());

    World small = QueuesWorld(5, 1, 2, 0);
    q = CollectListenerQueues(small, small.Listeners()[0]);
    EXPECT_FALSE(q.Accept.Bar || q.Syn.Bar || q.Accepted.Bar);
    EXPECT_EQ(q.Accept.Boxes.size(), 2u) << "one box per taken place";
}

TEST_F(ImGuiFrames, AFullBacklogOf4096IsABarWhateverTheConnectionCount)
{
    UiState state;
    World thousands = QueuesWorld(4096, 0, 4000, 0);
    UiFrame frame = FrameAt(thousands, 30.0);
    int vertices = 0;
    std::string text;
    for (int i = 0; i < 2; ++i) // the window's size settles
        text = QueuePanelFrame(frame, state, &vertices);
    EXPECT_NE(text.find("Accept queue: 4000 of 4097 places taken"), std::string::npos) << text;
    EXPECT_NE(text.find("limit from the kernel: backlog 4096 \u2192 4097 places"), std::string::npos) << text;
    EXPECT_NE(text.find("+1: the kernel calls the accept queue full only when it holds more than the backlog "
                        "(4096), so 4097 connections fit."),
              std::string::npos)
        << text;
    EXPECT_TRUE(state.Queues.Boxes.empty()) << "a bar follows no box";
    EXPECT_EQ(state.Queues.Bars.size(), 1u) << "the accept queue's bar; the other rows are empty";

    // Ten times fewer connections draw as many vertices: the bar costs the same.
    World hundreds = QueuesWorld(4096, 0, 400, 0);
    int fewer = 0;
    UiState other;
    for (int i = 0; i < 2; ++i)
        QueuePanelFrame(FrameAt(hundreds, 30.0, false), other, &fewer);
    EXPECT_NEAR(vertices, fewer, 60);
    // And the slots of a backlog of 40 (41 boxes) cost more than the bar of 4,097 places.
    World slots = QueuesWorld(40, 0, 40, 0);
    int boxes = 0;
    for (int i = 0; i < 2; ++i)
        QueuePanelFrame(FrameAt(slots, 30.0, false), other, &boxes);
    EXPECT_GT(boxes, vertices);

    // In Chinese the +1 is explained too.
    state.Language = Lang::Zh;
    text = QueuePanelFrame(frame, state);
    EXPECT_NE(text.find("backlog\xef\xbc\x88" "4096\xef\xbc\x89"), std::string::npos) << text;
}

TEST_F(ImGuiFrames, TheAcceptedRowNamesEachAcceptedConnectionByClientPortAndFd)
{
    World world = QueuesWorld(5, 2, 1, 0);
    ListenerQueues q = CollectListenerQueues(world, world.Listeners()[0]);
    ASSERT_EQ(q.Accepted.Boxes.size(), 2u);
    EXPECT_EQ(q.Accepted.Count, 2);
    EXPECT_EQ(q.Accepted.Boxes[0].Label, ":40000\nfd 10");
    EXPECT_EQ(q.Accepted.Boxes[1].Label, ":40001\nfd 11");
    ASSERT_EQ(q.Accept.Boxes.size(), 1u);
    EXPECT_EQ(q.Accept.Boxes[0].Label, ":40002");

    UiState state;
    std::string text = QueuePanelFrame(FrameAt(world, 30.0), state);
    EXPECT_NE(text.find("Accepted (accept() gave each a descriptor): 2"), std::string::npos) << text;
    EXPECT_NE(text.find("Accept queue: 1 of 6 places taken"), std::string::npos) << text;
    ASSERT_EQ(state.Queues.Boxes.size(), 3u) << "every box drawn is followed";
    const QueueBoxSeen* accepted = SeenBox(state, 40000);
    const QueueBoxSeen* waiting = SeenBox(state, 40002);
    ASSERT_TRUE(accepted && waiting);
    EXPECT_EQ(accepted->Row, static_cast<std::uint8_t>(QueueRow::Accepted));
    EXPECT_GT(accepted->Y, waiting->Y) << "the accepted row is below the accept queue";

    World none = QueuesWorld(5, 0, 0, 0);
    text = QueuePanelFrame(FrameAt(none, 31.0), state);
    EXPECT_NE(text.find("Accepted (accept() gave each a descriptor): 0 (empty)"), std::string::npos) << text;
    EXPECT_TRUE(state.Queues.Boxes.empty()) << "boxes no longer drawn are forgotten";
}

TEST(GuiQueues, ABoxThatChangesRowSlidesThereOverTheEaseTime)
{
    QueueMotion motion;
    const Endpoint client = Ep("127.0.0.1:40000");
    auto at = [&](QueueRow row, float y, double now, bool animate = true) {
        return StepBoxes(motion, kListenerCookie, {{client, row, 10.0f, y}}, now, animate, 0.3)[0];
    };
    auto moving = [&](double now) {
        UiState state;
        state.Queues = motion;
        return QueuesMoving(state, now);
    };
    EXPECT_EQ(at(QueueRow::Accept, 100, 10.0).Y, 100.0f);
    EXPECT_EQ(at(QueueRow::Accept, 100, 10.1).Y, 100.0f) << "same row: no slide";

    // accept() took it: it belongs in the accepted row (y 200) from now on.
    EXPECT_EQ(at(QueueRow::Accepted, 200, 10.2).Y, 100.0f) << "it leaves from where it was drawn";
    EXPECT_TRUE(moving(10.2));
    QueuePoint mid = at(QueueRow::Accepted, 200, 10.35);
    EXPECT_GT(mid.Y, 100.0f);
    EXPECT_LT(mid.Y, 200.0f);
    EXPECT_FLOAT_EQ(mid.Y, 150.0f) << "half-way in time, half-way in space (smoothstep)";
    EXPECT_EQ(mid.X, 10.0f);
    EXPECT_EQ(motion.Boxes[0].Row, static_cast<std::uint8_t>(QueueRow::Accepted))
        << "while it slides, the box already belongs to the row the model says";
    EXPECT_EQ(at(QueueRow::Accepted, 200, 10.5).Y, 200.0f) << "arrived after the ease time";
    EXPECT_FALSE(moving(10.5));
    EXPECT_EQ(at(QueueRow::Accepted, 200, 10.6).Y, 200.0f);

    // A still picture (a screenshot, a paused lesson) shows it arrived, mid-way or not.
    at(QueueRow::Syn, 0, 20.0, false);
    EXPECT_EQ(at(QueueRow::Accept, 100, 20.0).Y, 0.0f);
    EXPECT_EQ(at(QueueRow::Accept, 100, 20.15, false).Y, 100.0f);
    EXPECT_FALSE(moving(20.15));
    EXPECT_EQ(at(QueueRow::Accept, 100, 20.16).Y, 100.0f) << "and it does not start again";

    // A box that moves on before arriving leaves from where it is, not from its old place.
    at(QueueRow::Syn, 0, 30.0, false);
    at(QueueRow::Accept, 100, 30.0);
    float between = at(QueueRow::Accept, 100, 30.15).Y;
    EXPECT_FLOAT_EQ(between, 50.0f);
    EXPECT_FLOAT_EQ(at(QueueRow::Accepted, 200, 30.15).Y, between);
    EXPECT_FLOAT_EQ(at(QueueRow::Accepted, 200, 30.3).Y, 125.0f) << "half-way from there";

    // Boxes no longer drawn are forgotten: the state is what the last frame drew.
    StepBoxes(motion, kListenerCookie, {}, 40.0, true);
    EXPECT_TRUE(motion.Boxes.empty());
    // Bounded whatever is asked.
    std::vector<QueueBoxPlace> many;
    for (int i = 0; i < 3000; ++i)
        many.push_back({Ep(("127.0.0.1:" + std::to_string(20000 + i)).c_str()), QueueRow::Accept, 0, 0});
    StepBoxes(motion, kListenerCookie, many, 41.0, true);
    EXPECT_EQ(motion.Boxes.size(), kMostBoxesFollowed);
}

TEST(GuiQueues, ABarFillsSmoothlyTowardsTheNewCount)
{
    QueueMotion motion;
    auto shown = [&](int count, double now, bool animate = true) {
        return StepBars(motion, kListenerCookie, {{QueueRow::Accept, count}}, now, animate, 0.3)[0];
    };
    EXPECT_EQ(shown(1000, 1.0), 1000.0f) << "a new bar shows its count at once";
    EXPECT_EQ(shown(2000, 2.0), 1000.0f);
    EXPECT_FLOAT_EQ(shown(2000, 2.15), 1500.0f);
    EXPECT_EQ(shown(2000, 2.3), 2000.0f);
    EXPECT_EQ(shown(3000, 3.0), 2000.0f);
    EXPECT_EQ(shown(3000, 3.1, false), 3000.0f) << "a still picture shows the count";
}

TEST_F(ImGuiFrames, AConnectionSlidesFromTheSynQueueToTheAcceptQueueToTheAcceptedRow)
{
    // A request socket in SYN-RECEIVED (the handshake's last ACK held back).
    World world = QueuesWorld(5, 0, 0, 1);
    UiState state;
    QueuePanelFrame(FrameAt(world, 30.0), state);
    const QueueBoxSeen* box = SeenBox(state, 40000);
    ASSERT_NE(box, nullptr);
    EXPECT_EQ(box->Row, static_cast<std::uint8_t>(QueueRow::Syn));
    const float syn_y = box->Y;

    // The ACK gets through: the kernel lists the child socket (another cookie, the same
    // four-tuple) in the accept queue.
    Snapshot done;
    done.T = 31;
    done.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", kListenerCookie, 1003, 1, 5));
    done.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:4000", "127.0.0.1:40000", 0x20000, 0));
    world.Apply(done);
    ASSERT_EQ(world.Listeners()[0].AcceptQueue, 1u);
    QueuePanelFrame(FrameAt(world, 31.0), state);
    box = SeenBox(state, 40000);
    ASSERT_NE(box, nullptr);
    EXPECT_EQ(box->Row, static_cast<std::uint8_t>(QueueRow::Accept));
    EXPECT_EQ(box->Start, 31.0) << "it slides";
    EXPECT_EQ(box->FromY, syn_y) << "from its place in the SYN queue";
    EXPECT_LT(box->Y, syn_y) << "up to the accept queue, drawn first";
    const float accept_y = box->Y;
    EXPECT_TRUE(QueuesMoving(state, 31.1));
    QueuePanelFrame(FrameAt(world, 31.1), state);
    QueuePanelFrame(FrameAt(world, 31.0 + kEaseSeconds), state);
    EXPECT_FALSE(QueuesMoving(state, 31.0 + kEaseSeconds)) << "arrived";
    EXPECT_LT(SeenBox(state, 40000)->Start, 0.0);

    // accept() returns fd 10 for it: the same socket, now with a descriptor.
    CallEvent accept = Finished(50, "server", "server", "accept", {}, 10, 3);
    accept.NewFd = FdInfo{"conn", 10, 6000, 0x20000};
    world.Apply(accept);
    Snapshot accepted = done;
    accepted.T = 32;
    accepted.Sockets[0].RecvQ = 0;
    accepted.Sockets[1].Inode = 6000;
    world.Apply(accepted);
    QueuePanelFrame(FrameAt(world, 32.0), state);
    box = SeenBox(state, 40000);
    ASSERT_NE(box, nullptr);
    EXPECT_EQ(box->Row, static_cast<std::uint8_t>(QueueRow::Accepted));
    EXPECT_EQ(box->FromY, accept_y) << "from its place in the accept queue";
    EXPECT_GT(box->Y, accept_y) << "down to the accepted row";
    EXPECT_TRUE(QueuesMoving(state, 32.15)) << "mid-way";

    // Paused mid-way: a still picture, the box in the accepted row and nothing moving.
    QueuePanelFrame(FrameAt(world, 32.15, false), state);
    EXPECT_FALSE(QueuesMoving(state, 32.15));
    EXPECT_LT(SeenBox(state, 40000)->Start, 0.0);
}
