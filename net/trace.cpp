#include "trace.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <type_traits>

#include <netinet/in.h>

namespace sockscope {

namespace {

using nlohmann::json;

std::string CookieText(std::uint64_t cookie)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "%" PRIx64, cookie); // as `ss -e` prints it after "sk:"
    return buf;
}

json TimerJson(const KernelSocket& k)
{
    if (k.Timer == TimerKind::None)
        return nullptr;
    return {{"kind", TimerKindName(k.Timer)}, {"expires_ms", k.TimerExpiresMs}, {"retrans", k.Retransmits}};
}

// "127.0.0.1:$port" -> "127.0.0.1:4000" and "$backlog" -> 5, recursively.
json Substitute(const json& v, const LessonVars& vars)
{
    if (v.is_string()) {
        std::string s = v.get<std::string>();
        for (const auto& [name, value] : vars) {
            std::string key = "$" + name;
            if (s == key)
                return value;
            for (auto pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos))
                s.replace(pos, key.size(), std::to_string(value));
        }
        return s;
    }
    if (v.is_object()) {
        json out = json::object();
        for (auto it = v.begin(); it != v.end(); ++it)
            out[it.key()] = Substitute(it.value(), vars);
        return out;
    }
    return v;
}

bool Matches(const json& entry, const json& match)
{
    for (auto it = match.begin(); it != match.end(); ++it) {
        auto field = entry.find(it.key());
        if (field == entry.end())
            return false;
        const json& want = it.value();
        // "!null": any value but null (e.g. "fd": "!null", the socket has a descriptor).
        if (want.is_string() && want.get<std::string>() == "!null") {
            if (field->is_null())
                return false;
            continue;
        }
        if (auto compare = want.is_string() ? NumericRule(want.get<std::string>()) : nullptr;
            compare && field->is_number()) {
            if (!compare(field->get<double>()))
                return false;
            continue;
        }
        if (want.is_object() && field->is_object()) {
            if (!Matches(*field, want))
                return false;
            continue;
        }
        if (*field != want)
            return false;
    }
    return true;
}

} // namespace

// A datagram keeps the TCP fields (flags "none", numbers 0: it has none) and adds
// "proto", its first bytes ("payload"), and for an ICMP error its "icmp_type" and
// "icmp_code" (src and dst: the refused datagram's ends, reversed).
json SegmentToJson(const Segment& s)
{
    json j = {{"t", s.T},     {"src", s.Src.ToString()}, {"dst", s.Dst.ToString()}, {"flags", FlagsName(s.Flags)},
              {"seq", s.Seq}, {"ack", s.Ack},            {"len", s.Len},            {"window", s.Window},
              {"inferred", s.Inferred}, {"proto", SegmentProtoName(s)}};
    if (IsDatagram(s) || IsIcmp(s))
        j["payload"] = EscapeBytes(s.Payload);
    if (IsIcmp(s)) {
        j["icmp_type"] = s.IcmpType;
        j["icmp_code"] = s.IcmpCode;
    }
    return j;
}

json CallToJson(const CallEvent& call)
{
    json j = {{"actor", call.Actor},
              {"call", CallName(call.Call)},
              {"args", FormatArgs(call)},
              {"result", call.Result},
              {"errno", call.Errno ? json(ErrnoName(call.Errno)) : json(nullptr)},
              {"fd", call.Fd >= 0 ? json(call.Fd) : json(nullptr)},
              {"handle", call.Handle},
              {"t_start", call.TStart},
              {"t_end", call.TEnd},
              {"pid", call.Pid},
              {"tid", call.Tid},
              {"source", call.Traced ? "traced" : "lab"}};
    if (!call.Note.Empty())
        j["note"] = call.Note.English();
    if (call.NewFd)
        j["new_fd"] = {{"handle", call.NewFd->Handle}, {"fd", call.NewFd->Fd}, {"inode", call.NewFd->Inode},
                       {"cookie", CookieText(call.NewFd->Cookie)}};
    if (call.Local)
        j["local"] = call.Local->ToString();
    if (call.Remote)
        j["remote"] = call.Remote->ToString();
    if (!call.Data.empty())
        j["data"] = EscapeBytes(call.Data, 256);
    if (std::string layout = SockaddrLayoutOf(call); !layout.empty())
        j["sockaddr"] = std::move(layout);
    return j;
}

// A moment of a lane's life, written among the calls with a call's fields (DESIGN.md,
// trace contract): "start", "fork", "return", "exit", "zombie".
json LaneEventToJson(const LaneEvent& e)
{
    json j = {{"actor", e.Actor},
              {"call", LaneEventName(e.Kind)},
              {"args", LaneEventArgs(e)},
              {"result", 0},
              {"errno", nullptr},
              {"fd", nullptr},
              {"handle", ""},
              {"t_start", e.T},
              {"t_end", e.T},
              {"pid", e.Pid},
              {"tid", e.Tid},
              {"source", e.Traced ? "traced" : "lab"}};
    if (!e.Note.Empty())
        j["note"] = e.Note.English();
    return j;
}

namespace {

// A lane of a traced program (its calls, or its life, came from the tracer).
bool TracedLane(const ActorView& a)
{
    if (!a.Calls.empty())
        return a.Calls.back().Traced;
    return !a.Life.empty() && a.Life.back().Traced;
}

} // namespace

json TraceLine(const World& world, const LessonPlayer* player, double t, const std::vector<LaneReport>& calls)
{
    if (!player)
        return TraceLine(world, static_cast<const TraceLesson*>(nullptr), t, calls);
    TraceLesson lesson{player->Current(), player->StepIndex(), player->Port()};
    return TraceLine(world, &lesson, t, calls);
}

json TraceLine(const World& world, const TraceLesson* player, double t, const std::vector<LaneReport>& calls)
{
    json line;
    line["t"] = t;
    const Lesson* lesson = player ? player->Data : nullptr;
    line["lesson"] = lesson ? json(lesson->Name) : json(nullptr);
    line["step"] = player && player->Step >= 0 ? json(player->Step + 1) : json(nullptr);
    if (player && lesson)
        line["port"] = player->Port;

    json listeners = json::array();
    for (const auto& l : world.Listeners())
        listeners.push_back({{"local", l.Local.ToString()},
                             {"backlog", l.Backlog},
                             {"accept_queue", l.AcceptQueue},
                             {"syn_queue", l.SynQueue},
                             {"cookie", CookieText(l.Cookie)},
                             {"fd", l.Fd ? json(*l.Fd) : json(nullptr)},
                             {"actor", l.Actor.empty() ? json(nullptr) : json(l.Actor)}});
    line["listeners"] = std::move(listeners);

    json sockets = json::array();
    for (const auto& s : world.Sockets()) {
        std::string_view queue = QueueKindName(s.Queue);
        const ActorView* holder = s.Fd ? world.FindActor(s.Actor) : nullptr;
        const bool udp = s.K.Proto == IPPROTO_UDP;
        // A socket a traced program holds (its actor's calls are the program's).
        bool traced = holder && TracedLane(*holder);
        sockets.push_back({{"proto", udp ? "udp" : "tcp"},
                           {"drops", s.K.Drops},
                           {"pid", holder && holder->Pid ? json(holder->Pid) : json(nullptr)},
                           {"cookie", CookieText(s.Cookie)},
                           {"local", s.K.Local.ToString()},
                           {"remote", s.K.Remote.ToString()},
                           // As ss -uan says: a UDP socket is UNCONN, or ESTABLISHED once connected.
                           {"state", SocketStateName(s.State(), s.K.Proto)},
                           {"role", SocketRoleName(s.Role)},
                           {"queue", queue.empty() ? json(nullptr) : json(queue)},
                           {"fd", s.Fd ? json(*s.Fd) : json(nullptr)},
                           {"owner", s.External ? "external" : traced ? "traced" : "lab"},
                           {"recv_q", s.K.RecvQ},
                           {"send_q", s.K.SendQ},
                           {"timer", TimerJson(s.K)},
                           {"inode", s.K.Inode},
                           {"in_kernel", s.InKernel},
                           {"actor", s.Actor.empty() ? json(nullptr) : json(s.Actor)},
                           {"recv_bytes", s.RecvBytes ? json(EscapeBytes(*s.RecvBytes, 256)) : json(nullptr)},
                           {"send_bytes", s.SendBytes ? json(EscapeBytes(*s.SendBytes, 256)) : json(nullptr)}});
    }
    line["sockets"] = std::move(sockets);

    // Every actor and every lane of a server model: the thread or process, what it is
    // doing now, the descriptors it holds.
    json lanes = json::array();
    for (const auto& a : world.Actors()) {
        const CallEvent* now = a.Current();
        bool in_exit = !now && a.InExit(); // exit() does not return
        json fds = json::array();
        for (const auto& [handle, f] : a.Fds)
            fds.push_back(f.Fd);
        lanes.push_back({{"name", a.Name},
                         {"kind", a.LaneKind.empty() ? "actor" : a.LaneKind},
                         {"pid", a.Pid != 0 ? json(a.Pid) : json(nullptr)},
                         {"tid", a.Tid != 0 ? json(a.Tid) : json(nullptr)},
                         {"parent", a.Parent.empty() ? json(nullptr) : json(a.Parent)},
                         {"status", a.Status},
                         {"in", now ? json(CallName(now->Call)) : in_exit ? json("exit") : json(nullptr)},
                         {"blocked", in_exit || (now && now->Phase == CallPhase::Blocked)},
                         {"fds", std::move(fds)}});
    }
    line["lanes"] = std::move(lanes);

    json counters = json::object(), totals = json::object(), sysctl = json::object();
    for (const auto& [name, value] : world.CounterValues()) {
        counters[name] = world.CounterDelta(name);
        totals[name] = value;
    }
    for (const auto& [name, value] : world.Sysctls())
        sysctl[name] = value;
    // "counters": how much each moved since the lesson began; "counter_totals": now.
    line["kernel"] = {{"counters", counters}, {"counter_totals", totals}, {"sysctl", sysctl}};

    json call_list = json::array();
    for (const auto& c : calls)
        call_list.push_back(std::visit(
            [](const auto& e) {
                if constexpr (std::is_same_v<std::decay_t<decltype(e)>, LaneEvent>)
                    return LaneEventToJson(e);
                else
                    return CallToJson(e);
            },
            c));
    line["calls"] = std::move(call_list);
    if (!world.ProbeError().Empty())
        line["probe_error"] = world.ProbeError().English();
    return line;
}

int CountMatches(const json& line, const Check& check, const LessonVars& vars)
{
    auto list = line.find(check.What);
    if (list == line.end())
        return 0;
    json match = Substitute(check.Match, vars);
    if (list->is_object()) // "kernel": one object
        return Matches(*list, match) ? 1 : 0;
    int n = 0;
    for (const auto& entry : *list)
        if (Matches(entry, match))
            ++n;
    return n;
}

TraceWriter::~TraceWriter()
{
    if (File)
        std::fclose(File);
}

bool TraceWriter::Open(const std::string& path, std::string& error)
{
    File = std::fopen(path.c_str(), "ae"); // close-on-exec: not for a program --run starts
    if (!File) {
        error = "cannot open the trace file '" + path + "': " + std::strerror(errno);
        return false;
    }
    return true;
}

bool TraceWriter::Update(const World& world, const LessonPlayer* player, double t)
{
    if (!player)
        return Update(world, static_cast<const TraceLesson*>(nullptr), t);
    TraceLesson lesson{player->Current(), player->StepIndex(), player->Port()};
    return Update(world, &lesson, t);
}

bool TraceWriter::Update(const World& world, const TraceLesson* player, double t)
{
    int step = player ? player->Step : -1;
    if (!File || (world.Version() == LastVersion && step == LastStep))
        return false;
    LastVersion = world.Version();
    LastStep = step;
    json line = TraceLine(world, player, t, NewCalls(world));
    line["segments"] = NewSegments(world);
    std::string text = line.dump() + "\n";
    std::fwrite(text.data(), 1, text.size(), File);
    std::fflush(File);
    return true;
}

// The calls that finished since the previous line (those the world still keeps).
std::vector<LaneReport> TraceWriter::NewCalls(const World& world)
{
    return FinishedSince(world, CallsWritten);
}

std::vector<LaneReport> FinishedSince(const World& world, std::uint64_t& cursor)
{
    std::vector<LaneReport> calls;
    for (const auto& f : world.FinishedCalls()) {
        if (f.Seq <= cursor)
            continue;
        calls.push_back(f.Event);
        cursor = f.Seq;
    }
    return calls;
}

// The segments seen since the previous line (those the world still keeps).
json TraceWriter::NewSegments(const World& world)
{
    const auto& kept = world.Segments();
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(world.SegmentsApplied() - SegmentsWritten, kept.size()));
    SegmentsWritten = world.SegmentsApplied();
    json segments = json::array();
    for (auto it = kept.end() - static_cast<std::ptrdiff_t>(n); it != kept.end(); ++it)
        segments.push_back(SegmentToJson(*it));
    return segments;
}

} // namespace sockscope
