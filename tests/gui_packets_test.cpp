// The packet panel's rows (ui/packet_model.hpp), as the panel draws them: a TCP
// connection's segments, and UDP datagrams with the ICMP errors about them, each row
// saying whether it was captured or inferred. No frame needed.
#include "gui_test_util.hpp"
#include "packet_model.hpp"

#include <netinet/in.h>

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

Segment Datagram(double t, const char* from, const char* to, std::string payload, std::uint32_t len = 0)
{
    Segment s;
    s.T = t;
    s.Proto = IPPROTO_UDP;
    s.Src = Ep(from);
    s.Dst = Ep(to);
    s.Len = len ? len : static_cast<std::uint32_t>(payload.size());
    s.Payload = std::move(payload);
    return s;
}

std::vector<std::string> Labels(const PacketLadder& ladder)
{
    std::vector<std::string> out;
    for (const auto& row : ladder.Rows)
        out.push_back(row.Label);
    return out;
}

} // namespace

// udp-unreachable, captured: each datagram goes to the port nobody has, an ICMP port
// unreachable comes back about it. No flags, no seq or ack: a length and the first bytes.
TEST(PacketPanel, CapturedDatagramsAndTheirIcmpReadAsDatagrams)
{
    std::deque<Segment> segments;
    Segment syn; // another conversation before: not shown
    syn.Src = Ep("127.0.0.1:50000");
    syn.Dst = Ep("127.0.0.1:4000");
    syn.Flags = FlagSyn;
    segments.push_back(syn);
    segments.push_back(Datagram(1, "127.0.0.1:41000", "127.0.0.1:5000", "hello"));
    segments.push_back(PortUnreachableFor(segments.back()));
    segments.push_back(Datagram(2, "127.0.0.1:41000", "127.0.0.1:5000", std::string(16, 'a'), 1000));
    PacketLadder ladder = BuildPacketLadder(segments, {5000}, Lang::En);
    EXPECT_TRUE(ladder.Datagrams);
    EXPECT_TRUE(ladder.AnyCaptured);
    EXPECT_FALSE(ladder.AnyInferred);
    EXPECT_EQ(ladder.Title, "Datagrams between 127.0.0.1:41000 (client) and 127.0.0.1:5000 (server): 3 packets, no connection");
    EXPECT_EQ(Labels(ladder), (std::vector<std::string>{
                                  "UDP datagram len=5 \"hello\"",
                                  "ICMP port unreachable, about a datagram of 5 bytes \"hello\"",
                                  "UDP datagram len=1000 \"aaaaaaaaaaaaaaaa...\"",
                              }));
    ASSERT_EQ(ladder.Rows.size(), 3u);
    EXPECT_TRUE(ladder.Rows[0].ToServer);
    EXPECT_FALSE(ladder.Rows[1].ToServer) << "the ICMP comes back to the sender";
    for (const auto& row : ladder.Rows) {
        EXPECT_FALSE(row.Inferred);
        EXPECT_EQ(row.Label.find("seq="), std::string::npos);
        EXPECT_EQ(row.Label.find("ACK"), std::string::npos);
    }

    ladder = BuildPacketLadder(segments, {5000}, Lang::Zh);
    EXPECT_EQ(Labels(ladder)[0], "UDP 数据报 len=5 \"hello\"");
    EXPECT_EQ(Labels(ladder)[1], "ICMP 端口不可达，针对一个 5 字节的数据报 \"hello\"");
    EXPECT_EQ(ladder.Title, "127.0.0.1:41000（客户端）与 127.0.0.1:5000（服务器）之间的数据报：3 个包，没有连接");
}

// Without capture the rows say so, as the TCP segments inferred from states do.
TEST(PacketPanel, InferredDatagramsAreLabelledInferredLikeInferredSegments)
{
    std::deque<Segment> segments;
    segments.push_back(Datagram(1, "127.0.0.1:41000", "127.0.0.1:5000", "one"));
    segments.back().Inferred = true;
    segments.push_back(PortUnreachableFor(segments.back()));
    PacketLadder ladder = BuildPacketLadder(segments, {5000}, Lang::En);
    EXPECT_TRUE(ladder.AnyInferred);
    EXPECT_FALSE(ladder.AnyCaptured);
    EXPECT_EQ(Labels(ladder), (std::vector<std::string>{
                                  "UDP datagram len=3 \"one\" (inferred)",
                                  "ICMP port unreachable, about a datagram of 3 bytes \"one\" (inferred)",
                              }));
    Segment ack; // the TCP rows keep their labels
    ack.Src = Ep("127.0.0.1:50000");
    ack.Dst = Ep("127.0.0.1:4000");
    ack.Flags = FlagAck;
    ack.Inferred = true;
    segments.push_back(ack);
    ladder = BuildPacketLadder(segments, {4000, 5000}, Lang::En);
    EXPECT_FALSE(ladder.Datagrams);
    EXPECT_EQ(Labels(ladder), std::vector<std::string>{"ACK (inferred)"});
    EXPECT_EQ(Labels(BuildPacketLadder(segments, {4000}, Lang::Zh)), std::vector<std::string>{"ACK（推断）"});
}

TEST(PacketPanel, CapturedSegmentsShowNumbersRelativeToEachSidesFirst)
{
    std::deque<Segment> segments;
    Segment syn;
    syn.Src = Ep("127.0.0.1:50000");
    syn.Dst = Ep("127.0.0.1:4000");
    syn.Flags = FlagSyn;
    syn.Seq = 1000;
    segments.push_back(syn);
    Segment synack = syn;
    std::swap(synack.Src, synack.Dst);
    synack.Flags = FlagSyn | FlagAck;
    synack.Seq = 7000;
    synack.Ack = 1001;
    segments.push_back(synack);
    PacketLadder ladder = BuildPacketLadder(segments, {4000}, Lang::En);
    EXPECT_FALSE(ladder.Datagrams);
    EXPECT_EQ(ladder.Title, "Connection 127.0.0.1:50000 (client) - 127.0.0.1:4000 (server): 2 segments");
    EXPECT_EQ(Labels(ladder), (std::vector<std::string>{"SYN seq=0 len=0", "SYN-ACK seq=0 ack=1 len=0"}));
    EXPECT_TRUE(BuildPacketLadder({}, {4000}, Lang::En).Rows.empty());
}
