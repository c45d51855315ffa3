#include "bench_report.hpp"

#include "clock.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
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

} // namespace

BenchReport::BenchReport()
{
    const char* path = std::getenv("SOCKSCOPE_BENCH_REPORT");
    Path = path ? path : "";
    const char* busy = std::getenv("SOCKSCOPE_BENCH_BUSY");
    Busy = !Path.empty() && busy && std::string(busy) == "1";
    if (const char* seconds = std::getenv("SOCKSCOPE_BENCH_SECONDS"))
        Seconds = std::clamp(std::atof(seconds), 0.1, 3600.0);
}

void BenchReport::FrameShown()
{
    if (!Path.empty() && FirstFrame < 0)
        FirstFrame = SinceProcessStart();
    ++Frames;
}

bool BenchReport::Finished(bool settled)
{
    if (Path.empty() || FirstFrame < 0)
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
        << "\nwall_s=" << now - WindowStart << "\ncpu_s=" << CpuSeconds() - CpuStart << "\n";
    if (!out.flush())
        std::fprintf(stderr, "sockscope: cannot write %s\n", Path.c_str());
    return true;
}

} // namespace sockscope
