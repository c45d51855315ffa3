// For bench/ (sockscope_bench --only ui), not for users. With $SOCKSCOPE_BENCH_REPORT=FILE
// the interactive GUI measures itself and writes key=value lines to FILE, then closes:
//   first_frame_s    the process's start (the kernel's start time) to the first frame shown
//   steps_done_s     ... to the --step steps being done
//   frames, wall_s, cpu_s   over the $SOCKSCOPE_BENCH_SECONDS (default 10) that follow:
//                    frames drawn, and the user + system CPU of all of its threads
//   rss_kb           the resident memory then (VmRSS), and its parts: rss_anon_total_kb,
//                    rss_file_total_kb, rss_shmem_total_kb (/proc/self/status) and, by
//                    mapping (/proc/self/smaps), rss_mesa_kb (libLLVM, the DRI driver),
//                    rss_heap_kb, rss_anon_kb, rss_shm_kb, rss_binary_kb, rss_libs_kb, rss_other_kb
// $SOCKSCOPE_BENCH_BUSY=1 draws frames back to back (no waiting, no vsync): the most
// frames per second. $SOCKSCOPE_BENCH_RESET=1 (with --playground --script FILE): once the
// script has run, Reset, and the figures wait for a frame showing an empty lab:
//   script_s         the first frame to the script's last call settled
//   script_frames, frame_gap_max_s, frame_gap_p95_s   frames shown meanwhile, and the
//                    longest and 95th-percentile time between two of them
//   reset_s          Reset to the first frame showing no socket
// Without the variables nothing changes. Main thread only.
#pragma once

#include <string>
#include <vector>

namespace sockscope {

class BenchReport {
public:
    BenchReport(); // reads the three variables

    bool Busy = false;
    bool ResetAfterScript = false;

    // Reset mode, once a turn: whether script lines remain or a call is being made. True
    // once, when the script has run: Reset now.
    bool ScriptTurn(bool running);
    // Reset mode, after a frame: whether it showed no socket.
    void LabShown(bool empty);

    // A frame was shown.
    void FrameShown();
    // Once per turn of the loop; `settled`: the steps are done and nothing is being
    // redrawn. True once the figures are written: close the window.
    bool Finished(bool settled);

private:
    std::string Path;
    double Seconds = 10;
    double FirstFrame = -1;
    double StepsDone = -1;
    double WindowStart = -1;
    double CpuStart = 0;
    long Frames = 0;
    enum class Phase { Script, Resetting, Done } ScriptPhase = Phase::Script;
    double ScriptStart = -1, ScriptEnd = -1, ResetAt = -1, ResetShown = -1, LastFrame = -1;
    long ScriptFrames = 0;
    std::vector<double> Gaps;
};

} // namespace sockscope
