// The projector layout: fixed windows filling the display. Lesson controls across the
// top, the call ladder and the queues side by side, then tabs: the socket table (as
// tall as its rows), the TCP state machine or the kernel's settings and counters (these
// two take more height, from the ladder), and a status line.
#include "i18n.hpp"
#include "presenter.hpp"
#include "ui.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

namespace sockscope {
namespace {

constexpr ImGuiWindowFlags kPanelFlags = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                         ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings |
                                         ImGuiWindowFlags_NoBringToFrontOnFocus;

// A title that changes with the language while the window keeps its identity.
std::string Title(Lang lang, const char* english, const char* id)
{
    return std::string(Tr(lang, english)) + "###" + id;
}

bool BeginPanel(const std::string& title, ImVec2 pos, ImVec2 size, ImGuiWindowFlags extra = 0)
{
    ImGui::SetNextWindowPos(pos);
    ImGui::SetNextWindowSize(size);
    return ImGui::Begin(title.c_str(), nullptr, kPanelFlags | extra);
}

void DrawTab(LowerTab tab, const char* label, UiState& state, const std::function<void()>& draw)
{
    ImGuiTabItemFlags flags = state.SelectTab && state.Tab == tab ? ImGuiTabItemFlags_SetSelected : 0;
    std::string title = Title(state.Language, label, label);
    if (ImGui::BeginTabItem(title.c_str(), nullptr, flags)) {
        // A requested tab is selected a frame later: until it shows, keep the request.
        if (!state.SelectTab)
            state.Tab = tab;
        else if (state.Tab == tab)
            state.SelectTab = false;
        if (ImGui::BeginChild("##tab", ImVec2(0, 0), false))
            draw();
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
}

} // namespace

std::optional<LowerTab> LowerTabFromName(std::string_view name)
{
    if (name == "sockets")
        return LowerTab::Sockets;
    if (name == "state")
        return LowerTab::StateMachine;
    if (name == "kernel")
        return LowerTab::Kernel;
    if (name == "code")
        return LowerTab::Code;
    if (name == "packets")
        return LowerTab::Packets;
    return std::nullopt;
}

std::vector<UiCommand> DrawMainLayout(const UiFrame& frame, UiState& state)
{
    std::vector<UiCommand> commands;
    Lang lang = state.Language;
    const ImGuiStyle& style = ImGui::GetStyle();
    ImVec2 display = ImGui::GetIO().DisplaySize;
    float status_h = ImGui::GetFrameHeight() + style.WindowPadding.y * 2.0f;
    float body_h = std::max(display.y - status_h, 1.0f);
    float top_h = std::floor(body_h * 0.30f);
    // The socket table is as tall as its rows (within limits): the unaccepted
    // connections, last in the table, must not be scrolled out of sight.
    float row_h = ImGui::GetTextLineHeight() + style.CellPadding.y * 2.0f + 1.0f;
    float rows = static_cast<float>(std::max<std::size_t>(frame.Model.Sockets().size(), 3) + 1);
    // The tab bar: a row of tabs, its line and the spacing below it.
    float tabs_h = ImGui::GetFrameHeight() + style.ItemSpacing.y + 1.0f;
    float table_h = tabs_h + style.WindowPadding.y * 2.0f + row_h * rows + 4.0f;
    float bottom_h = std::floor(std::clamp(table_h, body_h * 0.22f, body_h * 0.40f));
    if (state.Tab != LowerTab::Sockets) // the diagram and the counters need the height
        bottom_h = std::floor(std::max(bottom_h, body_h * 0.50f));
    float middle_h = body_h - top_h - bottom_h;
    // The queues need room for a backlog-5 queue's six places on one row.
    float queues_w = std::max(display.x * 0.36f, ImGui::GetFontSize() * 29.0f);
    float ladder_w = std::floor(std::max(display.x - queues_w, display.x * 0.5f));

    if (BeginPanel(Title(lang, "Lesson", "lesson"), ImVec2(0, 0), ImVec2(display.x, top_h)))
        DrawLessonPanel(frame, state, commands);
    ImGui::End();

    if (BeginPanel(Title(lang, "System calls", "ladder"), ImVec2(0, top_h), ImVec2(ladder_w, middle_h)))
        DrawLadderPanel(frame, state);
    ImGui::End();

    if (BeginPanel(Title(lang, "Listen queues (from the kernel)", "queues"), ImVec2(ladder_w, top_h),
                   ImVec2(display.x - ladder_w, middle_h)))
        DrawQueuePanel(frame, state, commands);
    ImGui::End();

    if (BeginPanel("##lower", ImVec2(0, top_h + middle_h), ImVec2(display.x, bottom_h),
                   ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar) &&
        ImGui::BeginTabBar("lower")) {
        DrawTab(LowerTab::Sockets, "Sockets (from the kernel)", state,
                [&] { DrawSocketTable(frame, state, commands); });
        DrawTab(LowerTab::StateMachine, "TCP state machine", state, [&] { DrawStatePanel(frame, state); });
        DrawTab(LowerTab::Kernel, "Kernel settings and counters", state, [&] { DrawKernelPanel(frame, state); });
        DrawTab(LowerTab::Code, "Code", state, [&] { DrawCodePanel(frame, state); });
        DrawTab(LowerTab::Packets, "Packets", state, [&] { DrawPacketPanel(frame, state); });
        ImGui::EndTabBar();
    }
    ImGui::End();

    if (BeginPanel("##status", ImVec2(0, body_h), ImVec2(display.x, status_h),
                   ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar))
        DrawStatusBar(frame, state, commands);
    ImGui::End();
    HandlePresenterKeys(state, commands);
    return commands;
}

} // namespace sockscope
