#include "lesson.hpp"

#include "gate.hpp"
#include "json_positions.hpp"
#include "kernel_types.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace sockscope {

namespace {

using nlohmann::json;

// Where nlohmann's parser stops in a text: the start of the token it stopped at. json::parse
// reports a number too large for a double ("1e999") as out_of_range, which carries no
// position; parsing again with this SAX handler, which builds nothing, finds it.
struct ParseStop {
    std::size_t At = 0;
    bool null() { return true; }
    bool boolean(bool) { return true; }
    bool number_integer(json::number_integer_t) { return true; }
    bool number_unsigned(json::number_unsigned_t) { return true; }
    bool number_float(json::number_float_t, const json::string_t&) { return true; }
    bool string(json::string_t&) { return true; }
    bool binary(json::binary_t&) { return true; }
    bool start_object(std::size_t) { return true; }
    bool key(json::string_t&) { return true; }
    bool end_object() { return true; }
    bool start_array(std::size_t) { return true; }
    bool end_array() { return true; }
    bool parse_error(std::size_t at, const std::string& token, const json::exception&)
    {
        At = at >= token.size() ? at - token.size() : 0;
        return false;
    }
};

// A semantic error in a lesson file: where (a path like "steps[2].calls[0].port") and what.
struct LessonError {
    std::string Where;
    std::string What;
};

const std::set<std::string>& KnownCalls()
{
    static const std::set<std::string> calls = {
        "socket", "setsockopt", "bind", "listen", "connect", "accept", "send", "write",
        "recv", "read", "shutdown", "close", "getsockname", "getpeername", "gate", "ungate", "await", "serve", "waitpid", "getaddrinfo"};
    return calls;
}

// Field readers: each throws LessonError naming the path and the expected type.
const json& Need(const json& obj, const char* key, const std::string& where)
{
    if (!obj.is_object())
        throw LessonError{where, "expected an object"};
    auto it = obj.find(key);
    if (it == obj.end())
        throw LessonError{where, std::string("missing the field '") + key + "'"};
    return *it;
}

std::string String(const json& v, const std::string& where)
{
    if (!v.is_string())
        throw LessonError{where, "expected a string, found " + std::string(v.type_name())};
    return v.get<std::string>();
}

int Int(const json& v, const std::string& where, int lo, int hi)
{
    if (!v.is_number_integer())
        throw LessonError{where, "expected a whole number, found " + std::string(v.type_name())};
    auto n = v.get<long long>();
    if (n < lo || n > hi)
        throw LessonError{where, "expected a number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                                     ", found " + std::to_string(n)};
    return static_cast<int>(n);
}

Text ReadText(const json& v, const std::string& where)
{
    if (v.is_string())
        return {v.get<std::string>(), {}};
    if (!v.is_object())
        throw LessonError{where, "expected {\"en\": \"...\", \"zh\": \"...\"}"};
    Text t;
    t.En = String(Need(v, "en", where), where + ".en");
    if (v.contains("zh"))
        t.Zh = String(v["zh"], where + ".zh");
    return t;
}

void CheckKeys(const json& obj, const std::string& where, std::initializer_list<const char*> allowed)
{
    if (!obj.is_object()) // key() throws on the iterators of an array or a number
        throw LessonError{where, "expected an object"};
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* k) { return it.key() == k; })) {
            std::string list;
            for (const char* k : allowed)
                list += std::string(list.empty() ? "" : ", ") + k;
            throw LessonError{where, "unknown field '" + it.key() + "' (expected one of: " + list + ")"};
        }
    }
}

LessonCall ReadCall(const json& v, const std::string& where, const std::set<std::string>& actors,
                    const std::map<std::string, std::string>& kinds)
{
    if (!v.is_object())
        throw LessonError{where, "expected an object describing a call"};
    CheckKeys(v, where, {"actor", "call", "fd", "as", "family", "addr", "port", "backlog", "option", "value",
                         "data", "len", "how", "nonblock", "expect", "code", "hold", "explain", "state", "async",
                         "model", "reap"});
    LessonCall c;
    CallRequest& r = c.Request;
    r.Actor = String(Need(v, "actor", where), where + ".actor");
    if (!actors.count(r.Actor))
        throw LessonError{where + ".actor", "unknown actor '" + r.Actor + "' (declare it in \"actors\")"};
    r.ActorKind = kinds.at(r.Actor);
    r.Call = String(Need(v, "call", where), where + ".call");
    if (!KnownCalls().count(r.Call))
        throw LessonError{where + ".call", "unknown call '" + r.Call + "'"};
    if (v.contains("fd")) r.Fd = String(v["fd"], where + ".fd");
    if (v.contains("as")) r.As = String(v["as"], where + ".as");
    if (v.contains("family")) {
        r.Family = String(v["family"], where + ".family");
        if (r.Family != "inet" && r.Family != "inet6" && !(r.Family == "unspec" && r.Call == "getaddrinfo"))
            throw LessonError{where + ".family", r.Call == "getaddrinfo" ? "expected \"inet\", \"inet6\" or \"unspec\""
                                                                       : "expected \"inet\" or \"inet6\""};
    }
    if (v.contains("addr")) r.Addr = String(v["addr"], where + ".addr");
    if (v.contains("port")) {
        const json& p = v["port"];
        if (p.is_string() && p.get<std::string>() == "$port")
            c.PortFromLab = true;
        else
            r.Port = Int(p, where + ".port", 0, 65535);
    }
    if (v.contains("backlog")) r.Backlog = Int(v["backlog"], where + ".backlog", -1000000, 1000000);
    if (v.contains("option")) r.Option = String(v["option"], where + ".option");
    if (v.contains("value")) r.Value = Int(v["value"], where + ".value", -1000000, 1000000);
    if (v.contains("data")) r.Data = String(v["data"], where + ".data");
    if (v.contains("len")) {
        // On send/write, "len" asks for that many generated bytes (up to 1 GiB) instead of "data".
        r.Generate = r.Call == "send" || r.Call == "write";
        if (r.Generate && v.contains("data"))
            throw LessonError{where + ".len", "a send takes \"data\" or \"len\" (generated bytes), not both"};
        r.Len = Int(v["len"], where + ".len", 0, r.Generate ? 1 << 30 : 1 << 20);
    }
    if (v.contains("how")) {
        r.How = String(v["how"], where + ".how");
        if (r.How != "SHUT_RD" && r.How != "SHUT_WR" && r.How != "SHUT_RDWR")
            throw LessonError{where + ".how", "expected SHUT_RD, SHUT_WR or SHUT_RDWR"};
    }
    if (v.contains("nonblock")) {
        if (!v["nonblock"].is_boolean())
            throw LessonError{where + ".nonblock", "expected true or false"};
        r.NonBlock = v["nonblock"].get<bool>();
    }
    if (v.contains("code")) c.Code = String(v["code"], where + ".code");
    if (v.contains("explain")) c.Explain = ReadText(v["explain"], where + ".explain");
    if (v.contains("hold")) {
        r.Option = String(v["hold"], where + ".hold");
        if (!GateKindFromName(r.Option))
            throw LessonError{where + ".hold", "expected \"syn\", \"handshake-ack\", \"fin\" or \"ack\""};
    }
    if (v.contains("state")) {
        r.Option = String(v["state"], where + ".state");
        if (!TcpStateFromName(r.Option))
            throw LessonError{where + ".state", "expected a TCP state name like \"CLOSING\""};
    }
    if (v.contains("model")) {
        r.Model = String(v["model"], where + ".model");
        if (r.Model != "iterative" && r.Model != "thread" && r.Model != "fork" && r.Model != "epoll")
            throw LessonError{where + ".model", "expected \"iterative\", \"thread\", \"fork\" or \"epoll\""};
    }
    if (v.contains("reap")) {
        r.Reap = String(v["reap"], where + ".reap");
        if (r.Reap != "sigchld" && r.Reap != "later")
            throw LessonError{where + ".reap", "expected \"sigchld\" (reap at once) or \"later\" (keep the zombies)"};
    }
    if (r.Call == "serve" && !v.contains("model"))
        throw LessonError{where, "a serve call needs \"model\": iterative, thread, fork or epoll"};
    if (r.Call == "await" && r.Option.empty())
        throw LessonError{where, "an await call needs \"state\": the TCP state to wait for"};
    if (v.contains("async")) {
        if (!v["async"].is_boolean())
            throw LessonError{where + ".async", "expected true or false"};
        c.Async = v["async"].get<bool>();
    }
    if (r.Call == "gate" && r.Option.empty())
        throw LessonError{where, "a gate call needs \"hold\": the segments to hold"};
    if (v.contains("expect")) {
        const json& e = v["expect"];
        std::string at = where + ".expect";
        if (e.is_number_integer()) {
            c.ExpectResult = e.get<long>();
        } else if (e.is_string()) {
            std::string s = e.get<std::string>();
            if (s == "fd")
                c.ExpectFd = true;
            else if (s == "blocks")
                c.Blocks = true;
            else if (s == "ok")
                c.ExpectErrno = "";
            else if (ErrnoFromName(s) != 0)
                c.ExpectErrno = s;
            else
                throw LessonError{at, "expected a number, \"fd\", \"ok\", \"blocks\" or an errno name like "
                                      "\"EADDRINUSE\"; found \"" + s + "\""};
        } else {
            throw LessonError{at, "expected a number or a string"};
        }
    }
    return c;
}

Check ReadCheck(const json& v, const std::string& where)
{
    if (!v.is_object())
        throw LessonError{where, "expected an object like {\"sockets\": {...}, \"count\": 3}"};
    CheckKeys(v, where, {"sockets", "listeners", "kernel", "lanes", "count", "says"});
    Check c;
    for (const char* what : {"sockets", "listeners", "kernel", "lanes"}) {
        if (v.contains(what)) {
            if (!c.What.empty())
                throw LessonError{where, "a check names one of \"sockets\", \"listeners\", \"lanes\" or \"kernel\""};
            c.What = what;
            c.Match = v[what];
            if (!c.Match.is_object())
                throw LessonError{where + "." + what, "expected an object of fields to match"};
        }
    }
    if (c.What.empty())
        throw LessonError{where, "missing \"sockets\", \"listeners\", \"lanes\" or \"kernel\""};
    if (v.contains("count") && v["count"].is_string()) {
        c.CountRule = v["count"].get<std::string>();
        if (!NumericRule(c.CountRule))
            throw LessonError{where + ".count", "expected a number or a comparison like \">=4\""};
    } else {
        c.Count = v.contains("count") ? Int(v["count"], where + ".count", 0, 1000000) : 1;
    }
    if (v.contains("says"))
        c.Says = ReadText(v["says"], where + ".says");
    return c;
}

Lesson ReadLesson(const json& root)
{
    if (!root.is_object())
        throw LessonError{"(top level)", "expected an object"};
    CheckKeys(root, "(top level)", {"name", "title", "summary", "actors", "steps"});
    Lesson lesson;
    lesson.Name = String(Need(root, "name", "(top level)"), "name");
    lesson.Title = ReadText(Need(root, "title", "(top level)"), "title");
    if (root.contains("summary"))
        lesson.Summary = ReadText(root["summary"], "summary");

    const json& actors = Need(root, "actors", "(top level)");
    if (!actors.is_array() || actors.empty())
        throw LessonError{"actors", "expected a non-empty array of {\"name\": ..., \"kind\": ...}"};
    std::set<std::string> names;
    std::map<std::string, std::string> kinds;
    for (std::size_t i = 0; i < actors.size(); ++i) {
        std::string at = "actors[" + std::to_string(i) + "]";
        CheckKeys(actors[i], at, {"name", "kind"});
        ActorDecl a;
        a.Name = String(Need(actors[i], "name", at), at + ".name");
        a.Kind = String(Need(actors[i], "kind", at), at + ".kind");
        if (a.Kind != "server" && a.Kind != "client")
            throw LessonError{at + ".kind", "expected \"server\" or \"client\""};
        if (!names.insert(a.Name).second)
            throw LessonError{at + ".name", "the actor '" + a.Name + "' is declared twice"};
        kinds[a.Name] = a.Kind;
        lesson.Actors.push_back(a);
    }

    const json& steps = Need(root, "steps", "(top level)");
    if (!steps.is_array() || steps.empty())
        throw LessonError{"steps", "expected a non-empty array of steps"};
    for (std::size_t i = 0; i < steps.size(); ++i) {
        std::string at = "steps[" + std::to_string(i) + "]";
        const json& s = steps[i];
        if (!s.is_object())
            throw LessonError{at, "expected an object"};
        CheckKeys(s, at, {"title", "narration", "calls", "expect", "timeout", "retry"});
        LessonStep step;
        step.Title = ReadText(Need(s, "title", at), at + ".title");
        if (s.contains("timeout"))
            step.Timeout = Int(s["timeout"], at + ".timeout", 1, 600);
        if (s.contains("retry")) {
            const json& r = s["retry"];
            if (!r.is_object())
                throw LessonError{at + ".retry", "expected an object {\"attempts\": N, \"why\": {\"en\": ..., \"zh\": ...}}"};
            CheckKeys(r, at + ".retry", {"attempts", "why"});
            step.RetryAttempts = Int(Need(r, "attempts", at + ".retry"), at + ".retry.attempts", 2, 20);
            step.RetryWhy = ReadText(Need(r, "why", at + ".retry"), at + ".retry.why");
        }
        if (s.contains("narration"))
            step.Narration = ReadText(s["narration"], at + ".narration");
        if (s.contains("calls")) {
            if (!s["calls"].is_array())
                throw LessonError{at + ".calls", "expected an array"};
            for (std::size_t j = 0; j < s["calls"].size(); ++j)
                step.Calls.push_back(
                    ReadCall(s["calls"][j], at + ".calls[" + std::to_string(j) + "]", names, kinds));
        }
        if (s.contains("expect")) {
            if (!s["expect"].is_array())
                throw LessonError{at + ".expect", "expected an array"};
            for (std::size_t j = 0; j < s["expect"].size(); ++j)
                step.Expect.push_back(ReadCheck(s["expect"][j], at + ".expect[" + std::to_string(j) + "]"));
        }
        lesson.Steps.push_back(std::move(step));
    }
    return lesson;
}

} // namespace

std::function<bool(double)> NumericRule(std::string_view rule)
{
    std::size_t op_len = rule.starts_with(">=") || rule.starts_with("<=") ? 2
                         : rule.starts_with(">") || rule.starts_with("<") ? 1
                                                                          : 0;
    if (op_len == 0 || rule.size() == op_len)
        return {};
    std::string number(rule.substr(op_len));
    char* end = nullptr;
    double n = std::strtod(number.c_str(), &end);
    if (*end != '\0')
        return {};
    std::string op(rule.substr(0, op_len));
    return [op, n](double v) { return op == ">=" ? v >= n : op == "<=" ? v <= n : op == ">" ? v > n : v < n; };
}

std::optional<Lesson> ParseLesson(const std::string& text, const std::string& path, std::string& error)
{
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        // e.byte is one past the offending character.
        std::size_t at = e.byte > 0 ? e.byte - 1 : 0;
        std::string what = e.what();
        if (auto pos = what.find("syntax error"); pos != std::string::npos)
            what = what.substr(pos);
        error = path + ":" + LineColumn(text, at) + ": not valid JSON: " + what;
        return std::nullopt;
    } catch (const json::exception& e) {
        // Not a parse_error: a number out of a double's range.
        ParseStop stop;
        json::sax_parse(text, &stop);
        std::string what = e.what();
        if (auto pos = what.find("] "); pos != std::string::npos)
            what = what.substr(pos + 2);
        error = path + ":" + LineColumn(text, stop.At) + ": not valid JSON: " + what;
        return std::nullopt;
    }
    try {
        Lesson lesson = ReadLesson(root);
        lesson.Path = path;
        return lesson;
    } catch (const LessonError& e) {
        // The path of the faulty value, and where it stands in the file.
        std::string where = e.Where == "(top level)" ? "" : e.Where;
        std::size_t offset = OffsetOf(JsonValueOffsets(text), where);
        error = path + ":" + LineColumn(text, offset) + ": " + e.Where + ": " + e.What;
        return std::nullopt;
    }
}

std::optional<Lesson> LoadLessonFile(const std::string& path, std::string& error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open the file";
        return std::nullopt;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return ParseLesson(buffer.str(), path, error);
}

std::vector<std::string> LessonDirs(const std::string& first)
{
    std::vector<std::string> dirs;
    if (!first.empty())
        dirs.push_back(first);
    // Next to the executable (an installed or relocated copy), then the source tree.
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        dirs.push_back((exe.parent_path() / "../share/sockscope/lessons").lexically_normal().string());
        dirs.push_back((exe.parent_path() / "assets/lessons").string());
    }
#ifdef SOCKSCOPE_SOURCE_LESSONS
    dirs.emplace_back(SOCKSCOPE_SOURCE_LESSONS);
#endif
#ifdef SOCKSCOPE_INSTALL_LESSONS
    dirs.emplace_back(SOCKSCOPE_INSTALL_LESSONS);
#endif
    return dirs;
}

std::vector<Lesson> LoadAllLessons(std::vector<std::string>* invalid, const std::vector<std::string>& dirs)
{
    std::map<std::string, Lesson> found;
    std::set<std::string> seen;
    for (const auto& dir : dirs) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().extension() != ".json")
                continue;
            std::string name = entry.path().stem().string();
            if (!seen.insert(name).second)
                continue;
            std::string error;
            if (auto lesson = LoadLessonFile(entry.path().string(), error))
                found.emplace(name, std::move(*lesson));
            else if (invalid)
                invalid->push_back(error);
        }
    }
    std::vector<Lesson> lessons;
    for (auto& [name, lesson] : found)
        lessons.push_back(std::move(lesson));
    return lessons;
}

std::vector<std::string> ListLessons(std::vector<std::string>* invalid, const std::vector<std::string>& dirs)
{
    std::vector<std::string> names;
    for (const auto& lesson : LoadAllLessons(invalid, dirs))
        names.push_back(std::filesystem::path(lesson.Path).stem().string());
    return names;
}

std::optional<Lesson> FindLesson(const std::string& name, std::string& error, const std::vector<std::string>& dirs)
{
    if (name.find('/') != std::string::npos || name.ends_with(".json"))
        return LoadLessonFile(name, error);
    for (const auto& dir : dirs) {
        auto path = std::filesystem::path(dir) / (name + ".json");
        std::error_code ec;
        if (std::filesystem::exists(path, ec))
            return LoadLessonFile(path.string(), error);
    }
    std::string known;
    for (const auto& n : ListLessons(nullptr, dirs))
        known += (known.empty() ? "" : ", ") + n;
    error = "unknown lesson '" + name + "' (known lessons: " + (known.empty() ? "none found" : known) + ")";
    return std::nullopt;
}

} // namespace sockscope
