#include "recording.hpp"

#include "lane.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sockscope {

namespace {

using nlohmann::json;

std::string Hex(const std::string& bytes) { return BytesToHex(bytes); }
std::string Unhex(const std::string& text) { return HexToBytes(text); }

json PhraseJson(const Phrase& p)
{
    json args = json::array();
    for (const auto& a : p.Args)
        args.push_back(Hex(a));
    return {{"k", Hex(p.Key)}, {"a", std::move(args)}};
}

Phrase PhraseFrom(const json& j)
{
    Phrase p;
    p.Key = Unhex(j.at("k").get<std::string>());
    for (const auto& a : j.at("a"))
        p.Args.push_back(Unhex(a.get<std::string>()));
    return p;
}

Endpoint EndpointFrom(const json& j)
{
    auto e = Endpoint::Parse(j.get<std::string>());
    if (!e)
        throw std::runtime_error("bad address");
    return *e;
}

json SnapshotJson(const Snapshot& s, const Snapshot* previous)
{
    json rows = json::array();
    for (const auto& k : s.Sockets)
        rows.push_back(json::array({static_cast<int>(k.State), k.Local.ToString(), k.Remote.ToString(), k.Cookie,
                                    k.Inode, k.Uid, k.RecvQ, k.SendQ, static_cast<int>(k.Timer), k.TimerExpiresMs,
                                    k.Retransmits, k.Proto, k.Drops, k.HasInfo, k.SegsOut, k.SegsIn,
                                    k.TotalRetrans, k.Rto}));
    json j = {{"t", s.T}, {"rows", std::move(rows)}};
    if (!s.Error.Empty())
        j["error"] = PhraseJson(s.Error);
    // The kernel-wide counters and settings only when they moved (a reader keeps the last).
    if (!previous || previous->Counters != s.Counters)
        j["counters"] = s.Counters;
    if (!previous || previous->CountersAtReset != s.CountersAtReset)
        j["at_reset"] = s.CountersAtReset;
    if (!previous || previous->Sysctls != s.Sysctls)
        j["sysctls"] = s.Sysctls;
    return j;
}

Snapshot SnapshotFrom(const json& j, const Snapshot* previous)
{
    Snapshot s;
    s.T = j.at("t").get<double>();
    for (const auto& r : j.at("rows")) {
        KernelSocket k;
        int state = r.at(0).get<int>();
        int timer = r.at(8).get<int>();
        if (state < 0 || state > static_cast<int>(TcpState::NewSynRecv) || timer < 0 ||
            timer > static_cast<int>(TimerKind::Probe))
            throw std::runtime_error("bad socket row");
        k.State = static_cast<TcpState>(state);
        k.Local = EndpointFrom(r.at(1));
        k.Remote = EndpointFrom(r.at(2));
        k.Cookie = r.at(3).get<std::uint64_t>();
        k.Inode = r.at(4).get<std::uint32_t>();
        k.Uid = r.at(5).get<std::uint32_t>();
        k.RecvQ = r.at(6).get<std::uint32_t>();
        k.SendQ = r.at(7).get<std::uint32_t>();
        k.Timer = static_cast<TimerKind>(timer);
        k.TimerExpiresMs = r.at(9).get<std::uint32_t>();
        k.Retransmits = r.at(10).get<std::uint32_t>();
        k.Proto = r.at(11).get<std::uint8_t>();
        k.Drops = r.at(12).get<std::uint32_t>();
        k.HasInfo = r.at(13).get<bool>();
        k.SegsOut = r.at(14).get<std::uint32_t>();
        k.SegsIn = r.at(15).get<std::uint32_t>();
        k.TotalRetrans = r.at(16).get<std::uint32_t>();
        k.Rto = r.at(17).get<std::uint32_t>();
        s.Sockets.push_back(k);
    }
    if (j.contains("error"))
        s.Error = PhraseFrom(j["error"]);
    s.Counters = j.contains("counters") ? j["counters"].get<std::map<std::string, std::uint64_t>>()
                 : previous                ? previous->Counters
                                           : decltype(s.Counters){};
    s.CountersAtReset = j.contains("at_reset") ? j["at_reset"].get<std::map<std::string, std::uint64_t>>()
                        : previous               ? previous->CountersAtReset
                                                 : decltype(s.CountersAtReset){};
    s.Sysctls = j.contains("sysctls") ? j["sysctls"].get<std::map<std::string, std::string>>()
                : previous              ? previous->Sysctls
                                        : decltype(s.Sysctls){};
    return s;
}

json SegmentJson(const Segment& s)
{
    return json::array({s.T, s.Src.ToString(), s.Dst.ToString(), s.Seq, s.Ack, s.Flags, s.Len, s.Window, s.Inferred,
                        s.Proto, s.IcmpType, s.IcmpCode, Hex(s.Payload)});
}

Segment SegmentFrom(const json& j)
{
    Segment s;
    s.T = j.at(0).get<double>();
    s.Src = EndpointFrom(j.at(1));
    s.Dst = EndpointFrom(j.at(2));
    s.Seq = j.at(3).get<std::uint32_t>();
    s.Ack = j.at(4).get<std::uint32_t>();
    s.Flags = j.at(5).get<std::uint8_t>();
    s.Len = j.at(6).get<std::uint32_t>();
    s.Window = j.at(7).get<std::uint16_t>();
    s.Inferred = j.at(8).get<bool>();
    s.Proto = j.at(9).get<std::uint8_t>();
    s.IcmpType = j.at(10).get<std::uint8_t>();
    s.IcmpCode = j.at(11).get<std::uint8_t>();
    s.Payload = Unhex(j.at(12).get<std::string>());
    return s;
}

json MomentJson(const PlayerMoment& m, bool with_call_ids)
{
    json results = json::array();
    for (const auto& r : m.Results)
        results.push_back({{"what", r.What}, {"claim", PhraseJson(r.Claim)}, {"ok", r.Ok}, {"seen", PhraseJson(r.Seen)}});
    json j = {{"step", m.StepIndex},         {"raw_step", m.RawStep},   {"done", m.StepsDone},
              {"status", static_cast<int>(m.Status)}, {"busy", m.Busy}, {"at_end", m.AtEnd},
              {"call", m.CallIndex},         {"port", m.Port},          {"attempt", m.Attempt},
              {"replaying", m.Replaying},    {"bind_all", m.BindAll},   {"status_line", Hex(m.StatusLine)},
              {"results", std::move(results)}, {"retries", m.Retries}};
    if (with_call_ids) {
        json ids = json::array();
        if (m.CallIds)
            for (const auto& [key, id] : *m.CallIds)
                ids.push_back(json::array({key.first, key.second, id}));
        j["call_ids"] = std::move(ids);
    }
    return j;
}

PlayerMoment MomentFrom(const json& j, const PlayerMoment* previous)
{
    PlayerMoment m;
    m.StepIndex = j.at("step").get<int>();
    m.RawStep = j.at("raw_step").get<int>();
    m.StepsDone = j.at("done").get<int>();
    int status = j.at("status").get<int>();
    if (status < 0 || status > static_cast<int>(StepStatus::Failed))
        throw std::runtime_error("bad step status");
    m.Status = static_cast<StepStatus>(status);
    m.Busy = j.at("busy").get<bool>();
    m.AtEnd = j.at("at_end").get<bool>();
    m.CallIndex = j.at("call").get<int>();
    m.Port = j.at("port").get<int>();
    m.Attempt = j.at("attempt").get<int>();
    m.Replaying = j.at("replaying").get<bool>();
    m.BindAll = j.at("bind_all").get<bool>();
    m.StatusLine = Unhex(j.at("status_line").get<std::string>());
    for (const auto& r : j.at("results"))
        m.Results.push_back(CheckResult{r.at("what").get<std::string>(), PhraseFrom(r.at("claim")),
                                        r.at("ok").get<bool>(), PhraseFrom(r.at("seen"))});
    m.Retries = j.at("retries").get<std::vector<std::string>>();
    if (j.contains("call_ids")) {
        auto ids = std::make_shared<std::map<std::pair<int, int>, std::uint64_t>>();
        for (const auto& e : j["call_ids"])
            (*ids)[{e.at(0).get<int>(), e.at(1).get<int>()}] = e.at(2).get<std::uint64_t>();
        m.CallIds = std::move(ids);
    } else if (previous) {
        m.CallIds = previous->CallIds;
    }
    return m;
}

json InfoJson(const RecordingInfo& i)
{
    return {{"mode", i.Mode},
            {"lesson", i.Lesson},
            {"lesson_text", i.LessonText},
            {"program", Hex(i.Program)},
            {"language", i.Language},
            {"infer_segments", i.InferSegments},
            {"infer_datagrams", i.InferDatagrams},
            {"watching", i.Watching},
            {"capturing", i.Capturing},
            {"capture_error", PhraseJson(i.CaptureError)},
            {"probe_running", i.ProbeRunning},
            {"version", i.Version}};
}

RecordingInfo InfoFrom(const json& j)
{
    RecordingInfo i;
    i.Mode = j.at("mode").get<std::string>();
    i.Lesson = j.at("lesson").get<std::string>();
    i.LessonText = j.at("lesson_text").get<std::string>();
    i.Program = Unhex(j.at("program").get<std::string>());
    i.Language = j.value("language", std::string("en"));
    i.InferSegments = j.at("infer_segments").get<bool>();
    i.InferDatagrams = j.at("infer_datagrams").get<bool>();
    i.Watching = j.at("watching").get<bool>();
    i.Capturing = j.at("capturing").get<bool>();
    i.CaptureError = PhraseFrom(j.at("capture_error"));
    i.ProbeRunning = j.value("probe_running", true);
    i.Version = j.value("version", std::string());
    return i;
}

json EndJson(const RecordingEnd& e, const std::string& lesson_text)
{
    return {{"captured", e.Captured},
            {"via_helper", e.ViaHelper},
            {"capturing", e.Capturing},
            {"capture_error", PhraseJson(e.CaptureError)},
            {"lesson_text", lesson_text}};
}

bool SameResults(const std::vector<CheckResult>& a, const std::vector<CheckResult>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].What != b[i].What || a[i].Claim != b[i].Claim || a[i].Ok != b[i].Ok || a[i].Seen != b[i].Seen)
            return false;
    return true;
}

// The same moment of the player, call ids aside (compared by the caller).
bool SameMoment(const PlayerMoment& a, const PlayerMoment& b)
{
    return a.StepIndex == b.StepIndex && a.RawStep == b.RawStep && a.StepsDone == b.StepsDone &&
           a.Status == b.Status && a.Busy == b.Busy && a.AtEnd == b.AtEnd && a.CallIndex == b.CallIndex &&
           a.Port == b.Port && a.Attempt == b.Attempt && a.Replaying == b.Replaying && a.BindAll == b.BindAll &&
           a.StatusLine == b.StatusLine && a.Retries == b.Retries && SameResults(a.Results, b.Results);
}

bool SameCallIds(const std::map<std::pair<int, int>, std::uint64_t>& a,
                 const std::shared_ptr<const std::map<std::pair<int, int>, std::uint64_t>>& b)
{
    return b && *b == a;
}

} // namespace

PlayerMoment MomentOf(const LessonPlayer& player, const PlayerMoment* previous)
{
    PlayerMoment m;
    m.RawStep = player.StepIndex();
    m.StepIndex = player.StepIndex();
    m.StepsDone = player.StepsDone();
    m.Status = player.CurrentStatus();
    m.Busy = player.Busy();
    m.AtEnd = player.AtEnd();
    m.CallIndex = player.CallIndex();
    m.Port = player.Port();
    m.StatusLine = player.StatusLine();
    m.Results = player.Results();
    m.Attempt = player.Attempt();
    m.Replaying = player.Replaying();
    m.BindAll = player.BindsAll();
    m.Retries = player.RetryLog();
    std::map<std::pair<int, int>, std::uint64_t> ids;
    if (const Lesson* lesson = player.Current())
        for (int s = 0; s <= std::min(player.TargetStep(), static_cast<int>(lesson->Steps.size()) - 1); ++s)
            for (int c = 0; c < static_cast<int>(lesson->Steps[static_cast<std::size_t>(s)].Calls.size()); ++c)
                if (auto id = player.CallId(s, c))
                    ids[{s, c}] = id;
    if (previous && SameCallIds(ids, previous->CallIds))
        m.CallIds = previous->CallIds;
    else
        m.CallIds = std::make_shared<const std::map<std::pair<int, int>, std::uint64_t>>(std::move(ids));
    if (m.Replaying) {
        // Show the step being attempted, not the earlier ones being made again.
        m.StepIndex = player.TargetStep();
        m.StepsDone = m.StepIndex;
        m.AtEnd = false;
    }
    return m;
}

std::string LessonFileText(const Lesson& lesson)
{
    if (lesson.Path.empty())
        return {};
    std::ifstream in(lesson.Path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// ---------------------------------------------------------------------------------------
// Reading

std::optional<Recording> ParseRecording(const std::string& text, const std::string& name, std::string& error)
{
    Recording rec;
    std::istringstream in(text);
    std::string line;
    std::size_t number = 0;
    bool header = false;
    Snapshot last_maps;        // the counters and settings a snapshot without them keeps
    bool have_maps = false;
    PlayerMoment last_ids;     // the call ids a moment without them keeps
    bool have_ids = false;
    auto fail = [&](const std::string& what) {
        error = name + ":" + std::to_string(number) + ": " + what;
        return std::nullopt;
    };
    while (std::getline(in, line)) {
        ++number;
        if (line.empty())
            continue;
        json j;
        try {
            j = json::parse(line);
        } catch (const std::exception&) {
            if (!header)
                return fail(line.find("\"sockscope_recording\"") != std::string::npos
                                ? "its first line is cut short: the file is damaged or truncated"
                                : "not a sockscope recording (its first line is not JSON)");
            return fail("not JSON: the file is damaged or truncated");
        }
        if (!j.is_object())
            return fail(header ? "a line of a recording is a JSON object" : "not a sockscope recording");
        try {
            if (!header) {
                auto format = j.find("sockscope_recording");
                if (format == j.end() || !format->is_number_integer())
                    return fail("not a sockscope recording (no \"sockscope_recording\" on its first line)");
                int version = format->get<int>();
                if (version > kRecordingFormat)
                    return fail("recorded by a newer sockscope (format " + std::to_string(version) +
                                "; this one reads format " + std::to_string(kRecordingFormat) + " and older)");
                if (version < 1)
                    return fail("unknown recording format " + std::to_string(version));
                rec.Info = InfoFrom(j.at("info"));
                header = true;
                continue;
            }
            if (rec.End.Present)
                return fail("a line after the end record");
            if (j.contains("clear")) {
                rec.Clears.push_back(rec.Events.size());
            } else if (j.contains("event")) {
                auto event = EventFromJson(j["event"], false);
                if (!event)
                    return fail("a call or lane event that cannot be read");
                rec.Events.push_back(ToLabEvent(std::move(*event)));
            } else if (j.contains("snap")) {
                Snapshot snap = SnapshotFrom(j["snap"], have_maps ? &last_maps : nullptr);
                last_maps.Counters = snap.Counters;
                last_maps.CountersAtReset = snap.CountersAtReset;
                last_maps.Sysctls = snap.Sysctls;
                have_maps = true;
                rec.Events.push_back(std::move(snap));
            } else if (j.contains("seg")) {
                rec.Events.push_back(SegmentFrom(j["seg"]));
            } else if (j.contains("tick")) {
                const json& t = j["tick"];
                RecordedTick tick;
                tick.EventEnd = rec.Events.size();
                tick.ClearEnd = rec.Clears.size();
                tick.T = t.at("t").get<double>();
                if (t.contains("player"))
                    tick.Player = MomentFrom(t["player"], have_ids ? &last_ids : nullptr);
                else if (!rec.Ticks.empty())
                    tick.Player = rec.Ticks.back().Player;
                tick.StepEnd = t.value("step_end", false);
                tick.StepDone = t.value("step_done", true);
                last_ids.CallIds = tick.Player.CallIds;
                have_ids = true;
                rec.Ticks.push_back(std::move(tick));
            } else if (j.contains("end")) {
                const json& e = j["end"];
                rec.End.Present = true;
                rec.End.Captured = e.at("captured").get<std::uint64_t>();
                rec.End.ViaHelper = e.at("via_helper").get<bool>();
                rec.End.Capturing = e.at("capturing").get<bool>();
                rec.End.CaptureError = PhraseFrom(e.at("capture_error"));
                std::string lesson = e.value("lesson_text", std::string());
                if (!lesson.empty())
                    rec.Info.LessonText = lesson;
            }
            // Anything else is a record a newer sockscope of the same format may add: skipped.
        } catch (const std::exception& e) {
            return fail(std::string("a record that cannot be read (") + e.what() + ")");
        }
    }
    if (!header) {
        error = name + ": empty: not a sockscope recording";
        return std::nullopt;
    }
    if (!rec.End.Present) {
        error = name + ": truncated: it ends at line " + std::to_string(number) +
                " without its end record (was sockscope stopped while recording?)";
        return std::nullopt;
    }
    return rec;
}

std::optional<Recording> LoadRecording(const std::string& path, std::string& error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot open the recording '" + path + "': " + std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return ParseRecording(text.str(), path, error);
}

// ---------------------------------------------------------------------------------------
// Recording

Recorder::~Recorder()
{
    if (File)
        std::fclose(File);
}

void Recorder::Begin(RecordingInfo info, const World& world)
{
    Data = Recording{};
    Data.Info = std::move(info);
    Waiting.clear();
    SeenGeneration = world.Generation();
    LastVersion = ~0ull;
    LastStep = -2;
    LastT = -1e9;
    LastCountersOnly = world.CountersOnlyChanges();
    PlayerWritten = false;
    HaveMaps = false;
    Bytes = 0;
}

bool Recorder::OpenFile(const std::string& path, std::string& error)
{
    File = std::fopen(path.c_str(), "we");
    if (!File) {
        error = "cannot write the recording '" + path + "': " + std::strerror(errno);
        return false;
    }
    HeaderLesson = Data.Info.LessonText;
    // The format's name and number first, so that even a file cut inside its first line says what it is.
    WriteLine("{\"sockscope_recording\":" + std::to_string(kRecordingFormat) +
              ",\"info\":" + InfoJson(Data.Info).dump() + "}");
    return true;
}

void Recorder::WriteLine(const std::string& line)
{
    if (!File)
        return;
    std::fwrite(line.data(), 1, line.size(), File);
    std::fputc('\n', File);
}

void Recorder::NoteClears(const World& world)
{
    if (world.Generation() == SeenGeneration)
        return;
    SeenGeneration = world.Generation();
    Waiting.push_back(Pending{true, {}});
}

void Recorder::Note(const LabEvent& event, const World& world)
{
    NoteClears(world);
    Waiting.push_back(Pending{false, event});
}

bool Recorder::Tick(const World& world, const LessonPlayer* player, double t)
{
    return Keep(world, player, t, false, false, true);
}

void Recorder::StepEnded(const World& world, const LessonPlayer& player, double t, bool done)
{
    Keep(world, &player, t, true, true, done);
}

bool Recorder::Keep(const World& world, const LessonPlayer* player, double t, bool force, bool step_end, bool done)
{
    NoteClears(world);
    int step = player ? player->StepIndex() : -1;
    bool changed = world.Version() != LastVersion || step != LastStep;
    // Only the kernel-wide counters moved since the last moment kept (every version bump
    // since was one of those), and nothing but snapshots waits: at most one per CounterGap.
    bool counters_only = changed && step == LastStep &&
                         world.Version() - LastVersion == world.CountersOnlyChanges() - LastCountersOnly &&
                         std::none_of(Waiting.begin(), Waiting.end(), [](const Pending& p) {
                             return p.Clear || !std::holds_alternative<Snapshot>(p.Event);
                         });
    if (counters_only && t - LastT < CounterGap)
        changed = false;
    if (!changed && !force && t - LastT < 1.0) {
        // Nothing shown changed: the snapshots waiting add nothing but their timers'
        // countdown. The newest stays, to go with the next moment kept (the World has it).
        auto newest = std::find_if(Waiting.rbegin(), Waiting.rend(), [](const Pending& p) {
            return !p.Clear && std::holds_alternative<Snapshot>(p.Event);
        });
        if (newest != Waiting.rend()) {
            const Pending* keep = &*newest;
            std::erase_if(Waiting, [keep](const Pending& p) {
                return &p != keep && !p.Clear && std::holds_alternative<Snapshot>(p.Event);
            });
        }
        return false;
    }
    LastVersion = world.Version();
    LastCountersOnly = world.CountersOnlyChanges();
    LastStep = step;
    LastT = t;
    if (!IsFull && Limit != 0 && Bytes > Limit) {
        IsFull = true;
        FullT = t;
    }
    const bool keep = !IsFull; // in memory; the file gets every moment either way
    if (!keep && !File) {
        Waiting.clear(); // nothing to keep and nowhere to write: not even the player's moment
        return false;
    }
    for (auto& p : Waiting) {
        if (p.Clear) {
            if (keep)
                Data.Clears.push_back(Data.Events.size());
            WriteLine(R"({"clear":true})");
            continue;
        }
        if (File) {
            json j = std::visit(
                [&](const auto& e) -> json {
                    using E = std::decay_t<decltype(e)>;
                    if constexpr (std::is_same_v<E, Snapshot>)
                        return {{"snap", SnapshotJson(e, HaveMaps ? &LastMaps : nullptr)}};
                    else if constexpr (std::is_same_v<E, Segment>)
                        return {{"seg", SegmentJson(e)}};
                    else
                        return {{"event", EventToJson(LaneReport(e), false)}};
                },
                p.Event);
            WriteLine(j.dump());
        }
        if (const auto* s = std::get_if<Snapshot>(&p.Event)) {
            if (keep)
                Bytes += s->Sockets.size() * sizeof(KernelSocket);
            LastMaps.Counters = s->Counters;
            LastMaps.CountersAtReset = s->CountersAtReset;
            LastMaps.Sysctls = s->Sysctls;
            HaveMaps = true;
        }
        if (keep) {
            Bytes += sizeof(LabEvent);
            Data.Events.push_back(std::move(p.Event));
        }
    }
    Waiting.clear();
    RecordedTick tick;
    tick.EventEnd = Data.Events.size();
    tick.ClearEnd = Data.Clears.size();
    tick.T = t;
    tick.StepEnd = step_end;
    tick.StepDone = done;
    const PlayerMoment* previous = Data.Ticks.empty() ? nullptr : &Data.Ticks.back().Player;
    if (player)
        tick.Player = MomentOf(*player, previous);
    bool new_ids = !previous || tick.Player.CallIds != previous->CallIds;
    if (keep)
        Bytes += sizeof(RecordedTick) + (new_ids && tick.Player.CallIds ? tick.Player.CallIds->size() * 64 : 0);
    if (File) {
        // The player only when it changed (a reader keeps the last one said).
        json line = {{"t", t}};
        if (!PlayerWritten || !SameMoment(tick.Player, LastWritten) || new_ids) {
            line["player"] = MomentJson(tick.Player, new_ids);
            LastWritten = tick.Player;
            PlayerWritten = true;
        }
        if (step_end) {
            line["step_end"] = true;
            line["step_done"] = done;
        }
        WriteLine(json({{"tick", std::move(line)}}).dump());
        if (step_end)
            std::fflush(File);
    }
    if (!keep)
        return false;
    Data.Ticks.push_back(std::move(tick));
    return true;
}

void Recorder::Finish(const RecordingEnd& end)
{
    Data.End = end;
    Data.End.Present = true;
    if (!File)
        return;
    // The lesson's text again only when it changed (the playground's steps grew).
    WriteLine(json({{"end", EndJson(end, Data.Info.LessonText == HeaderLesson ? std::string() : Data.Info.LessonText)}}).dump());
    std::fclose(File);
    File = nullptr;
}

std::size_t Recorder::MemoryBytes() const
{
    return Bytes;
}

// ---------------------------------------------------------------------------------------
// Replaying

ReplayCursor::ReplayCursor(const Recording& recording, std::size_t every, std::size_t budget)
    : Rec(recording), Spacing(std::max<std::size_t>(every, 1)), Budget(budget)
{
    auto fresh = std::make_shared<World>();
    Fresh(*fresh);
    Saved.push_back(Checkpoint{SIZE_MAX, std::move(fresh)});
}

void ReplayCursor::Fresh(World& world) const
{
    world.SetInferSegments(Rec.Info.InferSegments);
    world.SetInferDatagrams(Rec.Info.InferDatagrams);
    world.SetWatching(Rec.Info.Watching);
}

void ReplayCursor::ApplyBetween(World& world, std::size_t from_tick, std::size_t to_tick) const
{
    std::size_t event = from_tick == SIZE_MAX ? 0 : Rec.Ticks[from_tick].EventEnd;
    std::size_t clear = from_tick == SIZE_MAX ? 0 : Rec.Ticks[from_tick].ClearEnd;
    const RecordedTick& to = Rec.Ticks[to_tick];
    for (;;) {
        while (clear < to.ClearEnd && Rec.Clears[clear] == event) {
            world.Clear();
            ++clear;
        }
        if (event >= to.EventEnd)
            break;
        world.Apply(Rec.Events[event++]);
    }
}

namespace {

// What a copy of the World holds, roughly: its sockets, their records, and the calls and
// lane moments on its ladder.
std::size_t ApproxWorldBytes(const World& world)
{
    std::size_t bytes = sizeof(World) + world.Sockets().size() * (sizeof(SocketView) + sizeof(SocketRecord));
    for (const auto& a : world.Actors())
        bytes += sizeof(ActorView) + a.Calls.size() * sizeof(CallEvent) + a.Life.size() * sizeof(LaneEvent);
    return bytes;
}

} // namespace

void ReplayCursor::Save(std::size_t tick, std::shared_ptr<const World> world)
{
    std::size_t bytes = ApproxWorldBytes(*world);
    Saved.push_back(Checkpoint{tick, std::move(world), bytes});
    SavedBytes += bytes;
    LastCheckpointEvents = Rec.Ticks[tick].EventEnd;
    // Over the budget: every other copy goes (never the fresh World at the start, nor
    // the newest), and from now on they are twice as far apart.
    while (SavedBytes > Budget && Saved.size() > 2) {
        std::vector<Checkpoint> kept;
        SavedBytes = 0;
        for (std::size_t i = 0; i < Saved.size(); ++i)
            if (i == 0 || i + 1 == Saved.size() || i % 2 == 0) {
                SavedBytes += Saved[i].Bytes;
                kept.push_back(std::move(Saved[i]));
            }
        Saved = std::move(kept);
        Spacing *= 2;
    }
}

void ReplayCursor::Grew(const World& live)
{
    if (Rec.Ticks.empty())
        return;
    std::size_t last = Rec.Ticks.size() - 1;
    if (Rec.Ticks[last].EventEnd - LastCheckpointEvents < Spacing)
        return;
    Save(last, std::make_shared<World>(live));
}

void ReplayCursor::CheckpointAll()
{
    for (std::size_t tick = 0; tick < Rec.Ticks.size(); ++tick) {
        if (Rec.Ticks[tick].EventEnd - LastCheckpointEvents < Spacing)
            continue;
        Save(tick, std::make_shared<World>(At(tick))); // At moves forward only
    }
}

const World& ReplayCursor::At(std::size_t tick)
{
    if (Rec.Ticks.empty()) {
        if (!CurrentTick) {
            Current = *Saved.front().At;
            CurrentTick = SIZE_MAX;
        }
        return Current;
    }
    tick = std::min(tick, Rec.Ticks.size() - 1);
    if (CurrentTick && *CurrentTick == tick)
        return Current;
    // The nearest checkpoint at or before the tick, or where Current is if that is nearer.
    const Checkpoint* from = &Saved.front();
    for (const auto& c : Saved)
        if (c.Tick == SIZE_MAX || c.Tick <= tick)
            from = &c;
    bool forward = CurrentTick && *CurrentTick != SIZE_MAX && *CurrentTick < tick &&
                   (from->Tick == SIZE_MAX || *CurrentTick >= from->Tick);
    if (!forward) {
        Current = *from->At;
        CurrentTick = from->Tick;
    }
    if (*CurrentTick != tick)
        ApplyBetween(Current, *CurrentTick, tick);
    CurrentTick = tick;
    return Current;
}

} // namespace sockscope
