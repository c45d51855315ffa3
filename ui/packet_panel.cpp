// The packet ladder: the segments of one connection between its client (left) and its
// server (right), one arrow each, oldest at the top, with flags, sequence and
// acknowledgement numbers (relative to each side's first sequence number, as Wireshark
// shows them) and payload length. The newest arrow flies across in about 300 ms.
// Captured segments are solid; inferred ones (no CAP_NET_RAW) are grey and say so.
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sockscope {
namespace {

using Ends = std::pair<Endpoint, Endpoint>; // (client, server)

// A connection's two ends in a stable order: the server is the end on a port a lab
// listener uses (else the lower port).
Ends ConnectionOf(const Segment& s, const std::set<std::uint16_t>& server_ports)
{
    bool src_server = server_ports.count(s.Src.Port) ? true
                      : server_ports.count(s.Dst.Port) ? false
                                                       : s.Src.Port < s.Dst.Port;
    return src_server ? Ends{s.Dst, s.Src} : Ends{s.Src, s.Dst};
}

std::string SegmentLabel(const Segment& s, std::uint32_t seq_base, std::uint32_t ack_base, Lang lang)
{
    std::string text = FlagsName(s.Flags);
    if (s.Inferred)
        return text + (s.Len ? Format(" len=%u", s.Len) : "") + Tr(lang, " (inferred)");
    text += Format(" seq=%u", s.Seq - seq_base);
    if (s.Flags & FlagAck)
        text += Format(" ack=%u", s.Ack - ack_base);
    text += Format(" len=%u", s.Len);
    return text;
}

} // namespace

void DrawPacketPanel(const UiFrame& frame, UiState& state)
{
    Lang lang = state.Language;
    const auto& segments = frame.Model.Segments();
    if (frame.Capturing) {
        ImGui::TextUnformatted(Tr(lang, "Captured on the loopback interface (AF_PACKET): real seq, ack, flags and lengths."));
    } else {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        WrappedText(frame.CaptureError.Empty() ? Tr(lang, "No packet capture.") : Tr(lang, frame.CaptureError));
        ImGui::PopStyleColor();
    }
    if (segments.empty()) {
        ImGui::TextDisabled("%s", Tr(lang, "No segments yet."));
        return;
    }
    std::set<std::uint16_t> server_ports;
    for (const auto& l : frame.Model.Listeners())
        server_ports.insert(l.Local.Port);
    if (frame.Lesson.Port > 0)
        server_ports.insert(static_cast<std::uint16_t>(frame.Lesson.Port));

    // The connection shown: the one of the newest segment.
    Ends shown = ConnectionOf(segments.back(), server_ports);
    std::vector<const Segment*> mine;
    for (const auto& s : segments)
        if (ConnectionOf(s, server_ports) == shown)
            mine.push_back(&s);
    // Relative numbers: each side's first sequence number (its SYN's, when captured).
    std::map<Endpoint, std::uint32_t> base;
    for (const Segment* s : mine)
        if (!s->Inferred)
            base.emplace(s->Src, s->Seq);

    ImGui::Text(Tr(lang, "Connection %s (client) - %s (server): %d segments"), shown.first.ToString().c_str(),
                shown.second.ToString().c_str(), static_cast<int>(mine.size()));
    float row_h = ImGui::GetTextLineHeightWithSpacing() * 1.6f;
    if (!ImGui::BeginChild("##ladder", ImVec2(0, 0), false))
        return ImGui::EndChild();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    ImVec2 origin = ImGui::GetCursorScreenPos();
    float width = ImGui::GetContentRegionAvail().x;
    float left = origin.x + width * 0.12f, right = origin.x + width * 0.88f;
    float top = origin.y + ImGui::GetTextLineHeightWithSpacing();
    float height = row_h * static_cast<float>(mine.size() + 1);
    ImU32 ink = ImGui::GetColorU32(ImGuiCol_Text);
    const char* client = Tr(lang, "client");
    const char* server = Tr(lang, "server");
    draw->AddText(ImVec2(left - ImGui::CalcTextSize(client).x * 0.5f, origin.y), ink, client);
    draw->AddText(ImVec2(right - ImGui::CalcTextSize(server).x * 0.5f, origin.y), ink, server);
    draw->AddLine(ImVec2(left, top), ImVec2(left, top + height), ink, 2.0f);
    draw->AddLine(ImVec2(right, top), ImVec2(right, top + height), ink, 2.0f);
    for (std::size_t i = 0; i < mine.size(); ++i) {
        const Segment& s = *mine[i];
        bool to_server = s.Src == shown.first;
        float y0 = top + row_h * (static_cast<float>(i) + 0.3f), y1 = y0 + row_h * 0.6f;
        float x0 = to_server ? left : right, x1 = to_server ? right : left;
        // The newest segment flies across; a paused lesson is a still picture (the time
        // since the segment only grows, so every arrow ends up drawn in full).
        float progress =
            frame.Animate ? std::clamp(static_cast<float>((frame.Now - s.T) / FlightSeconds(state)), 0.0f, 1.0f) : 1.0f;
        float xe = x0 + (x1 - x0) * progress, ye = y0 + (y1 - y0) * progress;
        ImU32 colour = s.Inferred ? colors::Muted
                       : (s.Flags & (FlagSyn | FlagFin | FlagRst)) ? (s.Flags & FlagRst ? colors::Red : colors::Blue)
                                                                  : ink;
        draw->AddLine(ImVec2(x0, y0), ImVec2(xe, ye), colour, s.Inferred ? 1.0f : 2.0f);
        float dir = to_server ? 1.0f : -1.0f;
        float head = ImGui::GetFontSize() * 0.45f;
        draw->AddTriangleFilled(ImVec2(xe, ye), ImVec2(xe - dir * head, ye - head * 0.5f),
                                ImVec2(xe - dir * head, ye + head * 0.5f), colour);
        std::uint32_t seq_base = base.count(s.Src) ? base[s.Src] : 0;
        std::uint32_t ack_base = base.count(s.Dst) ? base[s.Dst] : 0;
        std::string label = SegmentLabel(s, seq_base, ack_base, lang);
        ImVec2 size = ImGui::CalcTextSize(label.c_str());
        float lx = (left + right) * 0.5f - size.x * 0.5f;
        draw->AddText(ImVec2(lx, (y0 + y1) * 0.5f - size.y), colour, label.c_str());
        draw->AddText(ImVec2(origin.x, y0 - size.y * 0.5f), colors::Muted, Format("%.3f", s.T).c_str());
    }
    ImGui::Dummy(ImVec2(width, height + row_h));
    // Follow the newest segment when one arrives (scrolling back stays put otherwise).
    if (segments.size() != state.SegmentsSeen)
        ImGui::SetScrollHereY(1.0f);
    state.SegmentsSeen = segments.size();
    ImGui::EndChild();
}

} // namespace sockscope
