// Helpers shared by the test suites: waiting on a condition with a deadline (never a
// fixed sleep), running a command, and reading `ss -tanoe` as an independent witness.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <functional>
#include <sstream>
#include <set>
#include <string>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SOCKSCOPE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SOCKSCOPE_SANITIZED 1
#endif
#endif

namespace sockscope::test {

// Built with a sanitizer: everything runs several times slower, so a bound on wall time
// that a user is promised (a reset within 1 s) gets more room there.
#ifdef SOCKSCOPE_SANITIZED
inline constexpr bool Sanitized = true;
#else
inline constexpr bool Sanitized = false;
#endif

// Polls `condition` every millisecond until it holds or `timeout` passes.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5))
{
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition())
            return true;
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::yield();
        struct timespec ts{0, 1000000};
        nanosleep(&ts, nullptr);
    }
}

struct CommandResult {
    int Status = -1;        // exit status, or -1 if it did not exit normally
    std::string Out;        // standard output (and standard error when merged)
};

// Runs a shell command; `merge_stderr` appends 2>&1.
inline CommandResult Run(const std::string& command, bool merge_stderr = false)
{
    CommandResult r;
    std::string cmd = command + (merge_stderr ? " 2>&1" : "");
    FILE* p = popen(cmd.c_str(), "r");
    if (!p)
        return r;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        r.Out.append(buf, n);
    int status = pclose(p);
    r.Status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline std::vector<std::string> Lines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

// One row of `ss -Htanoe` (or -Huanoe).
struct SsRow {
    std::string State;      // ss spelling: LISTEN, ESTAB, SYN-SENT, ...
    unsigned RecvQ = 0, SendQ = 0;
    std::string Local, Peer; // "127.0.0.1:4000"; ss writes a LISTEN peer as "0.0.0.0:*"
    std::string Cookie;      // hex, from "sk:"
    unsigned long Inode = 0;
};

// `udp`: the UDP table (ss -u) instead of TCP's; its states are UNCONN and ESTAB.
inline std::vector<SsRow> SsRows(int port, bool udp = false)
{
    std::string p = std::to_string(port);
    auto r = Run(std::string("ss -H") + (udp ? "u" : "t") + "anoe '( sport = :" + p + " or dport = :" + p + " )'");
    std::vector<SsRow> rows;
    for (const auto& line : Lines(r.Out)) {
        std::istringstream in(line);
        SsRow row;
        in >> row.State >> row.RecvQ >> row.SendQ >> row.Local >> row.Peer;
        for (std::string tok; in >> tok;) {
            if (tok.rfind("sk:", 0) == 0)
                row.Cookie = tok.substr(3);
            else if (tok.rfind("ino:", 0) == 0)
                row.Inode = std::stoul(tok.substr(4));
        }
        rows.push_back(row);
    }
    return rows;
}

inline int CountEntries(const char* dir)
{
    int n = 0;
    if (DIR* d = opendir(dir)) {
        while (readdir(d))
            ++n;
        closedir(d);
    }
    return n;
}

// A listening socket on 127.0.0.1 that someone else (the test) holds: its port is in use.
struct PortHolder {
    int Fd = -1;
    int Port = 0;
    PortHolder()
    {
        Fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sin;
        if (Fd >= 0 && bind(Fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 && listen(Fd, 1) == 0 &&
            getsockname(Fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0)
            Port = ntohs(sin.sin_port);
    }
    ~PortHolder()
    {
        if (Fd >= 0)
            close(Fd);
    }
    PortHolder(const PortHolder&) = delete;
    PortHolder& operator=(const PortHolder&) = delete;
};

inline int OpenFds() { return CountEntries("/proc/self/fd"); }

// The ids of this process's threads.
inline std::set<int> ThreadIds()
{
    std::set<int> ids;
    if (DIR* d = opendir("/proc/self/task")) {
        while (const dirent* e = readdir(d))
            if (e->d_name[0] != '.')
                ids.insert(std::atoi(e->d_name));
        closedir(d);
    }
    return ids;
}

// The threads running now that were not in `before` ("" when none): a leak. Not a count:
// a thread joined just before `before` was taken may still be listed in /proc for a
// moment (the kernel wakes the joiner before it is done with the thread), and its going
// away later is no leak.
inline std::string NewThreads(const std::set<int>& before)
{
    std::string out;
    for (int id : ThreadIds())
        if (!before.count(id))
            out += (out.empty() ? "" : " ") + std::to_string(id);
    return out;
}

} // namespace sockscope::test
