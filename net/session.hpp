// A playground session: command lines (typed, or from a --script file) run one by one
// on a LessonPlayer whose lesson grows a step per command, so everything a lesson shows
// (ladder, queues, code view, the call's settling) is shown alike. The session keeps
// what each call returned and, at each `step` line, the kernel's view, and writes them
// out as a lesson file. Single-threaded: use it on the thread that owns the World.
#pragma once

#include "command.hpp"
#include "player.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sockscope {

class Session {
public:
    Session(Lab& lab, World& world, LessonPlayer& player);

    // An empty playground on `port` (0: a free one): resets the lab.
    void Start(int port = 0);
    // "What if...": continue the lesson the player has loaded from the step it has done:
    // the lab, its sockets and the lesson's actors stay; the steps not done are dropped.
    // A saved lesson begins with the lesson's own steps done so far (as its file has them).
    // false and `error` when no lesson is loaded or a step is still running.
    bool ContinueFrom(std::string& error);
    // Where `save NAME` writes NAME.json (made if missing); "" refuses `save`. `taken`: names
    // of lessons in other folders, which `save` refuses (a saved lesson would hide them).
    void SetSaveDir(std::string dir, std::vector<std::string> taken = {})
    {
        SaveDir = std::move(dir);
        Taken = std::move(taken);
    }
    // The file the last line saved the session to (`save NAME`); "" for any other line.
    const std::string& SavedPath() const { return LastSaved; }
    // Parse one line and, if it is a call, start it (the player's next step). Refused
    // (nothing changes, `error` is one line): a line that does not parse, or a call while
    // the previous one has not settled.
    bool Run(std::string_view line, std::string& error);
    // After every player.Tick(): notes what a call returned once it has settled.
    void Tick();
    // Whether the last call is still being made (or the kernel's view awaited).
    bool Busy() const;
    // Apply the lab's events and tick the player and the session until the last call has
    // settled, or `timeout` seconds pass (false). For --script and tests; the GUI ticks
    // once a frame instead.
    bool Drive(double timeout, const std::function<void()>& after_tick = {});

    // A call's step is judged without a fresh kernel view (LessonStep::JudgedOnCalls);
    // what records the view (`step`, `save`, a last printout) first waits, at most a
    // second, applying the lab's events to the World, for one taken after the last call
    // settled. At once when there is one, or no probe.
    void AwaitFreshView();

    const ActorKinds& Actors() const { return Kinds; }
    std::vector<std::string> Complete(std::string_view typed) const { return CompleteCommand(typed, Kinds); }
    // Lines run so far (history for the command line), oldest first.
    const std::vector<std::string>& History() const { return Lines; }
    // Steps closed so far with `step`, plus the calls after the last one.
    int StepsMarked() const { return static_cast<int>(Steps.size()); }

    // The session as a lesson file named `name`: a step per `step` line (calls after the
    // last one make a last step), each call's "expect" what it returned, each step's
    // checks the kernel's view when it was closed; titles and narration to fill in.
    // nullopt (and `error`) when no call was made.
    std::optional<nlohmann::json> SaveLesson(const std::string& name, std::string& error);
    // SaveLesson(name) written to `path` (pretty JSON). false and `error` when it cannot be.
    bool SaveLessonFile(const std::string& name, const std::string& path, std::string& error);

private:
    struct MadeCall {
        nlohmann::json Fields;   // as a lesson file writes it
        std::uint64_t Id = 0;
        int PlayerStep = -1;
        std::optional<nlohmann::json> Expect; // known once settled
    };
    struct MarkedStep {
        std::string Title;
        std::vector<MadeCall> Calls;
        nlohmann::json Expect = nlohmann::json::array();
    };

    void CloseStep(const std::string& title);

    // The playground's defaults for what the line did not give: the actor's newest
    // descriptor (accept, listen, bind and a hold on SYNs: its first; release: its gate's).
    void ResolveDefaults(Command& command) const;

    Lab& LabRef;
    World& WorldRef;
    LessonPlayer& Player;
    ActorKinds Kinds;
    std::vector<std::string> ActorOrder;
    std::vector<std::string> Lines;
    std::vector<MarkedStep> Steps; // closed
    MarkedStep Open;               // the calls since the last `step`
    nlohmann::json LastView;       // the previous step's socket groups (to say one is gone)
    std::map<std::string, std::string> GateFd; // actor -> descriptor of its last hold
    // ContinueFrom: the lesson file as read, its steps cut to those done (saved first).
    nlohmann::json Base;
    std::string SaveDir;
    std::vector<std::string> Taken;
    std::string LastSaved;
    double LastSettled = 0; // when the last call settled (MonotonicSeconds)
};

// The playground's lesson before any command: its title and what to type (the GUI's
// fonts need its Chinese glyphs).
Lesson PlaygroundLesson();

// The title of a "What if..." lesson continued from `title` after step `done`.
Text ContinueTitle(const Text& title, int done);

// The checks a lesson step would make of the kernel's view `line` (TraceLine's shape):
// how many sockets of each role, state and queue (and 0 for a group of `previous`, the
// earlier step's, that is gone), each listener's queues; `port` is written "$port".
nlohmann::json ChecksFromView(const nlohmann::json& line, int port, const nlohmann::json& previous);

} // namespace sockscope
