// Every socket the kernel and the lab know about, one row each: what `ss -tanoe` would
// print, plus which descriptor (if any) holds it. A connection the kernel completed that
// nobody has accepted has "no fd yet", highlighted: that is the lesson. The last column
// holds the packet gates of the connections the lab holds ("hold FIN", "hold ACK").
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>
#include <imgui_internal.h> // the table's columns: how wide their contents were

#include <algorithm>
#include <cmath>

#include <netinet/in.h>

namespace sockscope {
namespace {

// The hold toggles come before owner and cookie: at a large font the table scrolls
// sideways, and what a teacher clicks should be in the first screenful.
enum Column {
    ColRole, ColLocal, ColRemote, ColState, ColQueue, ColFd, ColRecvQ, ColSendQ, ColTimer, ColGate, ColOwner,
    ColCookie, ColumnCount
};

void Cell(const std::string& text, ImFont* font = nullptr)
{
    if (font)
        ImGui::PushFont(font);
    ImGui::TextUnformatted(text.c_str());
    if (font)
        ImGui::PopFont();
}

// A queue's length from the kernel and, when sockscope saw them written, the bytes
// waiting in it (escaped: peers' bytes are shown, never interpreted).
void QueueCell(bool in_kernel, std::uint32_t length, const std::optional<std::string>& bytes, ImFont* mono,
               Lang lang)
{
    if (!in_kernel) {
        Cell("-", mono);
        return;
    }
    std::string text = std::to_string(length);
    if (bytes && !bytes->empty())
        text += " \"" + EscapeBytes(*bytes, 12) + "\"";
    Cell(text, mono);
    if (bytes && !bytes->empty() && ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", (Format(Tr(lang, "%zu bytes waiting:"), bytes->size()) + "\n\"" +
                                 EscapeBytes(*bytes, 512) + "\"").c_str());
}

void DrawGateCell(const SocketView& s, const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    if (s.Role == SocketRole::Listener) {
        // The listener's toggles are in the queue panel, by its SYN queue; here only its state.
        GateStatus gate = GateOf(frame.Model, s.Actor, s.Handle);
        if (!gate.Held.empty()) {
            ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colors::Amber);
            Cell(GateToggleLabel(gate.Held, true, lang));
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("%s", GateExplanation(gate.Held, lang));
        }
        return;
    }
    if (GateChoices(s).empty())
        return;
    ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(ImGui::GetStyle().FramePadding.x, 0));
    GateStatus gate = DrawGateToggles(frame.Model, s, frame.Lesson.Busy, lang, commands, false);
    ImGui::PopStyleVar();
    if (!gate.Held.empty())
        ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colors::Amber);
}

void DrawRow(const SocketView& s, const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    ImFont* mono = state.MonoFont;
    ImGui::TableNextRow();

    ImGui::TableSetColumnIndex(ColRole);
    std::string role(SocketRoleName(s.Role)); // the trace's word; the table shows its translation
    Cell(Tr(lang, role.c_str()));
    ImGui::TableSetColumnIndex(ColLocal);
    Cell(EndpointLabel(s.K.Local), mono);
    ImGui::TableSetColumnIndex(ColRemote);
    Cell(EndpointLabel(s.K.Remote), mono);
    ImGui::TableSetColumnIndex(ColState);
    // A state the socket has just entered eases in: its cell glows and fades over
    // kEaseSeconds, less at a Play speed above 1x (a screenshot, or a paused lesson, shows
    // it settled).
    if (!s.History.empty() && frame.Animate) {
        double age = frame.Now - s.History.back().T;
        double ease = EaseSeconds(state);
        if (age >= 0 && age < ease) {
            ImVec4 glow = ImGui::ColorConvertU32ToFloat4(colors::Amber);
            glow.w = static_cast<float>(1.0 - age / ease);
            ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, ImGui::ColorConvertFloat4ToU32(glow));
        }
    }
    std::string shown(SocketStateName(s.State(), s.K.Proto));
    Cell(s.K.Proto == IPPROTO_UDP ? shown + " (UDP)" : shown);
    ImGui::TableSetColumnIndex(ColQueue);
    Cell(s.Queue == QueueKind::None ? "-" : std::string(QueueKindName(s.Queue)));

    ImGui::TableSetColumnIndex(ColFd);
    if (s.NoFdYet()) {
        ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colors::Amber);
        Cell(FdLabel(s, lang));
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("%s", Tr(lang, "The kernel finished this connection; no process has a descriptor "
                                             "for it until accept() returns one."));
    } else {
        ImGui::PushStyleColor(ImGuiCol_Text, s.Fd ? colors::Text : colors::Muted);
        Cell(FdLabel(s, lang));
        ImGui::PopStyleColor();
    }

    ImGui::TableSetColumnIndex(ColRecvQ);
    QueueCell(s.InKernel, s.K.RecvQ, s.RecvBytes, mono, lang);
    ImGui::TableSetColumnIndex(ColSendQ);
    QueueCell(s.InKernel, s.K.SendQ, s.SendBytes, mono, lang);
    ImGui::TableSetColumnIndex(ColTimer);
    // The monospaced font has no Chinese glyphs ("重传 0.2 秒").
    Cell(TimerLabel(s, lang), lang == Lang::En ? mono : nullptr);
    ImGui::TableSetColumnIndex(ColOwner);
    // --watch made none of them (as its trace lines say).
    Cell(OwnerLabel(s, &frame.Model));
    ImGui::TableSetColumnIndex(ColCookie);
    Cell(CookieLabel(s.Cookie), mono);
    ImGui::TableSetColumnIndex(ColGate);
    DrawGateCell(s, frame, state, commands);
}

} // namespace

bool Animating(const World& world, LowerTab tab, double now)
{
    if (tab == LowerTab::Packets && !world.Segments().empty() && now - world.Segments().back().T < kFlightSeconds)
        return true;
    if (tab == LowerTab::Sockets)
        for (const auto& s : world.Sockets())
            if (!s.History.empty() && now - s.History.back().T < kEaseSeconds)
                return true;
    return false;
}

void DrawSocketTable(const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    const auto& sockets = frame.Model.Sockets();
    // Every column as wide as its widest cell, so no address, timer or toggle is ever cut
    // (at 200 % or in Chinese); when they do not all fit, the table scrolls sideways with
    // the role column kept in view.
    ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                            ImGuiTableFlags_ScrollX | ImGuiTableFlags_SizingFixedFit;
    // ImGui fits a column to the cells it drew in the last frame, but the widest may be
    // scrolled out of view: a table that then narrows loses its horizontal scrollbar,
    // shows one more row and widens again, every other frame. So each column keeps the
    // widest it has been (for this language and font size) in the window's storage.
    ImGuiStorage* storage = ImGui::GetStateStorage();
    float font_size = ImGui::GetFontSize();
    ImGuiID widths = ImGui::GetID("sockets widths") ^ ImHashData(&font_size, sizeof font_size, static_cast<ImU32>(lang));
    if (!ImGui::BeginTable("sockets", ColumnCount, flags, ImVec2(0, 0)))
        return;
    ImGuiTable* table = ImGui::GetCurrentTable();
    const char* names[ColumnCount] = {Tr(lang, "role"), Tr(lang, "local"), Tr(lang, "remote"), Tr(lang, "state"),
                                      Tr(lang, "queue"), Tr(lang, "fd"), "Recv-Q", "Send-Q", Tr(lang, "timer"),
                                      Tr(lang, "hold segments"), Tr(lang, "owner"), Tr(lang, "cookie")};
    for (int i = 0; i < ColumnCount; ++i)
        ImGui::TableSetupColumn(names[i], ImGuiTableColumnFlags_WidthFixed, storage->GetFloat(widths + i, 0.0f));
    ImGui::TableSetColumnWidthAutoAll(table); // every column, on screen or not, to the width above
    ImGui::TableSetupScrollFreeze(1, 1);
    ImGui::TableHeadersRow();

    if (sockets.empty()) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::TextDisabled("%s", Tr(lang, "No sockets yet."));
    }
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(sockets.size()));
    while (clipper.Step())
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
            ImGui::PushID(i);
            DrawRow(sockets[i], frame, state, commands);
            ImGui::PopID();
        }
    // The last rows (the connections not accepted yet) stay in view when rows come and go
    // or the table's height changes, unless the user has scrolled up.
    ImGuiID rows_seen = ImGui::GetID("sockets rows") ^ static_cast<ImU32>(lang);
    ImGuiID was_at_bottom = rows_seen + 1;
    bool at_bottom = ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1.0f;
    bool rows_changed = storage->GetInt(rows_seen, -1) != static_cast<int>(sockets.size());
    if ((rows_changed && at_bottom) || (storage->GetBool(was_at_bottom, true) && !at_bottom && !ImGui::IsWindowHovered()))
        ImGui::SetScrollY(1e9f); // clamped to the bottom (FLT_MAX would mean "no target")
    storage->SetInt(rows_seen, static_cast<int>(sockets.size()));
    storage->SetBool(was_at_bottom, at_bottom || rows_changed);
    ImGui::EndTable();
    for (int i = 0; i < ColumnCount; ++i) {
        const ImGuiTableColumn& c = table->Columns[i];
        float cells = std::max(c.ContentMaxXFrozen, c.ContentMaxXUnfrozen) - c.WorkMinX;
        float wanted = std::max(cells, c.ContentMaxXHeadersIdeal - c.WorkMinX);
        if (wanted > storage->GetFloat(widths + i, 0.0f))
            storage->SetFloat(widths + i, std::ceil(wanted));
    }
}

} // namespace sockscope
