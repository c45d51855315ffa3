// sockscope_bench: the figures of issue 7, each beside its target, on this machine.
// One straight-line main: raise the descriptor limit, run the sections in order (the one
// that forks first, before any thread exists), print the summary.
#include "bench.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>

using namespace sockscope::bench;

namespace {

void Usage()
{
    std::cout << "usage: sockscope_bench [--only dump|rate|memory|lag|ui|playground] [--quick]\n"
                 "  Measures the probe, the lab and the world model on 127.0.0.1 (about 40 s on 2 cores),\n"
                 "  and the GUI (about 40 s; needs xvfb-run for the real binary's figures).\n"
                 "  --only playground: a playground script of 10,000 connections in the GUI (not part of\n"
                 "  the full run: about 9 minutes on 2 cores)\n"
                 "  --quick  smaller counts (a smoke test; figures are not comparable to the targets)\n";
}

} // namespace

int main(int argc, char** argv)
{
    if (argc >= 2 && std::strcmp(argv[1], "--memory-child") == 0)
        return MemoryChildMain(argc, argv);
    if (argc >= 2 && std::strcmp(argv[1], "--history-child") == 0)
        return HistoryChildMain(argc, argv);

    Options options;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--only" && i + 1 < argc) {
            only = argv[++i];
            if (only != "dump" && only != "rate" && only != "memory" && only != "lag" && only != "ui" &&
                only != "playground") {
                Usage();
                return 2;
            }
        } else if (arg == "--quick") {
            options.DumpSockets[2] = 2000;
            options.NoiseSockets = 2000;
            options.RateConnections = 1000;
            options.LagTrials = 10;
            options.WorldBudget = 5;
            options.UiConnections[2] = 2000;
            options.IdleSeconds = 3;
            options.BusySeconds = 2;
            options.HistorySteps = 60;
        } else {
            Usage();
            return arg == "--help" || arg == "-h" ? 0 : 2;
        }
    }

    // 10,000 connections are 20,000 descriptors in this process (the lab holds both ends),
    // and the memory child needs as many; leave room for the listener, the actors'
    // eventfds, pipes and netlink sockets.
    constexpr long kSpare = 64;
    const long wanted = 2L * options.RateConnections + kSpare;
    const long limit = RaiseFileLimit(wanted);
    if (limit < wanted) {
        const int scaled = static_cast<int>((limit - kSpare) / 2);
        std::cout << "NOTE: RLIMIT_NOFILE is " << limit << " and cannot be raised (no CAP_SYS_RESOURCE here): "
                  << FormatCount(options.RateConnections) << " connections scaled down to " << FormatCount(scaled)
                  << " in sections 4 and 5\n";
        options.RateConnections = std::max(100, scaled);
        options.DumpSockets[2] = std::min(options.DumpSockets[2], 2 * options.RateConnections);
    }

    utsname u{};
    uname(&u);
    std::cout << "sockscope_bench: Linux " << u.release << ", " << sysconf(_SC_NPROCESSORS_ONLN) << " CPUs, "
              << "RLIMIT_NOFILE " << limit << ", TCP ehash " << FormatCount(static_cast<double>(ProcSysValue("net/ipv4/tcp_ehash_entries")))
              << " buckets, somaxconn " << ProcSysValue("net/core/somaxconn") << "\n"
              << "Only 127.0.0.1 is used; every socket is closed with a reset (no TIME-WAIT left behind).\n";

    // The last resort if something hangs in a way no deadline below foresaw: SIGALRM's
    // default action ends the process, and the second process dies with it (PDEATHSIG).
    alarm(only == "playground" ? 1500 : 300);
    const auto start = Clock::now();
    Report report;
    if (only.empty() || only == "dump")
        RunDumpSection(report, options); // forks a child: before any thread exists
    if (only.empty() || only == "rate")
        RunRateSection(report, options);
    if (only.empty() || only == "memory") {
        RunMemorySection(report, options);
        RunHistorySection(report, options);
    }
    if (only.empty() || only == "lag")
        RunLagSection(report, options);
#ifdef SOCKSCOPE_BENCH_UI
    if (only.empty() || only == "ui")
        RunUiSection(report, options);
    if (only == "playground")
        RunPlaygroundSection(report, options);
#else
    if (only == "ui" || only == "playground")
        std::cout << "this sockscope_bench was built without the GUI (SOCKSCOPE_BUILD_GUI=OFF): no ui section\n";
#endif
    report.PrintSummary();
    std::cout << "total " << FormatSeconds(SecondsSince(start)) << "\n";
    return 0; // missed targets are findings, not failures of the program
}
