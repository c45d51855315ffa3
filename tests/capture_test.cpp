// Captured segments: the parser on hand-made packets, and the lab's capture against
// tshark watching the same port in the same run.
#include "lab.hpp"
#include "packet.hpp"
#include "player.hpp"
#include "sockets.hpp"
#include "test_util.hpp"
#include "world.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

using namespace sockscope;
using namespace sockscope::test;

namespace {

std::vector<std::uint8_t> Ipv4Tcp(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::size_t payload)
{
    std::vector<std::uint8_t> p(20 + 20 + payload, 0);
    p[0] = 0x45;
    std::size_t total = p.size();
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    p[9] = 6;
    p[12] = 127, p[15] = 1, p[16] = 127, p[19] = 2;
    std::uint8_t* t = p.data() + 20;
    t[0] = 0x9c, t[1] = 0x40; // 40000
    t[2] = 0x0f, t[3] = 0xa0; // 4000
    for (int i = 0; i < 4; ++i) {
        t[4 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
        t[8 + i] = static_cast<std::uint8_t>(ack >> (24 - 8 * i));
    }
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = 0xff, t[15] = 0xff;
    return p;
}

// A UDP datagram from 127.0.0.1:41000 to 127.0.0.1:5000 carrying `payload`.
std::vector<std::uint8_t> Ipv4Udp(const std::string& payload)
{
    std::vector<std::uint8_t> p(20 + 8 + payload.size(), 0);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(p.size() >> 8);
    p[3] = static_cast<std::uint8_t>(p.size());
    p[9] = IPPROTO_UDP;
    p[12] = 127, p[15] = 1, p[16] = 127, p[19] = 1;
    std::uint8_t* u = p.data() + 20;
    u[0] = 0xa0, u[1] = 0x28; // 41000
    u[2] = 0x13, u[3] = 0x88; // 5000
    u[4] = static_cast<std::uint8_t>((8 + payload.size()) >> 8);
    u[5] = static_cast<std::uint8_t>(8 + payload.size());
    std::copy(payload.begin(), payload.end(), u + 8);
    return p;
}

// The ICMP error the kernel sends back for `datagram` (type 3 code 3: port unreachable),
// quoting its IP header and its first bytes, as Linux does.
std::vector<std::uint8_t> Ipv4Icmp(const std::vector<std::uint8_t>& datagram, std::uint8_t type = 3,
                                   std::uint8_t code = 3)
{
    std::vector<std::uint8_t> p(20 + 8, 0);
    p.insert(p.end(), datagram.begin(), datagram.end());
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(p.size() >> 8);
    p[3] = static_cast<std::uint8_t>(p.size());
    p[9] = IPPROTO_ICMP;
    p[12] = 127, p[15] = 1, p[16] = 127, p[19] = 1;
    p[20] = type;
    p[21] = code;
    return p;
}

} // namespace

TEST(Packets, AnIpv4SegmentIsReadFieldByField)
{
    auto p = Ipv4Tcp(FlagPsh | FlagAck, 1000, 2000, 5);
    auto s = ParsePacket(p.data(), p.size());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->Src.ToString(), "127.0.0.1:40000");
    EXPECT_EQ(s->Dst.ToString(), "127.0.0.2:4000");
    EXPECT_EQ(s->Seq, 1000u);
    EXPECT_EQ(s->Ack, 2000u);
    EXPECT_EQ(s->Len, 5u);
    EXPECT_EQ(s->Window, 0xffff);
    EXPECT_EQ(FlagsName(s->Flags), "PSH-ACK");
    EXPECT_EQ(FlagsName(FlagSyn | FlagAck), "SYN-ACK");
}

TEST(Packets, TruncatedOrForeignPacketsAreRefusedNeverOverread)
{
    auto p = Ipv4Tcp(FlagSyn, 1, 0, 0);
    for (std::size_t n = 0; n < p.size(); ++n) {
        std::vector<std::uint8_t> cut(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n)); // exact-size copies
        EXPECT_FALSE(ParsePacket(cut.data(), cut.size())) << n << " bytes";
    }
    auto gre = p;
    gre[9] = 47;
    EXPECT_FALSE(ParsePacket(gre.data(), gre.size()));
    auto bad_offset = p;
    bad_offset[20 + 12] = 15 << 4; // a 60-byte TCP header in a 20-byte segment
    EXPECT_FALSE(ParsePacket(bad_offset.data(), bad_offset.size()));
    auto fragment = p;
    fragment[7] = 1; // a later fragment: no TCP header in it
    EXPECT_FALSE(ParsePacket(fragment.data(), fragment.size()));
}

TEST(Packets, ADatagramIsReadWithItsPortsLengthAndFirstBytes)
{
    auto p = Ipv4Udp("hello");
    auto d = ParsePacket(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(IsDatagram(*d));
    EXPECT_EQ(SegmentProtoName(*d), "udp");
    EXPECT_EQ(d->Src.ToString(), "127.0.0.1:41000");
    EXPECT_EQ(d->Dst.ToString(), "127.0.0.1:5000");
    EXPECT_EQ(d->Len, 5u);
    EXPECT_EQ(d->Payload, "hello");
    EXPECT_EQ(d->Flags, 0);

    auto long_one = Ipv4Udp(std::string(1000, 'a'));
    d = ParsePacket(long_one.data(), long_one.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->Len, 1000u);
    EXPECT_EQ(d->Payload, std::string(SegmentPayloadKept, 'a')) << "only the first bytes are kept";
    d = ParsePacket(long_one.data(), 20 + 8 + 3); // the capture kept 3 bytes of payload
    ASSERT_TRUE(d);
    EXPECT_EQ(d->Len, 1000u);
    EXPECT_EQ(d->Payload, "aaa");

    for (std::size_t n = 0; n < 28; ++n)
        EXPECT_FALSE(ParsePacket(p.data(), n)) << n << " bytes";
    auto lying = p;
    lying[20 + 5] = 200; // a UDP length longer than the IP packet
    EXPECT_FALSE(ParsePacket(lying.data(), lying.size()));
}

TEST(Packets, AnIcmpPortUnreachableCarriesTheDatagramItRefused)
{
    auto icmp = Ipv4Icmp(Ipv4Udp("one"));
    auto e = ParsePacket(icmp.data(), icmp.size());
    ASSERT_TRUE(e);
    EXPECT_TRUE(IsIcmp(*e));
    EXPECT_TRUE(IsPortUnreachable(*e));
    EXPECT_EQ(SegmentProtoName(*e), "icmp");
    EXPECT_EQ(e->Src.ToString(), "127.0.0.1:5000") << "from the port nobody has";
    EXPECT_EQ(e->Dst.ToString(), "127.0.0.1:41000") << "back to the datagram's sender";
    EXPECT_EQ(e->Len, 3u);
    EXPECT_EQ(e->Payload, "one");

    auto other_code = Ipv4Icmp(Ipv4Udp("one"), 3, 1); // host unreachable
    e = ParsePacket(other_code.data(), other_code.size());
    ASSERT_TRUE(e);
    EXPECT_FALSE(IsPortUnreachable(*e));
    auto echo = Ipv4Icmp(Ipv4Udp("one"), 8, 0); // a ping is not about a datagram
    EXPECT_FALSE(ParsePacket(echo.data(), echo.size()));
    for (std::size_t n = 0; n < 20 + 8 + 20 + 8; ++n)
        EXPECT_FALSE(ParsePacket(icmp.data(), n)) << n << " bytes: the quoted UDP header is cut";
}

TEST(Packets, AnIcmpv6PortUnreachableIsReadToo)
{
    std::vector<std::uint8_t> inner(40 + 8 + 2, 0);
    inner[0] = 0x60;
    inner[5] = 10; // payload length: UDP header + 2
    inner[6] = IPPROTO_UDP;
    inner[23] = 1, inner[39] = 1; // ::1 to ::1
    inner[40] = 0xa0, inner[41] = 0x28, inner[42] = 0x13, inner[43] = 0x88, inner[45] = 10;
    inner[48] = 'h', inner[49] = 'i';
    std::vector<std::uint8_t> p(40 + 8, 0);
    p.insert(p.end(), inner.begin(), inner.end());
    p[0] = 0x60;
    p[4] = static_cast<std::uint8_t>((p.size() - 40) >> 8);
    p[5] = static_cast<std::uint8_t>(p.size() - 40);
    p[6] = IPPROTO_ICMPV6;
    p[23] = 1, p[39] = 1;
    p[40] = 1; // destination unreachable
    p[41] = 4; // port unreachable
    auto e = ParsePacket(p.data(), p.size());
    ASSERT_TRUE(e);
    EXPECT_TRUE(IsPortUnreachable(*e));
    EXPECT_EQ(SegmentProtoName(*e), "icmpv6");
    EXPECT_EQ(e->Src.ToString(), "[::1]:5000");
    EXPECT_EQ(e->Dst.ToString(), "[::1]:41000");
    EXPECT_EQ(e->Payload, "hi");
}

namespace {

// The udp-unreachable lesson's first three steps (a sendto to nobody, connect, send and
// the ECONNREFUSED send), with the World as the lab reported it.
void RunUdpUnreachableToStepThree(Lab& lab, World& world, int& port)
{
    LessonPlayer player(lab, world);
    std::string error;
    auto lesson = FindLesson("udp-unreachable", error);
    ASSERT_TRUE(lesson) << error;
    port = PickFreePort();
    player.Load(*lesson, port);
    for (int i = 0; i < 3; ++i) {
        player.StepForward();
        ASSERT_TRUE(DriveUntilIdle(lab, world, player, 30.0));
        ASSERT_EQ(player.CurrentStatus(), StepStatus::Passed) << "step " << i + 1 << ": " << player.StatusLine();
    }
}

// The lab's datagrams and ICMP errors, as (proto, src port, dst port, first bytes).
std::vector<std::tuple<std::string, int, int, std::string>> Datagrams(const World& world)
{
    std::vector<std::tuple<std::string, int, int, std::string>> out;
    for (const auto& s : world.Segments())
        if (IsDatagram(s) || IsIcmp(s))
            out.emplace_back(std::string(SegmentProtoName(s)), s.Src.Port, s.Dst.Port, s.Payload);
    return out;
}

} // namespace

// As root: the datagrams and the ICMP port unreachable each provoked are captured, and the
// send() that returned ECONNREFUSED sent nothing.
TEST(Packets, TheIcmpThatBecomesEconnrefusedIsCaptured)
{
    Lab lab;
    if (!lab.CapturesDatagrams())
        GTEST_SKIP() << "UDP is not captured here: " << lab.CaptureError().English();
    World world;
    world.SetInferDatagrams(false);
    int port = 0;
    RunUdpUnreachableToStepThree(lab, world, port);
    if (HasFatalFailure())
        return;
    int client = 0;
    for (const auto& s : world.Sockets())
        if (s.K.Proto == IPPROTO_UDP && s.K.Remote.Port == port)
            client = s.K.Local.Port;
    ASSERT_NE(client, 0) << "the client's connected UDP socket is listed";
    using D = std::tuple<std::string, int, int, std::string>;
    const std::vector<D> expected = {{"udp", client, port, "hello"}, {"icmp", port, client, "hello"},
                                     {"udp", client, port, "one"},   {"icmp", port, client, "one"}};
    EXPECT_TRUE(WaitUntil([&] {
        for (auto& e : lab.Drain())
            world.Apply(e);
        return Datagrams(world).size() >= expected.size();
    }, std::chrono::seconds(10)));
    EXPECT_EQ(Datagrams(world), expected) << "\"two\" got ECONNREFUSED: it never left";
    for (const auto& s : world.Segments()) {
        EXPECT_FALSE(s.Inferred);
        if (IsIcmp(s)) {
            EXPECT_TRUE(IsPortUnreachable(s)) << int(s.IcmpType) << "/" << int(s.IcmpCode);
        }
    }
}

// Unprivileged (no capture): the same steps show the same datagrams, inferred from the
// calls; the ICMP only where a call proves it (the ECONNREFUSED on the connected socket).
TEST(Packets, WithoutCaptureTheDatagramsAndTheProvenIcmpAreInferred)
{
    LabOptions options;
    options.CaptureSegments = false;
    Lab lab(options);
    World world;
    world.SetInferSegments(true);
    world.SetInferDatagrams(!lab.CapturesDatagrams());
    int port = 0;
    RunUdpUnreachableToStepThree(lab, world, port);
    if (HasFatalFailure())
        return;
    int client = 0;
    for (const auto& s : world.Sockets())
        if (s.K.Proto == IPPROTO_UDP && s.K.Remote.Port == port)
            client = s.K.Local.Port;
    ASSERT_NE(client, 0);
    using D = std::tuple<std::string, int, int, std::string>;
    EXPECT_EQ(Datagrams(world), (std::vector<D>{{"udp", client, port, "hello"},
                                                {"udp", client, port, "one"},
                                                {"icmp", port, client, "one"}}))
        << "an unconnected socket never hears of its ICMP: nothing proves the first one";
    for (const auto& s : world.Segments())
        EXPECT_TRUE(s.Inferred);
    EXPECT_EQ(world.Segments().size(), 3u) << "connect() on UDP sends nothing: no handshake is inferred";
}

TEST(Packets, CapturedSegmentsAreTheOnesTsharkSeesOnTheSamePort)
{
    Lab probe_only;
    if (!probe_only.Capturing())
        GTEST_SKIP() << probe_only.CaptureError().English();
    if (sockscope::test::Run("command -v tshark").Status != 0)
        GTEST_SKIP() << "tshark is not installed (scripts/setup.sh --test installs it)";
    // Below the ephemeral range (32768-60999 by default): tshark takes seconds to start,
    // and a port from bind(0) may meanwhile become some parallel test's client port (the
    // lesson's bind then fails with EADDRINUSE, seen once in CI).
    auto bindable = [](int candidate) { // no socket holds it, not even in TIME-WAIT
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin.sin_port = htons(static_cast<std::uint16_t>(candidate));
        bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
        close(fd);
        return ok;
    };
    int port = 0;
    for (int candidate = 20000 + static_cast<int>(getpid() % 10000); port == 0 && candidate < 32768; candidate += 7)
        if (bindable(candidate))
            port = candidate;
    ASSERT_GT(port, 0);
    char dir[] = "/tmp/sockscope-tshark-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string out = std::string(dir) + "/out", err = std::string(dir) + "/err";
    std::string pid_file = std::string(dir) + "/pid";
    sockscope::test::Run("tshark -i lo -l -n -f 'tcp port " + std::to_string(port) +
        "' -T fields -E separator=, -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags"
        " -e tcp.len > " + out + " 2> " + err + " & echo $! > " + pid_file);
    auto read = [](const std::string& path) {
        std::ifstream f(path);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    };
    ASSERT_TRUE(WaitUntil([&] { return read(err).find("Capturing on") != std::string::npos; }, std::chrono::seconds(30)))
        << "tshark did not start: " << read(err);
    int tshark = std::stoi(read(pid_file));
    // Whatever way the test ends (an ASSERT returns early), tshark stops and the files go:
    // a failed run once left tshark and dumpcap capturing for good.
    struct Cleanup {
        int Pid;
        std::string Dir;
        ~Cleanup()
        {
            if (Pid > 0)
                kill(Pid, SIGINT);
            sockscope::test::Run("rm -rf " + Dir);
        }
    } cleanup{tshark, dir};
    // "Capturing on" comes a little before the capture does: knock on the port (nobody
    // listens yet: SYN, RST) until tshark has seen a knock. Knocks come from ports noted
    // here, and their lines are left out below.
    std::set<int> knock_ports;
    auto knock = [&] {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sin;
        if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0)
            knock_ports.insert(ntohs(sin.sin_port));
        sin.sin_port = htons(static_cast<std::uint16_t>(port));
        [[maybe_unused]] int rc = connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
        close(fd);
    };
    ASSERT_TRUE(WaitUntil([&] {
        knock();
        return !Lines(read(out)).empty();
    }, std::chrono::seconds(30))) << "tshark saw nothing: " << read(err);
    auto lab_lines = [&] {
        std::vector<std::string> kept;
        for (const auto& line : Lines(read(out))) {
            int src = std::atoi(line.c_str());
            auto comma = line.find(',');
            int dst = comma == std::string::npos ? 0 : std::atoi(line.c_str() + comma + 1);
            if (!knock_ports.count(src) && !knock_ports.count(dst))
                kept.push_back(line);
        }
        return kept;
    };

    using Key = std::tuple<int, int, std::uint32_t, std::uint32_t, int, std::uint32_t>;
    std::multiset<Key> ours;
    {
        Lab lab;
        World world;
        LessonPlayer player(lab, world);
        std::string error;
        auto lesson = FindLesson("half-close", error);
        ASSERT_TRUE(lesson) << error;
        player.Load(*lesson, port);
        for (std::size_t i = 0; i < lesson->Steps.size(); ++i) {
            player.StepForward();
            ASSERT_TRUE(DriveUntilIdle(lab, world, player, 60.0));
            ASSERT_EQ(player.CurrentStatus(), StepStatus::Passed) << "step " << i + 1 << ": " << player.StatusLine();
        }
        // Both have seen the same number of segments (tshark prints one line each).
        auto count_lines = [&] { return lab_lines().size(); };
        EXPECT_TRUE(WaitUntil([&] {
            for (auto& e : lab.Drain())
                world.Apply(e);
            return !world.Segments().empty() && count_lines() == world.Segments().size();
        }, std::chrono::seconds(10))) << count_lines() << " lines from tshark, " << world.Segments().size() << " captured";
        for (const auto& s : world.Segments()) {
            EXPECT_FALSE(s.Inferred);
            ours.emplace(s.Src.Port, s.Dst.Port, s.Seq, s.Ack, s.Flags & 0x3f, s.Len);
        }
    }
    kill(tshark, SIGINT);
    cleanup.Pid = 0; // stopped: its pid may be another process's before long
    std::multiset<Key> theirs;
    for (const auto& line : lab_lines()) {
        std::stringstream in(line);
        std::string f[6];
        for (auto& field : f)
            std::getline(in, field, ',');
        if (f[5].empty())
            continue;
        std::size_t used = 0;
        int flags = std::stoi(f[4], &used, 16) & 0x3f;
        // An ACK-less segment (the first SYN) has no acknowledgement number: tshark says 0.
        theirs.emplace(std::stoi(f[0]), std::stoi(f[1]), static_cast<std::uint32_t>(std::stoul(f[2])),
                       static_cast<std::uint32_t>(f[3].empty() ? 0 : std::stoul(f[3])), flags,
                       static_cast<std::uint32_t>(std::stoul(f[5])));
    }
    // The lab's reset at the end may add RSTs tshark saw after we stopped counting.
    std::multiset<Key> theirs_before_reset;
    for (const auto& k : theirs)
        if (!(std::get<4>(k) & FlagRst))
            theirs_before_reset.insert(k);
    std::multiset<Key> ours_no_rst;
    for (const auto& k : ours)
        if (!(std::get<4>(k) & FlagRst))
            ours_no_rst.insert(k);
    EXPECT_GE(ours_no_rst.size(), 8u) << "a handshake, data both ways and two FINs";
    EXPECT_EQ(ours_no_rst, theirs_before_reset);
}

TEST(Sockaddr, EveryFieldAndTheNetworkByteOrderOfThePortAreShown)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(4000); // 0x0fa0: high byte first in memory
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    EXPECT_EQ(SockaddrLayout(reinterpret_cast<sockaddr*>(&sin), sizeof sin),
              "sockaddr_in (16 bytes): sin_family=AF_INET(2) sin_port=htons(4000)=[0f a0] "
              "sin_addr=inet_pton(\"127.0.0.1\")=[7f 00 00 01]");
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(443);
    inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
    EXPECT_EQ(SockaddrLayout(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6),
              "sockaddr_in6 (28 bytes): sin6_family=AF_INET6(10) sin6_port=htons(443)=[01 bb] "
              "sin6_addr=inet_pton(\"::1\")=[00x15 01]");
    EXPECT_EQ(SockaddrLayout(reinterpret_cast<sockaddr*>(&sin), 4), "") << "too short to be one";
}
