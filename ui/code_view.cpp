// The code view: the lesson as the C program it is. On the left, every call of the
// steps made so far (and the next step's, greyed), one line each, with the line being
// executed highlighted and the kernel's real return value beside each line. On the
// right, when a server model runs, its loop in C with each lane (a thread or a
// process) shown at the line of the call it is in.
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

namespace sockscope {
namespace {

// One line of a server model's loop, and the call (made by which kind of lane) it is,
// or the moment of a lane's life that puts the lane there.
struct LoopLine {
    const char* Text;
    CallId Call;        // None for a line that makes no call
    const char* Who;    // "main": the model's own thread; "lane": a thread or child; "": any
    std::optional<LaneEventKind> Life = std::nullopt;
};

const std::vector<LoopLine>& ModelCode(const std::string& model)
{
    static const std::vector<LoopLine> iterative = {
        {"for (;;) {", CallId::None, ""},
        {"    int c = accept(lfd, NULL, NULL);", CallId::Accept, ""},
        {"    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {", CallId::Recv, ""},
        {"        if (strstr(buf, \"bye\")) break;", CallId::None, ""},
        {"        send(c, buf, n, 0);", CallId::Send, ""},
        {"    }", CallId::None, ""},
        {"    close(c);", CallId::Close, ""},
        {"}", CallId::None, ""},
    };
    static const std::vector<LoopLine> fork = {
        {"for (;;) {", CallId::None, ""},
        {"    int c = accept(lfd, NULL, NULL);", CallId::Accept, "main"},
        {"    pid_t pid = fork();", CallId::Fork, "", LaneEventKind::Forked},
        {"    if (pid == 0) {                    /* the child */", CallId::None, ""},
        {"        close(lfd);", CallId::Close, "child-first"},
        {"        while ((n = recv(c, buf, sizeof buf, 0)) > 0 && !strstr(buf, \"bye\"))", CallId::Recv, "lane"},
        {"            send(c, buf, n, 0);", CallId::Send, "lane"},
        {"        close(c);", CallId::Close, "lane"},
        {"        exit(0);                       /* a zombie until waitpid() */", CallId::None, "lane",
         LaneEventKind::Exiting},
        {"    }", CallId::None, ""},
        {"    close(c);                          /* the parent's copy */", CallId::Close, "main"},
        {"}", CallId::None, ""},
        {"/* SIGCHLD handler: */ while (waitpid(-1, &status, WNOHANG) > 0) ;", CallId::Waitpid, "main"},
    };
    static const std::vector<LoopLine> thread = {
        {"void *serve(void *arg) {", CallId::None, "lane", LaneEventKind::Started},
        {"    int c = (int)(long)arg;", CallId::None, ""},
        {"    while ((n = recv(c, buf, sizeof buf, 0)) > 0 && !strstr(buf, \"bye\"))", CallId::Recv, "lane"},
        {"        send(c, buf, n, 0);", CallId::Send, "lane"},
        {"    close(c);", CallId::Close, "lane"},
        {"    return NULL;", CallId::None, "lane", LaneEventKind::Returned},
        {"}", CallId::None, ""},
        {"for (;;) {", CallId::None, ""},
        {"    int c = accept(lfd, NULL, NULL);", CallId::Accept, "main"},
        {"    pthread_create(&tid, NULL, serve, (void *)(long)c);", CallId::PthreadCreate, "main"},
        {"}", CallId::None, ""},
    };
    static const std::vector<LoopLine> epoll = {
        {"int ep = epoll_create1(0);", CallId::EpollCreate1, ""},
        {"epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);", CallId::EpollCtl, ""},
        {"for (;;) {", CallId::None, ""},
        {"    int n = epoll_wait(ep, events, 64, -1);", CallId::EpollWait, ""},
        {"    for (int i = 0; i < n; i++) {", CallId::None, ""},
        {"        int fd = events[i].data.fd;", CallId::None, ""},
        {"        if (fd == lfd) {", CallId::None, ""},
        {"            int c = accept(lfd, NULL, NULL);", CallId::Accept, ""},
        {"            epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);", CallId::None, ""},
        {"        } else if ((r = recv(fd, buf, sizeof buf, 0)) > 0 && !strstr(buf, \"bye\")) {", CallId::Recv, ""},
        {"            send(fd, buf, r, 0);", CallId::Send, ""},
        {"        } else {", CallId::None, ""},
        {"            epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);", CallId::None, ""},
        {"            close(fd);", CallId::Close, ""},
        {"        }", CallId::None, ""},
        {"    }", CallId::None, ""},
        {"}", CallId::None, ""},
    };
    if (model == "fork")
        return fork;
    if (model == "thread")
        return thread;
    if (model == "epoll")
        return epoll;
    return iterative;
}

// Where a lane is: in the call it is making, in exit() (which never returns: a zombie
// is still there), else at the newest of its latest call and its latest moment of life.
struct LanePlace {
    const CallEvent* Call = nullptr;
    std::optional<LaneEventKind> Life;
    bool Blocked = false;
};

LanePlace PlaceOf(const ActorView& a)
{
    if (const CallEvent* now = a.Current())
        return {now, std::nullopt, now->Phase == CallPhase::Blocked};
    if (a.InExit())
        return {nullptr, LaneEventKind::Exiting, true};
    const CallEvent* call = a.Calls.empty() ? nullptr : &a.Calls.back();
    const LaneEvent* life = a.Life.empty() ? nullptr : &a.Life.back();
    if (life && (!call || life->Id > call->Id)) // a zombie is at its exit() too
        return {nullptr, life->Kind == LaneEventKind::Zombie ? LaneEventKind::Exiting : life->Kind, false};
    return {call, std::nullopt, false};
}

// Does `line` describe where lane `a` is now?
bool LaneAtLine(const ActorView& a, const LanePlace& at, const LoopLine& line)
{
    std::string who = line.Who;
    if (at.Life)
        return line.Life == at.Life && who != "main";
    if (!at.Call || line.Call == CallId::None || at.Call->Call != line.Call)
        return false;
    const CallEvent& call = *at.Call;
    bool is_lane = !a.LaneKind.empty();
    // A fork child's first call after fork() itself closes its copy of the listener.
    bool forked = !a.Life.empty() && a.Life.front().Kind == LaneEventKind::Forked;
    bool first_close = forked && call.Call == CallId::Close && &a.Calls.front() == &call;
    if (who == "main")
        return !is_lane;
    if (who == "lane")
        return is_lane && !first_close;
    if (who == "child-first")
        return first_close;
    return true;
}

std::string ResultText(const CallEvent& c)
{
    std::string text = "= " + std::to_string(c.Result);
    if (c.Errno)
        text += " " + ErrnoName(c.Errno);
    return text;
}

void DrawLessonCode(const UiFrame& frame, UiState& state)
{
    Lang lang = state.Language;
    const LessonView& lesson = frame.Lesson;
    const Lesson& data = *lesson.Data;
    int last = std::min(static_cast<int>(data.Steps.size()) - 1, lesson.StepIndex + 1);
    ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                            ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("code", 4, flags))
        return;
    ImGui::TableSetupColumn(Tr(lang, "step"), ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 2.5f);
    ImGui::TableSetupColumn(Tr(lang, "who"), ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 5.0f);
    ImGui::TableSetupColumn(Tr(lang, "C code"), ImGuiTableColumnFlags_WidthStretch, 4.0f);
    ImGui::TableSetupColumn(Tr(lang, "returned"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableHeadersRow();
    float scroll_to = -1.0f;
    // Bring the current step into view when it changes (and leave the scrolling to the
    // user otherwise).
    bool step_changed = state.CodeStepSeen != std::pair{lesson.Data, lesson.StepIndex};
    state.CodeStepSeen = {lesson.Data, lesson.StepIndex};
    for (int s = 0; s <= last; ++s) {
        const LessonStep& step = data.Steps[static_cast<std::size_t>(s)];
        if (step_changed && s == std::max(0, lesson.StepIndex) && scroll_to < 0)
            scroll_to = ImGui::GetCursorPosY();
        for (int i = 0; i < static_cast<int>(step.Calls.size()); ++i) {
            const LessonCall& lc = step.Calls[static_cast<std::size_t>(i)];
            auto id = lesson.CallIds.find({s, i});
            const CallEvent* c = id == lesson.CallIds.end() ? nullptr : frame.Model.FindCall(id->second);
            bool running = c && (c->Phase == CallPhase::Started || c->Phase == CallPhase::Blocked ||
                                 c->Phase == CallPhase::Queued);
            ImGui::TableNextRow();
            if (running)
                ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, colors::Amber);
            ImGui::TableSetColumnIndex(0);
            if (i == 0)
                ImGui::Text("%d", s + 1);
            ImGui::TableSetColumnIndex(1);
            ImGui::TextUnformatted(lc.Request.Actor.c_str());
            ImGui::TableSetColumnIndex(2);
            std::string code = lc.Code.empty() ? std::string(CallFunctionName(lc.Request.Call)) + "(...);" : lc.Code;
            ImGui::PushFont(state.MonoFont);
            if (!c)
                ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
            WrappedText(code);
            if (!c)
                ImGui::PopStyleColor();
            ImGui::PopFont();
            ImGui::TableSetColumnIndex(3);
            if (c && c->Phase == CallPhase::Finished) {
                bool ok = c->Errno == 0;
                ImGui::PushStyleColor(ImGuiCol_Text, ok ? colors::Green : colors::Red);
                ImGui::TextUnformatted(ResultText(*c).c_str());
                ImGui::PopStyleColor();
            } else if (running) {
                ImGui::TextUnformatted(c->Phase == CallPhase::Blocked ? Tr(lang, "blocked") : Tr(lang, "in the kernel"));
            }
        }
    }
    if (scroll_to >= 0)
        ImGui::SetScrollY(std::max(0.0f, scroll_to - ImGui::GetTextLineHeightWithSpacing() * 2.0f));
    ImGui::EndTable();
}

void DrawModelCode(const UiFrame& frame, const UiState& state, const std::string& model)
{
    Lang lang = state.Language;
    Heading(Format(Tr(lang, "The %s server's loop"), Tr(lang, model.c_str())), state);
    const auto& lines = ModelCode(model);
    ImGui::PushFont(state.MonoFont);
    for (const auto& line : lines) {
        std::string lanes;
        bool blocked = false;
        for (const auto& a : frame.Model.Actors()) {
            if (a.Kind != "server" || a.Status == "reaped" || (a.Status == "exited" && a.LaneKind == "thread"))
                continue;
            LanePlace at = PlaceOf(a);
            if (!LaneAtLine(a, at, line))
                continue;
            lanes += (lanes.empty() ? "" : ", ") + a.Name;
            blocked = blocked || at.Blocked;
        }
        if (!lanes.empty()) {
            ImVec2 p = ImGui::GetCursorScreenPos();
            ImVec2 size(ImGui::GetContentRegionAvail().x, ImGui::GetTextLineHeightWithSpacing());
            ImGui::GetWindowDrawList()->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y),
                                                      blocked ? colors::Amber : colors::SlotEmpty);
        }
        ImGui::TextUnformatted(line.Text);
        if (!lanes.empty()) {
            ImGui::SameLine();
            ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
            ImGui::TextUnformatted(("  <- " + lanes + (blocked ? Tr(lang, " (blocked)") : "")).c_str());
            ImGui::PopStyleColor();
        }
    }
    ImGui::PopFont();
}

// A traced program's calls as C lines (no source needed), oldest first, the last ones in
// view; a call still in the kernel highlighted.
void DrawTracedCode(const UiFrame& frame, UiState& state)
{
    Lang lang = state.Language;
    std::vector<std::pair<const ActorView*, const CallEvent*>> calls;
    for (const auto& a : frame.Model.Actors())
        for (const auto& c : a.Calls)
            calls.emplace_back(&a, &c);
    std::sort(calls.begin(), calls.end(), [](const auto& x, const auto& y) {
        return std::tie(x.second->TStart, x.second->Id) < std::tie(y.second->TStart, y.second->Id);
    });
    ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                            ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("traced-code", 3, flags))
        return;
    ImGui::TableSetupColumn(Tr(lang, "who"), ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 9.0f);
    ImGui::TableSetupColumn(Tr(lang, "C code"), ImGuiTableColumnFlags_WidthStretch, 4.0f);
    ImGui::TableSetupColumn(Tr(lang, "returned"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableHeadersRow();
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(calls.size()));
    while (clipper.Step())
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
            const CallEvent& c = *calls[static_cast<std::size_t>(i)].second;
            bool running = c.Phase != CallPhase::Finished;
            ImGui::TableNextRow();
            if (running)
                ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, colors::Amber);
            ImGui::TableSetColumnIndex(0);
            ImGui::TextUnformatted(calls[static_cast<std::size_t>(i)].first->Name.c_str());
            ImGui::TableSetColumnIndex(1);
            ImGui::PushFont(state.MonoFont);
            ImGui::TextUnformatted((FormatCall(c) + ";").c_str());
            ImGui::PopFont();
            ImGui::TableSetColumnIndex(2);
            if (!running) {
                ImGui::PushStyleColor(ImGuiCol_Text, c.Errno == 0 ? colors::Green : colors::Red);
                ImGui::TextUnformatted(ResultText(c).c_str());
                ImGui::PopStyleColor();
            } else {
                ImGui::TextUnformatted(c.Phase == CallPhase::Blocked ? Tr(lang, "blocked") : Tr(lang, "in the kernel"));
            }
        }
    // Follow the newest call while the view is at the bottom.
    if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - ImGui::GetTextLineHeightWithSpacing() * 2.0f)
        ImGui::SetScrollHereY(1.0f);
    ImGui::EndTable();
}

} // namespace

void DrawCodePanel(const UiFrame& frame, UiState& state)
{
    Lang lang = state.Language;
    if (!frame.Lesson.Data && frame.Program) {
        DrawTracedCode(frame, state);
        return;
    }
    if (!frame.Lesson.Data) {
        ImGui::TextDisabled("%s", Tr(lang, "No lesson loaded."));
        return;
    }
    // The server model the lesson started, if any (its serve call has been made).
    std::string model;
    for (const auto& [key, id] : frame.Lesson.CallIds) {
        const LessonCall& lc =
            frame.Lesson.Data->Steps[static_cast<std::size_t>(key.first)].Calls[static_cast<std::size_t>(key.second)];
        if (lc.Request.Call == CallId::Serve)
            model = lc.Request.Model;
    }
    if (model.empty()) {
        DrawLessonCode(frame, state);
        return;
    }
    if (ImGui::BeginTable("code-split", 2, ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingStretchProp)) {
        ImGui::TableSetupColumn("lesson", ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableSetupColumn("model", ImGuiTableColumnFlags_WidthStretch, 1.1f);
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        if (ImGui::BeginChild("##lesson-code", ImVec2(0, ImGui::GetContentRegionAvail().y)))
            DrawLessonCode(frame, state);
        ImGui::EndChild();
        ImGui::TableSetColumnIndex(1);
        if (ImGui::BeginChild("##model-code", ImVec2(0, ImGui::GetContentRegionAvail().y), false,
                              ImGuiWindowFlags_HorizontalScrollbar))
            DrawModelCode(frame, state, model);
        ImGui::EndChild();
        ImGui::EndTable();
    }
}

} // namespace sockscope
