// Each listener's queues against the kernel's limit. listen(fd, N) gives the accept
// queue N + 1 places (the kernel's "full" test is length > N): we draw N + 1 slots and
// fill as many as the kernel counts, each with the client port of the connection in it.
// Below: the SYN queue (request sockets in SYN-RECEIVED) and the clients whose SYNs the
// kernel is dropping because the accept queue is full. Under the heading, the
// listener's packet gates: "hold SYN" and "hold handshake ACK".
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cfloat>

namespace sockscope {
namespace {

constexpr int kMostSlotsDrawn = 48;

struct SlotStyle {
    ImU32 Fill;
    ImU32 TextColor;
};

// Draw `labels` as boxes, wrapping to the panel's width. A non-empty label is a taken
// place (drawn with `taken`); an empty one is free. `last_hint` is written, muted, in the
// last box when it is free (the "+1" place).
void DrawSlots(const std::vector<std::string>& labels, SlotStyle taken, const char* last_hint, const UiState& state)
{
    float font = ImGui::GetFontSize();
    float gap = font * 0.45f;
    int drawn = std::min<int>(static_cast<int>(labels.size()), kMostSlotsDrawn);
    if (drawn == 0)
        return;
    // Narrower places rather than a second row, down to the width of ":65535".
    float avail = ImGui::GetContentRegionAvail().x;
    float fit = (avail - gap * (drawn - 1)) / drawn;
    ImVec2 size(std::clamp(fit, font * 3.7f, font * 4.2f), font * 2.2f);
    avail = std::max(avail, size.x);
    int per_row = std::max(1, static_cast<int>((avail + gap) / (size.x + gap)));
    ImVec2 origin = ImGui::GetCursorScreenPos();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    ImFont* mono = state.MonoFont ? state.MonoFont : ImGui::GetFont();

    for (int i = 0; i < drawn; ++i) {
        ImVec2 a(origin.x + (i % per_row) * (size.x + gap), origin.y + (i / per_row) * (size.y + gap));
        ImVec2 b(a.x + size.x, a.y + size.y);
        const std::string& label = labels[i];
        bool filled = !label.empty();
        draw->AddRectFilled(a, b, filled ? taken.Fill : colors::SlotEmpty, 4.0f);
        draw->AddRect(a, b, colors::SlotBorder, 4.0f, 0, 2.0f);
        const char* text = filled ? label.c_str() : (i == drawn - 1 && last_hint ? last_hint : "");
        if (*text) {
            ImVec2 text_size = mono->CalcTextSizeA(font, FLT_MAX, 0.0f, text);
            ImVec2 at(a.x + (size.x - text_size.x) * 0.5f, a.y + (size.y - text_size.y) * 0.5f);
            draw->AddText(mono, font, at, filled ? taken.TextColor : colors::Muted, text);
        }
    }
    int rows = (drawn + per_row - 1) / per_row;
    ImGui::Dummy(ImVec2(std::min(drawn, per_row) * (size.x + gap) - gap, rows * (size.y + gap) - gap));
    if (static_cast<int>(labels.size()) > drawn)
        ImGui::TextDisabled(Tr(state.Language, "... and %d more places"), static_cast<int>(labels.size()) - drawn);
}

std::string PortList(const std::vector<std::uint16_t>& ports)
{
    std::string out;
    for (auto port : ports)
        out += (out.empty() ? ":" : "  :") + std::to_string(port);
    return out;
}

void DrawListenerGates(const ListenerView& listener, const UiFrame& frame, const UiState& state,
                       std::vector<UiCommand>& commands)
{
    const SocketView* socket = frame.Model.FindSocket(listener.Cookie);
    if (!socket || GateChoices(*socket).empty())
        return;
    Lang lang = state.Language;
    GateStatus gate = DrawGateToggles(frame.Model, *socket, frame.Lesson.Busy, lang, commands);
    if (!gate.Held.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        WrappedText(GateExplanation(gate.Held, lang));
        ImGui::PopStyleColor();
    }
}

void DrawListener(const ListenerView& listener, const UiFrame& frame, const UiState& state,
                  std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    std::string heading = std::string(Tr(lang, "Listener")) + " " + EndpointLabel(listener.Local);
    if (listener.Fd)
        heading += "  fd " + std::to_string(*listener.Fd);
    if (!listener.Actor.empty())
        heading += "  (" + listener.Actor + ")";
    Heading(heading, state);
    DrawListenerGates(listener, frame, state, commands);

    int places = AcceptQueuePlaces(listener.Backlog);
    ImGui::Text(Tr(lang, "Accept queue: %u of %d places taken"), listener.AcceptQueue, places);
    ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
    ImGui::TextUnformatted(PlacesCaption(listener.Backlog, lang).c_str());
    ImGui::PopStyleColor();
    DrawSlots(AcceptQueueSlotLabels(frame.Model, listener), {colors::Blue, colors::White}, "+1", state);
    if (static_cast<int>(listener.AcceptQueue) >= places) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        WrappedText(Tr(lang, "Full: the kernel drops new SYNs until accept() takes one."));
        ImGui::PopStyleColor();
    }

    ImGui::Spacing();
    ImGui::Text(Tr(lang, "SYN queue (SYN-RECEIVED): %u"), listener.SynQueue);
    auto syn_ports = QueuedClientPorts(frame.Model, listener, QueueKind::Syn);
    std::vector<std::string> syn_labels;
    for (std::uint32_t i = 0; i < listener.SynQueue; ++i)
        syn_labels.push_back(i < syn_ports.size() ? ":" + std::to_string(syn_ports[i]) : ":?");
    if (syn_labels.empty()) {
        ImGui::SameLine();
        ImGui::TextDisabled("%s", Tr(lang, "(empty)"));
    } else {
        DrawSlots(syn_labels, {colors::Amber, colors::Text}, nullptr, state);
    }

    auto stuck = SynSentClientPorts(frame.Model, listener);
    if (!stuck.empty()) {
        ImGui::Spacing();
        ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        WrappedText(Format(Tr(lang, "Clients in SYN-SENT: %d. Their SYNs get no answer; they retry: %s"),
                           static_cast<int>(stuck.size()), PortList(stuck).c_str()));
        ImGui::PopStyleColor();
    }
}

} // namespace

void DrawQueuePanel(const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands)
{
    const auto& listeners = frame.Model.Listeners();
    if (listeners.empty()) {
        WrappedText(Tr(state.Language, "No listening socket yet: listen() makes one, and its queues appear here."));
        return;
    }
    for (std::size_t i = 0; i < listeners.size(); ++i) {
        ImGui::PushID(static_cast<int>(i));
        if (i > 0)
            ImGui::Separator();
        DrawListener(listeners[i], frame, state, commands);
        ImGui::PopID();
    }
}

} // namespace sockscope
