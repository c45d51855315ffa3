#include "session.hpp"

#include "calls.hpp"
#include "clock.hpp"
#include "lab.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace sockscope {

using nlohmann::json;

namespace {

// "127.0.0.1:4000" -> "127.0.0.1:$port" when 4000 is the playground's port.
json PortAsVariable(const json& local, int port)
{
    if (!local.is_string())
        return local;
    std::string s = local.get<std::string>();
    std::string tail = ":" + std::to_string(port);
    if (s.ends_with(tail))
        s = s.substr(0, s.size() - tail.size()) + ":$port";
    return s;
}

} // namespace

json ChecksFromView(const json& line, int port, const json& previous)
{
    json checks = json::array();
    // Sockets by role, state and queue: how many of each.
    std::vector<std::pair<json, int>> groups;
    for (const auto& s : line.value("sockets", json::array())) {
        json key = {{"role", s.value("role", json())}, {"state", s.value("state", json())},
                    {"queue", s.value("queue", json())}};
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
        if (it == groups.end())
            groups.emplace_back(key, 1);
        else
            ++it->second;
    }
    // A group the previous step had and this one has not: none left.
    for (const auto& c : previous)
        if (c.contains("sockets") && c.value("count", 0) > 0 &&
            std::none_of(groups.begin(), groups.end(), [&](const auto& g) { return g.first == c["sockets"]; }))
            groups.emplace_back(c["sockets"], 0);
    for (const auto& [match, n] : groups) {
        std::string queue = match["queue"].is_string() ? " in the " + match["queue"].get<std::string>() + " queue" : "";
        std::string says = std::to_string(n) + " " + match["role"].get<std::string>() + " socket" +
                           (n == 1 ? "" : "s") + " " + match["state"].get<std::string>() + queue;
        checks.push_back({{"sockets", match}, {"count", n}, {"says", {{"en", says}, {"zh", ""}}}});
    }
    for (const auto& l : line.value("listeners", json::array())) {
        json match = {{"local", PortAsVariable(l.value("local", json()), port)},
                      {"accept_queue", l.value("accept_queue", 0)},
                      {"syn_queue", l.value("syn_queue", 0)}};
        std::string says = "the listener " + match["local"].get<std::string>() + " has " +
                           std::to_string(match["accept_queue"].get<int>()) + " in its accept queue and " +
                           std::to_string(match["syn_queue"].get<int>()) + " in its SYN queue";
        checks.push_back({{"listeners", match}, {"count", 1}, {"says", {{"en", says}, {"zh", ""}}}});
    }
    return checks;
}

Text ContinueTitle(const Text& title, int done)
{
    return {"What if... (from " + title.En + ", step " + std::to_string(done) + ")",
            "如果……（从“" + (title.Zh.empty() ? title.En : title.Zh) + "”第 " + std::to_string(done) + " 步开始）"};
}

namespace {
constexpr double kFreshViewTimeout = 1.0; // the probe looks every 15 ms while busy
} // namespace

Session::Session(Lab& lab, World& world, LessonPlayer& player) : LabRef(lab), WorldRef(world), Player(player) {}

Lesson PlaygroundLesson()
{
    Lesson playground;
    playground.Name = "playground";
    playground.Title = {"Playground", "自由实验"};
    playground.Summary = {"An empty lab. Type calls on the command line: server socket, server bind, server listen 2, "
                          "client1 socket, client1 connect, server accept, client1 send \"hi\\n\" ... Any call, "
                          "in any order: the kernel's real answer is shown.",
                          "一个空的实验环境。在命令行输入调用：server socket、server bind、server listen 2、"
                          "client1 socket、client1 connect、server accept、client1 send \"hi\\n\" …… "
                          "任何调用、任何顺序都可以：显示的是内核真实的回答。"};
    return playground;
}

void Session::Start(int port)
{
    Player.Load(PlaygroundLesson(), port);
    Kinds.clear();
    ActorOrder.clear();
    Lines.clear();
    Steps.clear();
    Open = {};
    LastView = json::array();
    GateFd.clear();
    Base = nullptr;
    LastSaved.clear();
}

bool Session::ContinueFrom(std::string& error)
{
    const Lesson* lesson = Player.Current();
    if (!lesson) {
        error = "no lesson is loaded to continue from";
        return false;
    }
    if (Player.Busy()) {
        error = "a step is still running; try again when it has finished";
        return false;
    }
    // The file's own text of the steps done, for a saved lesson to begin with.
    json base;
    if (!lesson->Path.empty()) {
        std::ifstream in(lesson->Path);
        base = json::parse(in, nullptr, false);
    }
    int done = Player.StepsDone();
    if (!base.is_object() || !base.contains("steps") || !base["steps"].is_array() ||
        static_cast<int>(base["steps"].size()) < done) {
        error = "cannot read the lesson's file again (" + (lesson->Path.empty() ? "none" : lesson->Path) + ")";
        return false;
    }
    base["steps"].erase(base["steps"].begin() + done, base["steps"].end());
    Text from = ContinueTitle(lesson->Title, done);
    Kinds.clear();
    ActorOrder.clear();
    for (const ActorDecl& a : lesson->Actors) {
        Kinds[a.Name] = a.Kind;
        ActorOrder.push_back(a.Name);
    }
    Player.KeepStepsDone(from);
    Lines.clear();
    Steps.clear();
    Open = {};
    GateFd.clear();
    LastSaved.clear();
    Base = std::move(base);
    LastView = ChecksFromView(TraceLine(WorldRef, &Player, MonotonicSeconds(), {}), Player.Port(), json::array());
    return true;
}

bool Session::SaveLessonFile(const std::string& name, const std::string& path, std::string& error)
{
    auto lesson = SaveLesson(name, error);
    if (!lesson)
        return false;
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty())
        std::filesystem::create_directories(parent, ec);
    std::ofstream out(path);
    out << lesson->dump(2) << "\n";
    out.close();
    if (!out) {
        error = path + ": cannot write the file" + (ec ? " (" + ec.message() + ")" : "");
        return false;
    }
    return true;
}

bool Session::Busy() const { return Player.Busy(); }

bool Session::Drive(double timeout, const std::function<void()>& after_tick)
{
    return DriveUntilIdle(LabRef, WorldRef, Player, timeout, [&] {
        Tick();
        if (after_tick)
            after_tick();
    });
}

void Session::ResolveDefaults(Command& command) const
{
    CallRequest& r = command.Call.Request;
    const CallRow& row = RowOf(r.Call);
    if (!row.Has(TakesFd) || command.Fields.contains("fd"))
        return;
    std::string fd;
    if (r.Call == CallId::Ungate) {
        if (auto it = GateFd.find(command.Actor); it != GateFd.end())
            fd = it->second;
    } else if (const ActorView* actor = WorldRef.FindActor(command.Actor)) {
        // The first or the newest descriptor it still holds, as its calls made them:
        // looked for from that end, since an actor of a long script has made thousands.
        bool first = r.Call == CallId::Accept || r.Call == CallId::Listen || r.Call == CallId::Bind ||
                     (r.Call == CallId::Gate && (r.Option == "syn" || r.Option == "handshake-ack"));
        auto held = [&](const CallEvent& c) { return c.NewFd && actor->Fds.count(c.NewFd->Handle) > 0; };
        if (first && actor->Fds.count("main")) {
            fd = "main";
        } else if (first) {
            auto it = std::find_if(actor->Calls.begin(), actor->Calls.end(), held);
            if (it != actor->Calls.end())
                fd = it->NewFd->Handle;
        } else {
            auto it = std::find_if(actor->Calls.rbegin(), actor->Calls.rend(), held);
            if (it != actor->Calls.rend())
                fd = it->NewFd->Handle;
        }
    }
    if (fd.empty())
        return;
    r.Fd = fd;
    command.Fields["fd"] = fd;
}

bool Session::Run(std::string_view line, std::string& error)
{
    auto command = ParseCommand(line, Kinds, error);
    if (!command)
        return false;
    if (command->Kind == CommandKind::Nothing)
        return true;
    if (Busy() && command->Kind != CommandKind::DeclareActor) {
        error = "the previous call has not returned or blocked yet; try again in a moment";
        return false;
    }
    LastSaved.clear();
    if (command->Kind == CommandKind::Save || command->Kind == CommandKind::Step)
        AwaitFreshView();
    if (command->Kind == CommandKind::Save) {
        if (SaveDir.empty()) {
            error = "save: no folder to save lessons in here";
            return false;
        }
        if (std::find(Taken.begin(), Taken.end(), command->Title) != Taken.end()) {
            error = "save: a lesson named '" + command->Title + "' exists already; pick another name";
            return false;
        }
        std::string path = (std::filesystem::path(SaveDir) / (command->Title + ".json")).string();
        if (!SaveLessonFile(command->Title, path, error))
            return false;
        Lines.emplace_back(line);
        LastSaved = path;
        return true;
    }
    Lines.emplace_back(line);
    if (command->NewActor) {
        Kinds[command->Actor] = command->ActorKind;
        ActorOrder.push_back(command->Actor);
    }
    if (command->Kind == CommandKind::Step) {
        CloseStep(command->Title);
        return true;
    }
    if (command->Kind != CommandKind::Call)
        return true;
    ResolveDefaults(*command);
    if (command->Call.Request.Call == CallId::Gate)
        GateFd[command->Actor] = command->Call.Request.Fd.empty() ? "main" : command->Call.Request.Fd;
    LessonStep step;
    step.Title = {std::string(line), std::string(line)};
    step.JudgedOnCalls = true;
    LessonCall call = command->Call;
    call.MayBlock = true;
    step.Calls.push_back(std::move(call));
    Player.AppendStep(std::move(step));
    Player.StepForward();
    MadeCall made;
    made.Fields = std::move(command->Fields);
    made.PlayerStep = Player.StepIndex();
    Open.Calls.push_back(std::move(made));
    return true;
}

void Session::AwaitFreshView()
{
    if (!LabRef.ProbeRunning() || WorldRef.SnapshotTime() > LastSettled)
        return;
    LabRef.RefreshProbe();
    const double end = MonotonicSeconds() + kFreshViewTimeout;
    std::vector<LabEvent> events;
    while (WorldRef.SnapshotTime() <= LastSettled && MonotonicSeconds() < end) {
        LabRef.WaitForEvents(std::chrono::milliseconds(5));
        LabRef.Drain(events);
        for (auto& event : events)
            WorldRef.Apply(event);
    }
}

void Session::Tick()
{
    if (Open.Calls.empty())
        return;
    MadeCall& last = Open.Calls.back();
    if (last.Expect || Player.StepIndex() != last.PlayerStep || Player.CurrentStatus() == StepStatus::Running)
        return;
    LastSettled = MonotonicSeconds();
    last.Id = Player.CallId(last.PlayerStep, 0);
    const CallEvent* seen = WorldRef.FindCall(last.Id);
    if (!seen)
        return;
    if (seen->Phase == CallPhase::Blocked)
        last.Expect = "blocks";
    else if (seen->Phase != CallPhase::Finished)
        last.Expect = json(); // never returned: nothing to expect
    else if (seen->Errno != 0)
        last.Expect = ErrnoName(seen->Errno);
    else if (RowOf(seen->Call).Has(NewDescriptor))
        last.Expect = "fd";
    else
        last.Expect = seen->Result;
}

void Session::CloseStep(const std::string& title)
{
    Open.Title = title;
    json line = TraceLine(WorldRef, &Player, MonotonicSeconds(), {});
    Open.Expect = ChecksFromView(line, Player.Port(), LastView);
    LastView = Open.Expect;
    Steps.push_back(std::move(Open));
    Open = {};
}

std::optional<json> Session::SaveLesson(const std::string& name, std::string& error)
{
    if (!Open.Calls.empty()) {
        AwaitFreshView();
        CloseStep("");
    }
    bool any = std::any_of(Steps.begin(), Steps.end(), [](const MarkedStep& s) { return !s.Calls.empty(); });
    if (!any && (Base.is_null() || Base["steps"].empty())) {
        error = "nothing to save: no call was made";
        return std::nullopt;
    }
    // Continued from a lesson: its file, with the steps done before, comes first.
    json lesson = Base.is_object() ? Base : json::object();
    lesson["name"] = name;
    lesson["title"] = {{"en", ""}, {"zh", ""}};
    lesson["summary"] = {{"en", "Saved from a playground session; fill in the title and narration."}, {"zh", ""}};
    // The lesson's own declarations as its file has them, then the actors made since.
    json actors = lesson.contains("actors") && lesson["actors"].is_array() ? lesson["actors"] : json::array();
    for (const auto& a : ActorOrder)
        if (std::none_of(actors.begin(), actors.end(), [&](const json& d) { return d.value("name", "") == a; }))
            actors.push_back({{"name", a}, {"kind", Kinds.at(a)}});
    lesson["actors"] = actors;
    json steps = Base.is_object() ? Base["steps"] : json::array();
    for (const auto& s : Steps) {
        json step;
        step["title"] = {{"en", s.Title}, {"zh", ""}};
        step["narration"] = {{"en", ""}, {"zh", ""}};
        json calls = json::array();
        for (const auto& c : s.Calls) {
            json call = c.Fields;
            // A port typed as the number the playground ran on is the lesson's port.
            for (const ParamSpec& p : RowOf(*CallFromName(call["call"].get<std::string>())).Params)
                if (p.Kind == ParamKind::Port && call.contains(p.Field) && call[p.Field] == Player.Port())
                    call[p.Field] = "$port";
            if (c.Expect && !c.Expect->is_null())
                call["expect"] = *c.Expect;
            calls.push_back(std::move(call));
        }
        step["calls"] = std::move(calls);
        step["expect"] = s.Expect;
        steps.push_back(std::move(step));
    }
    lesson["steps"] = std::move(steps);
    return lesson;
}

} // namespace sockscope
