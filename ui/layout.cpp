// The projector layout: fixed windows filling the display, placed by PlanLayout from the
// display and the font size. Wide: the lesson across the top (as tall as its text needs,
// within limits), the call ladder and the queues side by side, then tabs: the socket
// table (as tall as its rows), the TCP state machine or the kernel's settings and
// counters (these two take more height, from the ladder), and a status line. Narrow (a
// large font on a small display): the lesson on top and every other panel a tab.
#include "i18n.hpp"
#include "layout_plan.hpp"
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

bool BeginPanel(const std::string& title, const PanelRect& rect, ImGuiWindowFlags extra = 0)
{
    ImGui::SetNextWindowPos(rect.Pos);
    ImGui::SetNextWindowSize(rect.Size);
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
    if (name == "calls")
        return LowerTab::Calls;
    if (name == "queues")
        return LowerTab::Queues;
    return std::nullopt;
}

LayoutMode ChooseLayoutMode(ImVec2 display, float font_size)
{
    float em = std::max(font_size, 1.0f);
    return display.x / em >= kWideMinEms && display.y / em >= kWideMinHeightEms ? LayoutMode::Wide
                                                                                 : LayoutMode::Narrow;
}

LayoutPlan PlanLayout(const LayoutNeeds& needs)
{
    LayoutPlan plan;
    plan.Mode = ChooseLayoutMode(needs.Display, needs.FontSize);
    float width = needs.Display.x;
    float line = std::max(needs.LineHeight, 1.0f);
    float status_h = std::min(needs.StatusHeight, needs.Display.y);
    float body_h = std::max(needs.Display.y - status_h, 1.0f);
    plan.Status = {ImVec2(0, body_h), ImVec2(width, status_h)};

    // The lesson panel: what its text needs, at least eight lines and its controls (which
    // never scroll), at most a share of the height; its narration scrolls beyond that. (A
    // short display in the wide layout, 1280x720 or 150 % on 1080 lines, gives a little
    // less, for the socket table's rows.)
    float lesson_share = plan.Mode == LayoutMode::Narrow ? 0.45f
                         : needs.Display.y / std::max(needs.FontSize, 1.0f) < 50.0f ? 0.34f
                                                                                     : 0.36f;
    // A question before the next step and its choices are what the class looks at now.
    if (needs.Asking)
        lesson_share = std::max(lesson_share, 0.5f);
    float lesson_min = std::floor(std::min(std::max(line * 8.0f, needs.LessonControlsHeight), body_h * 0.45f));
    float lesson_max = std::max(std::floor(body_h * lesson_share), lesson_min);
    float top_h = std::floor(std::clamp(needs.LessonHeight, lesson_min, lesson_max));
    plan.Lesson = {ImVec2(0, 0), ImVec2(width, top_h)};

    if (plan.Mode == LayoutMode::Narrow) {
        // Every other panel is a tab of the whole width and the rest of the height.
        plan.Lower = {ImVec2(0, top_h), ImVec2(width, body_h - top_h)};
        return plan;
    }
    // The socket table as tall as its rows (within limits): the unaccepted connections,
    // last in the table, must not be scrolled out of sight. The state machine and the
    // counters need more height.
    float rest = body_h - top_h;
    float bottom_h = std::clamp(needs.TableHeight, body_h * 0.22f, body_h * 0.42f);
    if (needs.Tab != LowerTab::Sockets)
        bottom_h = std::max(bottom_h, body_h * 0.5f);
    // The ladder and the queues keep eight lines: their newest calls and the accept queue;
    // more if the first listener's SYN queue would be cut, down to the table's three rows.
    float middle_min = std::min(line * 8.0f, rest * 0.5f);
    if (needs.Tab == LowerTab::Sockets && needs.TableMinHeight > 0)
        middle_min = std::max(middle_min, std::min(needs.QueuesHeight, rest - needs.TableMinHeight));
    bottom_h = std::floor(std::min(bottom_h, rest - middle_min));
    float middle_h = rest - bottom_h;
    // The queues need room for a backlog-5 queue's six places on one row.
    float queues_w = std::clamp(width * 0.36f, std::min(needs.FontSize * 27.0f, width * 0.5f), width * 0.5f);
    float ladder_w = std::floor(width - queues_w);
    plan.Ladder = {ImVec2(0, top_h), ImVec2(ladder_w, middle_h)};
    plan.Queues = {ImVec2(ladder_w, top_h), ImVec2(width - ladder_w, middle_h)};
    plan.Lower = {ImVec2(0, top_h + middle_h), ImVec2(width, bottom_h)};
    return plan;
}

std::vector<UiCommand> DrawMainLayout(const UiFrame& frame, UiState& state)
{
    std::vector<UiCommand> commands;
    Lang lang = state.Language;
    const ImGuiStyle& style = ImGui::GetStyle();
    LayoutNeeds needs;
    needs.Display = ImGui::GetIO().DisplaySize;
    needs.FontSize = ImGui::GetFontSize();
    needs.LineHeight = ImGui::GetTextLineHeightWithSpacing();
    needs.StatusHeight = ImGui::GetFrameHeight() + style.WindowPadding.y * 2.0f;
    needs.Tab = state.Tab;
    state.Layout = ChooseLayoutMode(needs.Display, needs.FontSize);
    bool narrow = state.Layout == LayoutMode::Narrow;
    if (!narrow && (state.Tab == LowerTab::Calls || state.Tab == LowerTab::Queues)) {
        state.Tab = LowerTab::Sockets; // those tabs are panels of their own here
        state.SelectTab = true;
    }
    if (frame.Program) { // its output takes what the lesson's share gives
        needs.LessonHeight = needs.Display.y;
        needs.LessonControlsHeight = needs.LineHeight * (frame.Program->Watch ? 3.0f : 8.0f);
    } else {
        needs.LessonHeight = LessonPanelHeight(frame, state, needs.Display.x);
        needs.LessonControlsHeight = LessonControlsHeight(frame, state, needs.Display.x);
    }
    // The tab bar, the table's header and rows (at least three), the window's padding.
    float row_h = ImGui::GetTextLineHeight() + style.CellPadding.y * 2.0f + 1.0f;
    float rows = static_cast<float>(std::max<std::size_t>(frame.Model.Sockets().size(), 3) + 1);
    float tabs_h = ImGui::GetFrameHeight() + style.ItemSpacing.y + 1.0f;
    needs.TableHeight = tabs_h + style.WindowPadding.y * 2.0f + row_h * rows + style.ScrollbarSize + 4.0f;
    needs.TableMinHeight = tabs_h + style.WindowPadding.y * 2.0f + row_h * 3.0f + style.ScrollbarSize + 4.0f;
    needs.QueuesHeight = state.QueuesNeed;
    if (const Lesson* data = frame.Lesson.Data) {
        std::size_t next = static_cast<std::size_t>(frame.Lesson.StepIndex + 1);
        needs.Asking = !frame.Lesson.Busy && next < data->Steps.size() && data->Steps[next].Ask.has_value();
    }
    LayoutPlan plan = PlanLayout(needs);

    // No title bar over the lesson: its picker says "Lesson", and the line is worth more
    // to the narration at 200 % or on 720 lines.
    if (BeginPanel(Title(lang, "Lesson", "lesson"), plan.Lesson, ImGuiWindowFlags_NoTitleBar)) {
        if (frame.Program)
            DrawProgramPanel(frame, state, commands);
        else
            DrawLessonPanel(frame, state, commands);
    }
    ImGui::End();

    if (plan.Ladder.Shown()) {
        if (BeginPanel(Title(lang, "System calls", "ladder"), plan.Ladder))
            DrawLadderPanel(frame, state);
        ImGui::End();
    }
    if (plan.Queues.Shown()) {
        if (BeginPanel(Title(lang, "Listen queues (from the kernel)", "queues"), plan.Queues))
            DrawQueuePanel(frame, state, commands);
        ImGui::End();
    }

    if (BeginPanel("##lower", plan.Lower, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar) &&
        ImGui::BeginTabBar("lower", ImGuiTabBarFlags_FittingPolicyScroll)) {
        // Narrow: the ladder and the queues come first, and every label is short enough
        // for seven tabs on one row at 200 %.
        if (narrow) {
            DrawTab(LowerTab::Calls, "System calls", state, [&] { DrawLadderPanel(frame, state); });
            DrawTab(LowerTab::Queues, "Queues", state, [&] { DrawQueuePanel(frame, state, commands); });
        }
        DrawTab(LowerTab::Sockets, narrow ? "Sockets" : "Sockets (from the kernel)", state,
                [&] { DrawSocketTable(frame, state, commands); });
        DrawTab(LowerTab::StateMachine, narrow ? "States" : "TCP state machine", state,
                [&] { DrawStatePanel(frame, state); });
        DrawTab(LowerTab::Kernel, narrow ? "Kernel" : "Kernel settings and counters", state,
                [&] { DrawKernelPanel(frame, state); });
        DrawTab(LowerTab::Code, "Code", state, [&] { DrawCodePanel(frame, state); });
        DrawTab(LowerTab::Packets, "Packets", state, [&] { DrawPacketPanel(frame, state); });
        ImGui::EndTabBar();
    }
    ImGui::End();

    if (BeginPanel("##status", plan.Status, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar))
        DrawStatusBar(frame, state, commands);
    ImGui::End();
    HandlePresenterKeys(state, commands);
    return commands;
}

void DrawDiagramAlone(int which, const UiFrame& frame, UiState& state)
{
    static const char* const kTitles[] = {"System calls", "Packets", "TCP state machine"};
    which = std::clamp(which, 0, 2);
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    if (BeginPanel(Title(state.Language, kTitles[which], "diagram"), {viewport->Pos, viewport->Size})) {
        if (which == 0)
            DrawLadderPanel(frame, state);
        else if (which == 1)
            DrawPacketPanel(frame, state);
        else
            DrawStatePanel(frame, state);
    }
    ImGui::End();
}

} // namespace sockscope
