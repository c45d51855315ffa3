// One line at the bottom: is the kernel probe running, how many snapshots it has taken,
// the lesson's port, and anything the app needs to say (a font, a lesson that failed,
// a screenshot saved). On the right: the View menu and the key help.
#include "format.hpp"
#include "i18n.hpp"
#include "presenter.hpp"
#include "theme.hpp"
#include "ui.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace sockscope {
namespace {

void Separator()
{
    ImGui::SameLine();
    ImGui::TextDisabled("|");
    ImGui::SameLine();
}

// Scale, theme, fullscreen and screenshot: the same commands as the keys; the diagrams'
// export (SVG or PNG).
void DrawViewMenu(const UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    ImGui::TextUnformatted(Tr(lang, "Scale"));
    for (float step : kScaleSteps) {
        ImGui::SameLine();
        char label[32];
        std::snprintf(label, sizeof label, "%d%%", static_cast<int>(step * 100.0f + 0.5f));
        if (ImGui::RadioButton(label, state.Scale == step) && state.Scale != step) {
            commands.push_back(ScaleCommand(step));
            ImGui::CloseCurrentPopup();
        }
    }
    bool contrast = state.Theme == ThemeKind::Contrast;
    if (ImGui::Checkbox(Tr(lang, "High contrast (for projectors)"), &contrast)) {
        commands.push_back(ThemeCommand(contrast ? ThemeKind::Contrast : ThemeKind::Normal));
        ImGui::CloseCurrentPopup();
    }
    ImGui::Separator();
    UiCommand command;
    if (ImGui::Selectable(Tr(lang, state.Fullscreen ? "Leave fullscreen (F11)" : "Fullscreen (F11)"))) {
        command.What = UiCommand::ToggleFullscreen;
        commands.push_back(command);
    }
    if (ImGui::Selectable(Tr(lang, "Save a screenshot (F12)"))) {
        command.What = UiCommand::SaveScreenshot;
        commands.push_back(command);
    }
    if (ImGui::Selectable(Tr(lang, "Export SVG (ladder, packets, states)"))) {
        command.What = UiCommand::ExportSvg;
        commands.push_back(command);
    }
    if (ImGui::Selectable(Tr(lang, "Export PNG (ladder, packets, states)"))) {
        command.What = UiCommand::ExportPng;
        commands.push_back(command);
    }
}

// The View button and the "?" with the keys, at the right end of the line.
void DrawViewControls(const UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    std::string view = std::string(Tr(lang, "View")) + "###view";
    const ImGuiStyle& style = ImGui::GetStyle();
    float width = ImGui::CalcTextSize(view.c_str(), nullptr, true).x + ImGui::CalcTextSize("?").x +
                  style.FramePadding.x * 4.0f + style.ItemSpacing.x;
    float right = ImGui::GetWindowContentRegionMax().x - width;
    ImGui::SameLine(std::max(right, ImGui::GetCursorPosX() + style.ItemSpacing.x));
    if (ImGui::SmallButton(view.c_str()))
        ImGui::OpenPopup("view_menu");
    ImGui::SameLine();
    ImGui::SmallButton("?");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", KeyHelp(lang).c_str());
    if (ImGui::BeginPopup("view_menu")) {
        DrawViewMenu(state, commands);
        ImGui::EndPopup();
    }
}

} // namespace

void DrawStatusBar(const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    const World& world = frame.Model;
    if (!world.ProbeError().Empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        ImGui::Text(Tr(lang, "probe error: %s"), Tr(lang, world.ProbeError()).c_str());
        ImGui::PopStyleColor();
    } else if (frame.ProbeRunning) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Green);
        ImGui::TextUnformatted(Tr(lang, "probe running"));
        ImGui::PopStyleColor();
    } else {
        ImGui::TextDisabled("%s", Tr(lang, "probe off"));
    }
    Separator();
    ImGui::Text(Tr(lang, "snapshots: %llu"), static_cast<unsigned long long>(world.SnapshotCount()));
    Separator();
    if (frame.Lesson.Port > 0)
        ImGui::Text(Tr(lang, "port: %d"), frame.Lesson.Port);
    else
        ImGui::TextDisabled("%s", Tr(lang, "port: -"));
    bool wildcard = false;
    for (const auto& l : world.Listeners())
        wildcard = wildcard || std::all_of(l.Local.Addr.begin(), l.Local.Addr.end(), [](auto b) { return b == 0; });
    if (frame.Lesson.BindAll || wildcard) {
        Separator();
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        ImGui::TextUnformatted(Tr(lang, "WARNING: listening on every interface: other machines on the network can connect"));
        ImGui::PopStyleColor();
    }
    if (!state.Message.empty()) {
        Separator();
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        ImGui::TextUnformatted(state.Message.c_str());
        ImGui::PopStyleColor();
    }
    if (!state.FontMessage.empty()) {
        Separator();
        ImGui::TextDisabled("%s", state.FontMessage.c_str());
    }
    if (!state.Notice.empty() && frame.Now < state.NoticeUntil) {
        Separator();
        ImGui::TextUnformatted(state.Notice.c_str());
    }
    DrawViewControls(state, commands);
}

} // namespace sockscope
