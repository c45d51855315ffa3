// Lessons are data: a JSON file per lesson in assets/lessons/. The same file drives the
// GUI step-through, the headless runner and the tests.
#pragma once

#include "events.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

namespace sockscope {

enum class Lang : std::uint8_t { En, Zh };

// A text in English and Simplified Chinese. Get() falls back to English.
struct Text {
    std::string En;
    std::string Zh;
    const std::string& Get(Lang lang) const { return lang == Lang::Zh && !Zh.empty() ? Zh : En; }
};

// One system call of a step, and what its result must be.
struct LessonCall {
    CallRequest Request;                 // Port may be given as "$port" in the file: PortFromLab
    bool PortFromLab = false;            // true: use the lesson's port (--port or a free one)
    bool Blocks = false;                 // the call is expected to block: the step goes on
    bool MayBlock = false;               // no expectation: settled when it returns or stays
                                         // blocked (the playground's calls)
    bool Async = false;                  // submit the next call at once, without waiting for
                                         // this one (the actor still makes them in order)
    std::optional<long> ExpectResult;    // exact return value
    bool ExpectFd = false;               // a descriptor (>= 0)
    std::optional<std::string> ExpectErrno; // "EADDRINUSE", or "" for success
    std::string Code;                    // the C line shown in the code view
    Text Explain;                        // one line on why the kernel answers as it does
};

// A claim about the kernel's view after a step: the number of entries of `What`
// ("sockets" or "listeners", as in the trace contract, or the "kernel" object) whose
// fields equal every field of `Match` must be `Count`. String values may contain
// "$port"; "!null" matches any value but null; ">=N", "<=N", ">N", "<N" compare numbers.
struct Check {
    std::string What;
    nlohmann::json Match;
    int Count = 1;                       // how many must match...
    std::string CountRule;               // ...or a comparison such as ">=4" (then Count is unused)
    Text Says;                           // the claim in words, shown when it fails
};

// A question put to the class before a step runs (the step's "ask"): which of Choices
// the step will show (Answer, counted from 0).
struct Question {
    Text Ask;
    std::vector<Text> Choices;
    int Answer = 0;
};

struct LessonStep {
    Text Title;
    Text Narration;
    std::vector<LessonCall> Calls;
    std::vector<Check> Expect;
    // Seconds the kernel may take to show the expected state (0: the player's default).
    // Steps that wait for a retransmission (1 s, 2 s, 4 s... apart) need more.
    double Timeout = 0;
    // When the step's expected state depends on a race the kernel does not let sockscope
    // control (two timers firing in the same instant), the step may be tried again: the
    // lab is reset and the lesson replayed from step 1, at most RetryAttempts times in
    // all, saying RetryWhy each time. 0: never.
    int RetryAttempts = 0;
    Text RetryWhy;
    std::optional<Question> Ask; // asked before the step runs
    // Not from a file: the playground's step of one call, judged on the call alone the
    // moment it settles, without waiting for a kernel view taken after it (a `step` or
    // `save` line waits for one instead: net/session.cpp).
    bool JudgedOnCalls = false;
};

struct ActorDecl {
    std::string Name;
    std::string Kind;                    // "server" or "client"
    // A program the actor is (the file's "run": ["$examples/fork_server", "1", "$port"]):
    // its one call, "run", starts it under the tracer. "$port" and "$examples" (the
    // folder of sockscope's example programs) are replaced when it starts; empty: the
    // actor makes the lab's own calls.
    std::vector<std::string> Run;
};

// The variables a program's arguments may name ("$port", "$examples").
inline constexpr std::string_view kRunVars[] = {"port", "examples"};
// `text` with every "$name" of kRunVars replaced by its value in `values` (same order).
// An unknown "$name" is left as it is (the parser refuses those).
std::string SubstituteRunVars(std::string_view text, std::span<const std::string> values);
// The first "$name" in `text` that is not one of kRunVars, or "".
std::string UnknownRunVar(std::string_view text);

struct Lesson {
    std::string Name;
    Text Title;
    Text Summary;
    std::vector<ActorDecl> Actors;
    std::vector<LessonStep> Steps;
    std::string Path;
};

// ">=3", "<=0", ">1", "<5": the numeric rule a lesson may give for a field or a count.
// Returns the test, or an empty function when `rule` is not one.
std::function<bool(double)> NumericRule(std::string_view rule);

// Read one call as a lesson step's "calls" entry holds it ({"actor": ..., "call": ...,
// the row's fields, "expect"...}), for an actor of kind `actor_kind` ("server" or
// "client"): the lesson parser's checks, for the playground's command line too. On
// failure returns nullopt and sets `error` to one line, "field: what" (or "what").
std::optional<LessonCall> ParseLessonCall(const nlohmann::json& call, const std::string& actor_kind,
                                          std::string& error);

// Parse a lesson. On failure returns nullopt and sets `error` to "file:line:column: what".
std::optional<Lesson> ParseLesson(const std::string& text, const std::string& path, std::string& error);
std::optional<Lesson> LoadLessonFile(const std::string& path, std::string& error);

// Where the playground's `save` puts a user's lessons: $XDG_DATA_HOME/sockscope/lessons,
// else ~/.local/share/sockscope/lessons ("" when neither is set).
std::string UserLessonDir();
// Where lesson files are looked for: `first` (the app passes $SOCKSCOPE_LESSONS; "" for
// none), UserLessonDir(), the build tree's and the source tree's assets/lessons, and the
// installed share/sockscope/lessons.
std::vector<std::string> LessonDirs(const std::string& first = "");
// Every valid lesson found in `dirs`, by name (file stem; the first directory wins),
// sorted by name; the errors of invalid files go to `invalid`.
std::vector<Lesson> LoadAllLessons(std::vector<std::string>* invalid = nullptr,
                                   const std::vector<std::string>& dirs = LessonDirs());
// Their names.
std::vector<std::string> ListLessons(std::vector<std::string>* invalid = nullptr,
                                     const std::vector<std::string>& dirs = LessonDirs());
// A lesson by name (looked for in `dirs`) or by path (a '/' or ".json" in it).
std::optional<Lesson> FindLesson(const std::string& name, std::string& error,
                                 const std::vector<std::string>& dirs = LessonDirs());

} // namespace sockscope
