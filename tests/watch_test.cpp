// `sockscope --watch PORTS`: any program's sockets on those ports, with the process
// holding each, from the kernel's view alone; checked against ss.
#include "child_process.hpp"
#include "test_util.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

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

