// Lesson controls: which lesson, Step (Space / Right arrow), Reset onto a port, the
// language, and the current step's title, narration and check results.
#include "format.hpp"
#include "i18n.hpp"
#include "layout_plan.hpp"
#include "presenter.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace sockscope {
namespace {

// Space and Right; in the past, Right walks the timeline instead (timeline_panel.cpp).
bool StepKeyPressed(bool past)
{
    if (ImGui::GetIO().WantTextInput)
        return false;
    for (ImGuiKey key : {ImGuiKey_Space, past ? ImGuiKey_Space : ImGuiKey_RightArrow}) {
        int index = ImGui::GetKeyIndex(key);
        if (index >= 0 && ImGui::IsKeyPressed(index, false))
            return true;
    }
    return false;
}

ImU32 StatusColor(StepStatus status)
{
    switch (status) {
    case StepStatus::Passed: return colors::Green;
    case StepStatus::Failed: return colors::Red;
    case StepStatus::Running:
    case StepStatus::Checking: return colors::AmberText;
    case StepStatus::Idle: break;
    }
    return colors::Muted;
}

// ---- Privileges: the lesson's notice when gates or capture do not work here. --------
// (Every user-visible string of this feature is in this block, for the translators.)
namespace PrivilegeTexts {
constexpr const char* GatesMark = "  (gates)";
constexpr const char* NoGates =
    "This lesson holds states with packet gates, which need root, sockscope-helper or a private network: "
    "here its gate steps will fail with EPERM.";
constexpr const char* NoCapture = "Packets are not captured here: the packet tab shows segments inferred from states.";
constexpr const char* Restart = "Restart in a private network";
constexpr const char* RestartWhy = "Gates and capture work there, but outside clients (a student's nc) cannot reach the lab.";
} // namespace PrivilegeTexts

bool LessonUsesGates(const Lesson& lesson)
{
    for (const auto& step : lesson.Steps)
        for (const auto& call : step.Calls)
            if (call.Request.Call == CallId::Gate)
                return true;
    return false;
}

void DrawPrivilegeNotice(const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands)
{
    const LessonView& lesson = frame.Lesson;
    if (!lesson.Data || state.PrivateNetwork)
        return;
    // Only where it changes the lesson: without capture alone, the packets are inferred
    // and say so in their tab.
    if (state.GatesWork || !LessonUsesGates(*lesson.Data))
        return;
    Lang lang = state.Language;
    ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
    ImGui::TextWrapped("%s", Tr(lang, PrivilegeTexts::NoGates));
    if (!frame.Capturing)
        ImGui::TextWrapped("%s", Tr(lang, PrivilegeTexts::NoCapture));
    ImGui::PopStyleColor();
    if (ImGui::SmallButton(Tr(lang, PrivilegeTexts::Restart))) {
        UiCommand restart;
        restart.What = UiCommand::RestartPrivateNetwork;
        commands.push_back(restart);
    }
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("%s", Tr(lang, PrivilegeTexts::RestartWhy));
    ImGui::PopStyleColor();
    ImGui::Separator();
}

// `width` > 0: the combo that wide (the narrow layout's row); else to the panel's edge.
void DrawLessonPicker(const LessonView& lesson, const UiState& state, std::vector<UiCommand>& commands,
                      float width = 0.0f)
{
    Lang lang = state.Language;
    const char* current = lesson.Data ? lesson.Data->Name.c_str() : "-";
    ImGui::TextUnformatted(Tr(lang, "Lesson"));
    ImGui::SameLine();
    ImGui::SetNextItemWidth(width > 0.0f ? width : -1.0f);
    if (ImGui::BeginCombo("##lesson", state.CommandLine.On ? Tr(lang, "Playground") : current)) {
        if (ImGui::Selectable(Tr(lang, "Playground"), state.CommandLine.On)) {
            UiCommand open;
            open.What = UiCommand::OpenPlayground;
            commands.push_back(open);
        }
        for (const auto& name : state.LessonNames) {
            bool selected = lesson.Data && lesson.Data->Name == name;
            bool gated = std::find(state.GateLessons.begin(), state.GateLessons.end(), name) != state.GateLessons.end();
            std::string label = gated ? name + Tr(lang, PrivilegeTexts::GatesMark) + "##" + name : name;
            if (ImGui::Selectable(label.c_str(), selected) && !selected) {
                UiCommand load;
                load.What = UiCommand::LoadLesson;
                load.Lesson = name;
                commands.push_back(load);
            }
        }
        // Files that are not valid lessons are listed, never loaded: the class goes on.
        for (const auto& error : state.InvalidLessons) {
            ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
            ImGui::TextWrapped("%s", error.c_str());
            ImGui::PopStyleColor();
        }
        ImGui::EndCombo();
    }
    if (!state.InvalidLessons.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        ImGui::TextUnformatted(Format(Tr(lang, "%d lesson file(s) are not valid (hover)"),
                                      static_cast<int>(state.InvalidLessons.size()))
                                   .c_str());
        ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) {
            std::string all;
            for (const auto& error : state.InvalidLessons)
                all += (all.empty() ? "" : "\n") + error;
            ImGui::SetTooltip("%s", all.c_str());
        }
    }
}

// SameLine() when an item `width` wide still fits on the current line, so a row of
// controls wraps instead of running past the panel's edge at a large font.
void SameLineIfFits(float width)
{
    float spacing = ImGui::GetStyle().ItemSpacing.x;
    float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (ImGui::GetItemRectMax().x + spacing + width <= right)
        ImGui::SameLine();
}

float TextButtonWidth(const char* text)
{
    return ImGui::CalcTextSize(text, nullptr, true).x + ImGui::GetStyle().FramePadding.x * 2.0f;
}

// `inline_step`: the Step button as wide as its label, the rest of the row after it
// (the narrow layout's one row of controls); else a wide button of its own.
bool PlayKeyPressed()
{
    const ImGuiIO& io = ImGui::GetIO();
    return !io.WantTextInput && !io.KeyCtrl && !io.KeyAlt && ImGui::IsKeyPressed(keys::P, false);
}

// Play (P) and its speed, after the Step button on its row.
void DrawPlay(const LessonView& lesson, double now, UiState& state, float height)
{
    Lang lang = state.Language;
    const ImGuiStyle& style = ImGui::GetStyle();
    std::string play = std::string(Tr(lang, "Play")) + " (P)";
    std::string pause = std::string(Tr(lang, "Pause")) + " (P)";
    float play_w = std::max(TextButtonWidth(play.c_str()), TextButtonWidth(pause.c_str()));
    SameLineIfFits(play_w);
    bool can_play = lesson.Data && !lesson.AtEnd;
    ImGui::BeginDisabled(!can_play && !state.Play.On);
    std::string label = (state.Play.On ? pause : play) + "###play";
    if ((ImGui::Button(label.c_str(), ImVec2(play_w, height)) || PlayKeyPressed()) && (can_play || state.Play.On))
        TogglePlay(state.Play, now);
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip(Tr(lang, "Steps by itself, %.0f s apart; stops at the end and when a step does not show what it claims"),
                          kPlayPauseSeconds / state.Play.Speed);
    float speed_w = ImGui::CalcTextSize("0.5x").x + ImGui::GetFrameHeight() + style.FramePadding.x * 2.0f;
    SameLineIfFits(speed_w);
    ImGui::SetNextItemWidth(speed_w);
    std::string current = Format("%gx", static_cast<double>(state.Play.Speed));
    if (ImGui::BeginCombo("##speed", current.c_str(), ImGuiComboFlags_NoArrowButton)) {
        for (float speed : kPlaySpeeds) {
            std::string name = Format("%gx", static_cast<double>(speed));
            if (ImGui::Selectable(name.c_str(), speed == state.Play.Speed))
                state.Play.Speed = speed;
        }
        ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", Tr(lang, "Play speed: the pause between steps and the motions"));
}

void DrawStepAndReset(const LessonView& lesson, double now, UiState& state, std::vector<UiCommand>& commands,
                      bool inline_step = false)
{
    Lang lang = state.Language;
    const ImGuiStyle& style = ImGui::GetStyle();
    bool can_step = lesson.Data && !lesson.Busy && !lesson.AtEnd;
    ImGui::BeginDisabled(!can_step);
    std::string step_label = std::string(Tr(lang, "Step")) + "  \xe2\x96\xb6  (Space)###step";
    float height = ImGui::GetFrameHeight() * 1.4f;
    float step_w = 0.0f; // as wide as its label in the narrow layout's row
    if (inline_step) {
        SameLineIfFits(TextButtonWidth(step_label.c_str()));
    } else { // what Play and its speed leave of the column
        float play_w = std::max(TextButtonWidth((std::string(Tr(lang, "Play")) + " (P)").c_str()),
                                TextButtonWidth((std::string(Tr(lang, "Pause")) + " (P)").c_str()));
        float speed_w = ImGui::CalcTextSize("0.5x").x + ImGui::GetFrameHeight() + style.FramePadding.x * 2.0f;
        step_w = std::max(ImGui::GetContentRegionAvail().x - play_w - speed_w - style.ItemSpacing.x * 2.0f,
                          TextButtonWidth(step_label.c_str()));
    }
    bool clicked = ImGui::Button(step_label.c_str(), ImVec2(step_w, height));
    ImGui::EndDisabled();
    bool due = PlayTick(state.Play, lesson, now);
    if (can_step && (clicked || StepKeyPressed(state.ViewingPast) || due)) {
        UiCommand step;
        step.What = UiCommand::StepForward;
        commands.push_back(step);
    }
    DrawPlay(lesson, now, state, height);

    ImGui::BeginDisabled(!lesson.Data);
    if (inline_step)
        SameLineIfFits(TextButtonWidth(Tr(lang, "Reset")));
    if (ImGui::Button(Tr(lang, "Reset"))) {
        UiCommand reset;
        reset.What = UiCommand::Reset;
        reset.Port = state.ResetPort;
        commands.push_back(reset);
    }
    ImGui::EndDisabled();
    const char* onto = Tr(lang, "onto port");
    float port_w = ImGui::GetFontSize() * 5.0f;
    SameLineIfFits(ImGui::CalcTextSize(onto).x + ImGui::GetStyle().ItemSpacing.x + port_w);
    ImGui::TextUnformatted(onto);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(port_w);
    if (ImGui::InputInt("##port", &state.ResetPort, 0, 0))
        state.ResetPort = std::clamp(state.ResetPort, 0, 65535);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", Tr(lang, "0 keeps the current port; another number resets onto that port"));
    std::string port_now = Format(Tr(lang, "(now %d)"), lesson.Port);
    SameLineIfFits(ImGui::CalcTextSize(port_now.c_str()).x);
    ImGui::TextDisabled("%s", port_now.c_str());
    // "What if...": the playground's command line on this lesson's lab, from this step.
    if (lesson.Data && !state.CommandLine.On) {
        const char* what_if = Tr(lang, "What if...? Try calls from here");
        ImGui::BeginDisabled(lesson.Busy);
        SameLineIfFits(TextButtonWidth(what_if));
        if (ImGui::Button(what_if)) {
            UiCommand from_here;
            from_here.What = UiCommand::PlaygroundFromHere;
            commands.push_back(from_here);
        }
        ImGui::EndDisabled();
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
            ImGui::SetTooltip("%s", Tr(lang, "Type your own calls on this lab: its sockets and actors stay, the steps "
                                             "not done yet are dropped, and 'save NAME' keeps it all as a lesson"));
    }
}

void DrawLanguage(const UiState& state, std::vector<UiCommand>& commands, bool same_row = false)
{
    if (!state.CjkAvailable)
        return;
    // One radio button per language of i18n.cpp's list, each named in its own language.
    const auto& languages = Languages();
    if (same_row) {
        float width = -ImGui::GetStyle().ItemSpacing.x;
        for (const auto& language : languages)
            width += ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x +
                     ImGui::CalcTextSize(language.Name).x + ImGui::GetStyle().ItemSpacing.x;
        SameLineIfFits(width);
    }
    for (std::size_t i = 0; i < languages.size(); ++i) {
        const LanguageInfo& language = languages[i];
        if (i > 0)
            SameLineIfFits(ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x +
                           ImGui::CalcTextSize(language.Name).x);
        if (ImGui::RadioButton(language.Name, state.Language == language.Id) && state.Language != language.Id) {
            UiCommand set;
            set.What = UiCommand::SetLanguage;
            set.Language = language.Id;
            commands.push_back(set);
        }
    }
}

// "Step 5 of 6  passed  the kernel shows what the lesson says" (the status line on the
// same row when it fits). `same_row`: after the controls when there is room (the narrow
// layout's row); else at the top of the narration.
void DrawProgress(const LessonView& lesson, const UiState& state, bool same_row = false)
{
    Lang lang = state.Language;
    std::string counter = StepCounterLabel(lesson, lang);
    // Tr() gives back its argument when it has no translation: the name must outlive it.
    const std::string status_name(StepStatusName(lesson.Status));
    const char* status = Tr(lang, status_name.c_str());
    if (same_row)
        SameLineIfFits(ImGui::CalcTextSize(counter.c_str()).x + ImGui::GetStyle().ItemSpacing.x +
                       ImGui::CalcTextSize(status).x);
    ImGui::TextUnformatted(counter.c_str());
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Text, StatusColor(lesson.Status));
    ImGui::TextUnformatted(status);
    ImGui::PopStyleColor();
    ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
    std::string line = StatusLineLabel(lesson, lang);
    SameLineIfFits(ImGui::CalcTextSize(line.c_str()).x);
    WrappedText(line);
    ImGui::PopStyleColor();
}

// The question before step `step` (0-based): its choices, and once one is picked, whether
// it is the step's answer.
void DrawQuestion(const Lesson& data, int step, UiState& state)
{
    Lang lang = state.Language;
    const Question& q = *data.Steps[static_cast<std::size_t>(step)].Ask;
    UiState::AskPicked& picked = state.Asked;
    if (picked.Of != &data || picked.Step != step)
        picked = {&data, step, -1};
    WrappedText(Format(Tr(lang, "Before step %d: %s"), step + 1, q.Ask.Get(lang).c_str()));
    for (std::size_t c = 0; c < q.Choices.size(); ++c) {
        std::string label = q.Choices[c].Get(lang) + "##ask" + std::to_string(c);
        if (ImGui::RadioButton(label.c_str(), picked.Choice == static_cast<int>(c)))
            picked.Choice = static_cast<int>(c);
    }
    if (picked.Choice < 0)
        return;
    bool right = picked.Choice == q.Answer;
    ImGui::PushStyleColor(ImGuiCol_Text, right ? colors::Green : colors::Red);
    WrappedText(right ? std::string(Tr(lang, "Right. Step to see the kernel agree."))
                      : Format(Tr(lang, "Not quite: the answer is \"%s\". Step to see why."),
                               q.Choices[static_cast<std::size_t>(q.Answer)].Get(lang).c_str()));
    ImGui::PopStyleColor();
}

// The lines DrawQuestion takes.
float QuestionHeight(const Question& q)
{
    float line = ImGui::GetTextLineHeightWithSpacing();
    return line * 3.0f + ImGui::GetFrameHeightWithSpacing() * static_cast<float>(q.Choices.size());
}

void DrawNarration(const LessonView& lesson, UiState& state)
{
    Lang lang = state.Language;
    if (!lesson.Data) {
        WrappedText(Tr(lang, state.Replay ? "A recording without a lesson (the playground, --run or --watch): the "
                                            "timeline walks through it, every panel shows each moment."
                                          : "No lesson loaded. Pick one on the left."));
        return;
    }
    const Lesson& data = *lesson.Data;
    int count = static_cast<int>(data.Steps.size());
    const Text* title = &data.Title;
    const Text* body = &data.Summary;
    if (lesson.StepIndex >= 0 && lesson.StepIndex < count) {
        title = &data.Steps[lesson.StepIndex].Title;
        body = &data.Steps[lesson.StepIndex].Narration;
    }
    Heading(title->Get(lang), state);
    WrappedText(body->Get(lang));
    if (lesson.Attempt > 1 && lesson.StepIndex >= 0 && lesson.StepIndex < count) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        WrappedText(Format(Tr(lang, "Attempt %d. %s"), lesson.Attempt,
                           data.Steps[lesson.StepIndex].RetryWhy.Get(lang).c_str()));
        ImGui::PopStyleColor();
    }

    int next = lesson.StepIndex + 1;
    if (!lesson.Busy && next < count) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
        WrappedText(Format(Tr(lang, "Next (step %d): %s"), next + 1, data.Steps[next].Title.Get(lang).c_str()));
        ImGui::PopStyleColor();
        if (data.Steps[next].Ask)
            DrawQuestion(data, next, state);
    } else if (lesson.AtEnd && !state.CommandLine.On) { // the playground has no end
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
        WrappedText(Tr(lang, "End of the lesson. Reset to run it again."));
        ImGui::PopStyleColor();
    }

}

void DrawResults(const LessonView& lesson, const UiState& state)
{
    Lang lang = state.Language;
    if (lesson.Results.empty()) {
        if (lesson.Busy)
            ImGui::TextDisabled("%s", Tr(lang, "Waiting for the kernel..."));
        return;
    }
    ImGui::TextUnformatted(Tr(lang, "What the kernel must show:"));
    // Calls that returned what the lesson expects are one line; everything else is
    // listed, a failed call first where it happened.
    int calls_ok = static_cast<int>(std::count_if(lesson.Results.begin(), lesson.Results.end(),
                                                  [](const CheckResult& r) { return r.What == "call" && r.Ok; }));
    if (calls_ok > 0) {
        Mark(colors::Green);
        if (calls_ok == 1)
            WrappedText(Tr(lang, "The system call returned what the lesson expects"));
        else
            WrappedText(Format(Tr(lang, "%d system calls returned what the lesson expects"), calls_ok));
    }
    for (const auto& result : lesson.Results) {
        if (result.What == "call" && result.Ok)
            continue;
        Mark(result.Ok ? colors::Green : colors::Red);
        WrappedText(ClaimText(lesson, result, lang));
        if (!result.Ok && !result.Seen.Empty()) {
            ImGui::Indent(ImGui::GetFontSize() * 1.3f);
            ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
            WrappedText(Format(Tr(lang, "Seen: %s"), Tr(lang, result.Seen).c_str()));
            ImGui::PopStyleColor();
            ImGui::Unindent(ImGui::GetFontSize() * 1.3f);
        }
    }
}

// --- the heights the texts take, for LessonPanelHeight (the same texts as drawn above) ---

// The lines `text` takes in `font` at `width`, as WrappedText breaks them.
float WrappedLines(const std::string& text, float width, ImFont* font)
{
    auto measure = [font](std::string_view piece) {
        return font->CalcTextSizeA(font->FontSize, FLT_MAX, 0.0f, piece.data(), piece.data() + piece.size()).x;
    };
    return static_cast<float>(WrapText(text, std::max(width, 1.0f), measure).size());
}

float ControlsWidth(float avail)
{
    return std::min(ImGui::GetFontSize() * 22.0f, avail * 0.4f);
}

float NarrationWidth(float avail)
{
    return std::floor(avail * 0.62f);
}

float NarrationHeight(const LessonView& lesson, const UiState& state, float width)
{
    Lang lang = state.Language;
    ImFont* body = ImGui::GetFont();
    ImFont* title_font = state.TitleFont ? state.TitleFont : body;
    float spacing = ImGui::GetStyle().ItemSpacing.y;
    float line = body->FontSize + spacing;
    if (!lesson.Data)
        return WrappedLines(Tr(lang, "No lesson loaded. Pick one on the left."), width, body) * line;
    const Lesson& data = *lesson.Data;
    int count = static_cast<int>(data.Steps.size());
    bool in_step = lesson.StepIndex >= 0 && lesson.StepIndex < count;
    const Text& title = in_step ? data.Steps[lesson.StepIndex].Title : data.Title;
    const Text& text = in_step ? data.Steps[lesson.StepIndex].Narration : data.Summary;
    float h = WrappedLines(title.Get(lang), width, title_font) * (title_font->FontSize + spacing);
    h += WrappedLines(text.Get(lang), width, body) * line;
    if (lesson.Attempt > 1 && in_step)
        h += WrappedLines(Format(Tr(lang, "Attempt %d. %s"), lesson.Attempt,
                                 data.Steps[lesson.StepIndex].RetryWhy.Get(lang).c_str()),
                          width, body) *
             line;
    int next = lesson.StepIndex + 1;
    if (!lesson.Busy && next < count)
        h += WrappedLines(Format(Tr(lang, "Next (step %d): %s"), next + 1, data.Steps[next].Title.Get(lang).c_str()),
                          width, body) *
                 line +
             (data.Steps[next].Ask ? QuestionHeight(*data.Steps[next].Ask) : 0.0f);
    else if (lesson.AtEnd && !state.CommandLine.On)
        h += WrappedLines(Tr(lang, "End of the lesson. Reset to run it again."), width, body) * line;
    return h;
}

// DrawProgress's lines at `width`: one, or more when the status line goes under the
// counter and wraps.
float ProgressHeight(const LessonView& lesson, const UiState& state, float width)
{
    Lang lang = state.Language;
    float spacing = ImGui::GetStyle().ItemSpacing.x;
    float line = ImGui::GetTextLineHeightWithSpacing();
    float first = ImGui::CalcTextSize(StepCounterLabel(lesson, lang).c_str()).x + spacing +
                  ImGui::CalcTextSize(Tr(lang, std::string(StepStatusName(lesson.Status)).c_str())).x;
    std::string status = StatusLineLabel(lesson, lang);
    if (first + spacing + ImGui::CalcTextSize(status.c_str()).x <= width)
        return line;
    return line + WrappedLines(status, width, ImGui::GetFont()) * line;
}

float ResultsHeight(const LessonView& lesson, const UiState& state, float width)
{
    Lang lang = state.Language;
    ImFont* body = ImGui::GetFont();
    float line = ImGui::GetTextLineHeightWithSpacing();
    if (lesson.Results.empty())
        return lesson.Busy ? line : 0.0f;
    float marked = width - ImGui::GetFontSize() * 0.8f - ImGui::GetStyle().ItemSpacing.x; // after Mark()
    float h = line;
    int calls_ok = 0;
    for (const auto& result : lesson.Results) {
        if (result.What == "call" && result.Ok) {
            ++calls_ok;
            continue;
        }
        h += WrappedLines(ClaimText(lesson, result, lang), marked, body) * line;
        if (!result.Ok && !result.Seen.Empty())
            h += WrappedLines(Format(Tr(lang, "Seen: %s"), Tr(lang, result.Seen).c_str()),
                              width - ImGui::GetFontSize() * 1.3f, body) *
                 line;
    }
    if (calls_ok > 0)
        h += WrappedLines(calls_ok == 1 ? Tr(lang, "The system call returned what the lesson expects")
                                        : Format(Tr(lang, "%d system calls returned what the lesson expects"), calls_ok),
                          marked, body) *
             line;
    return h;
}

} // namespace

void DrawLessonPanel(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands)
{
    const LessonView& lesson = frame.Lesson;
    if (state.Layout == LayoutMode::Narrow) {
        // The controls in a row across the top, the story below them at the whole width:
        // a side column would leave the narration a few words a line at 200 %.
        float picker_w = std::min(ImGui::GetFontSize() * 14.0f, ImGui::GetContentRegionAvail().x * 0.45f);
        DrawLessonPicker(lesson, state, commands, picker_w);
        DrawStepAndReset(lesson, frame.Now, state, commands, true);
        DrawLanguage(state, commands, true);
        DrawProgress(lesson, state, true);
        DrawCommandLine(frame, state, commands);
        DrawTimeline(frame, state, commands);
        ImGui::Separator();
        if (ImGui::BeginChild("story", ImVec2(0, 0), false)) {
            DrawPrivilegeNotice(frame, state, commands);
            DrawNarration(lesson, state);
            ImGui::Spacing();
            DrawResults(lesson, state);
        }
        ImGui::EndChild();
        return;
    }
    float controls_width = ControlsWidth(ImGui::GetContentRegionAvail().x);
    if (ImGui::BeginChild("controls", ImVec2(controls_width, 0))) {
        DrawLessonPicker(lesson, state, commands);
        DrawStepAndReset(lesson, frame.Now, state, commands);
        DrawLanguage(state, commands);
    }
    ImGui::EndChild();
    ImGui::SameLine();
    // The progress heads the narration: the controls stay four rows, short enough never
    // to scroll at 150 % or on 720 lines.
    float narration_width = NarrationWidth(ImGui::GetContentRegionAvail().x);
    if (ImGui::BeginChild("narration", ImVec2(narration_width, 0), false)) {
        DrawCommandLine(frame, state, commands);
        DrawTimeline(frame, state, commands);
        DrawProgress(lesson, state);
        DrawPrivilegeNotice(frame, state, commands);
        DrawNarration(lesson, state);
    }
    ImGui::EndChild();
    ImGui::SameLine();
    if (ImGui::BeginChild("results", ImVec2(0, 0), false))
        DrawResults(lesson, state);
    ImGui::EndChild();
}

float LessonControlsHeight(const UiFrame& frame, const UiState& state, float width)
{
    const ImGuiStyle& style = ImGui::GetStyle();
    float frame_h = ImGui::GetFrameHeight();
    float line = ImGui::GetTextLineHeightWithSpacing();
    float invalid = state.InvalidLessons.empty() ? 0.0f : line;
    float chrome = style.WindowPadding.y * 2.0f; // the window's padding (it has no title bar)
    if (state.Layout == LayoutMode::Narrow) {
        // Two rows (the Step button's is taller), the progress on the second (or a third
        // when it does not fit), a separator.
        float inner = std::max(width - style.WindowPadding.x * 2.0f, 1.0f);
        float progress = ProgressHeight(frame.Lesson, state, inner) - line;
        return chrome + frame_h * 2.4f + style.ItemSpacing.y * 4.0f + progress + invalid + CommandLineHeight(state) +
               TimelineHeight(frame);
    }
    // The picker, Step, Reset and its port, the language: a row each.
    return chrome + frame_h * 4.4f + style.ItemSpacing.y * 3.0f + invalid;
}

float LessonPanelHeight(const UiFrame& frame, const UiState& state, float width)
{
    const ImGuiStyle& style = ImGui::GetStyle();
    const LessonView& lesson = frame.Lesson;
    float inner = std::max(width - style.WindowPadding.x * 2.0f, 1.0f);
    float controls = LessonControlsHeight(frame, state, width);
    if (state.Layout == LayoutMode::Narrow) // the story under the controls
        return controls + NarrationHeight(lesson, state, inner) + style.ItemSpacing.y +
               ResultsHeight(lesson, state, inner);
    float chrome = style.WindowPadding.y * 2.0f;
    float controls_w = ControlsWidth(inner);
    float rest = std::max(inner - controls_w - style.ItemSpacing.x, 1.0f);
    float narration_w = NarrationWidth(rest);
    float results_w = std::max(rest - narration_w - style.ItemSpacing.x, 1.0f);
    float narration = CommandLineHeight(state) + TimelineHeight(frame) + ProgressHeight(lesson, state, narration_w) +
                      NarrationHeight(lesson, state, narration_w);
    float text = std::max(narration, ResultsHeight(lesson, state, results_w));
    return std::max(controls, chrome + text);
}

} // namespace sockscope
