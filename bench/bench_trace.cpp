// sockscope_bench_trace: what tracing costs a program (issue 14). Times two workloads
// (trace_workload getpid N: calls the filter lets through; connect N: every call a stop)
// untraced, under the tracer (net/tracer.hpp, events counted and dropped), under the whole
// `sockscope --run --headless` (output to /dev/null), and under
// `strace -f --seccomp-bpf -e trace=network` when strace is installed. Prints figures;
// no targets, no verdict.
#include "tracer.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

using namespace sockscope;

namespace {

double Now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Wall seconds of a command line run by the shell, output discarded.
double Shell(const std::string& command)
{
    double t0 = Now();
    int status = std::system((command + " >/dev/null 2>&1").c_str());
    double t = Now() - t0;
    if (status != 0)
        std::cerr << "  (exit status " << status << ": " << command << ")\n";
    return t;
}

double UnderTracer(const std::vector<std::string>& argv, std::uint64_t& events)
{
    std::atomic<std::uint64_t> count{0}, ids{0};
    double t0 = Now();
    Tracer tracer({.Argv = argv}, [&](LaneReport&&) { count++; }, [](std::uint16_t) {}, [&] { return ++ids; });
    std::string error;
    if (!tracer.Start(error)) {
        std::cerr << "  tracer: " << error << "\n";
        return 0;
    }
    tracer.WaitDone(600);
    tracer.Stop();
    events = count;
    return Now() - t0;
}

void Row(const char* what, double seconds, double base, long n)
{
    std::printf("  %-44s %8.3f s  %8.2f us/iteration  %6.2fx\n", what, seconds, seconds / n * 1e6,
                base > 0 ? seconds / base : 0.0);
}

} // namespace

int main(int argc, char** argv)
{
    long getpids = argc > 1 ? std::atol(argv[1]) : 10'000'000;
    long connects = argc > 2 ? std::atol(argv[2]) : 5'000;
    const std::string workload = SOCKSCOPE_TRACE_WORKLOAD;
    const std::string sockscope = SOCKSCOPE_BINARY;
    bool have_strace = std::system("command -v strace >/dev/null 2>&1") == 0;
    for (auto [kind, n] : {std::pair<std::string, long>{"getpid", getpids}, {"connect", connects}}) {
        std::string args = workload + " " + kind + " " + std::to_string(n);
        std::printf("%s x %ld\n", kind.c_str(), n);
        double base = Shell(args);
        Row("untraced", base, base, n);
        std::uint64_t events = 0;
        double traced = UnderTracer({workload, kind, std::to_string(n)}, events);
        Row(("tracer (" + std::to_string(events) + " events)").c_str(), traced, base, n);
        Row("sockscope --run --headless", Shell(sockscope + " --run --headless -- " + args), base, n);
        Row("sockscope --run --headless --json", Shell(sockscope + " --run --headless --json -- " + args), base, n);
        if (have_strace)
            Row("strace -f --seccomp-bpf -e trace=network",
                Shell("strace -f --seccomp-bpf -e trace=network -o /dev/null " + args), base, n);
    }
    return 0;
}
