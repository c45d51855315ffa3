// sockscope_bench_trace: what tracing costs a program (issue 14 §6). Times three workloads
// of trace_workload (getpid: calls the filter lets through; echo: connections, every call a
// stop; read: file reads, stopped because the filter cannot tell a file from a socket)
// untraced, under the tracer alone (net/tracer.hpp, events counted and dropped), under the
// whole `sockscope --run --headless` (with and without --json, output to /dev/null), and
// under `strace -f --seccomp-bpf` when strace is installed: once with `-e trace=network`,
// once stopping the same calls sockscope stops (network's, and read, write, close, dup,
// fcntl, epoll, poll, select), which -e trace=network does not.
//
// Each round runs every configuration once, in turn, so that a busy spell of the machine
// falls on all of them; the figures are the medians over the rounds (wall time) and the
// CPU time spent by everything involved (the program, the tracer, sockscope's threads).
// Prints figures and ratios, no verdict.
//
//   sockscope_bench_trace [ROUNDS [GETPIDS [ECHOES [READS]]]]   (3, 1000000, 10000, 100000)
#include "tracer.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

using namespace sockscope;

namespace {

double Now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// User + system seconds of this process and of its waited-for descendants.
double CpuSeconds()
{
    auto seconds = [](const rusage& r) {
        return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
               static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return seconds(self) + seconds(children);
}

// A command line run by the shell, output discarded.
bool Shell(const std::string& command)
{
    int status = std::system((command + " >/dev/null 2>&1").c_str());
    if (status != 0)
        std::cerr << "  (exit status " << status << ": " << command << ")\n";
    return status == 0;
}

bool UnderTracer(const std::vector<std::string>& argv, std::uint64_t& events)
{
    std::atomic<std::uint64_t> count{0}, ids{0};
    Tracer tracer({.Argv = argv}, [&](LaneReport&&) { count++; }, [](std::uint16_t) {}, [&] { return ++ids; });
    std::string error;
    if (!tracer.Start(error)) {
        std::cerr << "  tracer: " << error << "\n";
        return false;
    }
    tracer.WaitDone(600);
    tracer.Stop();
    events = count;
    return tracer.ExitStatus() == 0;
}

double Median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Config {
    std::string Name;
    std::function<bool(const std::string& kind, long n)> Run;
    std::vector<double> Wall, Cpu;
    bool Failed = false;
};

} // namespace

int main(int argc, char** argv)
{
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
    const long getpids = argc > 2 ? std::atol(argv[2]) : 1'000'000;
    const long echoes = argc > 3 ? std::atol(argv[3]) : 10'000;
    const long reads = argc > 4 ? std::atol(argv[4]) : 100'000;
    const std::string workload = SOCKSCOPE_TRACE_WORKLOAD;
    const std::string sockscope = SOCKSCOPE_BINARY;
    const bool have_strace = std::system("command -v strace >/dev/null 2>&1") == 0;
    const std::string same_calls = "network,read,write,close,dup,dup2,dup3,fcntl,epoll_create,epoll_create1,"
                                   "epoll_ctl,epoll_wait,epoll_pwait,select,pselect6,poll,ppoll,close_range";
    auto command = [&](const std::string& kind, long n) { return workload + " " + kind + " " + std::to_string(n); };

    std::uint64_t events = 0;
    std::vector<Config> configs;
    auto add = [&](std::string name, std::function<bool(const std::string&, long)> run) {
        configs.push_back({std::move(name), std::move(run), {}, {}});
    };
    add("untraced", [&](const std::string& k, long n) { return Shell(command(k, n)); });
    add("tracer alone (events dropped)",
        [&](const std::string& k, long n) { return UnderTracer({workload, k, std::to_string(n)}, events); });
    add("sockscope --run --headless",
        [&](const std::string& k, long n) { return Shell(sockscope + " --run --headless -- " + command(k, n)); });
    add("sockscope --run --headless --json", [&](const std::string& k, long n) {
        return Shell(sockscope + " --run --headless --json -- " + command(k, n));
    });
    if (have_strace) {
        add("strace -f --seccomp-bpf -e trace=network", [&](const std::string& k, long n) {
            return Shell("strace -f --seccomp-bpf -e trace=network -o /dev/null " + command(k, n));
        });
        add("strace, the calls sockscope stops", [&](const std::string& k, long n) {
            return Shell("strace -f --seccomp-bpf -e trace=" + same_calls + " -o /dev/null " + command(k, n));
        });
    } else {
        std::printf("(strace is not installed: its rows are left out)\n");
    }

    std::printf("sockscope_bench_trace: %d rounds; medians of wall time, and CPU time of everything involved\n",
                rounds);
    for (auto [kind, n] : {std::pair<std::string, long>{"getpid", getpids}, {"echo", echoes}, {"read", reads}}) {
        for (auto& c : configs) {
            c.Wall.clear();
            c.Cpu.clear();
            c.Failed = false;
        }
        std::uint64_t tracer_events = 0;
        for (int r = 0; r < rounds; ++r)
            for (std::size_t i = 0; i < configs.size(); ++i) {
                Config& c = configs[i];
                const double t0 = Now(), c0 = CpuSeconds();
                const bool ok = c.Run(kind, n);
                c.Wall.push_back(Now() - t0);
                c.Cpu.push_back(CpuSeconds() - c0);
                c.Failed = c.Failed || !ok;
                if (i == 1)
                    tracer_events = events;
            }
        const double base = Median(configs[0].Wall);
        const double strace = have_strace ? Median(configs[configs.size() - 2].Wall) : 0;
        const double same = have_strace ? Median(configs.back().Wall) : 0;
        std::printf("\n%s x %ld (tracer alone: %llu events a run)\n", kind.c_str(), n,
                    static_cast<unsigned long long>(tracer_events));
        std::printf("  %-42s %8s %12s %10s %9s %7s %8s  %s\n", "", "wall s", "us/iteration", "x untraced",
                    "x strace", "x same", "cpu s", "(min-max wall)");
        for (const auto& c : configs) {
            const double wall = Median(c.Wall);
            const auto [lo, hi] = std::minmax_element(c.Wall.begin(), c.Wall.end());
            std::printf("  %-42s %8.3f %12.2f %10.3f %9.3f %7.3f %8.3f  (%.3f-%.3f)%s\n", c.Name.c_str(), wall,
                        wall / static_cast<double>(n) * 1e6, base > 0 ? wall / base : 0.0,
                        strace > 0 ? wall / strace : 0.0, same > 0 ? wall / same : 0.0, Median(c.Cpu), *lo, *hi,
                        c.Failed ? "  FAILED (see above)" : "");
        }
    }
    if (have_strace)
        std::printf("\nx strace: against strace -f --seccomp-bpf -e trace=network. x same: against strace\n"
                    "stopping the calls sockscope stops (-e trace=%s).\n",
                    same_calls.c_str());
    return 0;
}
