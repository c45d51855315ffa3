// Datagrams without a capture of UDP: what the World infers from a UDP socket's sends and
// receives (one datagram each, never twice), and the ICMP port unreachable that an
// ECONNREFUSED proves. Recorded inputs, as the udp-unreachable lesson makes them.
#include "model_fixtures.hpp"
#include "world.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <netinet/in.h>

using namespace sockscope;
using fixtures::Ep;
using fixtures::Finished;
using fixtures::Row;
using fixtures::To;

namespace {

CallEvent UdpSocket(std::uint64_t id, const char* actor, int fd, std::uint64_t cookie)
{
    CallEvent c = Finished(id, actor, "client", "socket", {.Family = AF_INET, .Type = SOCK_DGRAM}, fd, fd);
    c.NewFd = FdInfo{"main", fd, static_cast<std::uint32_t>(1000 + fd), cookie};
    return c;
}

CallEvent Sendto(std::uint64_t id, const char* actor, int fd, const char* to, const char* from, std::string data)
{
    CallEvent c = Finished(id, actor, "client", "sendto", To(to), static_cast<long>(data.size()), fd);
    c.Local = Ep(from);
    c.Data = std::move(data);
    return c;
}

CallEvent Send(std::uint64_t id, const char* actor, int fd, std::string data, int err = 0)
{
    CallEvent c = Finished(id, actor, "client", "send", {}, err ? -1 : static_cast<long>(data.size()), fd);
    c.Errno = err;
    if (!err)
        c.Data = std::move(data);
    return c;
}

CallEvent Recvfrom(std::uint64_t id, const char* actor, int fd, const char* from, std::string data)
{
    CallEvent c = Finished(id, actor, "server", "recvfrom", To(from), static_cast<long>(data.size()), fd);
    c.Data = std::move(data);
    return c;
}

} // namespace

TEST(WorldDatagrams, ASendtoIsOneInferredDatagramWithItsLengthAndFirstBytes)
{
    World w;
    w.SetInferDatagrams(true);
    w.Apply(UdpSocket(1, "client", 3, 10));
    w.Apply(Sendto(2, "client", 3, "127.0.0.1:5000", "127.0.0.1:41000", "hello"));
    ASSERT_EQ(w.Segments().size(), 1u);
    const Segment& d = w.Segments()[0];
    EXPECT_TRUE(IsDatagram(d));
    EXPECT_TRUE(d.Inferred);
    EXPECT_EQ(d.Src.ToString(), "127.0.0.1:41000");
    EXPECT_EQ(d.Dst.ToString(), "127.0.0.1:5000");
    EXPECT_EQ(d.Len, 5u);
    EXPECT_EQ(d.Payload, "hello");
    EXPECT_EQ(d.Flags, 0) << "a datagram has no TCP flags";

    World captured; // a capture of UDP: nothing is made up
    captured.Apply(UdpSocket(1, "client", 3, 10));
    captured.Apply(Sendto(2, "client", 3, "127.0.0.1:5000", "127.0.0.1:41000", "hello"));
    EXPECT_TRUE(captured.Segments().empty());
}

TEST(WorldDatagrams, AReceiveOfADatagramSentInTheLabIsNotASecondOne)
{
    World w;
    w.SetInferDatagrams(true);
    w.Apply(UdpSocket(1, "server", 3, 20));
    CallEvent bind = Finished(2, "server", "server", "bind", To("0.0.0.0:5000"), 0, 3);
    bind.Local = Ep("0.0.0.0:5000"); // every address: it receives at 127.0.0.1:5000
    w.Apply(bind);
    w.Apply(UdpSocket(3, "client", 4, 10));
    for (std::uint64_t i = 0; i < 3; ++i)
        w.Apply(Sendto(4 + i, "client", 4, "127.0.0.1:5000", "127.0.0.1:41000", "abc"));
    ASSERT_EQ(w.Segments().size(), 3u) << "three sends are three datagrams";
    for (std::uint64_t i = 0; i < 3; ++i)
        w.Apply(Recvfrom(10 + i, "server", 3, "127.0.0.1:41000", "abc"));
    EXPECT_EQ(w.Segments().size(), 3u) << "each receive took one of them";

    // A datagram from a program that is not the lab (nc -u) is seen only when it is read.
    w.Apply(Recvfrom(20, "server", 3, "127.0.0.1:42000", "from nc"));
    ASSERT_EQ(w.Segments().size(), 4u);
    const Segment& d = w.Segments().back();
    EXPECT_TRUE(d.Inferred);
    EXPECT_EQ(d.Src.ToString(), "127.0.0.1:42000");
    EXPECT_EQ(d.Dst.ToString(), "127.0.0.1:5000") << "bound to every address, reached on loopback at 127.0.0.1";
    EXPECT_EQ(d.Payload, "from nc");
}

// The udp-unreachable lesson: send() on a connected socket to a port nobody has returns 3,
// the next send() ECONNREFUSED: an ICMP port unreachable came back about the first.
TEST(WorldDatagrams, EconnrefusedProvesAnIcmpPortUnreachableAboutTheEarlierDatagram)
{
    World w;
    w.SetInferSegments(true);
    w.SetInferDatagrams(true);
    w.Apply(UdpSocket(1, "client", 3, 10));
    CallEvent connect = Finished(2, "client", "client", "connect", To("127.0.0.1:5000"), 0, 3);
    connect.Local = Ep("127.0.0.1:41000");
    connect.Remote = Ep("127.0.0.1:5000");
    w.Apply(connect);
    Snapshot snap;
    snap.T = 2.5;
    KernelSocket row = Row(TcpState::Established, "127.0.0.1:41000", "127.0.0.1:5000", 10, 1003);
    row.Proto = IPPROTO_UDP;
    snap.Sockets.push_back(row);
    w.Apply(snap);
    EXPECT_TRUE(w.Segments().empty()) << "connect() on UDP sends nothing: no SYN, no handshake";

    w.Apply(Send(3, "client", 3, "one"));
    w.Apply(Send(4, "client", 3, "two", ECONNREFUSED));
    ASSERT_EQ(w.Segments().size(), 2u) << "the refused send sent nothing";
    const Segment& one = w.Segments()[0];
    EXPECT_TRUE(IsDatagram(one));
    EXPECT_EQ(one.Payload, "one");
    const Segment& icmp = w.Segments()[1];
    EXPECT_TRUE(IsPortUnreachable(icmp));
    EXPECT_TRUE(icmp.Inferred);
    EXPECT_EQ(icmp.Src.ToString(), "127.0.0.1:5000") << "from the port nobody has";
    EXPECT_EQ(icmp.Dst.ToString(), "127.0.0.1:41000") << "back to the sender";
    EXPECT_EQ(icmp.Payload, "one") << "about the datagram that went before";
    EXPECT_EQ(icmp.Len, 3u);
}
