// The ladder of system calls: one column per actor (the server, each client), one row
// per call in the order the calls were made, then the lesson's next calls in grey.
// Done calls are plain, a blocked call is amber with how long it has been blocked, a
// failed call is red with its errno.
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <vector>

namespace sockscope {
namespace {

void PushMono(const UiState& state)
{
    ImGui::PushFont(state.MonoFont ? state.MonoFont : ImGui::GetFont());
}

// Lines of `text` in the current font, drawn as one item (WrappedText, with the lines
// already broken).
void DrawLines(const std::vector<std::string>& lines)
{
    ImGui::BeginGroup();
    for (const auto& line : lines)
        ImGui::TextUnformatted(line.c_str());
    ImGui::EndGroup();
}

std::vector<std::string> WrapHere(const std::string& text, float width)
{
    return WrapText(text, std::max(width, 1.0f), [](std::string_view piece) {
        return ImGui::CalcTextSize(piece.data(), piece.data() + piece.size()).x;
    });
}

// A row of the ladder that has happened: a call made, or a moment of a lane's life
// (shown as its line of C).
struct MadeRow {
    CallLook Look;
    std::string Label;   // compact: "connect(3, 127.0.0.1:4000)"
    std::string Tooltip; // as C writes it
    std::string Result;  // "= 0", "blocked in accept() for 3 s"
    const Phrase& Note;
    std::string Layout;  // the sockaddr's bytes, for calls that pass one
};

// The call on the left (wrapped), its result on the right of the first line; when the
// column is too narrow for both (a long errno beside a long call), the result gets a
// line of its own under the call. The two never overlap.
void DrawMade(const MadeRow& made, const UiState& state)
{
    Lang lang = state.Language;
    CallLook look = made.Look;
    const std::string& result = made.Result;
    if (look == CallLook::Blocked)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colors::Amber);
    else if (look == CallLook::Failed)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colors::RedBg);
    bool returned = look == CallLook::Done || look == CallLook::Failed;

    PushMono(state);
    ImVec2 start = ImGui::GetCursorPos();
    float avail = ImGui::GetContentRegionAvail().x;
    float result_w = returned ? ImGui::CalcTextSize(result.c_str()).x : 0.0f;
    float gap = ImGui::GetStyle().ItemSpacing.x;
    const std::string& label = made.Label;
    std::vector<std::string> lines = WrapHere(label, avail - result_w - gap);
    bool beside = returned && avail - result_w - gap >= ImGui::GetFontSize() * 4.0f &&
                  ImGui::CalcTextSize(lines.front().c_str()).x + gap + result_w <= avail;
    if (!beside)
        lines = WrapHere(label, avail);
    ImU32 call_color = look == CallLook::Failed ? colors::Red : look == CallLook::Queued ? colors::Muted : colors::Text;
    ImGui::PushStyleColor(ImGuiCol_Text, call_color);
    DrawLines(lines);
    ImGui::PopStyleColor();
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", made.Tooltip.c_str());
    float end_y = ImGui::GetCursorPosY();
    if (returned) {
        if (beside)
            ImGui::SetCursorPos(ImVec2(start.x + avail - result_w, start.y));
        else // right-aligned on a line of its own, or wrapped from the left when even that is too narrow
            ImGui::SetCursorPosX(start.x + std::max(avail - result_w, 0.0f));
        ImGui::PushStyleColor(ImGuiCol_Text, look == CallLook::Failed ? colors::Red : colors::Green);
        if (result_w <= avail)
            ImGui::TextUnformatted(result.c_str());
        else
            DrawLines(WrapHere(result, avail));
        ImGui::PopStyleColor();
        if (beside)
            ImGui::SetCursorPosY(std::max(end_y, ImGui::GetCursorPosY()));
    }
    ImGui::PopFont();

    if (!returned) {
        // Blocked, running, queued: a line of its own, so it reads as a state, not a result.
        ImGui::PushStyleColor(ImGuiCol_Text, look == CallLook::Blocked ? colors::Text : colors::Muted);
        WrappedText(result);
        ImGui::PopStyleColor();
    }
    if (!made.Note.Empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
        WrappedText(Tr(lang, made.Note));
        ImGui::PopStyleColor();
    }
    if (!made.Layout.empty()) {
        // What bind()/connect() were given, byte by byte: the port after htons().
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
        WrappedText(made.Layout);
        ImGui::PopStyleColor();
    }
}

void DrawMadeCall(const CallEvent& call, const UiFrame& frame, const UiState& state)
{
    DrawMade({LookOf(call), CompactCallLabel(call), CallLabel(call), CallResultLabel(call, frame.Now, state.Language),
              call.Note, SockaddrLayoutOf(call)},
             state);
}

void DrawLaneEvent(const LaneEvent& event, const UiState& state)
{
    std::string label = FormatLaneEvent(event);
    DrawMade({LookOf(event), label, label, LaneEventResultLabel(event, state.Language), event.Note, ""}, state);
}

void DrawPendingCall(const PendingCall& pending, const UiState& state)
{
    Lang lang = state.Language;
    ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
    ImGui::TextUnformatted(pending.First ? Tr(lang, "next:") : Tr(lang, "then:"));
    ImGui::SameLine();
    PushMono(state);
    WrappedText(pending.Label, ImGui::GetContentRegionAvail().x);
    ImGui::PopFont();
    ImGui::PopStyleColor();
    if (!pending.Code.empty() && ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", pending.Code.c_str());
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

} // namespace

void DrawLadderPanel(const UiFrame& frame, UiState& state)
{
    Lang lang = state.Language;
    auto columns = ActorColumns(frame.Model, frame.Lesson.Data);
    if (columns.empty()) {
        ImGui::TextDisabled("%s", Tr(lang, "No calls yet: press Step to make the first one."));
        return;
    }
    auto pending = PendingCalls(frame.Lesson);
    auto cells = LadderCells(frame.Model, columns, pending);

    int count = std::min<int>(static_cast<int>(columns.size()), 63);
    float min_width = ImGui::GetFontSize() * 10.0f;
    bool wide = count * min_width > ImGui::GetContentRegionAvail().x;
    ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_BordersOuter |
                            ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg;
    flags |= wide ? ImGuiTableFlags_ScrollX | ImGuiTableFlags_SizingFixedFit : ImGuiTableFlags_SizingStretchSame;
    if (!ImGui::BeginTable("ladder", count, flags, ImVec2(0, 0)))
        return;
    for (int i = 0; i < count; ++i)
        ImGui::TableSetupColumn(ColumnTitle(columns[i], frame.Model, lang).c_str(),
                                wide ? ImGuiTableColumnFlags_WidthFixed : ImGuiTableColumnFlags_WidthStretch,
                                wide ? min_width : 0.0f);
    ImGui::TableSetupScrollFreeze(0, 1);
    // The headers wrap rather than cut "server pid 4242  fd 3, 4" at the column's edge.
    ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
    for (int i = 0; i < count; ++i) {
        ImGui::TableSetColumnIndex(i);
        WrappedText(ImGui::TableGetColumnName(i));
    }

    // Keep the newest calls in view: whenever calls come or go, and otherwise unless the
    // user scrolled up to read older ones. Sideways too, when the columns scroll: the
    // newest call made (or else the next one) is brought into view.
    bool changed = cells.size() != state.LadderCellsSeen;
    const LadderCell* newest = nullptr;
    for (const auto& cell : cells)
        if (cell.Column < count && (cell.Made() || !newest))
            newest = &cell;
    state.LadderCellsSeen = cells.size();
    bool at_bottom = changed || ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1.0f;
    // Only the newest rows are laid out: wrapping thousands of calls every frame cost more
    // than the whole rest of the window (1,000 connections: 2.3 of 2.9 ms).
    constexpr int kShownRows = 160;
    int last_row = cells.empty() ? 0 : cells.back().Row;
    for (const auto& cell : cells)
        last_row = std::max(last_row, cell.Row);
    int first_row = last_row - kShownRows;
    int row = -1;
    if (first_row > 0) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::TextDisabled(Tr(lang, "(%d earlier rows not shown)"), first_row);
    }
    for (const auto& cell : cells) {
        if (cell.Column >= count || cell.Row < first_row)
            continue;
        if (cell.Row != row) {
            ImGui::TableNextRow();
            row = cell.Row;
        }
        ImGui::TableSetColumnIndex(cell.Column);
        ImGui::PushID(&cell);
        if (cell.Call)
            DrawMadeCall(*cell.Call, frame, state);
        else if (cell.Life)
            DrawLaneEvent(*cell.Life, state);
        else if (cell.Pending)
            DrawPendingCall(*cell.Pending, state);
        if (changed && wide && &cell == newest)
            ImGui::SetScrollHereX(0.5f);
        ImGui::PopID();
    }
    if (cells.empty()) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::TextDisabled("%s", Tr(lang, "No calls yet."));
    }
    if (at_bottom) {
        // Below the tallest cell of the last row (a result drawn beside its call's first
        // line would otherwise be what is scrolled to, leaving the call's last lines out).
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::Dummy(ImVec2(0.0f, 0.0f));
        ImGui::SetScrollHereY(1.0f);
    }
    ImGui::EndTable();
}

} // namespace sockscope
