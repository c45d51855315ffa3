// The packet ladder: the packets of one conversation between its client (left) and its
// server (right), one arrow each, oldest at the top (packet_model.hpp says what each
// row reads). The newest arrow flies across in about 300 ms. Captured packets are solid;
// inferred ones (no CAP_NET_RAW) are grey and say so. An ICMP error is red.
#include "format.hpp"
#include "i18n.hpp"
#include "packet_model.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <set>
#include <string>

namespace sockscope {

void DrawPacketPanel(const UiFrame& frame, UiState& state)
{
    Lang lang = state.Language;
    const auto& segments = frame.Model.Segments();
    std::set<std::uint16_t> server_ports;
    for (const auto& l : frame.Model.Listeners())
        server_ports.insert(l.Local.Port);
    if (frame.Lesson.Port > 0)
        server_ports.insert(static_cast<std::uint16_t>(frame.Lesson.Port));
    const PacketLadder ladder = BuildPacketLadder(segments, server_ports, lang);
    if (frame.Capturing && ladder.Datagrams && ladder.AnyInferred && !ladder.AnyCaptured) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        WrappedText(Tr(lang, "Datagrams are not captured here (sockscope-helper forwards TCP only): they are "
                             "inferred from the sends and receives."));
        ImGui::PopStyleColor();
    } else if (frame.Capturing && ladder.Datagrams) {
        WrappedText(Tr(lang, "Captured on the loopback interface (AF_PACKET): real ports, lengths and first bytes "
                             "of each datagram, and the ICMP errors they caused."));
    } else if (frame.Capturing) {
        ImGui::TextUnformatted(Tr(lang, "Captured on the loopback interface (AF_PACKET): real seq, ack, flags and lengths."));
    } else {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        WrappedText(frame.CaptureError.Empty() ? Tr(lang, "No packet capture.") : Tr(lang, frame.CaptureError));
        ImGui::PopStyleColor();
    }
    if (ladder.Rows.empty()) {
        ImGui::TextDisabled("%s", Tr(lang, "No segments yet."));
        return;
    }
    WrappedText(ladder.Title);
    float row_h = ImGui::GetTextLineHeightWithSpacing() * 1.6f;
    if (!ImGui::BeginChild("##ladder", ImVec2(0, 0), false))
        return ImGui::EndChild();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    ImVec2 origin = ImGui::GetCursorScreenPos();
    float width = ImGui::GetContentRegionAvail().x;
    float left = origin.x + width * 0.12f, right = origin.x + width * 0.88f;
    float top = origin.y + ImGui::GetTextLineHeightWithSpacing();
    float height = row_h * static_cast<float>(ladder.Rows.size() + 1);
    ImU32 ink = ImGui::GetColorU32(ImGuiCol_Text);
    const char* client = Tr(lang, "client");
    const char* server = Tr(lang, "server");
    draw->AddText(ImVec2(left - ImGui::CalcTextSize(client).x * 0.5f, origin.y), ink, client);
    draw->AddText(ImVec2(right - ImGui::CalcTextSize(server).x * 0.5f, origin.y), ink, server);
    draw->AddLine(ImVec2(left, top), ImVec2(left, top + height), ink, 2.0f);
    draw->AddLine(ImVec2(right, top), ImVec2(right, top + height), ink, 2.0f);
    for (std::size_t i = 0; i < ladder.Rows.size(); ++i) {
        const PacketRow& row = ladder.Rows[i];
        const Segment& s = *row.S;
        float y0 = top + row_h * (static_cast<float>(i) + 0.3f), y1 = y0 + row_h * 0.6f;
        float x0 = row.ToServer ? left : right, x1 = row.ToServer ? right : left;
        // The newest segment flies across; a paused lesson is a still picture (the time
        // since the segment only grows, so every arrow ends up drawn in full).
        float progress =
            frame.Animate ? std::clamp(static_cast<float>((frame.Now - s.T) / FlightSeconds(state)), 0.0f, 1.0f) : 1.0f;
        float xe = x0 + (x1 - x0) * progress, ye = y0 + (y1 - y0) * progress;
        ImU32 colour = row.Inferred                                 ? colors::Muted
                       : IsIcmp(s) || (s.Flags & FlagRst)            ? colors::Red
                       : s.Flags & (FlagSyn | FlagFin)               ? colors::Blue
                                                                     : ink;
        draw->AddLine(ImVec2(x0, y0), ImVec2(xe, ye), colour, row.Inferred ? 1.0f : 2.0f);
        float dir = row.ToServer ? 1.0f : -1.0f;
        float head = ImGui::GetFontSize() * 0.45f;
        draw->AddTriangleFilled(ImVec2(xe, ye), ImVec2(xe - dir * head, ye - head * 0.5f),
                                ImVec2(xe - dir * head, ye + head * 0.5f), colour);
        ImVec2 size = ImGui::CalcTextSize(row.Label.c_str());
        float lx = (left + right) * 0.5f - size.x * 0.5f;
        draw->AddText(ImVec2(lx, (y0 + y1) * 0.5f - size.y), colour, row.Label.c_str());
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
