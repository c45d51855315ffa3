// `sockscope --watch PORTS`: any program's sockets on those ports, TCP and UDP, with the
// process holding each, from the kernel's view alone; checked against ss.
#include "child_process.hpp"
#include "test_util.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sockscope;
using nlohmann::json;
using namespace std::chrono_literals;
using test::Child;
using test::ConnectTo;
using test::Listener;
using test::Sockscope;
using test::WaitForLine;

namespace {

// A process that is not sockscope holding a socket on 127.0.0.1 (port chosen by the
// kernel), until the test ends: `make` runs in the child (fork) and returns the
// descriptor; the child then waits for good. Killed and reaped by the destructor.
struct Holder {
    pid_t Pid = -1;
    int Port = 0;
    explicit Holder(int (*make)())
    {
        int ready[2];
        if (pipe(ready) != 0)
            return;
        Pid = fork();
        if (Pid == 0) {
            int fd = make();
            sockaddr_in a{};
            socklen_t len = sizeof a;
            getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
            int port = ntohs(a.sin_port);
            ssize_t ignored = write(ready[1], &port, sizeof port);
            (void)ignored;
            for (;;)
                pause();
        }
        close(ready[1]);
        if (read(ready[0], &Port, sizeof Port) != static_cast<ssize_t>(sizeof Port))
            Port = 0;
        close(ready[0]);
    }
    ~Holder()
    {
        if (Pid > 0) {
            kill(Pid, SIGKILL);
            waitpid(Pid, nullptr, 0);
        }
    }
};

int BindLoopback(int fd)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    return fd;
}

// The datagrams a UDP socket on `port` dropped, as ss -uanm says ("skmem:(...,d5)").
int SsDrops(int port)
{
    auto r = test::Run("ss -Huanm '( sport = :" + std::to_string(port) + " )'");
    std::smatch m;
    static const std::regex drops(",d([0-9]+)\\)");
    return std::regex_search(r.Out, m, drops) ? std::stoi(m[1]) : -1;
}

const json* UdpSocket(const json& line, int port)
{
    for (const auto& s : line["sockets"])
        if (s["proto"] == "udp" && s["local"] == "127.0.0.1:" + std::to_string(port))
            return &s;
    return nullptr;
}

} // namespace

TEST(WatchPorts, AListenerSockscopeDidNotMakeShowsItsQueueAndHolderAsSsDoes)
{
    // The listener: a child process of the test (not sockscope), which never accepts.
    Holder listener([] {
        int fd = BindLoopback(socket(AF_INET, SOCK_STREAM, 0));
        listen(fd, 4);
        return fd;
    });
    const int port = listener.Port;
    const pid_t holder = listener.Pid;
    ASSERT_GT(port, 0);

    Child s(Sockscope({"--watch", std::to_string(port), "--headless", "--json"}));
    ASSERT_TRUE(WaitForLine(s, [&](const json& l) { return Listener(l, port) != nullptr; })) << s.Text;
    int a = ConnectTo(port), b = ConnectTo(port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    ASSERT_TRUE(WaitForLine(s, [&](const json& l) {
        const json* listener = Listener(l, port);
        return listener && (*listener)["accept_queue"] == 2 && l["sockets"].size() == 5;
    })) << s.Text;
    unsigned ss_queue = 99, ss_backlog = 99;
    std::size_t ss_rows = 0;
    for (const auto& r : test::SsRows(port)) {
        ++ss_rows;
        if (r.State == "LISTEN") {
            ss_queue = r.RecvQ;
            ss_backlog = r.SendQ;
        }
    }
    EXPECT_EQ(ss_queue, 2u);
    EXPECT_EQ(ss_backlog, 4u);
    EXPECT_EQ(ss_rows, 5u) << "the listener, two client ends, two queued server ends";
    // Which process holds each socket, as ss -p says: the listener the test's child, the
    // clients the test itself, the queued connections nobody yet.
    json last;
    for (const auto& l : s.JsonLines())
        if (const json* listener = Listener(l, port); listener && (*listener)["accept_queue"] == 2)
            last = l;
    for (const auto& sock : last["sockets"]) {
        EXPECT_EQ(sock["owner"], "external");
        if (sock["state"] == "LISTEN")
            EXPECT_EQ(sock["pid"], holder);
        else if (sock["local"] == "127.0.0.1:" + std::to_string(port))
            EXPECT_TRUE(sock["pid"].is_null()) << sock.dump();
        else
            EXPECT_EQ(sock["pid"], getpid()) << sock.dump();
    }
    kill(s.Pid, SIGTERM);
    EXPECT_EQ(s.Wait(10s), 0) << s.Text;
    close(a);
    close(b);
}

// A UDP socket sockscope did not make: a child process of the test binds it with the
// smallest receive buffer and never reads; the test sends it six datagrams of 1000 bytes.
// --watch shows it as ss -uan does (UDP, UNCONN, its Recv-Q), with the datagrams it
// dropped (ss -uanm's d) and the process holding it (ss -uanp).
TEST(WatchPorts, AUdpSocketSockscopeDidNotMakeShowsItsQueueDropsAndHolderAsSsUanDoes)
{
    Holder receiver([] {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof one); // the kernel's minimum
        return BindLoopback(fd);
    });
    const int port = receiver.Port;
    ASSERT_GT(port, 0);
    Child s(Sockscope({"--watch", std::to_string(port), "--headless", "--json"}));
    ASSERT_TRUE(WaitForLine(s, [&](const json& l) { return UdpSocket(l, port) != nullptr; })) << s.Text;

    int sender = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(sender, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string datagram(1000, 'x');
    for (int i = 0; i < 6; ++i)
        ASSERT_EQ(sendto(sender, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
                  1000);
    close(sender);
    // Nobody reads: what ss says now stays so.
    auto rows = test::SsRows(port, true);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].State, "UNCONN");
    EXPECT_GT(rows[0].RecvQ, 0u) << "the first datagram waits";
    const int drops = SsDrops(port);
    EXPECT_GE(drops, 1) << "the rest did not fit";
    ASSERT_TRUE(WaitForLine(s, [&](const json& l) {
        const json* u = UdpSocket(l, port);
        return u && (*u)["recv_q"] == rows[0].RecvQ && (*u)["drops"] == drops;
    })) << s.Text << "\nss: Recv-Q " << rows[0].RecvQ << ", drops " << drops;
    json last;
    for (const auto& l : s.JsonLines())
        if (const json* u = UdpSocket(l, port); u && (*u)["drops"] == drops)
            last = *u;
    EXPECT_EQ(last["state"], "UNCONN");
    EXPECT_EQ(last["remote"], "0.0.0.0:0") << "ss: 0.0.0.0:*";
    EXPECT_EQ(last["send_q"], rows[0].SendQ);
    EXPECT_EQ(last["inode"], rows[0].Inode);
    EXPECT_EQ(last["owner"], "external");
    EXPECT_EQ(last["pid"], receiver.Pid) << "the process holding it, as ss -p finds it";
    kill(s.Pid, SIGTERM);
    EXPECT_EQ(s.Wait(10s), 0) << s.Text;

    // The text view says the same on one line.
    Child text(Sockscope({"--watch", std::to_string(port), "--headless"}));
    const std::string line = "udp UNCONN +127\\.0\\.0\\.1:" + std::to_string(port) + " .*recv-q " +
                             std::to_string(rows[0].RecvQ) + " .*drops " + std::to_string(drops) + " .*pid " +
                             std::to_string(receiver.Pid);
    EXPECT_TRUE(text.WaitFor(line)) << text.Text;
    kill(text.Pid, SIGTERM);
    EXPECT_EQ(text.Wait(10s), 0) << text.Text;
}
