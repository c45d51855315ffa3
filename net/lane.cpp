#include "lane.hpp"

#include "clock.hpp"
#include "sockets.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <cstring>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sockscope {

Lane::Lane(std::string name, std::string kind, Sink sink, IdSource ids)
    : LaneName(std::move(name)), Kind(std::move(kind)), SinkFn(std::move(sink)), Ids(std::move(ids)),
      Pid(getpid()), Tid(gettid())
{
}

void Lane::Life(LaneEventKind kind, LaneType type, Phrase note, std::string parent, std::vector<FdInfo> inherited)
{
    LaneEvent e;
    e.Id = Ids();
    e.Kind = kind;
    e.Type = type;
    e.Actor = LaneName;
    e.ActorKind = Kind;
    e.Pid = Pid;
    e.Tid = Tid;
    e.Parent = std::move(parent);
    e.Inherited = std::move(inherited);
    e.Note = std::move(note);
    e.T = MonotonicSeconds();
    SinkFn(std::move(e));
}

CallEvent Lane::Begin(CallId call, const std::string& handle, int fd, CallArgs args)
{
    CallEvent c;
    c.Id = Ids();
    c.Actor = LaneName;
    c.ActorKind = Kind;
    c.Call = call;
    c.Handle = handle;
    c.Fd = fd;
    c.Args = std::move(args);
    c.Phase = CallPhase::Started;
    c.TStart = MonotonicSeconds();
    c.Pid = Pid;
    c.Tid = Tid;
    SinkFn(c);
    return c;
}

void Lane::Blocked(CallEvent& call)
{
    call.Phase = CallPhase::Blocked;
    SinkFn(call);
}

void Lane::Finish(CallEvent& call, long result, int err)
{
    call.Result = result;
    call.Errno = result < 0 ? err : 0;
    call.Phase = CallPhase::Finished;
    call.TEnd = MonotonicSeconds();
    SinkFn(call);
}

CallEvent Lane::Done(CallId call, const std::string& handle, int fd, CallArgs args, long result, int err,
                     Phrase note)
{
    CallEvent c = Begin(call, handle, fd, std::move(args));
    c.Note = std::move(note);
    Finish(c, result, err);
    return c;
}

void Lane::Close(int fd, const std::string& handle)
{
    CallEvent c = Begin(CallId::Close, handle, fd);
    long rc = ::close(fd);
    int err = errno;
    c.Closed = rc == 0;
    Finish(c, rc, err);
}

bool WaitReady(int fd, short events, int stop_fd)
{
    for (;;) {
        pollfd pfds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
        int n = poll(pfds, stop_fd >= 0 ? 2 : 1, -1);
        if (n < 0 && errno != EINTR)
            return true; // the call itself will report the error
        if (stop_fd >= 0 && (pfds[1].revents & POLLIN))
            return false;
        if (n > 0 && pfds[0].revents)
            return true;
    }
}

EchoRound EchoOnce(Lane& lane, int fd, const std::string& handle, int len, int stop_fd)
{
    len = std::max(1, len);
    CallArgs recv_args;
    recv_args.Len = len;
    CallEvent r = lane.Begin(CallId::Recv, handle, fd, recv_args);
    std::string buffer(static_cast<std::size_t>(len), '\0');
    long n;
    bool reported = false;
    for (;;) {
        n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n >= 0)
            break;
        int err = errno;
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
            lane.Finish(r, -1, err);
            return EchoRound::Error;
        }
        if (!reported) {
            lane.Blocked(r);
            reported = true;
        }
        if (!WaitReady(fd, POLLIN, stop_fd)) {
            r.Note = Say(PhraseId::WokenByReset);
            lane.Finish(r, -1, EINTR);
            return EchoRound::Stopped;
        }
    }
    std::string data(buffer.data(), static_cast<std::size_t>(n));
    r.Data = data;
    if (n == 0)
        r.Note = Say(PhraseId::EndOfStream);
    else if (data.find("bye") != std::string::npos)
        r.Note = Say(PhraseId::ClientSaidBye);
    lane.Finish(r, n, 0);
    if (n == 0)
        return EchoRound::Eof;
    if (data.find("bye") != std::string::npos)
        return EchoRound::Bye;

    CallArgs send_args;
    send_args.Len = n;
    CallEvent s = lane.Begin(CallId::Send, handle, fd, send_args);
    s.Data = data.substr(0, MaxCallData);
    std::size_t sent = 0;
    reported = false;
    while (sent < data.size()) {
        long m = send(fd, data.data() + sent, data.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (m >= 0) {
            sent += static_cast<std::size_t>(m);
            continue;
        }
        int err = errno;
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
            if (sent > 0)
                s.Data.resize(std::min(sent, s.Data.size()));
            lane.Finish(s, sent > 0 ? static_cast<long>(sent) : -1, err);
            return EchoRound::Error;
        }
        if (!reported) {
            lane.Blocked(s);
            reported = true;
        }
        if (!WaitReady(fd, POLLOUT, stop_fd)) {
            s.Note = Say(PhraseId::WokenByReset);
            if (sent > 0)
                s.Data.resize(std::min(sent, s.Data.size()));
            lane.Finish(s, sent > 0 ? static_cast<long>(sent) : -1, EINTR);
            return EchoRound::Stopped;
        }
    }
    lane.Finish(s, static_cast<long>(sent), 0);
    return EchoRound::Again;
}

EchoRound ServeEcho(Lane& lane, int fd, const std::string& handle, int len, int stop_fd)
{
    for (;;) {
        EchoRound round = EchoOnce(lane, fd, handle, len, stop_fd);
        if (round == EchoRound::Again)
            continue;
        if (round != EchoRound::Stopped)
            lane.Close(fd, handle);
        return round;
    }
}

namespace {

using nlohmann::json;

std::string Hex(const std::string& bytes) { return BytesToHex(bytes); }
std::string Unhex(const std::string& text) { return HexToBytes(text); }

json NoteArgs(const Phrase& note)
{
    json args = json::array();
    for (const auto& arg : note.Args)
        args.push_back(Hex(arg));
    return args;
}

json FdJson(const FdInfo& f)
{
    return {{"handle", f.Handle}, {"fd", f.Fd}, {"inode", f.Inode}, {"cookie", f.Cookie}};
}

FdInfo FdFromJson(const json& j)
{
    FdInfo f;
    f.Handle = j.at("handle").get<std::string>();
    f.Fd = j.at("fd").get<int>();
    f.Inode = j.at("inode").get<std::uint32_t>();
    f.Cookie = j.at("cookie").get<std::uint64_t>();
    return f;
}

json ArgsJson(const CallArgs& a)
{
    return {{"family", a.Family}, {"type", a.Type},   {"level", a.Level},     {"option", a.Option},
            {"value", a.Value},   {"len", a.Len},     {"flags", a.Flags},     {"addr_len", a.AddrLen},
            {"addr", a.Addr.ToString()}, {"text", Hex(a.Text)}};
}

CallArgs ArgsFromJson(const json& j)
{
    CallArgs a;
    a.Family = j.at("family").get<std::int32_t>();
    a.Type = j.at("type").get<std::int32_t>();
    a.Level = j.at("level").get<std::int32_t>();
    a.Option = j.at("option").get<std::int32_t>();
    a.Value = j.at("value").get<std::int64_t>();
    a.Len = j.at("len").get<std::int64_t>();
    a.Flags = j.at("flags").get<std::int32_t>();
    a.AddrLen = j.at("addr_len").get<std::int32_t>();
    if (auto e = Endpoint::Parse(j.at("addr").get<std::string>()))
        a.Addr = *e;
    a.Text = Unhex(j.at("text").get<std::string>());
    return a;
}

// Times on the wire: the lab clock plus `origin` (the clock's origin for another
// process on this machine; 0 in a recording, which keeps the lab clock's own).
double Origin(bool absolute) { return absolute ? static_cast<double>(ClockOriginNs()) / 1e9 : 0.0; }

json CallJson(const CallEvent& c, double origin)
{
    auto ToAbsolute = [origin](double t) { return t + origin; };
    json j = {{"id", c.Id},        {"actor", c.Actor},   {"kind", c.ActorKind},
              {"call", CallName(c.Call)}, {"handle", c.Handle}, {"fd", c.Fd},
              {"args", ArgsJson(c.Args)}, {"phase", static_cast<int>(c.Phase)}, {"result", c.Result},
              {"errno", c.Errno},  {"note", Hex(c.Note.Key)}, {"note_args", NoteArgs(c.Note)},
              {"t0", ToAbsolute(c.TStart)},
              {"t1", c.TEnd > 0 ? ToAbsolute(c.TEnd) : 0.0}, {"closed", c.Closed},
              {"data", Hex(c.Data)}, {"pid", c.Pid}, {"tid", c.Tid}};
    if (c.NewFd)
        j["new_fd"] = FdJson(*c.NewFd);
    if (c.Local)
        j["local"] = c.Local->ToString();
    if (c.Remote)
        j["remote"] = c.Remote->ToString();
    if (!c.Gate.empty())
        j["gate"] = c.Gate;
    if (c.Traced)
        j["traced"] = true;
    return j;
}

json LaneJson(const LaneEvent& e, double origin)
{
    json inherited = json::array();
    for (const auto& f : e.Inherited)
        inherited.push_back(FdJson(f));
    return {{"life", static_cast<int>(e.Kind)},   {"type", static_cast<int>(e.Type)},
            {"id", e.Id},                         {"actor", e.Actor},
            {"kind", e.ActorKind},                {"pid", e.Pid},
            {"tid", e.Tid},                       {"parent", e.Parent},
            {"inherited", std::move(inherited)}, {"status", e.Status},
            {"signal", e.Signal},                 {"note", Hex(e.Note.Key)},
            {"note_args", NoteArgs(e.Note)},      {"t", e.T + origin},
            {"traced", e.Traced}};
}

std::optional<LaneEvent> LaneFromJson(const json& j, double origin)
{
    LaneEvent e;
    int kind = j.at("life").get<int>();
    int type = j.at("type").get<int>();
    if (kind < 0 || kind > static_cast<int>(LaneEventKind::Reaped) || type < 0 ||
        type > static_cast<int>(LaneType::Process))
        return std::nullopt;
    e.Kind = static_cast<LaneEventKind>(kind);
    e.Type = static_cast<LaneType>(type);
    e.Id = j.at("id").get<std::uint64_t>();
    e.Actor = j.at("actor").get<std::string>();
    e.ActorKind = j.at("kind").get<std::string>();
    e.Pid = j.at("pid").get<int>();
    e.Tid = j.at("tid").get<int>();
    e.Parent = j.at("parent").get<std::string>();
    for (const auto& f : j.at("inherited"))
        e.Inherited.push_back(FdFromJson(f));
    e.Status = j.at("status").get<int>();
    e.Signal = j.at("signal").get<int>();
    e.Note.Key = Unhex(j.at("note").get<std::string>());
    for (const auto& arg : j.at("note_args"))
        e.Note.Args.push_back(Unhex(arg.get<std::string>()));
    e.T = j.at("t").get<double>() - origin;
    e.Traced = j.value("traced", false);
    return e;
}

std::optional<CallEvent> CallFromJson(const json& j, double origin)
{
    auto FromAbsolute = [origin](double t) { return t - origin; };
    CallEvent c;
    c.Id = j.at("id").get<std::uint64_t>();
    c.Actor = j.at("actor").get<std::string>();
    c.ActorKind = j.at("kind").get<std::string>();
    auto call = CallFromName(j.at("call").get<std::string>());
    if (!call)
        return std::nullopt;
    c.Call = *call;
    c.Handle = j.at("handle").get<std::string>();
    c.Fd = j.at("fd").get<int>();
    c.Args = ArgsFromJson(j.at("args"));
    int phase = j.at("phase").get<int>();
    if (phase < 0 || phase > static_cast<int>(CallPhase::Finished))
        return std::nullopt;
    c.Phase = static_cast<CallPhase>(phase);
    c.Result = j.at("result").get<long>();
    c.Errno = j.at("errno").get<int>();
    c.Note.Key = Unhex(j.at("note").get<std::string>());
    for (const auto& arg : j.at("note_args"))
        c.Note.Args.push_back(Unhex(arg.get<std::string>()));
    c.TStart = FromAbsolute(j.at("t0").get<double>());
    double t1 = j.at("t1").get<double>();
    c.TEnd = t1 > 0 ? FromAbsolute(t1) : 0.0;
    c.Closed = j.at("closed").get<bool>();
    c.Data = Unhex(j.at("data").get<std::string>());
    c.Pid = j.at("pid").get<int>();
    c.Tid = j.at("tid").get<int>();
    if (j.contains("new_fd"))
        c.NewFd = FdFromJson(j["new_fd"]);
    if (j.contains("local"))
        c.Local = Endpoint::Parse(j["local"].get<std::string>());
    if (j.contains("remote"))
        c.Remote = Endpoint::Parse(j["remote"].get<std::string>());
    c.Gate = j.value("gate", std::string());
    c.Traced = j.value("traced", false);
    return c;
}

} // namespace

nlohmann::json EventToJson(const LaneReport& event, bool absolute_times)
{
    if (const auto* life = std::get_if<LaneEvent>(&event))
        return LaneJson(*life, Origin(absolute_times));
    return CallJson(std::get<CallEvent>(event), Origin(absolute_times));
}

std::optional<LaneReport> EventFromJson(const nlohmann::json& j, bool absolute_times)
{
    try {
        if (!j.is_object())
            return std::nullopt;
        if (j.contains("life")) {
            if (auto life = LaneFromJson(j, Origin(absolute_times)))
                return LaneReport(std::move(*life));
            return std::nullopt;
        }
        if (auto call = CallFromJson(j, Origin(absolute_times)))
            return LaneReport(std::move(*call));
        return std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string EncodeEvent(const LaneReport& event)
{
    return EventToJson(event, true).dump();
}

std::optional<LaneReport> DecodeEvent(const std::string& line)
{
    try {
        return EventFromJson(json::parse(line), true);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

int RunWorker(int argc, char** argv)
{
    // sockscope --worker echo --report-fd R --listen-fd L --listen-handle H
    //           --conn-fd C --conn-handle H --parent NAME --len N
    std::map<std::string, std::string> args;
    for (int i = 3; i + 1 < argc; i += 2)
        args[argv[i]] = argv[i + 1];
    auto number = [&](const char* key) { return args.count(key) ? std::atoi(args[key].c_str()) : -1; };
    int report = number("--report-fd");
    int listen_fd = number("--listen-fd");
    int conn = number("--conn-fd");
    int len = number("--len");
    if (argc < 3 || std::string(argv[2]) != "echo" || report < 0 || conn < 0) {
        std::fprintf(stderr, "sockscope --worker: used by sockscope's fork server only\n");
        return 2;
    }
    // Die with the lab: a reset or a crash of sockscope must not leave servers behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        return 1;
    std::uint64_t next_id = 1;
    Lane lane(
        "child " + std::to_string(getpid()), "server",
        [report](const LaneReport& event) {
            std::string line = EncodeEvent(event) + "\n";
            std::size_t off = 0;
            while (off < line.size()) {
                long n = write(report, line.data() + off, line.size() - off);
                if (n <= 0 && errno != EINTR)
                    return; // sockscope is gone: nobody to tell
                if (n > 0)
                    off += static_cast<std::size_t>(n);
            }
        },
        [&next_id] { return next_id++; });
    std::vector<FdInfo> inherited;
    if (listen_fd >= 0)
        inherited.push_back(DescribeFd(args["--listen-handle"], listen_fd));
    inherited.push_back(DescribeFd(args["--conn-handle"], conn));
    lane.Life(LaneEventKind::Forked, LaneType::Process, Say(PhraseId::ForkInChild), args["--parent"],
              std::move(inherited));
    if (listen_fd >= 0)
        lane.Close(listen_fd, args["--listen-handle"]); // the child never accepts
    ServeEcho(lane, conn, args["--conn-handle"], len, -1);
    lane.Life(LaneEventKind::Exiting, LaneType::Process, Say(PhraseId::ChildEnds)); // exit() does not return
    return 0;
}

} // namespace sockscope
