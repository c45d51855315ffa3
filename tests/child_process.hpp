// sockscope (or any program) run as a child process by the --run and --watch tests, its
// output read as it comes, and the trace lines it prints.
#pragma once

#include "test_util.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sockscope::test {

// Run in a child before exec: ptrace fails with EPERM, as where tracing is forbidden. A
// sanitizer's leak check stops the world with ptrace at exit, so it is turned off for the
// child (added to the options the sanitizer run gives, which must stay).
inline void ForbidPtraceWithoutLeakCheck()
{
    const char* asan = std::getenv("ASAN_OPTIONS");
    std::string options = std::string(asan ? asan : "") + (asan && *asan ? ":" : "") + "detect_leaks=0";
    setenv("ASAN_OPTIONS", options.c_str(), 1);
    static sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    static sock_fprog prog{sizeof filter / sizeof filter[0], filter};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

using nlohmann::json;
using namespace std::chrono_literals;

// sockscope (or any program) as a child with pipes for stdin and stdout (stderr merged),
// killed and reaped by the destructor if it is still running.
class Child {
public:
    // `before_exec` runs in the child (async-signal-safe calls only).
    explicit Child(std::vector<std::string> argv, void (*before_exec)() = nullptr)
    {
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
            return;
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        Pid = fork();
        if (Pid == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(out[1], 2);
            if (before_exec)
                before_exec();
            execv(args[0], args.data());
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        In = in[1];
        Out = out[0];
        fcntl(Out, F_SETFL, O_NONBLOCK);
    }
    ~Child()
    {
        if (Pid > 0 && Status < 0) {
            kill(Pid, SIGKILL);
            waitpid(Pid, nullptr, 0);
        }
        if (In >= 0)
            close(In);
        if (Out >= 0)
            close(Out);
    }
    // Reads what is there (waiting up to `ms` for something).
    void Pump(int ms = 10)
    {
        pollfd p{Out, POLLIN, 0};
        if (poll(&p, 1, ms) <= 0)
            return;
        char buf[65536];
        for (ssize_t n; (n = read(Out, buf, sizeof buf)) > 0;)
            Text.append(buf, static_cast<std::size_t>(n));
    }
    // Waits until the output matches `pattern` (a regex); its first group, or "".
    std::optional<std::string> WaitFor(const std::string& pattern, std::chrono::milliseconds timeout = 10s)
    {
        std::regex re(pattern);
        std::smatch m;
        auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            Pump();
            if (std::regex_search(Text, m, re))
                return m.size() > 1 ? m[1].str() : std::string();
            if (Exited())
                break;
        }
        Pump(0);
        if (std::regex_search(Text, m, re))
            return m.size() > 1 ? m[1].str() : std::string();
        return std::nullopt;
    }
    bool Exited()
    {
        if (Status >= 0)
            return true;
        int st;
        if (waitpid(Pid, &st, WNOHANG) != Pid)
            return false;
        Status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return true;
    }
    // The exit status once it has exited (reading its output meanwhile), or -1 after the timeout.
    int Wait(std::chrono::milliseconds timeout = 30s)
    {
        auto end = std::chrono::steady_clock::now() + timeout;
        while (!Exited() && std::chrono::steady_clock::now() < end)
            Pump();
        Pump(0);
        return Status;
    }
    void Send(const std::string& s) { ASSERT_EQ(write(In, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
    // The JSON lines of the output (the program's own lines are mixed in: skipped).
    std::vector<json> JsonLines() const
    {
        std::vector<json> out;
        for (const auto& line : test::Lines(Text))
            if (line.size() > 1 && line[0] == '{')
                if (auto j = json::parse(line, nullptr, false); !j.is_discarded())
                    out.push_back(std::move(j));
        return out;
    }

    pid_t Pid = -1;
    int In = -1, Out = -1;
    int Status = -1;
    std::string Text;
};

inline std::vector<std::string> Sockscope(std::vector<std::string> args)
{
    args.insert(args.begin(), SOCKSCOPE_BINARY);
    return args;
}

// Waits until a trace line satisfies `ok`.
inline bool WaitForLine(Child& c, const std::function<bool(const json&)>& ok, std::chrono::milliseconds timeout = 10s)
{
    return test::WaitUntil(
        [&] {
            c.Pump(5);
            for (const auto& l : c.JsonLines())
                if (ok(l))
                    return true;
            return false;
        },
        timeout);
}

inline const json* Listener(const json& line, int port)
{
    for (const auto& l : line["listeners"])
        if (l["local"].get<std::string>().ends_with(":" + std::to_string(port)))
            return &l;
    return nullptr;
}

// A client connection to 127.0.0.1:port.
inline int ConnectTo(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace sockscope::test
