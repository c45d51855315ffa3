// sockscope-helper against the real kernel on loopback, the way a student's laptop runs
// it: a copy of the helper with the file capabilities cap_net_admin,cap_net_raw+ep (the
// package's), started by an unprivileged caller (uid 65534, nobody). What it must do:
// attach a fixed gate that really holds a state, forward only the caller's segments;
// and what it must refuse, each with its reason: another user's socket, UDP, Unix, a
// port whose listener is another user's, an unknown gate, malformed messages, a flood.
// It never leaks a descriptor. Needs root (to set capabilities and switch users):
// skipped otherwise. Nothing waits a fixed time: every wait is for a condition with a
// deadline.
#include "gate.hpp"
#include "helper_client.hpp"
#include "helper_proto.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace sockscope;
using namespace sockscope::test;
using namespace std::chrono_literals;

namespace {

constexpr uid_t Nobody = 65534;

// The helper as the package installs it: a copy with the two capabilities, in a
// directory any user may enter.
class HelperCopy {
public:
    HelperCopy()
    {
        if (getuid() != 0)
            return;
        char dir[] = "/tmp/sockscope-helper-test.XXXXXX";
        if (!mkdtemp(dir))
            return;
        Dir = dir;
        chmod(Dir.c_str(), 0755);
        Path = Dir + "/sockscope-helper";
        auto r = Run("cp " + std::string(SOCKSCOPE_HELPER_BINARY) + " " + Path + " && chmod 755 " + Path +
                         " && setcap cap_net_admin,cap_net_raw+ep " + Path,
                     true);
        if (r.Status != 0) {
            Problem = r.Out;
            Path.clear();
        }
    }
    ~HelperCopy()
    {
        if (!Dir.empty())
            Run("rm -rf " + Dir);
    }
    std::string Dir, Path, Problem;
};

HelperCopy& Copy()
{
    static HelperCopy copy;
    return copy;
}

#define NEED_ROOT_AND_HELPER()                                                                                   \
    do {                                                                                                         \
        if (getuid() != 0)                                                                                       \
            GTEST_SKIP() << "needs root (sets file capabilities, switches to nobody)";                           \
        ASSERT_FALSE(Copy().Path.empty()) << "could not install a helper with capabilities: " << Copy().Problem; \
    } while (0)

using Result = std::map<std::string, std::string>;

// Runs `body` in a child process as nobody (uid and gid 65534, no groups) and returns
// what it reported (key=value lines). `body` gets a function to report with.
Result AsNobody(const std::function<void(std::function<void(const std::string&, const std::string&)>)>& body)
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return {{"error", "pipe"}};
    pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fds[0]);
        if (setgroups(0, nullptr) != 0 || setresgid(Nobody, Nobody, Nobody) != 0 ||
            setresuid(Nobody, Nobody, Nobody) != 0)
            _exit(3);
        std::string out;
        body([&](const std::string& key, const std::string& value) { out += key + "=" + value + "\n"; });
        for (std::size_t done = 0; done < out.size();) {
            ssize_t n = write(pipe_fds[1], out.data() + done, out.size() - done);
            if (n <= 0)
                break;
            done += static_cast<std::size_t>(n);
        }
        _exit(0);
    }
    close(pipe_fds[1]);
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0)
        text.append(buf, static_cast<std::size_t>(n));
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    Result result;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line))
        if (auto eq = line.find('='); eq != std::string::npos)
            result[line.substr(0, eq)] = line.substr(eq + 1);
    result["exit"] = std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return result;
}

std::string Name(HelperRefusal refusal)
{
    return std::string(HelperRefusalText(refusal));
}

int Listener(int family = AF_INET)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *sin;
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof *sin6;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 16) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int PortOf(int fd)
{
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    return ntohs(sin.sin_port);
}

// A client on 127.0.0.1:port; `block` waits for the handshake.
int Client(int port, bool block = true)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (block ? 0 : SOCK_NONBLOCK), 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    if (rc != 0 && !(errno == EINPROGRESS && !block)) {
        close(fd);
        return -1;
    }
    return fd;
}

tcp_info Info(int fd)
{
    tcp_info info{};
    socklen_t len = sizeof info;
    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
    return info;
}

// One request through `channel`; the refusal's text, or "no reply".
std::string Ask(HelperChannel& channel, HelperOp op, int fd, GateKind gate = GateKind::Syn)
{
    HelperRequest request;
    request.Op = op;
    request.Gate = gate;
    HelperReply reply;
    if (!channel.Call(request, fd, reply))
        return "no reply";
    if (reply.Refusal == HelperRefusal::KernelError)
        return Name(reply.Refusal) + ": " + std::strerror(reply.Errno);
    return Name(reply.Refusal);
}

// Sends raw bytes with `fds`, returns the reply's refusal text.
std::string AskRaw(HelperChannel& channel, const std::vector<std::uint8_t>& bytes, std::vector<int> fds = {})
{
    if (!channel.Send(bytes, fds))
        return "send failed";
    HelperReply reply;
    std::vector<HelperSegment> segments;
    auto kind = channel.Receive(reply, segments, 5000);
    if (!kind || *kind != HelperMessageKind::Reply)
        return "no reply";
    return Name(reply.Refusal);
}

std::string FilterLength(int fd)
{
    std::vector<sock_filter> program;
    int err = ReadFilter(fd, program);
    return err ? std::string("error ") + std::strerror(err) : std::to_string(program.size());
}

std::set<std::string> DescriptorsOf(pid_t pid)
{
    std::set<std::string> out;
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] == '.')
                continue;
            char target[256] = {};
            std::string link = dir + "/" + e->d_name;
            ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
            out.insert(std::string(e->d_name) + " -> " + (n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "?"));
        }
        closedir(d);
    }
    return out;
}

} // namespace

TEST(Helper, AttachesAFixedGateForItsUserAndTheGateHolds)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    Result r = AsNobody([&](auto report) {
        int listener = Listener();
        int port = PortOf(listener);
        // The kernel itself refuses nobody a filter on a TCP socket (Linux 6.18).
        std::vector<sock_filter> program = GateProgram(GateKind::Syn);
        sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
        report("direct", setsockopt(listener, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) == 0
                             ? "ok"
                             : std::strerror(errno));
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        if (!channel) {
            report("start", std::strerror(err));
            return;
        }
        report("hello", Ask(*channel, HelperOp::Hello, -1));
        report("attach", Ask(*channel, HelperOp::Attach, listener, GateKind::Syn));
        std::vector<sock_filter> held;
        ReadFilter(listener, held);
        report("same_program", SameProgram(held, program) ? "yes" : "no");
        // The gate holds: the client stays SYN-SENT through a retransmission of its SYN.
        int client = Client(port, false);
        bool held_syn = WaitUntil([&] { return Info(client).tcpi_total_retrans >= 1; }, 5s) &&
                        Info(client).tcpi_state == TCP_SYN_SENT;
        report("held", held_syn ? "yes" : "no");
        report("detach", Ask(*channel, HelperOp::Detach, listener));
        report("filter_after", FilterLength(listener));
        bool released = WaitUntil([&] { return Info(client).tcpi_state == TCP_ESTABLISHED; }, 10s);
        report("released", released ? "yes" : "no");
        close(client);
        close(listener);
    });
    EXPECT_EQ(r["direct"], std::strerror(EPERM)) << "the kernel let nobody attach a filter: nothing to test";
    EXPECT_EQ(r["hello"], "ok");
    EXPECT_EQ(r["attach"], "ok");
    EXPECT_EQ(r["same_program"], "yes");
    EXPECT_EQ(r["held"], "yes");
    EXPECT_EQ(r["detach"], "ok");
    EXPECT_EQ(r["filter_after"], "0");
    EXPECT_EQ(r["released"], "yes");
    EXPECT_EQ(r["exit"], "0");
}

TEST(Helper, RefusesAnotherUsersSocket)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    int roots = Listener(); // root's, inherited by the child: it holds a descriptor, not the socket
    ASSERT_GE(roots, 0);
    Result r = AsNobody([&](auto report) {
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        report("attach", Ask(*channel, HelperOp::Attach, roots, GateKind::Syn));
        report("detach", Ask(*channel, HelperOp::Detach, roots));
        report("filter", FilterLength(roots));
    });
    EXPECT_EQ(r["attach"], Name(HelperRefusal::OtherUsersSocket));
    EXPECT_EQ(r["detach"], Name(HelperRefusal::OtherUsersSocket));
    EXPECT_EQ(r["filter"], "0");
    close(roots);
}

TEST(Helper, RefusesUdpUnixAndWhatIsNotASocket)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    Result r = AsNobody([&](auto report) {
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(udp, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
        report("udp", Ask(*channel, HelperOp::Attach, udp, GateKind::Syn));
        int unix_pair[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, unix_pair);
        report("unix", Ask(*channel, HelperOp::Attach, unix_pair[0], GateKind::Fin));
        int pipe_fds[2];
        pipe2(pipe_fds, O_CLOEXEC);
        report("pipe", Ask(*channel, HelperOp::Attach, pipe_fds[0], GateKind::Fin));
        int unbound = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        report("unbound", Ask(*channel, HelperOp::Attach, unbound, GateKind::Syn));
        report("udp_filter", FilterLength(udp));
        // Its own TCP listener, over IPv6 too, is fine: the refusals are about the socket.
        int v6 = Listener(AF_INET6);
        report("tcp6", Ask(*channel, HelperOp::Attach, v6, GateKind::Syn));
    });
    EXPECT_EQ(r["udp"], Name(HelperRefusal::NotTcp));
    EXPECT_EQ(r["unix"], Name(HelperRefusal::NotTcp));
    EXPECT_EQ(r["pipe"], Name(HelperRefusal::NotASocket));
    EXPECT_EQ(r["unbound"], Name(HelperRefusal::NotFound));
    EXPECT_EQ(r["udp_filter"], "0");
    EXPECT_EQ(r["tcp6"], "ok");
}

TEST(Helper, RefusesAPortWhoseListenerIsAnotherUsers)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    int roots = Listener();
    ASSERT_GE(roots, 0);
    int roots_port = PortOf(roots);
    Result r = AsNobody([&](auto report) {
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        // nobody's own client, connected to root's listener.
        int client = Client(roots_port);
        report("connected", client >= 0 ? "yes" : "no");
        report("fin_gate", Ask(*channel, HelperOp::Attach, client, GateKind::Fin));
        report("filter", FilterLength(client));
        // The same client on nobody's own listener is fine.
        int own = Listener();
        int own_client = Client(PortOf(own));
        report("own_fin_gate", Ask(*channel, HelperOp::Attach, own_client, GateKind::Fin));
    });
    EXPECT_EQ(r["connected"], "yes");
    EXPECT_EQ(r["fin_gate"], Name(HelperRefusal::OtherUsersListener));
    EXPECT_EQ(r["filter"], "0");
    EXPECT_EQ(r["own_fin_gate"], "ok");
    close(roots);
}

TEST(Helper, RefusesAnUnknownGateAndMalformedMessagesAndNeverTakesAFilter)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    Result r = AsNobody([&](auto report) {
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        int listener = Listener();
        HelperRequest attach;
        attach.Op = HelperOp::Attach;
        auto good = EncodeHelperRequest(attach);
        auto unknown_gate = good;
        unknown_gate[7] = 99;
        report("unknown_gate", AskRaw(*channel, unknown_gate, {listener}));
        auto bad_magic = good;
        bad_magic[0] ^= 0xff;
        report("bad_magic", AskRaw(*channel, bad_magic, {listener}));
        auto bad_version = good;
        bad_version[4] = 9;
        report("bad_version", AskRaw(*channel, bad_version, {listener}));
        auto bad_op = good;
        bad_op[6] = 77;
        report("bad_op", AskRaw(*channel, bad_op, {listener}));
        report("short", AskRaw(*channel, {1, 2, 3}, {listener}));
        report("empty_hello_bytes", AskRaw(*channel, std::vector<std::uint8_t>(16, 0)));
        // A filter of the caller's own after a valid header: never attached.
        auto with_program = good;
        std::vector<sock_filter> accept_all = {{BPF_RET | BPF_K, 0, 0, 0}};
        const auto* raw = reinterpret_cast<const std::uint8_t*>(accept_all.data());
        with_program.insert(with_program.end(), raw, raw + sizeof(sock_filter));
        report("with_program", AskRaw(*channel, with_program, {listener}));
        report("filter_after_program", FilterLength(listener));
        report("too_long", AskRaw(*channel, std::vector<std::uint8_t>(4000, 0x41), {listener}));
        report("no_descriptor", AskRaw(*channel, good));
        report("three_descriptors", AskRaw(*channel, good, {listener, listener, listener}));
        report("twenty_descriptors", AskRaw(*channel, good, std::vector<int>(20, listener)));
        HelperRequest hello;
        hello.Op = HelperOp::Hello;
        report("hello_with_descriptor", AskRaw(*channel, EncodeHelperRequest(hello), {listener}));
        report("filter_at_end", FilterLength(listener));
        report("still_there", Ask(*channel, HelperOp::Hello, -1));
    });
    EXPECT_EQ(r["unknown_gate"], Name(HelperRefusal::UnknownGate));
    for (const char* key : {"bad_magic", "bad_version", "bad_op", "short", "empty_hello_bytes", "with_program",
                            "too_long"})
        EXPECT_EQ(r[key], Name(HelperRefusal::Malformed)) << key;
    for (const char* key : {"no_descriptor", "three_descriptors", "hello_with_descriptor"})
        EXPECT_EQ(r[key], Name(HelperRefusal::WrongDescriptors)) << key;
    // 20 descriptors do not fit the helper's control buffer: the kernel closes the rest.
    EXPECT_EQ(r["twenty_descriptors"], Name(HelperRefusal::Malformed));
    EXPECT_EQ(r["filter_after_program"], "0");
    EXPECT_EQ(r["filter_at_end"], "0");
    EXPECT_EQ(r["still_there"], "ok");
}

TEST(Helper, RefusesAFloodOf10000Requests)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    Result r = AsNobody([&](auto report) {
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        int listener = Listener();
        std::atomic<int> ok{0}, flood{0}, other{0};
        std::thread reader([&] {
            for (int i = 0; i < 10000; ++i) {
                HelperReply reply;
                std::vector<HelperSegment> segments;
                if (!channel->Receive(reply, segments, 10000))
                    break;
                (reply.Refusal == HelperRefusal::Ok ? ok : reply.Refusal == HelperRefusal::Flood ? flood : other)++;
            }
        });
        auto start = std::chrono::steady_clock::now();
        HelperRequest attach;
        attach.Op = HelperOp::Attach;
        auto bytes = EncodeHelperRequest(attach);
        int sent = 0;
        for (int i = 0; i < 10000; ++i)
            sent += channel->Send(bytes, std::vector<int>{listener}) ? 1 : 0;
        reader.join();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        report("sent", std::to_string(sent));
        report("ok", std::to_string(ok.load()));
        report("flood", std::to_string(flood.load()));
        report("other", std::to_string(other.load()));
        report("allowed_at_most", std::to_string(static_cast<int>(200 + 100 * seconds + 1)));
        // Afterwards it serves again, once the rate allows.
        bool back = WaitUntil([&] { return Ask(*channel, HelperOp::Hello, -1) == "ok"; }, 5s);
        report("back", back ? "yes" : "no");
    });
    std::cout << "flood: " << r["ok"] << " served, " << r["flood"] << " refused as a flood (at most "
              << r["allowed_at_most"] << " may be served in the time taken)\n";
    EXPECT_EQ(r["sent"], "10000");
    EXPECT_EQ(std::stoi(r["ok"]) + std::stoi(r["flood"]), 10000) << "other replies: " << r["other"];
    EXPECT_GE(std::stoi(r["flood"]), 1);
    EXPECT_LE(std::stoi(r["ok"]), std::stoi(r["allowed_at_most"]));
    EXPECT_EQ(r["back"], "yes");
}

TEST(Helper, NeverLeaksADescriptor)
{
    // As root, so that the helper's descriptors can be read in /proc (the helper is not
    // dumpable when it runs with capabilities for nobody); its code paths are the same.
    NEED_ROOT_AND_HELPER();
    int err = 0;
    auto channel = HelperChannel::Start(Copy().Path, err);
    ASSERT_TRUE(channel) << std::strerror(err);
    ASSERT_EQ(Ask(*channel, HelperOp::Hello, -1), "ok");
    std::set<std::string> before = DescriptorsOf(channel->Pid());
    ASSERT_FALSE(before.empty());

    int listener = Listener();
    int client = Client(PortOf(listener));
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    HelperRequest attach;
    attach.Op = HelperOp::Attach;
    auto good = EncodeHelperRequest(attach);
    auto bad = good;
    bad[7] = 99;
    int answered = 0;
    for (int round = 0; round < 25; ++round) { // 175 requests: within the burst of 200
        answered += Ask(*channel, HelperOp::Attach, listener, GateKind::HandshakeAck) == "ok";
        answered += Ask(*channel, HelperOp::Detach, listener) == "ok";
        answered += Ask(*channel, HelperOp::Attach, client, GateKind::Fin) == "ok";
        answered += Ask(*channel, HelperOp::Attach, udp) == Name(HelperRefusal::NotTcp);
        answered += Ask(*channel, HelperOp::Attach, pipe_fds[1]) == Name(HelperRefusal::NotASocket);
        answered += AskRaw(*channel, bad, {listener, udp}) == Name(HelperRefusal::UnknownGate);
        answered += AskRaw(*channel, good, std::vector<int>(20, udp)) == Name(HelperRefusal::Malformed);
    }
    EXPECT_EQ(answered, 25 * 7);
    // The flood refusals close what they are sent too.
    for (int i = 0; i < 300; ++i)
        AskRaw(*channel, good, {listener});
    EXPECT_EQ(DescriptorsOf(channel->Pid()), before);
    for (int fd : {listener, client, udp, pipe_fds[0], pipe_fds[1]})
        close(fd);
}

TEST(Helper, CapturesOnlyTheCallersSegmentsAndNoPayload)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    int roots = Listener();
    ASSERT_GE(roots, 0);
    int roots_port = PortOf(roots);
    int go[2], done[2];
    ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(done, O_CLOEXEC), 0);
    std::thread root_side([&] {
        // When the child captures: root connects to its own listener and says so.
        char c;
        if (read(go[0], &c, 1) != 1)
            return;
        int fd = Client(roots_port);
        send(fd, "secret", 6, MSG_NOSIGNAL);
        write(done[1], "x", 1);
        close(fd);
    });
    Result r = AsNobody([&](auto report) {
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        int own = Listener();
        int own_port = PortOf(own);
        HelperRequest start;
        start.Op = HelperOp::CaptureStart;
        start.Ports = {static_cast<std::uint16_t>(own_port), static_cast<std::uint16_t>(roots_port)};
        HelperReply reply;
        std::vector<HelperSegment> segments;
        report("start", channel->Call(start, -1, reply, &segments) ? Name(reply.Refusal) : "no reply");
        write(go[1], "x", 1);
        char c;
        read(done[0], &c, 1);
        // After root's connection and its data: nobody's own handshake and 5 bytes.
        int client = Client(own_port);
        send(client, "hello", 5, MSG_NOSIGNAL);
        auto count = [&](int port, std::uint8_t flags) {
            int n = 0;
            for (const auto& s : segments)
                if ((s.SrcPort == port || s.DstPort == port) && (flags == 0 || s.Flags == flags))
                    ++n;
            return n;
        };
        bool seen = WaitUntil(
            [&] {
                HelperReply ignored;
                channel->Receive(ignored, segments, 50);
                for (const auto& s : segments)
                    if (s.DstPort == own_port && s.Len == 5)
                        return true;
                return false;
            },
            5s);
        report("own_data_seen", seen ? "yes" : "no");
        report("own_syn", std::to_string(count(own_port, 0x02)));
        report("own_synack", std::to_string(count(own_port, 0x12)));
        report("roots", std::to_string(count(roots_port, 0)));
        close(client);
        close(own);
    });
    root_side.join();
    EXPECT_EQ(r["start"], "ok");
    EXPECT_EQ(r["own_data_seen"], "yes");
    EXPECT_EQ(r["own_syn"], "1");
    EXPECT_EQ(r["own_synack"], "1");
    EXPECT_EQ(r["roots"], "0") << "root's segments were forwarded to nobody";
    for (int fd : {go[0], go[1], done[0], done[1], roots})
        close(fd);
}

TEST(Helper, EveryGateLessonPassesWithPacketsCapturedAsAStudent)
{
    NEED_ROOT_AND_HELPER();
    for (const char* lesson : {"three-way-handshake", "close", "simultaneous-close"}) {
        auto r = sockscope::test::Run("SOCKSCOPE_HELPER=" + Copy().Path + " setpriv --reuid=65534 --regid=65534 --clear-groups " +
                         SOCKSCOPE_BINARY + " --headless --lesson " + lesson,
                     true);
        EXPECT_EQ(r.Status, 0) << lesson << ":\n" << r.Out;
        EXPECT_EQ(r.Out.find("EPERM"), std::string::npos) << lesson << ":\n" << r.Out;
        EXPECT_EQ(r.Out.find("no packet capture"), std::string::npos) << lesson << ":\n" << r.Out;
    }
}

TEST(Helper, CapturesTheCallersIpv6Segments)
{
    NEED_ROOT_AND_HELPER();
    std::string path = Copy().Path;
    Result r = AsNobody([&](auto report) {
        int err = 0;
        auto channel = HelperChannel::Start(path, err);
        int own = Listener(AF_INET6);
        sockaddr_in6 sin6{};
        socklen_t len = sizeof sin6;
        getsockname(own, reinterpret_cast<sockaddr*>(&sin6), &len);
        int port = ntohs(sin6.sin6_port);
        HelperRequest start;
        start.Op = HelperOp::CaptureStart;
        start.Ports = {static_cast<std::uint16_t>(port)};
        HelperReply reply;
        std::vector<HelperSegment> segments;
        report("start", channel->Call(start, -1, reply, &segments) ? Name(reply.Refusal) : "no reply");
        int client = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        report("connect", connect(client, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) == 0 ? "ok" : std::strerror(errno));
        bool seen = WaitUntil(
            [&] {
                HelperReply ignored;
                channel->Receive(ignored, segments, 50);
                for (const auto& s : segments)
                    if (s.DstPort == port && s.Flags == 0x02 && s.Family == AF_INET6)
                        return true;
                return false;
            },
            5s);
        report("syn_seen", seen ? "yes" : "no");
        close(client);
        close(own);
    });
    EXPECT_EQ(r["start"], "ok");
    EXPECT_EQ(r["connect"], "ok");
    EXPECT_EQ(r["syn_seen"], "yes");
}
