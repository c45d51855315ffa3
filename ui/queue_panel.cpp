// Each listener's queues against the kernel's limit: the accept queue (connections the
// kernel completed; listen(fd, N) gives it N + 1 places, the kernel's "full" test being
// length > N, so we draw N + 1 slots and fill as many as the kernel counts), the SYN
// queue (request sockets in SYN-RECEIVED) with the clients whose SYNs the kernel is
// dropping because the accept queue is full, and the accepted connections (a descriptor
// holds each). The accept queue comes first, where it always was: it is the lesson's
// point and must stay in sight when the panel is short (a projector at 150 %). Each
// connection is a box named by its client port; when the model moves it to another row,
// its box slides there (UiState::Queues remembers where it was drawn). A row too long
// for boxes is one bar. Under the heading, the listener's packet gates: "hold SYN" and
// "hold handshake ACK".
#include "format.hpp"
#include "i18n.hpp"
#include "queue_model.hpp"
#include "state_model.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cfloat>

namespace sockscope {
namespace {

struct SlotStyle {
    ImU32 Fill;
    ImU32 TextColor;
};

SlotStyle StyleOf(QueueRow row)
{
    switch (row) {
    case QueueRow::Syn: return {colors::Amber, colors::Text};
    case QueueRow::Accept: return {colors::Blue, colors::White};
    case QueueRow::Accepted: return {colors::Green, colors::White};
    }
    return {colors::Blue, colors::White};
}

// A box laid out this frame, drawn once every row is laid out (it may be sliding in from
// another row).
struct LaidBox {
    QueueBoxPlace Place;
    const QueueBox* Box = nullptr;
    ImVec2 Size;
};

// A bar laid out this frame: its track, the length of its places (the accept queue's
// backlog; 0 for a plain count) and the "+1" place after them.
struct LaidBar {
    QueueRow Row = QueueRow::Syn;
    int Count = 0;
    ImVec2 Origin;
    float Unit = 0;         // width of one connection
    float Height = 0;
    int Backlog = -1;       // the accept queue: places less the +1, drawn as a track
    float PlusWidth = 0;
};

class ListenerDrawing {
public:
    ListenerDrawing(const UiFrame& frame, UiState& state, const ListenerView& listener)
        : Frame(frame), State(state), Listener(listener), Origin(ImGui::GetCursorScreenPos()),
          Font(ImGui::GetFontSize()), Mono(state.MonoFont ? state.MonoFont : ImGui::GetFont())
    {
    }

    // The places of a row as boxes, wrapping to the panel's width: `places` slots, the
    // first ones holding `boxes` (drawn later). `last_hint` is written, muted, in the last
    // place when it is free (the "+1" place).
    void Slots(QueueRow row, const std::vector<QueueBox>& boxes, int places, const char* last_hint, float height)
    {
        if (places == 0)
            return;
        float gap = Font * 0.45f;
        // Narrower places rather than a second row, down to the width of ":65535".
        float avail = ImGui::GetContentRegionAvail().x;
        float fit = (avail - gap * (places - 1)) / places;
        ImVec2 size(std::clamp(fit, Font * 3.7f, Font * 4.2f), Font * height);
        avail = std::max(avail, size.x);
        int per_row = std::max(1, static_cast<int>((avail + gap) / (size.x + gap)));
        ImVec2 at = ImGui::GetCursorScreenPos();
        ImDrawList* draw = ImGui::GetWindowDrawList();
        for (int i = 0; i < places; ++i) {
            ImVec2 a(at.x + (i % per_row) * (size.x + gap), at.y + (i / per_row) * (size.y + gap));
            ImVec2 b(a.x + size.x, a.y + size.y);
            draw->AddRectFilled(a, b, colors::SlotEmpty, 4.0f);
            draw->AddRect(a, b, colors::SlotBorder, 4.0f, 0, 2.0f);
            if (i < static_cast<int>(boxes.size())) {
                Boxes.push_back({{boxes[i].Client, row, a.x - Origin.x, a.y - Origin.y}, &boxes[i], size});
            } else if (i == places - 1 && last_hint) {
                ImVec2 text = Mono->CalcTextSizeA(Font, FLT_MAX, 0.0f, last_hint);
                draw->AddText(Mono, Font, ImVec2(a.x + (size.x - text.x) * 0.5f, a.y + (size.y - text.y) * 0.5f),
                              colors::Muted, last_hint);
            }
        }
        int rows = (places + per_row - 1) / per_row;
        ImGui::Dummy(ImVec2(std::min(places, per_row) * (size.x + gap) - gap, rows * (size.y + gap) - gap));
    }

    // A row as one bar, on the listener's common scale (`scale` connections span the
    // panel); the accept queue's track shows its places, its "+1" place apart at the end.
    void Bar(QueueRow row, int count, int scale, int places)
    {
        LaidBar bar;
        bar.Row = row;
        bar.Count = count;
        bar.Origin = ImGui::GetCursorScreenPos();
        bar.Height = Font * 1.4f;
        bar.PlusWidth = Font * 2.2f;
        float track = std::max(ImGui::GetContentRegionAvail().x - bar.PlusWidth - Font * 0.3f, Font * 4.0f);
        bar.Unit = track / static_cast<float>(std::max(scale, 1));
        if (row == QueueRow::Accept)
            bar.Backlog = places - 1;
        Bars.push_back(bar);
        ImGui::Dummy(ImVec2(track + bar.PlusWidth + Font * 0.3f, bar.Height));
    }

    // The boxes and bars at this frame's positions, sliding boxes on top.
    void Finish()
    {
        std::vector<QueueBoxPlace> places;
        for (const auto& box : Boxes)
            places.push_back(box.Place);
        auto points = StepBoxes(State.Queues, Listener.Cookie, places, Frame.Now, Frame.Animate, EaseSeconds(State));
        std::vector<QueueBarCount> counts;
        for (const auto& bar : Bars)
            counts.push_back({bar.Row, bar.Count});
        auto shown = StepBars(State.Queues, Listener.Cookie, counts, Frame.Now, Frame.Animate, EaseSeconds(State));

        ImDrawList* draw = ImGui::GetWindowDrawList();
        for (std::size_t i = 0; i < Bars.size(); ++i)
            DrawBar(draw, Bars[i], shown[i]);
        for (int sliding = 0; sliding < 2; ++sliding)
            for (std::size_t i = 0; i < Boxes.size(); ++i) {
                bool moved = points[i].X != Boxes[i].Place.X || points[i].Y != Boxes[i].Place.Y;
                if (moved == (sliding == 1))
                    DrawBox(draw, Boxes[i], ImVec2(Origin.x + points[i].X, Origin.y + points[i].Y));
            }
    }

private:
    void DrawBox(ImDrawList* draw, const LaidBox& box, ImVec2 a) const
    {
        SlotStyle style = StyleOf(box.Place.Row);
        ImVec2 b(a.x + box.Size.x, a.y + box.Size.y);
        draw->AddRectFilled(a, b, style.Fill, 4.0f);
        draw->AddRect(a, b, colors::SlotBorder, 4.0f, 0, 2.0f);
        // One or two lines (":50123", "fd 5"), each centred.
        const std::string& label = box.Box->Label;
        ImVec2 all = Mono->CalcTextSizeA(Font, FLT_MAX, 0.0f, label.c_str());
        float y = a.y + (box.Size.y - all.y) * 0.5f;
        for (std::size_t begin = 0; begin < label.size();) {
            std::size_t end = std::min(label.find('\n', begin), label.size());
            const char* first = label.c_str() + begin;
            const char* last = label.c_str() + end;
            ImVec2 line = Mono->CalcTextSizeA(Font, FLT_MAX, 0.0f, first, last);
            draw->AddText(Mono, Font, ImVec2(a.x + (box.Size.x - line.x) * 0.5f, y), style.TextColor, first, last);
            y += Font;
            begin = end + 1;
        }
    }

    void DrawBar(ImDrawList* draw, const LaidBar& bar, float shown) const
    {
        SlotStyle style = StyleOf(bar.Row);
        ImVec2 a = bar.Origin;
        float bottom = a.y + bar.Height;
        if (bar.Backlog >= 0) {
            // The track: every place but the last, then the "+1" place on its own.
            ImVec2 end(a.x + bar.Unit * static_cast<float>(bar.Backlog), bottom);
            draw->AddRectFilled(a, end, colors::SlotEmpty, 4.0f);
            float fill = std::min(shown, static_cast<float>(bar.Backlog));
            if (fill > 0)
                draw->AddRectFilled(a, ImVec2(a.x + std::max(bar.Unit * fill, 2.0f), bottom), style.Fill, 4.0f);
            draw->AddRect(a, end, colors::SlotBorder, 4.0f, 0, 2.0f);
            ImVec2 plus_a(end.x + Font * 0.3f, a.y), plus_b(plus_a.x + bar.PlusWidth, bottom);
            bool plus_taken = shown > static_cast<float>(bar.Backlog) + 0.5f;
            draw->AddRectFilled(plus_a, plus_b, plus_taken ? style.Fill : colors::SlotEmpty, 4.0f);
            draw->AddRect(plus_a, plus_b, colors::SlotBorder, 4.0f, 0, 2.0f);
            ImVec2 text = Mono->CalcTextSizeA(Font, FLT_MAX, 0.0f, "+1");
            draw->AddText(Mono, Font,
                          ImVec2(plus_a.x + (bar.PlusWidth - text.x) * 0.5f, a.y + (bar.Height - text.y) * 0.5f),
                          plus_taken ? style.TextColor : colors::Muted, "+1");
            return;
        }
        if (shown > 0)
            draw->AddRectFilled(a, ImVec2(a.x + std::max(bar.Unit * shown, 2.0f), bottom), style.Fill, 4.0f);
        draw->AddRect(a, ImVec2(a.x + std::max(bar.Unit * static_cast<float>(bar.Count), 2.0f), bottom),
                      colors::SlotBorder, 4.0f, 0, 2.0f);
    }

    const UiFrame& Frame;
    UiState& State;
    const ListenerView& Listener;
    ImVec2 Origin;
    float Font;
    ImFont* Mono;
    std::vector<LaidBox> Boxes;
    std::vector<LaidBar> Bars;
};

std::string PortList(const std::vector<std::uint16_t>& ports, int count)
{
    std::string out;
    for (auto port : ports)
        out += (out.empty() ? ":" : "  :") + std::to_string(port);
    if (count > static_cast<int>(ports.size()))
        out += "  \xe2\x80\xa6"; // "…"
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

void MutedText(const std::string& text)
{
    ImGui::PushStyleColor(ImGuiCol_Text, colors::Muted);
    WrappedText(text);
    ImGui::PopStyleColor();
}

void DrawListener(const ListenerView& listener, const UiFrame& frame, UiState& state,
                  std::vector<UiCommand>& commands)
{
    ListenerDrawing drawing(frame, state, listener);
    Lang lang = state.Language;
    std::string heading = std::string(Tr(lang, "Listener")) + " " + EndpointLabel(listener.Local);
    if (listener.Fd)
        heading += "  fd " + std::to_string(*listener.Fd);
    if (!listener.Actor.empty())
        heading += "  (" + listener.Actor + ")";
    Heading(heading, state);
    DrawListenerGates(listener, frame, state, commands);

    ListenerQueues q = CollectListenerQueues(frame.Model, listener);
    // The bars share one scale, so that a connection is as wide in each.
    int scale = std::max({q.Places, q.Syn.Count, q.Accepted.Count});
    auto row = [&](QueueRow which, const QueueRowView& view, float height) {
        if (view.Count == 0) {
            ImGui::SameLine();
            ImGui::TextDisabled("%s", Tr(lang, "(empty)"));
        } else if (view.Bar) {
            drawing.Bar(which, view.Count, scale, q.Places);
        } else {
            drawing.Slots(which, view.Boxes, view.Count, nullptr, height);
        }
    };

    ImGui::Text(Tr(lang, "Accept queue: %u of %d places taken"), listener.AcceptQueue, q.Places);
    MutedText(PlacesCaption(listener.Backlog, lang));
    if (q.Accept.Bar) {
        drawing.Bar(QueueRow::Accept, q.Accept.Count, scale, q.Places);
        MutedText(Format(Tr(lang, "+1: the kernel calls the accept queue full only when it holds more than the "
                                  "backlog (%u), so %d connections fit."),
                         listener.Backlog, q.Places));
    } else {
        drawing.Slots(QueueRow::Accept, q.Accept.Boxes, q.Places, "+1", 2.2f);
    }
    if (static_cast<int>(listener.AcceptQueue) >= q.Places) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        WrappedText(Tr(lang, "Full: the kernel drops new SYNs until accept() takes one."));
        ImGui::PopStyleColor();
    }

    ImGui::Spacing();
    ImGui::Text(Tr(lang, "SYN queue (SYN-RECEIVED): %u"), listener.SynQueue);
    row(QueueRow::Syn, q.Syn, 2.2f);
    // The first listener's: the window's height that shows both its queues unscrolled
    // (the layout gives it that much next frame, from the socket table's share).
    if (state.QueuesNeed == 0) {
        state.QueuesNeed = ImGui::GetCursorPosY() - ImGui::GetStyle().ItemSpacing.y + ImGui::GetStyle().WindowPadding.y;
        // Still taller than the window (a large font on few lines): the heading scrolls out
        // rather than the SYN queue.
        // Follows the window's height while the user has not scrolled it.
        float hidden = std::max(state.QueuesNeed - ImGui::GetWindowHeight(), 0.0f);
        if (ImGui::GetScrollY() == state.QueuesScrolled && hidden != state.QueuesScrolled) {
            ImGui::SetScrollY(hidden);
            state.QueuesScrolled = std::floor(hidden);
        }
    }
    if (q.SynSentCount > 0) {
        ImGui::Spacing();
        ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        WrappedText(Format(Tr(lang, "Clients in SYN-SENT: %d. Their SYNs get no answer; they retry: %s"),
                           q.SynSentCount, PortList(q.SynSent, q.SynSentCount).c_str()));
        ImGui::PopStyleColor();
    }

    ImGui::Spacing();
    ImGui::Text(Tr(lang, "Accepted (accept() gave each a descriptor): %d"), q.Accepted.Count);
    row(QueueRow::Accepted, q.Accepted, 2.6f);
    drawing.Finish();
}

} // namespace

void DrawQueuePanel(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands)
{
    const auto& listeners = frame.Model.Listeners();
    ForgetOtherListeners(state.Queues, listeners);
    state.QueuesNeed = 0;
    if (listeners.empty()) {
        WrappedText(Tr(state.Language, "No listening socket yet: listen() makes one, and its queues appear here."));
        if (UdpSocketCount(frame.Model) > 0)
            MutedText(Tr(state.Language, "UDP has no listen() and no queue of connections: each datagram waits in its "
                                         "socket's receive queue (Recv-Q in the socket table) until recvfrom() takes it."));
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
