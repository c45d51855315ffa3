#include "bench_report.hpp"

#include "clock.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include <sys/resource.h>
#include <unistd.h>

namespace sockscope {
namespace {

// /proc/self/stat's 22nd field: when the process started, in clock ticks after boot.
double SinceProcessStart()
{
    std::ifstream in("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto paren = stat.rfind(')');
    if (paren == std::string::npos)
        return -1;
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) // the fields after the name start at 3 (the state)
        fields >> field;
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    return static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9 -
           std::atof(field.c_str()) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double CpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The resident memory now, in kB: the total and its parts from /proc/self/status, and by
// who mapped it from /proc/self/smaps (Mesa's software renderer: libLLVM and the DRI
// driver; the heap; anonymous maps; the X server's shared image; our binary; the other
// libraries). Lines "rss_..._kb=N".
std::string ResidentMemory()
{
    std::ostringstream out;
    std::ifstream status("/proc/self/status");
    const std::pair<const char*, const char*> totals[] = {
        {"VmRSS:", "rss_kb"}, {"RssAnon:", "rss_anon_total_kb"}, {"RssFile:", "rss_file_total_kb"}, {"RssShmem:", "rss_shmem_total_kb"}};
    for (std::string line; std::getline(status, line);)
        for (const auto& [key, name] : totals)
            if (line.rfind(key, 0) == 0)
                out << name << "=" << std::atol(line.c_str() + std::strlen(key)) << "\n";
    std::map<std::string, long> parts;
    std::ifstream smaps("/proc/self/smaps");
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    std::string part = "anon";
    for (std::string line; std::getline(smaps, line);) {
        std::string first = line.substr(0, line.find(' '));
        bool header = first.find('-') != std::string::npos &&
                      first.find_first_not_of("0123456789abcdef-") == std::string::npos;
        if (header) {
            // "start-end perms offset dev inode   path"
            std::istringstream fields(line);
            std::string range, perms, offset, dev, inode, path;
            fields >> range >> perms >> offset >> dev >> inode;
            std::getline(fields >> std::ws, path);
            if (path.empty())
                part = "anon";
            else if (path == "[heap]")
                part = "heap";
            else if (path.find("libLLVM") != std::string::npos || path.find("/dri/") != std::string::npos ||
                     path.find("libgallium") != std::string::npos)
                part = "mesa";
            else if (path.rfind("/SYSV", 0) == 0)
                part = "shm";
            else if (path == self)
                part = "binary";
            else if (path.find(".so") != std::string::npos)
                part = "libs";
            else
                part = "other";
        } else if (line.rfind("Rss:", 0) == 0) {
            parts[part] += std::atol(line.c_str() + 4);
        }
    }
    for (const auto& [name, kb] : parts)
        out << "rss_" << name << "_kb=" << kb << "\n";
    return out.str();
}

} // namespace

BenchReport::BenchReport()
{
    const char* path = std::getenv("SOCKSCOPE_BENCH_REPORT");
    Path = path ? path : "";
    const char* busy = std::getenv("SOCKSCOPE_BENCH_BUSY");
    Busy = !Path.empty() && busy && std::string(busy) == "1";
    const char* reset = std::getenv("SOCKSCOPE_BENCH_RESET");
    ResetAfterScript = !Path.empty() && reset && std::string(reset) == "1";
    if (const char* seconds = std::getenv("SOCKSCOPE_BENCH_SECONDS"))
        Seconds = std::clamp(std::atof(seconds), 0.1, 3600.0);
}

void BenchReport::FrameShown()
{
    if (!Path.empty() && FirstFrame < 0)
        FirstFrame = SinceProcessStart();
    ++Frames;
    if (!ResetAfterScript || ScriptPhase != Phase::Script)
        return;
    double now = MonotonicSeconds();
    if (ScriptStart < 0)
        ScriptStart = now;
    else
        Gaps.push_back(now - LastFrame);
    LastFrame = now;
    ++ScriptFrames;
}

bool BenchReport::ScriptTurn(bool running)
{
    if (!ResetAfterScript || ScriptPhase != Phase::Script || running || ScriptStart < 0)
        return false;
    ScriptEnd = ResetAt = MonotonicSeconds();
    ScriptPhase = Phase::Resetting;
    return true;
}

void BenchReport::LabShown(bool empty)
{
    if (ScriptPhase == Phase::Resetting && empty) {
        ResetShown = MonotonicSeconds();
        ScriptPhase = Phase::Done;
    }
}

bool BenchReport::Finished(bool settled)
{
    if (Path.empty() || FirstFrame < 0 || (ResetAfterScript && ScriptPhase != Phase::Done))
        return false;
    double now = MonotonicSeconds();
    if (WindowStart < 0) {
        if (settled) {
            WindowStart = now;
            CpuStart = CpuSeconds();
            StepsDone = SinceProcessStart();
            Frames = 0;
        }
        return false;
    }
    if (now - WindowStart < Seconds)
        return false;
    std::ofstream out(Path);
    out << "first_frame_s=" << FirstFrame << "\nsteps_done_s=" << StepsDone << "\nframes=" << Frames
        << "\nwall_s=" << now - WindowStart << "\ncpu_s=" << CpuSeconds() - CpuStart << "\n"
        << ResidentMemory();
    if (ResetAfterScript) {
        std::sort(Gaps.begin(), Gaps.end());
        double p95 = Gaps.empty() ? 0 : Gaps[std::min(Gaps.size() - 1, Gaps.size() * 95 / 100)];
        out << "script_s=" << ScriptEnd - ScriptStart << "\nscript_frames=" << ScriptFrames
            << "\nframe_gap_max_s=" << (Gaps.empty() ? 0 : Gaps.back()) << "\nframe_gap_p95_s=" << p95
            << "\nreset_s=" << ResetShown - ResetAt << "\n";
    }
    if (!out.flush())
        std::fprintf(stderr, "sockscope: cannot write %s\n", Path.c_str());
    return true;
}

} // namespace sockscope
