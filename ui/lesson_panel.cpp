// Lesson controls: which lesson, Step (Space / Right arrow), Reset onto a port, the
// language, and the current step's title, narration and check results.
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

namespace sockscope {
namespace {

bool StepKeyPressed()
{
    if (ImGui::GetIO().WantTextInput)
        return false;
    for (ImGuiKey key : {ImGuiKey_Space, ImGuiKey_RightArrow}) {
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

void DrawLessonPicker(const LessonView& lesson, const UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    const char* current = lesson.Data ? lesson.Data->Name.c_str() : "-";
    ImGui::TextUnformatted(Tr(lang, "Lesson"));
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##lesson", current)) {
        for (const auto& name : state.LessonNames) {
            bool selected = lesson.Data && lesson.Data->Name == name;
            if (ImGui::Selectable(name.c_str(), selected) && !selected) {
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

void DrawStepAndReset(const LessonView& lesson, UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    bool can_step = lesson.Data && !lesson.Busy && !lesson.AtEnd;
    ImGui::BeginDisabled(!can_step);
    std::string step_label = std::string(Tr(lang, "Step")) + "  \xe2\x96\xb6  (Space)###step";
    bool clicked = ImGui::Button(step_label.c_str(), ImVec2(-1, ImGui::GetFrameHeight() * 1.4f));
    ImGui::EndDisabled();
    if (can_step && (clicked || StepKeyPressed())) {
        UiCommand step;
        step.What = UiCommand::StepForward;
        commands.push_back(step);
    }

    ImGui::BeginDisabled(!lesson.Data);
    if (ImGui::Button(Tr(lang, "Reset"))) {
        UiCommand reset;
        reset.What = UiCommand::Reset;
        reset.Port = state.ResetPort;
        commands.push_back(reset);
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::TextUnformatted(Tr(lang, "onto port"));
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5.0f);
    if (ImGui::InputInt("##port", &state.ResetPort, 0, 0))
        state.ResetPort = std::clamp(state.ResetPort, 0, 65535);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", Tr(lang, "0 keeps the current port; another number resets onto that port"));
    ImGui::SameLine();
    ImGui::TextDisabled(Tr(lang, "(now %d)"), lesson.Port);
}

void DrawLanguage(const UiState& state, std::vector<UiCommand>& commands)
{
    if (!state.CjkAvailable)
        return;
    auto option = [&](const char* label, Lang lang) {
        if (ImGui::RadioButton(label, state.Language == lang) && state.Language != lang) {
            UiCommand set;
            set.What = UiCommand::SetLanguage;
            set.Language = lang;
            commands.push_back(set);
        }
    };
    option("English", Lang::En);
    ImGui::SameLine();
    option("\xe7\xae\x80\xe4\xbd\x93\xe4\xb8\xad\xe6\x96\x87", Lang::Zh); // 简体中文
}

void DrawProgress(const LessonView& lesson, const UiState& state)
{
    Lang lang = state.Language;
    ImGui::TextUnformatted(StepCounterLabel(lesson, lang).c_str());
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Text, StatusColor(lesson.Status));
    ImGui::TextUnformatted(Tr(lang, std::string(StepStatusName(lesson.Status)).c_str()));
    ImGui::PopStyleColor();
    ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
    WrappedText(StatusLineLabel(lesson, lang));
    ImGui::PopStyleColor();
}

void DrawNarration(const LessonView& lesson, const UiState& state)
{
    Lang lang = state.Language;
    if (!lesson.Data) {
        WrappedText(Tr(lang, "No lesson loaded. Pick one on the left."));
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
    } else if (lesson.AtEnd) {
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

} // namespace

void DrawLessonPanel(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands)
{
    const LessonView& lesson = frame.Lesson;
    float controls_width = std::min(ImGui::GetFontSize() * 22.0f, ImGui::GetContentRegionAvail().x * 0.4f);
    if (ImGui::BeginChild("controls", ImVec2(controls_width, 0))) {
        DrawLessonPicker(lesson, state, commands);
        DrawStepAndReset(lesson, state, commands);
        DrawLanguage(state, commands);
        ImGui::Separator();
        DrawProgress(lesson, state);
    }
    ImGui::EndChild();
    ImGui::SameLine();
    float narration_width = std::floor(ImGui::GetContentRegionAvail().x * 0.62f);
    if (ImGui::BeginChild("narration", ImVec2(narration_width, 0), false))
        DrawNarration(lesson, state);
    ImGui::EndChild();
    ImGui::SameLine();
    if (ImGui::BeginChild("results", ImVec2(0, 0), false))
        DrawResults(lesson, state);
    ImGui::EndChild();
}

} // namespace sockscope
