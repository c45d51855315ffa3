// [5b] The GUI's history (issue "Time travel"): what keeping every moment costs after
// 1,000 lesson steps, in a fresh copy of this program (`--history-child STEPS`).
//
// The child plays the no-accept lesson on real sockets, again and again (Reset between
// runs, as a teacher would), with a Recorder noting every event the World applies and a
// ReplayCursor keeping its checkpoints, exactly as the GUI's GuiHistory does. It prints
// the resident memory before and after, the recorder's own count of its bytes, and how
// long the cursor takes to show the first moment again (the worst step back).
#include "bench.hpp"

#include "clock.hpp"
#include "lab.hpp"
#include "lesson.hpp"
#include "player.hpp"
#include "recording.hpp"
#include "world.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace sockscope::bench {

int HistoryChildMain(int argc, char** argv)
{
    const int steps = argc >= 3 ? std::atoi(argv[2]) : 1000;
    std::string error;
    auto lesson = FindLesson("no-accept", error, LessonDirs());
    if (!lesson) {
        std::cout << "error " << error << "\n";
        return 1;
    }
    Lab lab;
    World world;
    InferWhatIsNotCaptured(lab, world);
    LessonPlayer player(lab, world);
    player.Load(std::move(*lesson));
    RecordingInfo info;
    info.InferSegments = !lab.Capturing();
    info.InferDatagrams = !lab.CapturesDatagrams();
    Recorder recorder;
    recorder.Begin(info, world);
    ReplayCursor cursor(recorder.Get());
    const long rss_start = ResidentKiB();
    const double start = MonotonicSeconds();
    int done = 0;
    while (done < steps) {
        if (player.AtEnd())
            player.Reset();
        player.StepForward();
        bool idle = DriveUntilIdle(
            lab, world, player, 30.0,
            [&] {
                if (recorder.Tick(world, &player, MonotonicSeconds()))
                    cursor.Grew(world);
            },
            [&](const LabEvent& e) { recorder.Note(e, world); });
        recorder.StepEnded(world, player, MonotonicSeconds(), idle);
        cursor.Grew(world);
        if (!idle)
            break;
        ++done;
    }
    const double wall = MonotonicSeconds() - start;
    const Recording& r = recorder.Get();
    const double back_start = MonotonicSeconds();
    (void)cursor.At(0).Sockets();
    (void)cursor.At(r.Ticks.empty() ? 0 : r.Ticks.size() / 2).Sockets();
    const double back = MonotonicSeconds() - back_start;
    std::cout << "end steps=" << done << " moments=" << r.Ticks.size() << " events=" << r.Events.size()
              << " checkpoints=" << cursor.Checkpoints() << " rss_start_kib=" << rss_start
              << " rss_kib=" << ResidentKiB() << " recorder_bytes=" << recorder.MemoryBytes() << " wall_s=" << wall
              << " back_s=" << back << "\n";
    return 0;
}

void RunHistorySection(Report& report, const Options& options)
{
    const int steps = options.HistorySteps;
    report.Section("[5b] The GUI's history after " + FormatCount(steps) + " lesson steps",
                   "no-accept played again and again on real sockets, every moment kept as the GUI keeps it");
    ProcessResult child = RunProcess({SelfPath(), "--history-child", std::to_string(steps)}, 240);
    std::map<std::string, std::string> f;
    std::string line;
    for (std::istringstream in(child.Out); std::getline(in, line);)
        if (line.rfind("end ", 0) == 0) {
            std::istringstream words(line);
            for (std::string w; words >> w;)
                if (auto eq = w.find('='); eq != std::string::npos)
                    f[w.substr(0, eq)] = w.substr(eq + 1);
        }
    if (f.empty()) {
        report.Add({"history", "-", "", Verdict::Info, "the child failed: " + child.Error + " " + child.Out});
        return;
    }
    auto num = [&](const char* k) { return std::atof(f[k].c_str()); };
    char value[64], detail[512];
    std::snprintf(value, sizeof value, "%.1f MB", (num("rss_kib") - num("rss_start_kib")) / 1024);
    std::snprintf(detail, sizeof detail,
                  "resident %.1f MB before, %.1f MB after %d steps (%.0f moments, %.0f events, %.0f checkpoints; the "
                  "recorder counts %.1f MB of its own); showing the first and a middle moment again took %.1f ms",
                  num("rss_start_kib") / 1024, num("rss_kib") / 1024, static_cast<int>(num("steps")), num("moments"),
                  num("events"), num("checkpoints"), num("recorder_bytes") / 1048576, num("back_s") * 1000);
    report.Add({"history's growth, " + FormatCount(num("steps")) + " steps", value, "", Verdict::Info, detail});
}

} // namespace sockscope::bench
