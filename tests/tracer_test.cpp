// `sockscope --run` and `--watch` on real programs (examples/), real sockets, the real
// kernel: what the tracer reports agrees with what the programs print and with ss.
#include "child_process.hpp"
#include "test_util.hpp"
#include "tracer.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

using namespace sockscope;
using nlohmann::json;
using namespace std::chrono_literals;
using test::Child;
using test::ConnectTo;
using test::Listener;
using test::Sockscope;
using test::WaitForLine;

namespace {

const std::string Examples = SOCKSCOPE_EXAMPLES_DIR;

std::string Echo(int fd, const std::string& text)
{
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    std::string got;
    char buf[256];
    while (got.size() < text.size()) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

// Every call in the trace lines, in order.
std::vector<json> AllCalls(const std::vector<json>& lines)
{
    std::vector<json> calls;
    for (const auto& l : lines)
        for (const auto& c : l["calls"])
            calls.push_back(c);
    return calls;
}

int CountCalls(const std::vector<json>& calls, const std::string& name, const std::string& actor_prefix = "")
{
    int n = 0;
    for (const auto& c : calls)
        if (c["call"] == name && c["actor"].get<std::string>().rfind(actor_prefix, 0) == 0)
            ++n;
    return n;
}

} // namespace

TEST(TracedThreadServer, CallsAndLanesAgreeWithWhatItPrintsAndWithSs)
{
    Child s(Sockscope({"--run", "--headless", "--json", "--", Examples + "/thread_server", "2"}));
    auto port_text = s.WaitFor("listening on port ([0-9]+)");
    ASSERT_TRUE(port_text) << s.Text;
    int port = std::stoi(*port_text);
    // Nobody has connected yet: the program is shown blocked in accept().
    EXPECT_TRUE(WaitForLine(s, [&](const json& l) {
        for (const auto& lane : l["lanes"])
            if (lane["in"] == "accept" && lane["blocked"] == true)
                return true;
        return false;
    })) << s.Text;

    int a = ConnectTo(port);
    ASSERT_GE(a, 0);
    EXPECT_EQ(Echo(a, "hello"), "hello");
    // While the first connection is open: the trace shows the listener and the accepted
    // connection as the program's, with the queues ss shows.
    json seen;
    ASSERT_TRUE(WaitForLine(s, [&](const json& l) {
        int established = 0;
        for (const auto& sock : l["sockets"])
            if (sock["state"] == "ESTABLISHED" && sock["local"] == "127.0.0.1:" + std::to_string(port) &&
                sock["owner"] == "traced")
                ++established;
        seen = l;
        return Listener(l, port) && established == 1;
    })) << s.Text;
    // Threads share their process's descriptors: the listener and the connection are held
    // by the process's lane (PROGRAM[pid]), not by whichever thread started last.
    for (const auto& sock : seen["sockets"])
        if (sock["owner"] == "traced") {
            ASSERT_TRUE(sock["actor"].is_string()) << sock.dump();
            EXPECT_EQ(sock["actor"].get<std::string>().find('/'), std::string::npos) << sock.dump();
        }
    auto rows = test::SsRows(port);
    int listen_rows = 0;
    for (const auto& r : rows)
        if (r.State == "LISTEN") {
            ++listen_rows;
            EXPECT_EQ(r.Local, "127.0.0.1:" + std::to_string(port));
            EXPECT_EQ(r.SendQ, 5u) << "listen(fd, 5): ss shows the backlog as Send-Q";
        }
    EXPECT_EQ(listen_rows, 1);
    int b = ConnectTo(port);
    ASSERT_GE(b, 0);
    EXPECT_EQ(Echo(b, "again"), "again");
    close(a);
    close(b);
    ASSERT_EQ(s.Wait(), 0) << s.Text;
    EXPECT_NE(s.Text.find("served 2 connections"), std::string::npos);

    auto lines = s.JsonLines();
    auto calls = AllCalls(lines);
    ASSERT_FALSE(calls.empty()) << s.Text;
    int root = 0;
    for (const auto& c : calls) {
        EXPECT_EQ(c["source"], "traced");
        if (c["call"] == "socket")
            root = c["pid"];
    }
    ASSERT_GT(root, 0);
    std::string main_lane = "thread_server[" + std::to_string(root) + "]";
    EXPECT_EQ(CountCalls(calls, "socket", main_lane), 1);
    EXPECT_EQ(CountCalls(calls, "listen", main_lane), 1);
    EXPECT_EQ(CountCalls(calls, "accept", main_lane), 2);
    for (const auto& c : calls) {
        if (c["call"] == "bind") {
            EXPECT_EQ(c["local"], "127.0.0.1:" + std::to_string(port)) << "bind to port 0: the port it printed";
        }
        if (c["call"] == "accept" && c["result"].get<long>() >= 0) {
            EXPECT_TRUE(c.contains("new_fd"));
        }
    }
    // Each connection was served by a thread of its own: PROGRAM[pid/tid], which read what
    // the client wrote, wrote it back and closed the descriptor.
    std::set<std::string> thread_lanes;
    std::string read_data;
    for (const auto& c : calls) {
        std::string actor = c["actor"];
        if (actor.rfind("thread_server[" + std::to_string(root) + "/", 0) == 0) {
            thread_lanes.insert(actor);
            EXPECT_NE(c["tid"], root);
            EXPECT_EQ(c["pid"], root);
            if (c["call"] == "read" && c.contains("data"))
                read_data += c["data"].get<std::string>();
        }
    }
    EXPECT_EQ(thread_lanes.size(), 2u) << s.Text;
    EXPECT_EQ(read_data, "helloagain");
    EXPECT_EQ(CountCalls(calls, "write", "thread_server[" + std::to_string(root) + "/"), 2);
    EXPECT_EQ(CountCalls(calls, "close", "thread_server[" + std::to_string(root) + "/"), 2);
    // Lanes: one process and two threads, all ended.
    const json& last = lines.back();
    int threads = 0, processes = 0;
    for (const auto& lane : last["lanes"]) {
        EXPECT_EQ(lane["status"], "exited") << lane.dump();
        (lane["kind"] == "thread" ? threads : processes)++;
    }
    EXPECT_EQ(threads, 2);
    EXPECT_EQ(processes, 1);
    EXPECT_NE(s.Text.find("exited with status 0"), std::string::npos);
}

TEST(TracedForkServer, EachConnectionIsAChildProcessThatIsReaped)
{
    Child s(Sockscope({"--run", "--headless", "--json", "--", Examples + "/fork_server", "2"}));
    auto port_text = s.WaitFor("listening on port ([0-9]+)");
    ASSERT_TRUE(port_text) << s.Text;
    int port = std::stoi(*port_text);
    for (const char* text : {"one", "two"}) {
        int fd = ConnectTo(port);
        ASSERT_GE(fd, 0);
        EXPECT_EQ(Echo(fd, text), text);
        close(fd);
    }
    ASSERT_EQ(s.Wait(), 0) << s.Text;
    EXPECT_NE(s.Text.find("served 2 connections, reaped 2 children"), std::string::npos) << s.Text;
    auto calls = AllCalls(s.JsonLines());
    int root = 0;
    std::vector<long> forked;
    for (const auto& c : calls) {
        if (c["call"] == "socket")
            root = c["pid"];
        if (c["call"] == "fork" && c["result"].get<long>() > 0)
            forked.push_back(c["result"]);
    }
    ASSERT_EQ(forked.size(), 2u) << s.Text;
    for (long child : forked) {
        std::string lane = "fork_server[" + std::to_string(child) + "]";
        // The child: fork() returned 0 there; it closed the listener, echoed, closed, exited.
        EXPECT_EQ(CountCalls(calls, "close", lane), 2) << lane;
        EXPECT_EQ(CountCalls(calls, "read", lane), 2) << lane << ": the text, then end of stream";
        EXPECT_EQ(CountCalls(calls, "write", lane), 1) << lane;
        bool exited = false;
        for (const auto& c : calls)
            if (c["actor"] == lane && c["call"] == "exit")
                exited = c["note"] == "exited with status 0";
        EXPECT_TRUE(exited) << lane;
    }
    std::string parent = "fork_server[" + std::to_string(root) + "]";
    EXPECT_EQ(CountCalls(calls, "close", parent), 3) << "its copy of each connection, then the listener";
    // Each child is a zombie from its exit until the parent's SIGCHLD handler's waitpid()
    // returns its pid: in that order, the reaping waitpid() saying so.
    for (long child : forked) {
        std::string lane = "fork_server[" + std::to_string(child) + "]";
        std::ptrdiff_t exited = -1, zombie = -1, reaped = -1;
        for (std::size_t i = 0; i < calls.size(); ++i) {
            const auto& c = calls[i];
            if (c["actor"] == lane && c["call"] == "exit")
                exited = static_cast<std::ptrdiff_t>(i);
            if (c["actor"] == lane && c["call"] == "zombie")
                zombie = static_cast<std::ptrdiff_t>(i);
            if (c["actor"] == parent && c["call"] == "waitpid" && c["result"] == child) {
                reaped = static_cast<std::ptrdiff_t>(i);
                EXPECT_EQ(c["note"], "the zombie is reaped") << c.dump();
            }
        }
        EXPECT_LT(exited, zombie) << lane << " exit, then zombie";
        EXPECT_LT(zombie, reaped) << lane << " zombie, then the parent's waitpid() = " << child;
        EXPECT_GE(exited, 0) << lane;
    }
}

TEST(TracedZombie, AChildNobodyWaitsForIsAZombieAsProcSays)
{
    // sh forks /bin/true, then becomes sleep, which never calls waitpid().
    Child s(Sockscope({"--run", "--headless", "--json", "--", "/bin/sh", "-c", "/bin/true & exec sleep 4"}));
    auto pid_text = s.WaitFor("\"call\":\"zombie\"[^}]*\"pid\":([0-9]+)");
    ASSERT_TRUE(pid_text) << s.Text;
    // The kernel agrees: the process is in state Z (/proc/PID/stat), as ps says.
    std::string stat;
    {
        std::ifstream f("/proc/" + *pid_text + "/stat");
        std::getline(f, stat);
    }
    auto paren = stat.rfind(')');
    ASSERT_NE(paren, std::string::npos) << stat;
    EXPECT_EQ(stat.substr(paren + 2, 1), "Z") << stat;
    ASSERT_EQ(s.Wait(), 0) << s.Text;
    // Its parent ended without reaping it: no waitpid() of the program returned its pid.
    auto calls = AllCalls(s.JsonLines());
    for (const auto& c : calls)
        EXPECT_FALSE(c["call"] == "waitpid" && c["result"] == std::stol(*pid_text)) << c.dump();
}

TEST(TracedNoAcceptServer, TheAcceptQueueIsWhatSsShows)
{
    Child s(Sockscope({"--run", "--headless", "--json", "--", Examples + "/no_accept_server"}));
    auto port_text = s.WaitFor("listening on port ([0-9]+)");
    ASSERT_TRUE(port_text) << s.Text;
    int port = std::stoi(*port_text);
    std::vector<int> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(ConnectTo(port));
        ASSERT_GE(clients.back(), 0);
    }
    // Backlog 2: three places, all taken by connections nobody accepts.
    ASSERT_TRUE(WaitForLine(s, [&](const json& l) {
        const json* listener = Listener(l, port);
        return listener && (*listener)["accept_queue"] == 3 && (*listener)["backlog"] == 2;
    })) << s.Text;
    unsigned ss_queue = 99;
    for (const auto& r : test::SsRows(port))
        if (r.State == "LISTEN")
            ss_queue = r.RecvQ;
    EXPECT_EQ(ss_queue, 3u);
    // The queued connections: in the accept queue, no descriptor yet.
    ASSERT_TRUE(WaitForLine(s, [&](const json& l) {
        int queued = 0;
        for (const auto& sock : l["sockets"])
            if (sock["local"] == "127.0.0.1:" + std::to_string(port) && sock["state"] == "ESTABLISHED" &&
                sock["fd"].is_null())
                ++queued;
        return queued == 3;
    })) << s.Text;
    s.Send("\n"); // the program keeps sockscope's stdin: a line ends it
    EXPECT_EQ(s.Wait(), 0) << s.Text;
    for (int fd : clients)
        close(fd);
}

TEST(TracedProgram, AMissingProgramIsOneClearLine)
{
    Child s(Sockscope({"--run", "--headless", "--", "no-such-program-sockscope"}));
    EXPECT_EQ(s.Wait(), 2);
    auto lines = test::Lines(s.Text);
    ASSERT_EQ(lines.size(), 1u) << s.Text;
    EXPECT_NE(lines[0].find("no such program: no-such-program-sockscope"), std::string::npos) << s.Text;
}

TEST(TracedProgram, PtraceNotPermittedSaysSoAndOffersWatch)
{
    Child s(Sockscope({"--run", "--headless", "--", Examples + "/thread_server", "0"}), test::ForbidPtraceWithoutLeakCheck);
    EXPECT_EQ(s.Wait(), 1) << s.Text;
    auto lines = test::Lines(s.Text);
    ASSERT_EQ(lines.size(), 1u) << s.Text;
    EXPECT_NE(lines[0].find("not permitted"), std::string::npos) << s.Text;
    EXPECT_NE(lines[0].find("--watch PORT"), std::string::npos) << s.Text;
}

TEST(TracedProgram, ACrashEndsItsLaneWithTheSignalName)
{
    Child s(Sockscope({"--run", "--headless", "--", "/bin/sh", "-c", "kill -SEGV $$"}));
    EXPECT_EQ(s.Wait(), 0) << s.Text;
    EXPECT_NE(s.Text.find("killed by SIGSEGV"), std::string::npos) << s.Text;
}

TEST(TracedProgram, FiveHundredChildrenEachEndAndNothingHangs)
{
    Child s(Sockscope(
        {"--run", "--headless", "--", "/bin/sh", "-c", "i=0; while [ $i -lt 500 ]; do true & i=$((i+1)); done; wait"}));
    ASSERT_EQ(s.Wait(60s), 0) << s.Text;
    std::size_t ended = 0;
    for (std::size_t pos = 0; (pos = s.Text.find("(exited with status 0)", pos)) != std::string::npos; ++pos)
        ++ended;
    EXPECT_EQ(ended, 501u) << "the shell and its 500 children";
    EXPECT_NE(s.Text.find("501 processes and threads"), std::string::npos) << s.Text.substr(s.Text.size() - 300);
}

TEST(TracedProgram, AGigabyteThroughASocketFinishesWithBoundedData)
{
    // The writer and reader: the shell's dd into a socket pair is not possible, so two
    // processes of the traced program talk over TCP on loopback (python3's socket module).
    if (test::Run("python3 -c 'import socket' 2>/dev/null").Status != 0)
        GTEST_SKIP() << "no python3";
    const char* program =
        "import socket, os\n"
        "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)\n"
        "c = socket.create_connection(l.getsockname()); s, _ = l.accept()\n"
        "total = 1 << 30\n"
        "if os.fork() == 0:\n"
        "    buf = b'x' * (1 << 20)\n"
        "    for i in range(total // len(buf)): c.sendall(buf)\n"
        "    os._exit(0)\n"
        "got = 0\n"
        "while got < total:\n"
        "    b = s.recv(1 << 20)\n"
        "    if not b: break\n"
        "    got += len(b)\n"
        "os.wait()\n"
        "os.write(1, b'read %d\\n' % got)\n"; // one write: not split by sockscope's lines
    std::string python = test::Run("command -v python3").Out;
    python.erase(python.find_last_not_of('\n') + 1);
    Child s(Sockscope({"--run", "--headless", "--json", "--", python, "-c", program}));
    ASSERT_EQ(s.Wait(90s), 0) << s.Text.substr(0, 2000);
    std::string own; // the program's own lines
    for (const auto& line : test::Lines(s.Text))
        if (line[0] != '{')
            own += line + "\n";
    EXPECT_NE(own.find("read 1073741824"), std::string::npos) << own;
    std::size_t biggest = 0;
    long moved = 0;
    for (const auto& c : AllCalls(s.JsonLines())) {
        if (c.contains("data"))
            biggest = std::max(biggest, c["data"].get<std::string>().size());
        if (c["call"] == "sendto" && c["result"].get<long>() > 0)
            moved += c["result"].get<long>();
    }
    EXPECT_EQ(moved, 1L << 30) << "every byte the writer sent, counted from the results";
    EXPECT_LE(biggest, 256u + 3) << "the trace keeps the first bytes of each call (and \"...\")";
}

TEST(TracedProgram, RunsUnprivileged)
{
    std::string as = getuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    auto r = test::Run(as + SOCKSCOPE_BINARY + " --run --headless --json -- " + Examples + "/thread_server 0", true);
    ASSERT_EQ(r.Status, 0) << r.Out;
    bool listen = false;
    for (const auto& line : test::Lines(r.Out))
        if (line[0] == '{') {
            json j = json::parse(line);
            for (const auto& c : j["calls"])
                listen = listen || (c["call"] == "listen" && c["result"] == 0 && c["source"] == "traced");
        }
    EXPECT_TRUE(listen) << r.Out;
}

TEST(TracerLibrary, ReportsTypedCallsAndLeavesNothingBehind)
{
    // ThreadSanitizer starts a thread of its own at the process's first pthread_create():
    // have it started before counting, so that only the tracer's threads are compared.
    std::thread([] {}).join();
    auto threads = test::ThreadIds();
    std::mutex m;
    std::vector<CallEvent> events;
    std::vector<LaneEvent> lives;
    std::set<std::uint16_t> ports;
    std::uint64_t next = 1;
    {
        Tracer t({.Argv = {Examples + "/thread_server", "0"}},
                 [&](LaneReport&& r) {
                     std::lock_guard lock(m);
                     if (auto* c = std::get_if<CallEvent>(&r))
                         events.push_back(std::move(*c));
                     else
                         lives.push_back(std::get<LaneEvent>(std::move(r)));
                 },
                 [&](std::uint16_t p) {
                     std::lock_guard lock(m);
                     ports.insert(p);
                 },
                 [&] { return next++; });
        std::string error;
        ASSERT_TRUE(t.Start(error)) << error;
        ASSERT_TRUE(t.WaitDone(20));
        EXPECT_EQ(t.ExitStatus(), 0);
        EXPECT_EQ(t.ExitText(), "exited with status 0");
    }
    EXPECT_EQ(test::NewThreads(threads), "");
    std::lock_guard lock(m);
    std::vector<CallId> seen;
    for (const auto& c : events)
        if (c.Phase == CallPhase::Finished)
            seen.push_back(c.Call);
    // thread_server's startup() sets SO_REUSEADDR, as tinyhttpd's does.
    std::vector<CallId> want = {CallId::Execve, CallId::Socket,      CallId::Setsockopt, CallId::Bind,
                                CallId::Listen, CallId::Getsockname, CallId::Close};
    EXPECT_EQ(seen, want);
    // Its end is a moment of its life, not a call: exit status 0, after its last call.
    ASSERT_EQ(lives.size(), 1u);
    EXPECT_EQ(lives[0].Kind, LaneEventKind::Exited);
    EXPECT_EQ(lives[0].Type, LaneType::Process);
    EXPECT_EQ(lives[0].Status, 0);
    EXPECT_EQ(lives[0].Signal, 0);
    EXPECT_TRUE(lives[0].Traced);
    EXPECT_GT(lives[0].Id, events.back().Id);
    for (const auto& c : events) {
        EXPECT_TRUE(c.Traced);
        if (c.Call == CallId::Bind) {
            EXPECT_EQ(c.Args.Addr.ToString(), "127.0.0.1:0");
            EXPECT_EQ(c.Args.AddrLen, 16);
            ASSERT_TRUE(c.Local);
            EXPECT_NE(c.Local->Port, 0);
            EXPECT_TRUE(ports.count(c.Local->Port));
        }
        if (c.Call == CallId::Socket) {
            ASSERT_TRUE(c.NewFd);
            EXPECT_NE(c.NewFd->Inode, 0u);
            EXPECT_NE(c.NewFd->Cookie, 0u);
        }
    }
    EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "no child left";
}

TEST(RunAndWatchArguments, BadOnesAreOneLineAndStatusTwo)
{
    for (const char* args : {"--run --headless", "--headless -- /bin/true", "--watch 0 --headless",
                             "--watch 80,x --headless", "--duration 1 --headless",
                             // the GUI shows --run and --watch instead of a lesson, not beside one
                             "--run --lesson close -- /bin/true", "--watch 80 --screenshot-steps d",
                             "--run -- /no/such/program"}) {
        auto r = test::Run(std::string(SOCKSCOPE_BINARY) + " " + args, true);
        EXPECT_EQ(r.Status, 2) << args << ": " << r.Out;
        EXPECT_EQ(test::Lines(r.Out).size(), 1u) << args << ": " << r.Out;
    }
}

TEST(TracedCalls, AreWrittenAsStraceWouldWithFlagsByName)
{
    CallEvent c;
    c.Traced = true;
    c.Phase = CallPhase::Finished;
    c.Fd = 3;
    c.Call = CallId::Accept4;
    c.Args.Addr = *Endpoint::Parse("127.0.0.1:51000");
    c.Args.AddrLen = 16;
    c.Args.Flags = SOCK_CLOEXEC | SOCK_NONBLOCK;
    EXPECT_EQ(FormatCall(c), "accept4(3, {AF_INET, 127.0.0.1:51000}, [16], SOCK_NONBLOCK|SOCK_CLOEXEC)");
    c = CallEvent{};
    c.Traced = true;
    c.Phase = CallPhase::Finished;
    c.Fd = 4;
    c.Call = CallId::Sendto;
    c.Data = "hi\n";
    c.Args.Len = 3;
    c.Args.Flags = MSG_NOSIGNAL | MSG_DONTWAIT;
    EXPECT_EQ(FormatCall(c), "sendto(4, \"hi\\n\", 3, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0)");
    c.Call = CallId::Recvfrom;
    c.Result = 0;
    c.Args.Flags = 0;
    c.Args.Len = 512;
    EXPECT_EQ(FormatCall(c), "recvfrom(4, buf, 512, 0, NULL, NULL)") << "nothing came: no data shown";
    c = CallEvent{};
    c.Traced = true;
    c.Call = CallId::Socket;
    c.Args.Family = AF_UNIX;
    c.Args.Type = SOCK_DGRAM | SOCK_CLOEXEC;
    EXPECT_EQ(FormatCall(c), "socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0)");
    c.Call = CallId::Fcntl;
    c.Fd = 5;
    c.Args.Option = F_SETFL;
    c.Args.Value = O_RDWR | O_NONBLOCK;
    EXPECT_EQ(FormatCall(c), "fcntl(5, F_SETFL, O_RDWR|O_NONBLOCK)");
    EXPECT_EQ(ErrnoName(512), "ERESTARTSYS") << "a call a signal interrupted, as strace names it";
    EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
}

TEST(TracedProgram, SeesTheCallsStraceSees)
{
    if (test::Run("command -v strace >/dev/null").Status != 0)
        GTEST_SKIP() << "no strace";
    char dir[] = "/tmp/sockscope-strace-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string out = std::string(dir) + "/strace.txt";
    auto st = test::Run("strace -f --seccomp-bpf -e trace=network -o " + out + " " + Examples + "/fork_server 0");
    ASSERT_EQ(st.Status, 0);
    // "15540 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0" -> name, arguments, result
    std::vector<std::tuple<std::string, std::string, long>> strace_calls;
    std::regex line_re(R"(^\d+ +(\w+)\((.*)\) += (-?\d+))");
    for (const auto& line : test::Lines(test::Run("cat " + out).Out))
        if (std::smatch m; std::regex_search(line, m, line_re))
            strace_calls.emplace_back(m[1], m[2], std::stol(m[3]));
    test::Run("rm -r " + std::string(dir));

    Child s(Sockscope({"--run", "--headless", "--json", "--", Examples + "/fork_server", "0"}));
    ASSERT_EQ(s.Wait(), 0) << s.Text;
    // strace's "network" class has no execve, exit, read, write or close: sockscope shows
    // those too (the last three on sockets only).
    std::vector<json> ours;
    for (const auto& c : AllCalls(s.JsonLines()))
        if (c["call"] != "execve" && c["call"] != "exit" && c["call"] != "close" && c["call"] != "read" &&
            c["call"] != "write")
            ours.push_back(c);
    ASSERT_EQ(ours.size(), strace_calls.size()) << s.Text;
    for (std::size_t i = 0; i < ours.size(); ++i) {
        const auto& [name, args, result] = strace_calls[i];
        EXPECT_EQ(ours[i]["call"], name);
        EXPECT_EQ(ours[i]["result"], result) << name;
        if (name == "socket" || name == "setsockopt" || name == "listen") {
            EXPECT_EQ(ours[i]["args"], args) << "written as strace writes it";
        }
    }
}

TEST(TracedProgram, DurationEndsItAndKillsTheProgram)
{
    // The program waits for a line on its stdin that never comes.
    Child s(Sockscope({"--run", "--headless", "--duration", "1", "--", Examples + "/no_accept_server"}));
    auto pid_text = s.WaitFor("tracing .* \\(pid ([0-9]+)\\)");
    ASSERT_TRUE(pid_text) << s.Text;
    int pid = std::stoi(*pid_text);
    EXPECT_EQ(s.Wait(10s), 0) << s.Text;
    EXPECT_NE(s.Text.find("--duration: killing the traced program"), std::string::npos) << s.Text;
    EXPECT_NE(s.Text.find("killed by SIGKILL"), std::string::npos) << s.Text;
    EXPECT_TRUE(test::WaitUntil([&] { return kill(pid, 0) != 0; })) << "the program is gone";
}
