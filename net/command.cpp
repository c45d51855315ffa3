#include "command.hpp"

#include "calls.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sockscope {

namespace {

using nlohmann::json;

struct Word {
    std::string Text;  // unquoted, escapes decoded
    std::string Name;  // NAME of NAME=VALUE (then Text is the value), else ""
    std::size_t At = 0;
};

int HexDigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

bool IsName(std::string_view s)
{
    return !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_') &&
           std::all_of(s.begin(), s.end(), IsNameChar);
}

// Split a line into words: blanks separate them, "..." may hold blanks and C escapes, '#'
// outside quotes starts a comment. Throws a one-line message.
std::vector<Word> Split(std::string_view line)
{
    std::vector<Word> words;
    std::size_t i = 0;
    while (true) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
            ++i;
        if (i >= line.size() || line[i] == '#')
            return words;
        Word w;
        w.At = i;
        bool name_done = false;
        while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) {
            char c = line[i];
            if (c == '=' && !name_done && IsName(w.Text)) {
                w.Name = w.Text;
                w.Text.clear();
                name_done = true;
                ++i;
                continue;
            }
            if (c != '"') {
                w.Text += c;
                ++i;
                continue;
            }
            name_done = true;
            std::size_t open = i++;
            while (true) {
                if (i >= line.size())
                    throw std::string("column " + std::to_string(open + 1) +
                                      ": expected a closing '\"' for the quote that opens here");
                char q = line[i++];
                if (q == '"')
                    break;
                if (q != '\\') {
                    w.Text += q;
                    continue;
                }
                if (i >= line.size())
                    throw std::string("column " + std::to_string(i) + ": expected an escape after '\\'");
                char e = line[i++];
                switch (e) {
                case 'n': w.Text += '\n'; break;
                case 't': w.Text += '\t'; break;
                case 'r': w.Text += '\r'; break;
                case '0': w.Text += '\0'; break;
                case '\\': w.Text += '\\'; break;
                case '"': w.Text += '"'; break;
                case 'x': {
                    int hi = i < line.size() ? HexDigit(line[i]) : -1;
                    int lo = i + 1 < line.size() ? HexDigit(line[i + 1]) : -1;
                    if (hi < 0 || lo < 0)
                        throw std::string("column " + std::to_string(i - 1) +
                                          ": expected two hex digits after \\x, as in \\x0a");
                    w.Text += static_cast<char>(hi * 16 + lo);
                    i += 2;
                    break;
                }
                default:
                    throw std::string("column " + std::to_string(i - 1) + ": unknown escape '\\" +
                                      std::string(1, e) + "' (expected \\n, \\t, \\r, \\0, \\\\, \\\" or \\xNN)");
                }
            }
        }
        words.push_back(std::move(w));
    }
}

std::string Join(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::vector<std::string> PlaygroundCalls()
{
    std::vector<std::string> names;
    for (const CallRow& row : AllCalls())
        if (row.Has(FromLessons))
            names.emplace_back(row.Name);
    names.emplace_back("hold");
    names.emplace_back("release");
    return names;
}

std::vector<std::string> ActorNames(const ActorKinds& actors)
{
    std::vector<std::string> names;
    for (const auto& [name, kind] : actors)
        names.push_back(name);
    return names;
}

// The parameters a value without a name fills, in order: all but the descriptor, which
// is named (fd=conn2) or left to the playground's default.
std::vector<const ParamSpec*> Positional(const CallRow& row)
{
    std::vector<const ParamSpec*> params;
    for (const ParamSpec& p : row.Params)
        if (p.Kind != ParamKind::Descriptor)
            params.push_back(&p);
    return params;
}

std::string FieldList(const CallRow& row)
{
    std::vector<std::string> names;
    for (const ParamSpec& p : row.Params)
        names.emplace_back(p.Field);
    return names.empty() ? "none" : Join(names);
}

// A typed word as the JSON value a lesson file would hold for the parameter.
json ValueFor(const ParamSpec& p, const std::string& text)
{
    switch (p.Kind) {
    case ParamKind::Port:
        if (text == "$port")
            return text;
        [[fallthrough]];
    case ParamKind::Int:
    case ParamKind::Length: {
        long long n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || end != text.data() + text.size())
            throw std::string(p.Field) + ": expected a whole number" +
                (p.Kind == ParamKind::Port ? " from 0 to 65535 or $port" : "") + ", found \"" + text + "\"";
        return n;
    }
    case ParamKind::Bool:
        if (text == "true" || text == "1" || text == "yes")
            return true;
        if (text == "false" || text == "0" || text == "no")
            return false;
        throw std::string(p.Field) + ": expected true or false, found \"" + text + "\"";
    default: return text;
    }
}

} // namespace

bool IsLessonFileName(std::string_view name)
{
    return !name.empty() && name.size() <= 64 && name.front() != '-' &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
           });
}

std::string KindForNewActor(std::string_view name) { return name.starts_with("server") ? "server" : "client"; }

std::optional<Command> ParseCommand(std::string_view line, const ActorKinds& actors, std::string& error)
{
    try {
        std::vector<Word> words = Split(line);
        Command cmd;
        if (words.empty())
            return cmd;
        const Word& first = words[0];
        if (!first.Name.empty())
            throw std::string("expected an actor, \"step\", \"actor\" or \"save\" first, found \"" + first.Name + "=\"");
        if (first.Text == "step") {
            cmd.Kind = CommandKind::Step;
            std::size_t after = first.At + 4;
            std::string title(line.substr(std::min(after, line.size())));
            title.erase(0, title.find_first_not_of(" \t"));
            title.erase(title.find_last_not_of(" \t\r\n") + 1);
            cmd.Title = title;
            return cmd;
        }
        if (first.Text == "save") {
            if (words.size() != 2 || !words[1].Name.empty() || !IsLessonFileName(words[1].Text))
                throw std::string("expected \"save NAME\": a lesson name of letters, digits, '-' and '_'");
            cmd.Kind = CommandKind::Save;
            cmd.Title = words[1].Text;
            return cmd;
        }
        if (first.Text == "actor") {
            if (words.size() != 3 || (words[2].Text != "server" && words[2].Text != "client") || !IsName(words[1].Text))
                throw std::string("expected \"actor NAME server\" or \"actor NAME client\"");
            auto known = actors.find(words[1].Text);
            if (known != actors.end() && known->second != words[2].Text)
                throw std::string("the actor '" + words[1].Text + "' is a " + known->second + " already");
            cmd.Kind = CommandKind::DeclareActor;
            cmd.Actor = words[1].Text;
            cmd.ActorKind = words[2].Text;
            cmd.NewActor = known == actors.end();
            return cmd;
        }
        const std::vector<std::string> calls = PlaygroundCalls();
        if (!IsName(first.Text) || CallFromName(first.Text) || first.Text == "hold" || first.Text == "release") {
            std::string known = actors.empty() ? "none yet: a new name makes one" : Join(ActorNames(actors));
            throw std::string("expected an actor (" + known + "), \"step\", \"actor\" or \"save\" first, found \"" +
                              first.Text + "\"");
        }
        cmd.Kind = CommandKind::Call;
        cmd.Actor = first.Text;
        auto known = actors.find(cmd.Actor);
        cmd.NewActor = known == actors.end();
        cmd.ActorKind = cmd.NewActor ? KindForNewActor(cmd.Actor) : known->second;
        if (words.size() < 2)
            throw std::string("expected a call after '" + cmd.Actor + "': " + Join(calls));
        std::string name = words[1].Text;
        std::vector<Word> args(words.begin() + 2, words.end());
        if (!words[1].Name.empty())
            name.clear();
        if (name == "hold") {
            name = "gate";
            if (!args.empty() && args[0].Name.empty())
                args[0].Name = "hold";
        } else if (name == "release") {
            name = "ungate";
        }
        auto id = CallFromName(name);
        if (name.empty() || !id || !RowOf(*id).Has(FromLessons))
            throw std::string("unknown call '" + (name.empty() ? words[1].Name + "=" : words[1].Text) +
                              "' (expected one of: " + Join(calls) + ")");
        const CallRow& row = RowOf(*id);
        json fields = json::object();
        fields["actor"] = cmd.Actor;
        fields["call"] = std::string(row.Name);
        std::vector<const ParamSpec*> positional = Positional(row);
        std::size_t next = 0;
        for (const Word& w : args) {
            const ParamSpec* p = nullptr;
            if (!w.Name.empty()) {
                p = row.Param(w.Name);
                if (!p)
                    throw std::string("unknown parameter '" + w.Name + "' for " + std::string(row.Name) +
                                      " (expected one of: " + FieldList(row) + ")");
            } else {
                while (next < positional.size() && fields.contains(std::string(positional[next]->Field)))
                    ++next;
                if (next >= positional.size())
                    throw std::string("too many values for " + std::string(row.Name) + ": \"" + w.Text +
                                      "\" (it takes: " + FieldList(row) + ")");
                p = positional[next++];
            }
            std::string field(p->Field);
            if (fields.contains(field))
                throw std::string(field + " is given twice");
            fields[field] = ValueFor(*p, w.Text);
        }
        // The playground's port unless told otherwise (connect, bind, sendto).
        for (const ParamSpec& p : row.Params)
            if (p.Kind == ParamKind::Port && p.Default == "$port" && !fields.contains(std::string(p.Field)))
                fields[std::string(p.Field)] = "$port";
        std::string why;
        auto call = ParseLessonCall(fields, cmd.ActorKind, why);
        if (!call)
            throw why;
        cmd.Call = std::move(*call);
        cmd.Fields = std::move(fields);
        return cmd;
    } catch (const std::string& what) {
        error = what;
        return std::nullopt;
    }
}

std::vector<std::string> CompleteCommand(std::string_view typed, const ActorKinds& actors)
{
    // The words before the last one, and the start of the last one.
    std::size_t last = typed.find_last_of(" \t");
    std::string_view head = last == std::string_view::npos ? std::string_view() : typed.substr(0, last + 1);
    std::string_view part = last == std::string_view::npos ? typed : typed.substr(last + 1);
    std::vector<Word> words;
    try {
        words = Split(head);
    } catch (const std::string&) {
        return {}; // inside a quote: nothing to offer
    }
    std::vector<std::string> offers;
    std::string prefix(part);
    if (words.empty()) {
        offers = ActorNames(actors);
        offers.insert(offers.end(), {"step", "actor", "save"});
    } else if (words[0].Text == "step" || words[0].Text == "save") {
        return {};
    } else if (words[0].Text == "actor") {
        if (words.size() == 2)
            offers = {"server", "client"};
    } else if (words.size() == 1) {
        offers = PlaygroundCalls();
    } else {
        std::string name = words[1].Text;
        bool hold = name == "hold";
        if (hold)
            name = "gate";
        else if (name == "release")
            name = "ungate";
        auto id = CallFromName(name);
        if (!id || !RowOf(*id).Has(FromLessons))
            return {};
        const CallRow& row = RowOf(*id);
        std::vector<std::string> given;
        std::size_t positional_used = 0;
        for (std::size_t i = 2; i < words.size(); ++i) {
            if (!words[i].Name.empty())
                given.push_back(words[i].Name);
            else
                ++positional_used;
        }
        if (hold && words.size() == 2)
            given.emplace_back("hold");
        auto allowed_of = [](const ParamSpec& p) {
            std::vector<std::string> values(p.Allowed.begin(), p.Allowed.end());
            if (p.Kind == ParamKind::Bool)
                values = {"true", "false"};
            if (p.Kind == ParamKind::Port)
                values = {"$port"};
            return values;
        };
        if (auto eq = part.find('='); eq != std::string_view::npos) {
            // NAME=partial: the values NAME allows.
            const ParamSpec* p = row.Param(part.substr(0, eq));
            if (!p)
                return {};
            std::string name_eq(part.substr(0, eq + 1));
            for (const auto& v : allowed_of(*p))
                offers.push_back(name_eq + v);
        } else {
            // The next positional parameter's values, and every parameter not given yet.
            std::vector<const ParamSpec*> positional = Positional(row);
            if (hold && words.size() == 2)
                for (const auto& v : allowed_of(*row.Param("hold")))
                    offers.push_back(v);
            else if (positional_used < positional.size() &&
                     std::find(given.begin(), given.end(), positional[positional_used]->Field) == given.end())
                for (const auto& v : allowed_of(*positional[positional_used]))
                    offers.push_back(v);
            for (const ParamSpec& p : row.Params)
                if (std::find(given.begin(), given.end(), p.Field) == given.end())
                    offers.push_back(std::string(p.Field) + "=");
        }
    }
    std::vector<std::string> out;
    for (const auto& o : offers)
        if (o.starts_with(prefix))
            out.push_back(std::string(head) + o);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string CommonPrefix(const std::vector<std::string>& completions, std::string_view typed)
{
    if (completions.empty())
        return std::string(typed);
    std::string common = completions[0];
    for (const auto& c : completions) {
        std::size_t n = 0;
        while (n < common.size() && n < c.size() && common[n] == c[n])
            ++n;
        common.resize(n);
    }
    return common.size() < typed.size() ? std::string(typed) : common;
}

} // namespace sockscope
