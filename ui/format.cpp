#include "format.hpp"

#include "i18n.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace sockscope {

std::string Format(const char* format, ...)
{
    va_list args;
    va_start(args, format);
    va_list copy;
    va_copy(copy, args);
    int size = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    std::string out(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
    if (size > 0)
        std::vsnprintf(out.data(), out.size() + 1, format, args);
    va_end(args);
    return out;
}

// --- accept queue ---------------------------------------------------------------------

int AcceptQueuePlaces(std::uint32_t backlog)
{
    return static_cast<int>(backlog) + 1;
}

std::string PlacesCaption(std::uint32_t backlog, Lang lang)
{
    return Format(Tr(lang, "limit from the kernel: backlog %u → %d places"), backlog,
                  AcceptQueuePlaces(backlog));
}

bool BelongsTo(const SocketView& socket, const ListenerView& listener)
{
    return socket.InKernel && socket.Role == SocketRole::Server && socket.K.Local.Port == listener.Local.Port;
}

// --- socket table ---------------------------------------------------------------------

std::string FdLabel(const SocketView& socket, Lang lang)
{
    if (socket.Fd) {
        std::string label = "fd " + std::to_string(*socket.Fd);
        if (!socket.Actor.empty())
            label += " \xc2\xb7 " + socket.Actor;
        return label;
    }
    if (socket.NoFdYet())
        return Tr(lang, "no fd yet");
    if (!socket.InKernel)
        return Tr(lang, "closed");
    if (socket.External && socket.Role == SocketRole::Client)
        return Tr(lang, "other process");
    return Tr(lang, "no fd (closed)");
}

std::string OwnerLabel(const SocketView& socket, const World* world)
{
    if (socket.External)
        return "external";
    const ActorView* holder = world && socket.Fd ? world->FindActor(socket.Actor) : nullptr;
    bool traced = holder && (!holder->Calls.empty() ? holder->Calls.back().Traced
                                                    : !holder->Life.empty() && holder->Life.back().Traced);
    return traced ? "traced" : "lab";
}

std::string CookieLabel(std::uint64_t cookie)
{
    if (cookie == 0)
        return "-";
    return Format("0x%llx", static_cast<unsigned long long>(cookie));
}

std::string EndpointLabel(const Endpoint& endpoint)
{
    if (endpoint.Family == 0)
        return "-";
    // As ss prints it: a listener's remote end is "0.0.0.0:*".
    std::string text = endpoint.ToString();
    if (endpoint.Port == 0 && text.size() >= 2 && text.compare(text.size() - 2, 2, ":0") == 0)
        text.replace(text.size() - 1, 1, "*");
    return text;
}

// --- ladder ---------------------------------------------------------------------------

CallLook LookOf(const CallEvent& call)
{
    switch (call.Phase) {
    case CallPhase::Queued: return CallLook::Queued;
    case CallPhase::Started: return CallLook::Running;
    case CallPhase::Blocked: return CallLook::Blocked;
    case CallPhase::Finished: break;
    }
    return call.Errno != 0 || call.Result < 0 ? CallLook::Failed : CallLook::Done;
}

std::string CallLabel(const CallEvent& call)
{
    return FormatCall(call);
}

std::string CallResultLabel(const CallEvent& call, double now, Lang lang)
{
    switch (LookOf(call)) {
    case CallLook::Done: return Format("= %ld", call.Result);
    case CallLook::Failed: {
        std::string name = ErrnoName(call.Errno);
        return Format("= %ld %s", call.Result, name.empty() ? "" : name.c_str());
    }
    case CallLook::Blocked: {
        int seconds = static_cast<int>(std::floor(std::max(0.0, now - call.TStart)));
        return Format(Tr(lang, "blocked in %s() for %d s"), std::string(CallFunctionName(call.Call)).c_str(), seconds);
    }
    case CallLook::Running: return Tr(lang, "in the kernel");
    case CallLook::Queued: return Tr(lang, "queued");
    case CallLook::Next: break;
    }
    return "";
}

CallLook LookOf(const LaneEvent& event)
{
    return event.Kind == LaneEventKind::Exiting ? CallLook::Blocked : CallLook::Done;
}

std::string LaneEventResultLabel(const LaneEvent& event, Lang lang)
{
    if (LookOf(event) == CallLook::Blocked)
        return Tr(lang, "exited: a zombie until waitpid()");
    return "= 0";
}

std::string RequestLabel(const LessonCall& call, int port)
{
    return FormatRequest(call.Request, call.PortFromLab, port);
}

std::vector<PendingCall> PendingCalls(const LessonView& lesson)
{
    std::vector<PendingCall> out;
    if (!lesson.Data)
        return out;
    const auto& steps = lesson.Data->Steps;
    int step = lesson.Busy ? lesson.StepIndex : lesson.StepIndex + 1;
    int first = lesson.Busy ? lesson.CallIndex + 1 : 0;
    if (step < 0 || step >= static_cast<int>(steps.size()))
        return out;
    const auto& calls = steps[step].Calls;
    for (int i = std::max(first, 0); i < static_cast<int>(calls.size()); ++i) {
        PendingCall p;
        p.Actor = calls[i].Request.Actor;
        p.Label = RequestLabel(calls[i], lesson.Port);
        p.Code = calls[i].Code;
        p.First = out.empty();
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<ActorColumn> ActorColumns(const World& world, const Lesson* lesson)
{
    std::vector<ActorColumn> columns;
    auto add = [&](const std::string& name, const std::string& kind) {
        if (name.empty())
            return;
        for (const auto& c : columns)
            if (c.Name == name)
                return;
        columns.push_back({name, kind});
    };
    if (lesson)
        for (const auto& a : lesson->Actors)
            add(a.Name, a.Kind);
    for (const auto& a : world.Actors())
        add(a.Name, a.Kind);
    if (lesson)
        for (const auto& step : lesson->Steps)
            for (const auto& call : step.Calls)
                add(call.Request.Actor, call.Request.ActorKind);
    return columns;
}

std::vector<LadderCell> LadderCells(const World& world, const std::vector<ActorColumn>& columns,
                                    const std::vector<PendingCall>& pending)
{
    auto column_of = [&](const std::string& name) {
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i].Name == name)
                return static_cast<int>(i);
        return -1;
    };
    std::vector<LadderCell> made;
    for (const auto& actor : world.Actors()) {
        int column = column_of(actor.Name);
        if (column < 0)
            continue;
        for (const auto& call : actor.Calls)
            made.push_back({0, column, &call, nullptr});
        for (const auto& life : actor.Life)
            made.push_back({0, column, nullptr, nullptr, &life});
    }
    // Ids are handed out in submission order, which is the order a lesson makes its calls.
    auto id = [](const LadderCell& c) { return c.Call ? c.Call->Id : c.Life->Id; };
    std::stable_sort(made.begin(), made.end(),
                     [&](const LadderCell& a, const LadderCell& b) { return id(a) < id(b); });

    std::vector<LadderCell> cells;
    int row = -1;
    int last_column = static_cast<int>(columns.size()); // forces a new row first
    auto place = [&](LadderCell cell) {
        if (cell.Column <= last_column)
            ++row;
        cell.Row = row;
        last_column = cell.Column;
        cells.push_back(cell);
    };
    for (const auto& cell : made)
        place(cell);
    last_column = static_cast<int>(columns.size());
    for (const auto& p : pending) {
        int column = column_of(p.Actor);
        if (column >= 0)
            place({0, column, nullptr, &p});
    }
    return cells;
}

std::string ColumnTitle(const ActorColumn& column, const World& world, Lang lang)
{
    // The name is the lesson's (its narration says it); the kind is a word, translated.
    std::string title = column.Name;
    std::string kind = column.Kind.empty() ? "" : Tr(lang, column.Kind.c_str());
    if (!kind.empty() && kind != column.Name)
        title += " (" + kind + ")";
    if (const ActorView* actor = world.FindActor(column.Name)) {
        // A lane of a server model: which thread or process it is, and whether it lives.
        // (its name says "child <pid>" or "thread <tid>").
        if (!actor->LaneKind.empty())
            title = column.Name +
                    (actor->Status != "running" ? std::string(" [") + Tr(lang, actor->Status.c_str()) + "]" : "");
        else if (actor->Pid != 0 && column.Kind == "server")
            title += " pid " + std::to_string(actor->Pid);
        std::vector<int> numbers;
        for (const auto& [handle, fd] : actor->Fds)
            numbers.push_back(fd.Fd);
        std::sort(numbers.begin(), numbers.end());
        // A script's actor may hold thousands: the first and the last few, and how many.
        // (ImGui keeps a table's column names in one buffer with 16-bit offsets; a title
        // listing 10,000 descriptors overflowed it.)
        constexpr std::size_t kShown = 6;
        std::string fds;
        for (std::size_t i = 0; i < numbers.size(); ++i) {
            if (numbers.size() > kShown && i == kShown / 2) {
                fds += ", …";
                i = numbers.size() - kShown / 2;
            }
            fds += (fds.empty() ? "" : ", ") + std::to_string(numbers[i]);
        }
        if (numbers.size() > kShown)
            fds += " (" + std::to_string(numbers.size()) + ")";
        if (!fds.empty())
            title += "  fd " + fds;
    }
    return title;
}

std::string CompactCallLabel(const CallEvent& call)
{
    return FormatCall(call, ArgStyle::Compact);
}

namespace {

enum class TokenKind { Space, Newline, Word, Wide };

struct Token {
    TokenKind Kind;
    std::string_view Text;
};

// Decode the code point at text[at] (UTF-8), returning its length in bytes.
std::size_t CodePointAt(std::string_view text, std::size_t at, char32_t& cp)
{
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char c = byte(at);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (at + len > text.size())
        len = 1;
    cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t i = 1; i < len; ++i)
        cp = (cp << 6) | (byte(at + i) & 0x3F);
    return len;
}

// Chinese characters and full-width punctuation: a line may break on either side.
bool IsWide(char32_t cp)
{
    return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
           (cp >= 0xFF00 && cp <= 0xFFEF);
}

bool IsClosing(std::string_view t)
{
    static constexpr std::string_view kClosing[] = {"，", "。", "、", "：", "；", "！", "？", "）", "」", "』", "》", "…", ",", ".", ":", ";", "!", "?", ")"};
    for (auto c : kClosing)
        if (t.substr(0, c.size()) == c)
            return true;
    return false;
}

bool IsOpening(std::string_view t)
{
    return t == "（" || t == "「" || t == "『" || t == "《" || t == "“";
}

std::vector<Token> Tokenize(std::string_view text)
{
    std::vector<Token> tokens;
    std::size_t at = 0;
    while (at < text.size()) {
        char32_t cp = 0;
        std::size_t len = CodePointAt(text, at, cp);
        if (cp == ' ') {
            tokens.push_back({TokenKind::Space, text.substr(at, 1)});
        } else if (cp == '\n') {
            tokens.push_back({TokenKind::Newline, text.substr(at, 1)});
        } else if (IsWide(cp)) {
            tokens.push_back({TokenKind::Wide, text.substr(at, len)});
        } else {
            // A run of narrow characters up to the next space, newline or wide character.
            std::size_t end = at + len;
            while (end < text.size()) {
                char32_t next = 0;
                std::size_t next_len = CodePointAt(text, end, next);
                if (next == ' ' || next == '\n' || IsWide(next))
                    break;
                end += next_len;
            }
            tokens.push_back({TokenKind::Word, text.substr(at, end - at)});
            len = end - at;
        }
        at += len;
    }
    return tokens;
}

// A word wider than `width`, in pieces that each fit: broken after the last ':' or ','
// that fits (an address keeps its port on the next line), else after a '.' or '/', else
// between two characters. A piece is at least one character, even one wider than `width`.
std::vector<std::string_view> SplitWord(std::string_view word, float width,
                                        const std::function<float(std::string_view)>& measure)
{
    std::vector<std::string_view> pieces;
    while (!word.empty()) {
        if (measure(word) <= width) {
            pieces.push_back(word);
            break;
        }
        std::size_t fit = 0, soft = 0, softer = 0;
        for (std::size_t at = 0; at < word.size();) {
            char32_t cp = 0;
            std::size_t next = at + CodePointAt(word, at, cp);
            if (at > 0 && measure(word.substr(0, next)) > width)
                break;
            fit = at = next;
            if (cp == ':' || cp == ',')
                soft = at;
            else if (cp == '.' || cp == '/')
                softer = at;
        }
        std::size_t cut = soft ? soft : softer ? softer : fit;
        pieces.push_back(word.substr(0, cut));
        word.remove_prefix(cut);
    }
    return pieces;
}

} // namespace

std::vector<std::string> WrapText(const std::string& text, float width,
                                  const std::function<float(std::string_view)>& measure)
{
    std::vector<std::string> lines;
    std::string line;
    float line_width = 0;
    bool pending_space = false;
    std::string_view previous;
    TokenKind previous_kind = TokenKind::Space;
    float space_width = measure(" ");
    for (const Token& token : Tokenize(text)) {
        if (token.Kind == TokenKind::Newline) {
            lines.push_back(line);
            line.clear();
            line_width = 0;
            pending_space = false;
            previous = {};
            previous_kind = TokenKind::Newline;
            continue;
        }
        if (token.Kind == TokenKind::Space) {
            pending_space = !line.empty();
            continue;
        }
        float w = measure(token.Text);
        if (token.Kind == TokenKind::Word && w > width) {
            // Too wide for any line: a line of its own, broken where it must be.
            if (!line.empty())
                lines.push_back(line);
            auto pieces = SplitWord(token.Text, width, measure);
            for (std::size_t i = 0; i + 1 < pieces.size(); ++i)
                lines.emplace_back(pieces[i]);
            line.assign(pieces.back());
            line_width = measure(pieces.back());
            pending_space = false;
            previous = token.Text;
            previous_kind = token.Kind;
            continue;
        }
        float gap = pending_space ? space_width : 0.0f;
        bool may_break = !line.empty() &&
                         (pending_space || token.Kind == TokenKind::Wide || previous_kind == TokenKind::Wide) &&
                         !IsClosing(token.Text) && !IsOpening(previous);
        if (may_break && line_width + gap + w > width) {
            lines.push_back(line);
            line.assign(token.Text);
            line_width = w;
        } else {
            if (pending_space)
                line += ' ';
            line += token.Text;
            line_width += gap + w;
        }
        pending_space = false;
        previous = token.Text;
        previous_kind = token.Kind;
    }
    if (!line.empty() || lines.empty())
        lines.push_back(line);
    return lines;
}


// --- lesson ---------------------------------------------------------------------------

std::string ClaimText(const LessonView& lesson, const CheckResult& result, Lang lang)
{
    // A call's verdict is one of the lab's phrases; a check's claim is the lesson's own
    // English words, whose translation the lesson carries.
    if (lang == Lang::En || !lesson.Data || result.What == "call")
        return Tr(lang, result.Claim);
    const auto& steps = lesson.Data->Steps;
    std::string english = result.Claim.English();
    if (lesson.StepIndex >= 0 && lesson.StepIndex < static_cast<int>(steps.size()))
        for (const auto& check : steps[lesson.StepIndex].Expect)
            if (check.Says.En == english)
                return check.Says.Get(lang);
    return Tr(lang, result.Claim);
}

std::string StepCounterLabel(const LessonView& lesson, Lang lang)
{
    if (!lesson.Data)
        return Tr(lang, "No lesson loaded");
    int total = static_cast<int>(lesson.Data->Steps.size());
    if (lesson.StepIndex < 0)
        return Format(Tr(lang, "Not started (%d steps)"), total);
    return Format(Tr(lang, "Step %d of %d"), lesson.StepIndex + 1, total);
}

std::string TimerLabel(const SocketView& s, Lang lang)
{
    if (!s.InKernel || s.K.Timer == TimerKind::None)
        return "-";
    char buf[96];
    double seconds = s.K.TimerExpiresMs / 1000.0;
    if (s.K.Timer == TimerKind::Retransmit && s.K.Retransmits > 0)
        std::snprintf(buf, sizeof buf, Tr(lang, "%s %.1f s (#%u)"),
                      Tr(lang, std::string(TimerKindName(s.K.Timer)).c_str()), seconds, s.K.Retransmits);
    else
        std::snprintf(buf, sizeof buf, Tr(lang, "%s %.1f s"),
                      Tr(lang, std::string(TimerKindName(s.K.Timer)).c_str()), seconds);
    return buf;
}

static std::string StepStatusLabel(const LessonView& lesson, Lang lang)
{
    char buf[160];
    switch (lesson.Status) {
    case StepStatus::Idle:
        std::snprintf(buf, sizeof buf, Tr(lang, "ready: %d steps, listener port %d"),
                      static_cast<int>(lesson.Data->Steps.size()), lesson.Port);
        return buf;
    case StepStatus::Running: return Tr(lang, "making the calls");
    case StepStatus::Checking: return Tr(lang, "waiting for the kernel to show the expected state");
    case StepStatus::Passed: return Tr(lang, "the kernel shows what the lesson says");
    case StepStatus::Failed: return Tr(lang, "the kernel does not show what the lesson says: see the red marks");
    }
    return {};
}

std::string StatusLineLabel(const LessonView& lesson, Lang lang)
{
    if (!lesson.Data)
        return Tr(lang, "no lesson loaded");
    char buf[160];
    std::string attempt;
    if (lesson.Attempt > 1 && lesson.Data && lesson.StepIndex >= 0) {
        std::snprintf(buf, sizeof buf, Tr(lang, "attempt %d: "), lesson.Attempt);
        attempt = buf;
        if (lesson.Replaying)
            attempt += Tr(lang, "making the earlier steps again. ");
    }
    return attempt + StepStatusLabel(lesson, lang);
}

} // namespace sockscope
