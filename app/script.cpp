// --headless --script FILE [--save-lesson OUT.json]: the playground's command lines from a
// file, run one after the other (each waits for its call to return or block), printed
// per step as a lesson is.
#include "headless.hpp"

#include "clock.hpp"
#include "lab.hpp"
#include "session.hpp"
#include "trace.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace sockscope {

namespace {

constexpr double kCallTimeout = 30.0; // the player itself gives a call 5 s

} // namespace

bool LoadScript(const std::string& path, std::vector<std::string>& lines, int& steps, std::string& error)
{
    std::ifstream in(path);
    if (!in) {
        error = path + ": cannot open the file";
        return false;
    }
    lines.clear();
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    // Every line is checked before any runs: a mistake on line 40 costs no half-run lab.
    steps = 0;
    bool calls_after_step = false;
    ActorKinds actors;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string why;
        auto command = ParseCommand(lines[i], actors, why);
        if (!command) {
            error = path + ":" + std::to_string(i + 1) + ": " + why;
            return false;
        }
        if (command->NewActor)
            actors[command->Actor] = command->ActorKind;
        if (command->Kind == CommandKind::Step) {
            ++steps;
            calls_after_step = false;
        } else if (command->Kind == CommandKind::Call) {
            calls_after_step = true;
        }
    }
    steps += calls_after_step ? 1 : 0;
    return true;
}

int RunScript(const Options& options)
{
    std::vector<std::string> lines;
    int steps = 0;
    std::string load_error;
    if (!LoadScript(options.Script, lines, steps, load_error)) {
        std::cerr << "sockscope: " << load_error << "\n";
        return 2;
    }

    TraceWriter trace;
    if (!OpenTrace(options, trace))
        return 2;
    Lab lab;
    World world;
    InferWhatIsNotCaptured(lab, world);
    LessonPlayer player(lab, world);
    Session session(lab, world, player);
    bool lesson_ok = true;
    if (options.LessonGiven) {
        // "What if...": the lesson's steps 1..K first, then the script on its lab.
        std::string error;
        auto lesson = FindLesson(options.Lesson, error, LessonDirs(options.Env.Lessons));
        if (!lesson) {
            std::cerr << "sockscope: " << error << "\n";
            return 2;
        }
        int total = static_cast<int>(lesson->Steps.size());
        int upto = options.Step >= 0 ? std::min(options.Step, total) : total;
        std::string name = lesson->Name;
        player.SetBacklogOverride(options.Backlog);
        player.Load(std::move(*lesson), options.Port);
        for (int k = 0; k < upto && lesson_ok; ++k) {
            player.StepForward();
            lesson_ok = DriveUntilIdle(lab, world, player, kCallTimeout) &&
                        player.CurrentStatus() == StepStatus::Passed;
        }
        if (!lesson_ok || !session.ContinueFrom(error)) {
            std::cerr << "sockscope: lesson " << name << ", step " << player.StepIndex() + 1 << ": "
                      << (lesson_ok ? error : player.StatusLine()) << "\n";
            return 1;
        }
        if (!options.Json) {
            std::cout << "Lesson " << name << " after step " << upto << " of " << total << " (listener port "
                      << player.Port() << "); the script goes on from here\n";
            PrintKernelView(world);
        }
    } else {
        session.Start(options.Port);
    }
    if (!options.Json && !options.LessonGiven)
        std::cout << "Script " << options.Script << " (listener port " << player.Port() << ")\n";

    int step = 0;
    std::uint64_t last_id = 0; // the lesson's calls, when the script goes on from one, are printed
    for (const auto& c : CallsSince(world, 0))
        last_id = std::max(last_id, std::visit([](const auto& e) { return e.Id; }, c));
    bool all_settled = true;
    std::vector<std::string> unsettled;
    auto print_step = [&](const std::string& title) {
        ++step;
        auto calls = CallsSince(world, last_id);
        for (const auto& c : calls)
            last_id = std::max(last_id, std::visit([](const auto& e) { return e.Id; }, c));
        if (options.Json) {
            auto line = TraceLine(world, &player, MonotonicSeconds(), calls);
            line["title"] = title;
            std::cout << line.dump() << "\n";
        } else {
            std::cout << "\nStep " << step << "/" << steps << (title.empty() ? "" : ": " + title) << "\n";
            for (const auto& c : calls)
                PrintReport(c);
            PrintKernelView(world);
            for (const auto& u : unsettled)
                std::cout << "  FAILED " << u << "\n";
        }
        unsettled.clear();
        std::cout.flush();
    };
    // `save NAME` in a script writes NAME.json beside the script.
    session.SetSaveDir(std::filesystem::path(options.Script).parent_path().string().empty()
                           ? std::string(".")
                           : std::filesystem::path(options.Script).parent_path().string());
    bool open_calls = false;
    for (const auto& text : lines) {
        std::string error;
        auto command = ParseCommand(text, session.Actors(), error);
        if (!session.Run(text, error)) { // cannot happen: every line parsed above
            std::cerr << "sockscope: " << options.Script << ": " << error << "\n";
            return 2;
        }
        if (!session.SavedPath().empty() && !options.Json)
            std::cout << "\nsaved the session as a lesson: " << session.SavedPath() << "\n";
        if (command && command->Kind == CommandKind::Step) {
            print_step(command->Title);
            open_calls = false;
            continue;
        }
        if (!session.Busy())
            continue;
        open_calls = true;
        bool done = session.Drive(kCallTimeout, [&] { trace.Update(world, &player, MonotonicSeconds()); });
        if (!done || player.CurrentStatus() != StepStatus::Passed) {
            all_settled = false;
            unsettled.push_back("'" + text + "': " + player.StatusLine());
        }
    }
    if (open_calls) {
        session.AwaitFreshView();
        print_step("");
    }

    if (!options.SaveLesson.empty()) {
        std::string error;
        std::string name = std::filesystem::path(options.SaveLesson).stem().string();
        if (!session.SaveLessonFile(name, options.SaveLesson, error)) {
            std::cerr << "sockscope: cannot save a lesson: " << error << "\n";
            return 2;
        }
        if (!options.Json)
            std::cout << "\nsaved the session as a lesson: " << options.SaveLesson << "\n";
    }
    return all_settled && lesson_ok ? 0 : 1;
}

} // namespace sockscope
