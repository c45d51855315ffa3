// One line at the bottom: is the kernel probe running, how many snapshots it has taken,
// the lesson's port, and anything the app needs to say (a font, a lesson that failed).
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"

#include <imgui.h>

namespace sockscope {
namespace {

void Separator()
{
    ImGui::SameLine();
    ImGui::TextDisabled("|");
    ImGui::SameLine();
}

} // namespace

void DrawStatusBar(const UiFrame& frame, const UiState& state)
{
    Lang lang = state.Language;
    const World& world = frame.Model;
    if (!world.ProbeError().empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        ImGui::Text(Tr(lang, "probe error: %s"), world.ProbeError().c_str());
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
}

} // namespace sockscope
