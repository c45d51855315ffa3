// What the kernel is set to and what it has counted: on the left the TCP sysctls, each
// with a line on what it means; on the right the TCP counters of /proc/net/netstat and
// /proc/net/snmp with their total and how much they moved since the lesson began (a
// counter that moved is amber). The counters belong to the whole network namespace:
// every other program's connections count too, which the panel says.
#include "format.hpp"
#include "i18n.hpp"
#include "kernel_model.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

namespace sockscope {
namespace {

// No scrolling of their own: the tables are as tall as their rows, the panel scrolls.
constexpr ImGuiTableFlags kTableFlags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg;

void PushMono(const UiState& state)
{
    ImGui::PushFont(state.MonoFont ? state.MonoFont : ImGui::GetFont());
}

// "tcp_syncookies" for "net.ipv4.tcp_syncookies": the part a reader looks for.
std::string ShortName(const std::string& name)
{
    std::size_t dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

void DrawSysctls(const UiFrame& frame, const UiState& state)
{
    Lang lang = state.Language;
    Heading(Tr(lang, "Settings (sysctl)"), state);
    if (!ImGui::BeginTable("sysctls", 3, kTableFlags | ImGuiTableFlags_SizingFixedFit))
        return;
    ImGui::TableSetupColumn(Tr(lang, "setting"));
    ImGui::TableSetupColumn(Tr(lang, "value"));
    ImGui::TableSetupColumn(Tr(lang, "what it means"), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    for (const auto& row : SysctlRows(frame.Model)) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        PushMono(state);
        ImGui::TextUnformatted(ShortName(row.Name).c_str());
        ImGui::PopFont();
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("%s", row.Name.c_str());
        ImGui::TableSetColumnIndex(1);
        PushMono(state);
        ImGui::TextUnformatted(row.Value.c_str());
        ImGui::PopFont();
        ImGui::TableSetColumnIndex(2);
        WrappedText(Tr(lang, row.Meaning));
    }
    ImGui::EndTable();
}

void CounterCells(const CounterRow& row, const UiState& state)
{
    Lang lang = state.Language;
    ImGui::TableNextColumn();
    if (row.Moved)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colors::Amber);
    ImGui::TextUnformatted(row.Name.c_str());
    if (ImGui::IsItemHovered() && *row.Meaning)
        ImGui::SetTooltip("%s", Tr(lang, row.Meaning));
    ImGui::TableNextColumn();
    PushMono(state);
    ImGui::TextUnformatted(row.Total.c_str());
    ImGui::TableNextColumn();
    if (row.Moved)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colors::Amber);
    ImGui::PushStyleColor(ImGuiCol_Text, row.Moved ? colors::Text : colors::Muted);
    ImGui::TextUnformatted(row.Change.c_str());
    ImGui::PopStyleColor();
    ImGui::PopFont();
}

void DrawCounters(const UiFrame& frame, const UiState& state)
{
    Lang lang = state.Language;
    Heading(Tr(lang, "Counters (TCP)"), state);
    ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
    WrappedText(Tr(lang, "For the whole network namespace: other programs' connections count too. Amber: moved "
                         "since the lesson began. Hover a name for what it counts."));
    ImGui::PopStyleColor();
    if (frame.Model.CounterValues().empty()) {
        ImGui::TextDisabled("%s", Tr(lang, "The probe has not read the counters yet."));
        return;
    }
    // Two counters per row, so that all of them fit without scrolling.
    auto rows = CounterRows(frame.Model);
    int half = static_cast<int>((rows.size() + 1) / 2);
    if (!ImGui::BeginTable("counters", 6, kTableFlags | ImGuiTableFlags_SizingStretchProp))
        return;
    for (int group = 0; group < 2; ++group) {
        ImGui::TableSetupColumn(Tr(lang, "counter"), ImGuiTableColumnFlags_WidthStretch, 2.0f);
        ImGui::TableSetupColumn(Tr(lang, "total"), ImGuiTableColumnFlags_WidthStretch, 0.9f);
        ImGui::TableSetupColumn(Tr(lang, "this lesson"), ImGuiTableColumnFlags_WidthStretch, 0.9f);
    }
    ImGui::TableHeadersRow();
    for (int i = 0; i < half; ++i) {
        ImGui::TableNextRow();
        CounterCells(rows[i], state);
        if (i + half < static_cast<int>(rows.size()))
            CounterCells(rows[i + half], state);
    }
    ImGui::EndTable();
}

} // namespace

void DrawKernelPanel(const UiFrame& frame, const UiState& state)
{
    float spacing = ImGui::GetStyle().ItemSpacing.x;
    float left = std::floor((ImGui::GetContentRegionAvail().x - spacing) * 0.48f);
    if (ImGui::BeginChild("sysctls", ImVec2(left, 0)))
        DrawSysctls(frame, state);
    ImGui::EndChild();
    ImGui::SameLine();
    if (ImGui::BeginChild("counters", ImVec2(0, 0)))
        DrawCounters(frame, state);
    ImGui::EndChild();
}

} // namespace sockscope
