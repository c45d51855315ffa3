// --replay FILE --headless: a recorded session printed again, from its events alone.
#include "headless.hpp"

#include "lesson.hpp"
#include "recording.hpp"
#include "trace.hpp"

#include <algorithm>
#include <iostream>

namespace sockscope {

namespace {

std::uint64_t IdOf(const LaneReport& r)
{
    return std::visit([](const auto& e) { return e.Id; }, r);
}

} // namespace

int RunReplayHeadless(const Options& options)
{
    std::string error;
    auto recording = LoadRecording(options.Replay, error);
    if (!recording) {
        std::cerr << "sockscope: " << error << "\n";
        return 2;
    }
    TraceWriter trace;
    if (!OpenTrace(options, trace))
        return 2;
    std::optional<Lesson> lesson;
    if (!recording->Info.LessonText.empty()) {
        lesson = ParseLesson(recording->Info.LessonText, options.Replay + " (its lesson)", error);
        if (!lesson) {
            std::cerr << "sockscope: " << error << "\n";
            return 2;
        }
    }
    const Recording& rec = *recording;
    if (lesson && !options.Json) {
        int port = rec.Ticks.empty() ? 0 : rec.Ticks.back().Player.Port;
        std::cout << "Lesson " << lesson->Name << ": " << lesson->Title.Get(options.Language) << " (listener port "
                  << port << ")\n";
    }
    ReplayCursor cursor(rec);
    std::uint64_t last_id = 0;
    bool all_passed = true;
    for (std::size_t t = 0; t < rec.Ticks.size(); ++t) {
        const RecordedTick& tick = rec.Ticks[t];
        const World& world = cursor.At(t);
        TraceLesson at{lesson ? &*lesson : nullptr, tick.Player.RawStep, tick.Player.Port};
        trace.Update(world, &at, tick.T);
        if (!tick.StepEnd || !lesson)
            continue;
        int index = tick.Player.RawStep;
        auto calls = CallsSince(world, last_id);
        for (const auto& c : calls)
            last_id = std::max(last_id, IdOf(c));
        if (index < 0 || index >= static_cast<int>(lesson->Steps.size())) {
            // A step the lesson does not name (the playground's open step): its calls and view.
            if (!options.Json) {
                std::cout << "\nStep " << index + 1 << " (not in the recorded lesson)\n";
                for (const auto& c : calls)
                    PrintReport(c);
                PrintKernelView(world);
            }
            continue;
        }
        bool passed = tick.StepDone && tick.Player.Status == StepStatus::Passed;
        all_passed = all_passed && passed;
        PrintStepReport(options, StepReport{&*lesson, index, &world, std::move(calls), tick.Player.Status,
                                            tick.Player.Results, tick.Player.Retries, tick.StepDone, tick.T, at});
    }
    if (!lesson) {
        // No lesson (a --run, --watch or playground recording made in the GUI): its trace.
        const World& world = cursor.At(rec.Ticks.empty() ? 0 : rec.Ticks.size() - 1);
        std::uint64_t cursor_id = 0;
        for (const auto& c : FinishedSince(world, cursor_id))
            PrintReport(c);
        PrintKernelView(world);
        return 0;
    }
    if (!options.Json) {
        PrintPackets(rec.End.Capturing, rec.End.Captured, rec.End.ViaHelper, rec.End.CaptureError);
        std::cout << "\n" << lesson->Name << ": " << (all_passed ? "every step showed what it claims" : "SOME STEPS FAILED")
                  << "\n";
    }
    return all_passed ? 0 : 1;
}

} // namespace sockscope
