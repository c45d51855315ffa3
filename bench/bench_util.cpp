#include "bench_util.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

extern char** environ;

namespace sockscope::bench {

double SecondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

Stats Summarize(std::vector<double> samples)
{
    Stats s;
    if (samples.empty())
        return s;
    std::sort(samples.begin(), samples.end());
    auto rank = [&](double p) {
        auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(samples.size())));
        return samples[std::clamp<std::size_t>(i, 1, samples.size()) - 1];
    };
    s.Count = samples.size();
    s.Median = rank(0.5);
    s.P95 = rank(0.95);
    s.Min = samples.front();
    s.Max = samples.back();
    double sum = 0;
    for (double x : samples)
        sum += x;
    s.Mean = sum / static_cast<double>(samples.size());
    return s;
}

std::vector<double> Sample(const std::function<double()>& once, double budget, int min_runs, int max_runs)
{
    once(); // warm-up: first-touch page faults, module loading, caches
    std::vector<double> samples;
    const auto start = Clock::now();
    while (static_cast<int>(samples.size()) < max_runs &&
           (static_cast<int>(samples.size()) < min_runs || SecondsSince(start) < budget))
        samples.push_back(once());
    return samples;
}

std::string FormatSeconds(double s)
{
    char buf[32];
    if (s < 0)
        std::snprintf(buf, sizeof buf, "-");
    else if (s < 1e-3)
        std::snprintf(buf, sizeof buf, "%.0f us", s * 1e6);
    else if (s < 1.0)
        std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
    else if (s < 100)
        std::snprintf(buf, sizeof buf, "%.2f s", s);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
    else
        std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
    return buf;
}

std::string FormatCount(double n)
{
    auto value = static_cast<long long>(std::llround(n));
    std::string digits = std::to_string(value < 0 ? -value : value);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return value < 0 ? "-" + out : out;
}

std::string Numbered(const char* prefix, long n)
{
    std::string out = prefix;
    out += std::to_string(n);
    return out;
}

// ---- the results table --------------------------------------------------------------

namespace {

std::string Pad(const std::string& s, std::size_t width)
{
    return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

const char* VerdictText(Verdict v)
{
    switch (v) {
    case Verdict::Ok: return "ok";
    case Verdict::Missed: return "MISSED";
    case Verdict::Info: break;
    }
    return "";
}

void PrintRow(const Row& r)
{
    std::cout << "  " << Pad(r.What, 53) << Pad(r.Figure, 11) << Pad(r.Target, 10) << Pad(VerdictText(r.Result), 7)
              << r.Detail << "\n";
}

} // namespace

void Report::Section(const std::string& title, const std::string& note)
{
    Current = title;
    std::cout << "\n" << title << "\n";
    if (!note.empty())
        std::cout << "  " << note << "\n";
    std::cout << "  " << Pad("what", 53) << Pad("figure", 11) << Pad("target", 10) << Pad("", 7) << "detail\n";
    std::cout.flush();
}

void Report::Add(Row row)
{
    PrintRow(row);
    std::cout.flush();
    Rows.emplace_back(Current, std::move(row));
}

void Report::Note(const std::string& text)
{
    std::cout << "    " << text << "\n";
    std::cout.flush();
}

void Report::PrintSummary() const
{
    std::cout << "\nSummary (rows with a target)\n";
    std::string section;
    for (const auto& [title, row] : Rows) {
        if (row.Target.empty())
            continue;
        if (title != section) {
            section = title;
            std::cout << " " << title << "\n";
        }
        PrintRow(row);
    }
    int missed = Missed();
    std::cout << "\n" << (missed == 0 ? "every target met" : std::to_string(missed) + " target(s) MISSED") << "\n";
}

int Report::Missed() const
{
    return static_cast<int>(std::count_if(Rows.begin(), Rows.end(),
                                          [](const auto& r) { return r.second.Result == Verdict::Missed; }));
}

// ---- the process --------------------------------------------------------------------

long RaiseFileLimit(long wanted)
{
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= static_cast<rlim_t>(wanted))
        return static_cast<long>(rl.rlim_cur);
    rlimit raised{static_cast<rlim_t>(wanted), std::max(rl.rlim_max, static_cast<rlim_t>(wanted))};
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) { // not root: up to the hard limit only
        raised = {rl.rlim_max, rl.rlim_max};
        setrlimit(RLIMIT_NOFILE, &raised);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<long>(rl.rlim_cur);
}

long ResidentKiB(const char* field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, n, field) == 0)
            return std::atol(line.c_str() + n);
    return 0;
}

std::map<std::string, long> TcpExtCounters()
{
    std::map<std::string, long> out;
    std::ifstream in("/proc/net/netstat");
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("TcpExt:", 0) != 0)
            continue;
        std::istringstream n(names), v(values);
        std::string name, value;
        n >> name;
        v >> value;
        while (n >> name && v >> value)
            out[name] = std::atol(value.c_str());
    }
    return out;
}

long ContextSwitches()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw + ru.ru_nivcsw;
}

double CpuSeconds()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
    return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

long ProcSysValue(const char* path)
{
    std::ifstream in(std::string("/proc/sys/") + path);
    long value = -1;
    in >> value;
    return in ? value : -1;
}

std::string SelfPath()
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

ProcessResult RunProcess(const std::vector<std::string>& argv, double timeout)
{
    ProcessResult r;
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        r.Error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const auto start = Clock::now();
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        r.Error = "cannot run " + argv[0] + ": " + std::strerror(rc);
        return r;
    }
    char buf[65536];
    bool timed_out = false;
    for (;;) {
        pollfd pfd{out[0], POLLIN, 0};
        int left_ms = static_cast<int>((timeout - SecondsSince(start)) * 1000);
        if (left_ms <= 0 || poll(&pfd, 1, left_ms) == 0) {
            timed_out = true;
            break;
        }
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        r.Out.append(buf, static_cast<std::size_t>(n));
    }
    close(out[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.Seconds = SecondsSince(start);
    r.Lines = static_cast<std::size_t>(std::count(r.Out.begin(), r.Out.end(), '\n'));
    r.ExitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.Ok = !timed_out && r.ExitStatus == 0;
    if (timed_out)
        r.Error = argv[0] + " did not finish within " + FormatSeconds(timeout);
    else if (!r.Ok)
        r.Error = argv[0] + " exited with status " + std::to_string(r.ExitStatus);
    return r;
}

// ---- loopback connections -------------------------------------------------------------

void SetLingerZero(int fd)
{
    linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

sockaddr_in LoopbackAddress(std::uint16_t port)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

namespace {

std::string Failed(const char* call)
{
    return std::string(call) + ": " + std::strerror(errno);
}

} // namespace

UniqueFd ListenOnLoopback(std::uint16_t& port, std::string& error)
{
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin = LoopbackAddress(0);
    socklen_t len = sizeof sin;
    if (fd.Get() < 0 || bind(fd.Get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
        listen(fd.Get(), 4096) != 0 || getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
        error = Failed("listener on 127.0.0.1");
        return UniqueFd();
    }
    port = ntohs(sin.sin_port);
    return fd;
}

LoopbackServer::~LoopbackServer()
{
    CloseAll();
}

bool LoopbackServer::Listen(std::string& error)
{
    Listener = ListenOnLoopback(ListenPort, error);
    return Listener.Get() >= 0;
}

bool LoopbackServer::GrowTo(int connections, std::string& error)
{
    const sockaddr_in to = LoopbackAddress(ListenPort);
    while (Connections() < connections) {
        UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (client.Get() < 0) {
            error = Failed("socket");
            return false;
        }
        SetLingerZero(client.Get());
        if (connect(client.Get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
            error = Failed("connect");
            return false;
        }
        UniqueFd server(accept4(Listener.Get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (server.Get() < 0) {
            error = Failed("accept");
            return false;
        }
        SetLingerZero(server.Get());
        Conns.emplace_back(std::move(client), std::move(server));
    }
    return true;
}

void LoopbackServer::ShrinkTo(int connections)
{
    while (Connections() > std::max(0, connections))
        Conns.pop_back(); // SO_LINGER 0: each close sends a reset
}

void LoopbackServer::CloseAll()
{
    Conns.clear();
    Listener.Reset();
}

// ---- the second process -----------------------------------------------------------------

bool NoiseProcess::Start(int connections, double timeout, std::string& error)
{
    int ready[2], hold[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(hold, O_CLOEXEC) != 0) {
        error = Failed("pipe");
        return false;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        error = Failed("fork");
        return false;
    }
    if (pid == 0) {
        // The child: never outlive the benchmark, keep none of its descriptors.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        // Out of the way first, so that neither dup2 clobbers the other pipe.
        int ready_w = fcntl(ready[1], F_DUPFD, 1000), hold_r = fcntl(hold[0], F_DUPFD, 1000);
        dup2(ready_w, 3);
        dup2(hold_r, 4);
        close_range(5, ~0U, 0);
        LoopbackServer server;
        std::string why;
        std::uint16_t port = 0;
        if (server.Listen(why) && server.GrowTo(connections, why))
            port = server.Port();
        [[maybe_unused]] ssize_t w = write(3, &port, sizeof port);
        char c;
        while (read(4, &c, 1) < 0 && errno == EINTR) {
        }
        _exit(0); // every socket has SO_LINGER 0: the kernel resets them all
    }
    close(ready[1]);
    close(hold[0]);
    Child = pid;
    HoldFd = hold[1];
    pollfd pfd{ready[0], POLLIN, 0};
    std::uint16_t port = 0;
    bool ok = poll(&pfd, 1, static_cast<int>(timeout * 1000)) == 1 && read(ready[0], &port, sizeof port) == sizeof port &&
              port != 0;
    close(ready[0]);
    if (!ok) {
        error = "the second process could not open " + std::to_string(connections) + " connections in time";
        Stop();
        return false;
    }
    ChildPort = port;
    return true;
}

void NoiseProcess::Stop()
{
    if (HoldFd >= 0)
        close(HoldFd);
    HoldFd = -1;
    if (Child > 0) {
        int status;
        // It exits as soon as it reads EOF; the kill only covers a child stuck elsewhere.
        for (int i = 0; i < 5000 && waitpid(Child, &status, WNOHANG) == 0; ++i)
            usleep(1000);
        if (waitpid(Child, &status, WNOHANG) == 0) {
            kill(Child, SIGKILL);
            waitpid(Child, &status, 0);
        }
    }
    Child = -1;
    ChildPort = 0;
}

} // namespace sockscope::bench
