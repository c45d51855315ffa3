// [1-3] The probe's snapshot of the lab's port, as the lab grows, then again with a
// second process holding unrelated sockets, and `ss` doing the same dump as a whole
// process for comparison. Both kinds of snapshot the probe takes are timed: a sweep
// (DumpSockets: the kernel walks every TCP socket of the machine, the port filter
// rejecting the others one by one) and a follow (SocketTracker: one lookup per socket
// already known, which is what the probe does between sweeps). At 1,000 sockets the
// kernel's share of a sweep is split out with bare requests (one per family, and one
// walk for both).
#include "bench.hpp"

#include "diag_parse.hpp"
#include "probe.hpp"
#include "tracker.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>

namespace sockscope::bench {
namespace {

// ---- where a dump's time goes: the kernel's share, per request ----------------------

// Sends `request` and reads the replies up to NLMSG_DONE without parsing them: the
// kernel's walk plus the copy out. Returns seconds, or -1 on any error.
double RawDump(int fd, const std::vector<std::uint8_t>& request, std::size_t& rows)
{
    static std::vector<std::uint8_t> buffer(64 * 1024);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    rows = 0;
    const auto start = Clock::now();
    if (sendto(fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0)
        return -1;
    for (;;) {
        ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0)
            return -1;
        int len = static_cast<int>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return SecondsSince(start);
            if (h->nlmsg_type == NLMSG_ERROR)
                return -1;
            ++rows;
        }
    }
}

// Samples of one cell of the table: a lab size, with or without the second process.
struct Cell {
    std::vector<double> Dump, Follow, Ss, V4, V6, OneWalk, OneWalkInfo;
    std::size_t Rows = 0, FollowRows = 0, SsRows = 0, RowsV4 = 0, RowsV6 = 0, RowsOneWalk = 0, RowsOneWalkInfo = 0;
    std::string Error, SsError, FollowError; // FollowError: a follow that swept instead
    bool RawOk = true;
};

// One block of samples for `port`: DumpSockets (and, with `raw`, the four bare kernel
// requests, round-robin with it so that a busy moment of the machine hits them all
// alike), then `ss` as a whole process.
void Collect(Cell& cell, std::uint16_t port, double budget, bool raw, int netlink)
{
    const std::uint16_t ports[] = {port};
    static std::uint32_t seq = 1;
    DumpSockets(ports); // warm-up after the table changed
    TrackerOptions no_periodic_sweep;
    no_periodic_sweep.SweepEvery = 1e9;
    no_periodic_sweep.PreferCheaper = false; // time follows even where a sweep is cheaper
    SocketTracker tracker(no_periodic_sweep);
    tracker.Take(ports, true); // the sweep that a follow starts from
    const auto start = Clock::now();
    do {
        const auto t0 = Clock::now();
        Snapshot snap = DumpSockets(ports);
        cell.Dump.push_back(SecondsSince(t0));
        cell.Rows = snap.Sockets.size();
        cell.Error = snap.Error.English();
        const auto t1 = Clock::now();
        Snapshot followed = tracker.Take(ports, false);
        cell.Follow.push_back(SecondsSince(t1));
        cell.FollowRows = followed.Sockets.size();
        if (tracker.LastKind() != SnapshotKind::Follow)
            cell.FollowError = "swept instead (" + std::string(tracker.LastReason()) + ")";
        if (raw) {
            auto one = [&](const std::vector<std::uint8_t>& request, std::vector<double>& out, std::size_t& rows) {
                const double t = RawDump(netlink, request, rows);
                cell.RawOk = cell.RawOk && t >= 0;
                out.push_back(t);
            };
            one(BuildDiagRequest(AF_INET, ports, ++seq), cell.V4, cell.RowsV4);
            one(BuildDiagRequest(AF_INET6, ports, ++seq), cell.V6, cell.RowsV6);
            one(BuildDiagRequest(AF_UNSPEC, ports, ++seq), cell.OneWalk, cell.RowsOneWalk);
            one(BuildDiagRequest(AF_UNSPEC, ports, ++seq, true), cell.OneWalkInfo, cell.RowsOneWalkInfo);
        }
    } while (SecondsSince(start) < budget && cell.Dump.size() < 2000);

    const std::string filter = "( sport = :" + std::to_string(port) + " or dport = :" + std::to_string(port) + " )";
    const auto ss_start = Clock::now();
    do {
        ProcessResult r = RunProcess({"ss", "-tan", filter}, 10);
        if (!r.Ok) {
            cell.SsError = r.Error;
            break;
        }
        cell.Ss.push_back(r.Seconds);
        cell.SsRows = r.Lines > 0 ? r.Lines - 1 : 0; // minus the header
    } while (SecondsSince(ss_start) < budget);
}

std::string DumpDetail(const Cell& c, std::size_t expected_rows, bool follow = false)
{
    const Stats s = Summarize(follow ? c.Follow : c.Dump);
    const std::size_t rows = follow ? c.FollowRows : c.Rows;
    char buf[160];
    std::snprintf(buf, sizeof buf, "p95 %s, min %s, %zu runs; %zu rows", FormatSeconds(s.P95).c_str(),
                  FormatSeconds(s.Min).c_str(), s.Count, rows);
    std::string out = buf;
    if (rows != expected_rows)
        out += " (EXPECTED " + std::to_string(expected_rows) + ")";
    const std::string& error = follow ? c.FollowError : c.Error;
    if (!error.empty())
        out += "; " + error;
    return out;
}

std::string SsDetail(const Cell& c, std::size_t expected_rows)
{
    if (!c.SsError.empty())
        return "ss failed: " + c.SsError;
    const Stats s = Summarize(c.Ss);
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.1fx DumpSockets; p95 %s, %zu runs; %zu rows%s",
                  s.Median / Summarize(c.Dump).Median, FormatSeconds(s.P95).c_str(), s.Count, c.SsRows,
                  c.SsRows == expected_rows ? "" : " (MISMATCH)");
    return buf;
}

void AddRawRows(Report& report, const Cell& c, const std::string& label)
{
    if (!c.RawOk || c.V4.empty()) {
        report.Note("the bare sock_diag requests failed");
        return;
    }
    report.Add({"  kernel's share: AF_INET request" + label, FormatSeconds(Summarize(c.V4).Median), "", Verdict::Info,
                std::to_string(c.RowsV4) + " rows, read but not parsed"});
    report.Add({"  kernel's share: AF_INET6 request" + label, FormatSeconds(Summarize(c.V6).Median), "", Verdict::Info,
                std::to_string(c.RowsV6) + " rows: the same tables walked a second time"});
    report.Add({"  one walk for both: TCPDIAG_GETSOCK" + label, FormatSeconds(Summarize(c.OneWalk).Median), "",
                Verdict::Info, std::to_string(c.RowsOneWalk) + " rows; the request DumpSockets makes"});
    report.Add({"  the same with tcp_info (INET_DIAG_INFO)" + label, FormatSeconds(Summarize(c.OneWalkInfo).Median),
                "", Verdict::Info,
                std::to_string(c.RowsOneWalkInfo) + " rows; the probe asked for it until 2026-11-22, unused"});
}

std::string SocketsLabel(int sockets)
{
    return sockets == 0 ? "0 sockets (unused port)" : FormatCount(sockets) + " sockets";
}

} // namespace

void RunDumpSection(Report& report, const Options& options)
{
    report.Section("[1-3] Probe snapshot of the lab's port P: a follow (lookups of the sockets known) and a sweep (a dump)",
                   "N sockets = N/2 connections to a listener on 127.0.0.1:P (a dump returns N+1 rows, the listener "
                   "too); median of many calls; 3 rounds alternate the conditions");
    LoopbackServer lab, unused;
    std::string error;
    if (!lab.Listen(error) || !unused.Listen(error)) {
        report.Note("cannot set up: " + error);
        return;
    }
    const std::uint16_t nobody = unused.Port();
    unused.CloseAll(); // nothing uses the port any more
    UniqueFd netlink(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    const timeval reply_timeout{1, 0};
    setsockopt(netlink.Get(), SOL_SOCKET, SO_RCVTIMEO, &reply_timeout, sizeof reply_timeout);

    const int sizes[4] = {0, options.DumpSockets[0], options.DumpSockets[1], options.DumpSockets[2]};
    Cell quiet[4], noisy[4];
    constexpr int kRounds = 3;
    bool noise_ok = true;
    pid_t noise_pid = -1;
    for (int round = 0; round < kRounds; ++round) {
        for (int noisy_block = 0; noisy_block < 2; ++noisy_block) {
            NoiseProcess noise; // forks: this section runs before any thread exists
            if (noisy_block && !(noise_ok = noise.Start(options.NoiseSockets / 2, 60, error)))
                break;
            noise_pid = noisy_block ? noise.Pid() : noise_pid;
            lab.ShrinkTo(0);
            for (int i = 0; i < 4; ++i) {
                if (sizes[i] > 0) {
                    lab.ShrinkTo(sizes[i] / 2);
                    if (!lab.GrowTo(sizes[i] / 2, error)) {
                        report.Note("cannot open connections: " + error);
                        return;
                    }
                }
                Cell& cell = noisy_block ? noisy[i] : quiet[i];
                Collect(cell, sizes[i] ? lab.Port() : nobody, 0.15, sizes[i] == 1000, netlink.Get());
            }
        }
    }
    lab.CloseAll();

    auto median = [](const Cell& c) { return Summarize(c.Dump).Median; };
    auto follow_median = [](const Cell& c) { return Summarize(c.Follow).Median; };
    for (int i = 1; i < 4; ++i) {
        const int n = sizes[i];
        const bool judged = n == 1000;
        report.Add({"follow (lookups), " + SocketsLabel(n), FormatSeconds(follow_median(quiet[i])),
                    judged ? "< 1 ms" : "", judged ? (follow_median(quiet[i]) < 1e-3 ? Verdict::Ok : Verdict::Missed)
                                                   : Verdict::Info,
                    DumpDetail(quiet[i], static_cast<std::size_t>(n + 1), true)});
    }
    for (int i = 0; i < 4; ++i) {
        const int n = sizes[i];
        const bool judged = n == 1000;
        std::string detail = DumpDetail(quiet[i], static_cast<std::size_t>(n ? n + 1 : 0));
        if (n == 0)
            detail += "; the kernel walks all " + FormatCount(static_cast<double>(ProcSysValue("net/ipv4/tcp_ehash_entries"))) +
                      " ehash buckets";
        report.Add({"sweep (DumpSockets), " + SocketsLabel(n), FormatSeconds(median(quiet[i])), judged ? "< 1 ms" : "",
                    judged ? (median(quiet[i]) < 1e-3 ? Verdict::Ok : Verdict::Missed) : Verdict::Info, detail});
        if (judged)
            AddRawRows(report, quiet[i], "");
    }
    for (int i = 1; i < 4; ++i)
        report.Add({"ss -tan '( sport/dport :P )', " + SocketsLabel(sizes[i]), FormatSeconds(Summarize(quiet[i].Ss).Median),
                    "", Verdict::Info, SsDetail(quiet[i], static_cast<std::size_t>(sizes[i] + 1))});
    if (!noise_ok) {
        report.Note("no second process: " + error);
        return;
    }
    const std::string others = " + " + FormatCount(options.NoiseSockets) + " others";
    report.Note("with a second process (pid " + std::to_string(noise_pid) + " in the last round) holding " +
                FormatCount(options.NoiseSockets) + " sockets: " + FormatCount(options.NoiseSockets / 2) +
                " connections to its own listener");
    for (int i = 1; i < 4; ++i) {
        const int n = sizes[i];
        const double added = follow_median(noisy[i]) / follow_median(quiet[i]) - 1;
        char detail[200];
        std::snprintf(detail, sizeof detail, "%+.0f%% (alone %s); %s", added * 100,
                      FormatSeconds(follow_median(quiet[i])).c_str(),
                      DumpDetail(noisy[i], static_cast<std::size_t>(n + 1), true).c_str());
        report.Add({"follow (lookups), " + SocketsLabel(n) + others, FormatSeconds(follow_median(noisy[i])), "< +20%",
                    added < 0.20 ? Verdict::Ok : Verdict::Missed, detail});
    }
    for (int i = 0; i < 4; ++i) {
        const int n = sizes[i];
        const double added = median(noisy[i]) / median(quiet[i]) - 1;
        char detail[200];
        if (n == 0)
            std::snprintf(detail, sizeof detail, "%+.0f%% (alone %s): %.0f ns per foreign socket per dump, walked "
                          "although the filter rejects it", added * 100, FormatSeconds(median(quiet[i])).c_str(),
                          1e9 * (median(noisy[i]) - median(quiet[i])) / options.NoiseSockets);
        else
            std::snprintf(detail, sizeof detail, "%+.0f%% (alone %s); %s", added * 100,
                          FormatSeconds(median(quiet[i])).c_str(),
                          DumpDetail(noisy[i], static_cast<std::size_t>(n + 1)).c_str());
        report.Add({"sweep (DumpSockets), " + SocketsLabel(n) + others, FormatSeconds(median(noisy[i])), "",
                    Verdict::Info, detail});
        if (n == 1000)
            AddRawRows(report, noisy[i], others);
    }
    for (int i = 1; i < 4; ++i)
        report.Add({"ss, " + SocketsLabel(sizes[i]) + others, FormatSeconds(Summarize(noisy[i].Ss).Median), "",
                    Verdict::Info, SsDetail(noisy[i], static_cast<std::size_t>(sizes[i] + 1))});
}

} // namespace sockscope::bench
