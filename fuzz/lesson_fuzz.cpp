// libFuzzer harness for the lesson file parser, ParseLesson() (net/lesson.hpp).
//
// The input is the text of a lesson file. Whatever it holds, ParseLesson must return
// (no crash, no exception escaping, no undefined behaviour), and:
// - a lesson it accepts is complete: actors and steps, every call by a declared actor,
//   every check on a known kind of view with a usable count;
// - a file it refuses gets an error "path:line:column: ..." whose line and column lie
//   in the text.
#include "fuzz_check.hpp"
#include "lesson.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

namespace sockscope {
namespace {

const std::string kPath = "fuzz.json";

void CheckLesson(const Lesson& lesson)
{
    FuzzCheck(lesson.Path == kPath, "a lesson keeps the path it was read from");
    FuzzCheck(!lesson.Actors.empty(), "a lesson has actors");
    FuzzCheck(!lesson.Steps.empty(), "a lesson has steps");
    std::set<std::string> actors;
    for (const ActorDecl& actor : lesson.Actors) {
        FuzzCheck(actor.Kind == "server" || actor.Kind == "client", "an actor is a server or a client");
        FuzzCheck(actors.insert(actor.Name).second, "no actor is declared twice");
    }
    for (const LessonStep& step : lesson.Steps) {
        FuzzCheck(step.RetryAttempts == 0 || (step.RetryAttempts >= 2 && step.RetryAttempts <= 20),
                  "a retry is 2 to 20 attempts");
        FuzzCheck(step.Timeout == 0 || (step.Timeout >= 1 && step.Timeout <= 600), "a timeout is 1 to 600 s");
        for (const LessonCall& call : step.Calls) {
            FuzzCheck(actors.count(call.Request.Actor) == 1, "every call is made by a declared actor");
            FuzzCheck(RowOf(call.Request.Call).Has(FromLessons), "every call is one a lesson may make");
        }
        for (const Check& check : step.Expect) {
            FuzzCheck(check.What == "sockets" || check.What == "listeners" || check.What == "kernel" ||
                          check.What == "lanes",
                      "a check looks at sockets, listeners, lanes or kernel");
            FuzzCheck(check.Match.is_object(), "a check matches an object of fields");
            FuzzCheck(check.CountRule.empty() || static_cast<bool>(NumericRule(check.CountRule)),
                      "a check's count rule is one NumericRule understands");
        }
    }
}

// "line:column" at `at`: both whole numbers from 1, the line within the text.
void CheckPosition(const std::string& text, const std::string& error, std::size_t at)
{
    unsigned long line = 0, column = 0;
    const char* end = error.data() + error.size();
    auto [after_line, line_ec] = std::from_chars(error.data() + at, end, line);
    FuzzCheck(line_ec == std::errc{} && after_line < end && *after_line == ':', "the error gives a line");
    auto [after_column, column_ec] = std::from_chars(after_line + 1, end, column);
    FuzzCheck(column_ec == std::errc{} && after_column < end && *after_column == ':',
              "the error gives a column");
    const auto lines = static_cast<unsigned long>(std::count(text.begin(), text.end(), '\n')) + 1;
    FuzzCheck(line >= 1 && line <= lines, "the error's line is in the text");
    FuzzCheck(column >= 1 && column <= text.size() + 1, "the error's column is in the text");
}

} // namespace
} // namespace sockscope

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sockscope;
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto lesson = ParseLesson(text, kPath, error);
    if (lesson) {
        CheckLesson(*lesson);
    } else {
        FuzzCheck(error.starts_with(kPath + ":"), "a refused file's error starts with its path");
        CheckPosition(text, error, kPath.size() + 1);
    }
    return 0;
}
