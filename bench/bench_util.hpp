// What every section of sockscope_bench shares: timing statistics, the results table
// (each figure beside its target, ok or MISSED), loopback connections made with bare
// system calls, a second process holding unrelated sockets, and small /proc readers.
// Only 127.0.0.1 is ever used; every socket is closed with a reset (SO_LINGER 0), so no
// TIME-WAIT is left behind and the next run finds a clean table.
#pragma once

#include "actor.hpp" // UniqueFd

#include <netinet/in.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sockscope::bench {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start);

// ---- statistics ---------------------------------------------------------------------

struct Stats {
    std::size_t Count = 0;
    double Median = 0, P95 = 0, Min = 0, Max = 0, Mean = 0;
};
Stats Summarize(std::vector<double> samples); // nearest-rank percentiles

// Calls `once` (which returns the seconds it took) until `budget` seconds are spent or
// `max_runs` samples are taken, but at least `min_runs` times. One warm-up call first.
std::vector<double> Sample(const std::function<double()>& once, double budget, int min_runs, int max_runs);

// "1.23 ms", "456 us", "2.05 s"
std::string FormatSeconds(double s);
std::string FormatCount(double n); // 10000 -> "10,000"
std::string Numbered(const char* prefix, long n); // ("c", 17) -> "c17": a lab handle name

// ---- the results table --------------------------------------------------------------

enum class Verdict { Info, Ok, Missed };

struct Row {
    std::string What;
    std::string Figure;  // the measured value as a human reads it
    std::string Target;  // "< 1 ms", or "" for figures shown for comparison only
    Verdict Result = Verdict::Info;
    std::string Detail;  // spread, sample count, sanity checks
};

// Rows are printed as they are added (so a slow section shows progress) and again,
// the targets only, in the summary at the end.
class Report {
public:
    void Section(const std::string& title, const std::string& note = "");
    void Add(Row row);
    void Note(const std::string& text); // an indented line under the section
    void PrintSummary() const;
    int Missed() const;

private:
    std::vector<std::pair<std::string, Row>> Rows; // section title, row
    std::string Current;
};

// ---- the process --------------------------------------------------------------------

// Raises RLIMIT_NOFILE to `wanted` (raising the hard limit too when allowed). Returns the
// soft limit in force afterwards.
long RaiseFileLimit(long wanted);
// VmRSS / VmHWM of this process in KiB (from /proc/self/status); 0 if unreadable.
long ResidentKiB(const char* field = "VmRSS:");
// TcpExt counters from /proc/net/netstat (ListenOverflows, ListenDrops, ...).
std::map<std::string, long> TcpExtCounters();
// Voluntary + involuntary context switches of this process so far (all threads).
long ContextSwitches();
// User + system CPU seconds of this process so far (all threads).
double CpuSeconds();
// Reads a small integer from /proc/sys (e.g. "net/ipv4/tcp_ehash_entries"); -1 if absent.
long ProcSysValue(const char* path);

// Runs a program (no shell) and waits for it: its standard output, line count and the
// wall time from spawn to reaped exit. Gives up (killing it) after `timeout` seconds.
struct ProcessResult {
    bool Ok = false;
    int ExitStatus = -1;
    std::string Out;
    std::size_t Lines = 0;
    double Seconds = 0;
    std::string Error;
};
ProcessResult RunProcess(const std::vector<std::string>& argv, double timeout);
std::string SelfPath(); // readlink /proc/self/exe

// ---- loopback connections with bare system calls --------------------------------------

void SetLingerZero(int fd);
sockaddr_in LoopbackAddress(std::uint16_t port); // 127.0.0.1:port
// A listener on 127.0.0.1:<the kernel's choice>, backlog 4096; sets `port`. On failure
// the descriptor is invalid and `error` says why.
UniqueFd ListenOnLoopback(std::uint16_t& port, std::string& error);

// A listener on 127.0.0.1:<kernel's choice> and connections to it, each a client and an
// accepted socket held by this process. Every socket is set to close with a reset.
class LoopbackServer {
public:
    LoopbackServer() = default;
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    bool Listen(std::string& error);
    std::uint16_t Port() const { return ListenPort; }
    // Opens connections until `connections` are held.
    bool GrowTo(int connections, std::string& error);
    // Closes (with a reset) the newest connections until `connections` are left.
    void ShrinkTo(int connections);
    int Connections() const { return static_cast<int>(Conns.size()); }
    void CloseAll();

private:
    UniqueFd Listener;
    std::uint16_t ListenPort = 0;
    std::vector<std::pair<UniqueFd, UniqueFd>> Conns;
};

// A forked child that holds `connections` loopback connections to its own listener (a
// different port from anything of ours) until Stop() or until we die (PDEATHSIG).
class NoiseProcess {
public:
    NoiseProcess() = default;
    ~NoiseProcess() { Stop(); }
    NoiseProcess(const NoiseProcess&) = delete;
    NoiseProcess& operator=(const NoiseProcess&) = delete;

    // Forks and waits (at most `timeout` s) until the child says its sockets are open.
    // Call while this process has no other threads.
    bool Start(int connections, double timeout, std::string& error);
    void Stop();
    std::uint16_t Port() const { return ChildPort; }
    pid_t Pid() const { return Child; }

private:
    pid_t Child = -1;
    int HoldFd = -1; // closing it tells the child to exit
    std::uint16_t ChildPort = 0;
};

} // namespace sockscope::bench
