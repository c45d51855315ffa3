// The TCP state machine (RFC 9293, figure 5) drawn with ImDrawList, as the classic
// diagram lays it out: CLOSED on top, the active open on the left and the passive open
// on the right, ESTABLISHED in the middle, the closing states below (the side that
// closes first on the left). Each box shows how many sockets the kernel has in that
// state now; the arrows that sockets took in the last two seconds are drawn in blue.
// Everything scales with the space the panel gets.
#include "format.hpp"
#include "i18n.hpp"
#include "state_model.hpp"
#include "theme.hpp"
#include "ui.hpp"

#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace sockscope {
namespace {

constexpr ImU32 kBoxFill = IM_COL32(255, 255, 255, 255);
constexpr ImU32 kBoxBorder = IM_COL32(120, 120, 120, 255);
constexpr ImU32 kBusyFill = IM_COL32(219, 234, 252, 255);
constexpr ImU32 kArrow = IM_COL32(150, 150, 150, 255);
constexpr ImU32 kLabelBg = IM_COL32(251, 251, 251, 235);

ImVec2 operator+(ImVec2 a, ImVec2 b) { return ImVec2(a.x + b.x, a.y + b.y); }
ImVec2 operator-(ImVec2 a, ImVec2 b) { return ImVec2(a.x - b.x, a.y - b.y); }
ImVec2 operator*(ImVec2 a, float k) { return ImVec2(a.x * k, a.y * k); }

struct Rect {
    ImVec2 Min;
    ImVec2 Max;
    ImVec2 Center() const { return ImVec2((Min.x + Max.x) * 0.5f, (Min.y + Max.y) * 0.5f); }
};

// Where the ray from inside `r` along `dir` leaves it.
ImVec2 Exit(const Rect& r, ImVec2 from, ImVec2 dir)
{
    float t = FLT_MAX;
    if (dir.x > 1e-4f) t = std::min(t, (r.Max.x - from.x) / dir.x);
    if (dir.x < -1e-4f) t = std::min(t, (r.Min.x - from.x) / dir.x);
    if (dir.y > 1e-4f) t = std::min(t, (r.Max.y - from.y) / dir.y);
    if (dir.y < -1e-4f) t = std::min(t, (r.Min.y - from.y) / dir.y);
    return t == FLT_MAX ? from : from + dir * t;
}

// Sizes in pixels for one frame: everything follows the text size.
struct Metrics {
    float Text = 16;  // box names
    float Small = 14; // arrow labels, legend
    ImVec2 Box;
    float Gap = 4;    // between a label and its arrow
    float Shift = 5;  // how far a two-way pair moves apart
};

struct Diagram {
    ImDrawList* Draw = nullptr;
    ImFont* Font = nullptr;
    Metrics M;
    Rect Boxes[kDiagramBoxCount];
};

ImVec2 TextSize(const Diagram& d, float size, const char* text)
{
    return d.Font->CalcTextSizeA(size, FLT_MAX, 0.0f, text);
}

void DrawArrow(const Diagram& d, const DiagramArrow& arrow, int recent, Lang lang)
{
    const Rect& from = d.Boxes[static_cast<int>(arrow.From)];
    const Rect& to = d.Boxes[static_cast<int>(arrow.To)];
    ImVec2 a = from.Center(), b = to.Center();
    ImVec2 delta = b - a;
    float length = std::sqrt(delta.x * delta.x + delta.y * delta.y);
    if (length < 1.0f)
        return;
    ImVec2 dir = delta * (1.0f / length);
    ImVec2 normal(-dir.y, dir.x);
    ArrowLook look = LookOf(arrow);
    ImVec2 want = look.Side == LabelSide::Above ? ImVec2(0, -1)
                  : look.Side == LabelSide::Below ? ImVec2(0, 1)
                  : look.Side == LabelSide::Left  ? ImVec2(-1, 0)
                                                  : ImVec2(1, 0);
    float sign = normal.x * want.x + normal.y * want.y < 0 ? -1.0f : 1.0f;
    ImVec2 side = normal * sign;
    bool two_way = FindArrow(arrow.To, arrow.From) >= 0;
    ImVec2 shift = two_way ? side * d.M.Shift : ImVec2(0, 0);
    ImVec2 start = Exit(from, a + shift, dir);
    ImVec2 end = Exit(to, b + shift, dir * -1.0f);

    bool hot = recent > 0;
    ImU32 color = hot ? colors::Blue : kArrow;
    float thickness = hot ? std::max(3.0f, d.M.Small * 0.2f) : std::max(1.5f, d.M.Small * 0.09f);
    float head = d.M.Small * (hot ? 0.75f : 0.6f);
    ImVec2 base = end - dir * head;
    d.Draw->AddLine(start, base, color, thickness);
    d.Draw->AddTriangleFilled(end, base + normal * (head * 0.45f), base - normal * (head * 0.45f), color);

    std::string label = Tr(lang, arrow.Label);
    if (recent > 1)
        label += Format("  \xc3\x97%d", recent); // ×N sockets
    ImVec2 size = TextSize(d, d.M.Small, label.c_str());
    // Far enough along the normal that the label's box clears the line.
    float extent = std::fabs(side.x) * size.x * 0.5f + std::fabs(side.y) * size.y * 0.5f;
    ImVec2 mid = start + (end - start) * look.At;
    ImVec2 center = mid + side * (d.M.Gap + extent);
    ImVec2 min = center - size * 0.5f;
    d.Draw->AddRectFilled(min - ImVec2(2, 1), min + size + ImVec2(2, 1), kLabelBg, 3.0f);
    d.Draw->AddText(d.Font, d.M.Small, min, hot ? colors::Blue : colors::Muted, label.c_str());
}

void DrawBox(const Diagram& d, DiagramBox box, int count)
{
    const Rect& r = d.Boxes[static_cast<int>(box)];
    std::string name = BoxName(box);
    float pad = d.M.Text * 0.45f;
    float rounding = d.M.Text * 0.3f;
    bool end = box == DiagramBox::ClosedEnd;
    bool busy = count > 0;
    d.Draw->AddRectFilled(r.Min, r.Max, end ? colors::SlotEmpty : busy ? kBusyFill : kBoxFill, rounding);
    d.Draw->AddRect(r.Min, r.Max, end ? kArrow : busy ? colors::Blue : kBoxBorder, rounding, 0,
                    busy ? std::max(2.5f, d.M.Text * 0.15f) : 1.5f);
    ImVec2 name_size = TextSize(d, d.M.Text, name.c_str());
    float mid_y = (r.Min.y + r.Max.y) * 0.5f;
    if (end) {
        ImVec2 at(r.Center().x - name_size.x * 0.5f, mid_y - name_size.y * 0.5f);
        d.Draw->AddText(d.Font, d.M.Text, at, colors::Muted, name.c_str());
        return;
    }
    d.Draw->AddText(d.Font, d.M.Text, ImVec2(r.Min.x + pad, mid_y - name_size.y * 0.5f), colors::Text, name.c_str());

    std::string number = std::to_string(count);
    ImVec2 number_size = TextSize(d, d.M.Text, number.c_str());
    float badge_h = (r.Max.y - r.Min.y) - pad;
    float badge_w = std::max(badge_h, number_size.x + pad * 1.5f);
    ImVec2 badge_min(r.Max.x - pad * 0.5f - badge_w, mid_y - badge_h * 0.5f);
    ImVec2 badge_max(r.Max.x - pad * 0.5f, mid_y + badge_h * 0.5f);
    if (busy)
        d.Draw->AddRectFilled(badge_min, badge_max, colors::Blue, badge_h * 0.5f);
    ImVec2 at(badge_min.x + (badge_w - number_size.x) * 0.5f, mid_y - number_size.y * 0.5f);
    d.Draw->AddText(d.Font, d.M.Text, at, busy ? colors::White : colors::Muted, number.c_str());
}

void BoxTooltip(const UiFrame& frame, DiagramBox box, Lang lang)
{
    ImGui::BeginTooltip();
    if (box == DiagramBox::ClosedEnd) {
        ImGui::TextUnformatted(Tr(lang, "The same CLOSED as at the top: the kernel has forgotten the connection."));
    } else {
        auto lines = SocketsInBox(frame.Model, box, lang);
        ImGui::Text("%s: %d", BoxName(box).c_str(), static_cast<int>(lines.size()));
        for (const auto& line : lines)
            ImGui::TextUnformatted(line.c_str());
    }
    ImGui::EndTooltip();
}

} // namespace

void DrawStatePanel(const UiFrame& frame, const UiState& state)
{
    Lang lang = state.Language;
    ImVec2 origin = ImGui::GetCursorScreenPos();
    ImVec2 avail = ImGui::GetContentRegionAvail();
    avail.x = std::max(avail.x, 200.0f);
    avail.y = std::max(avail.y, 150.0f);
    ImGui::InvisibleButton("##diagram", avail);
    bool hovered = ImGui::IsItemHovered();

    Diagram d;
    d.Draw = ImGui::GetWindowDrawList();
    d.Font = ImGui::GetFont();
    // Seven rows of boxes 1.55 text lines high with 1.65 lines between them, in the height given.
    float text = std::clamp(std::min(avail.y / (7 * 1.55f + kDiagramRows * 1.65f), avail.x / 58.0f), 10.0f, 30.0f);
    d.M.Text = text;
    d.M.Small = text * 0.88f;
    d.M.Gap = text * 0.2f;
    d.M.Shift = text * 0.3f;
    float widest = 0;
    for (const auto& place : DiagramPlaces())
        widest = std::max(widest, TextSize(d, text, BoxName(place.Box).c_str()).x);
    d.M.Box = ImVec2(widest + text * 3.4f, text * 1.55f);

    // Not wider than about three times the height: very flat arrows are hard to follow.
    float width = std::min(avail.x, std::max(avail.y * 3.4f, d.M.Box.x * 4.0f));
    float left = origin.x + (avail.x - width) * 0.5f + d.M.Box.x * 0.5f + text * 0.5f;
    float right = origin.x + (avail.x + width) * 0.5f - d.M.Box.x * 0.5f - text * 0.5f;
    float top = origin.y + d.M.Box.y * 0.5f + 2.0f;
    float pitch = (avail.y - d.M.Box.y - 4.0f) / kDiagramRows;
    for (const auto& place : DiagramPlaces()) {
        ImVec2 c(left + (right - left) * place.Column, top + pitch * place.Row);
        d.Boxes[static_cast<int>(place.Box)] = {c - d.M.Box * 0.5f, c + d.M.Box * 0.5f};
    }

    ImGui::PushClipRect(origin, origin + avail, true);
    const char* legend[] = {
        Tr(lang, "Each box: how many sockets the kernel has in that state now."),
        Tr(lang, "Arrows: what arrives or is called / what is sent. Blue: taken in the last 2 s."),
        UdpSocketCount(frame.Model) > 0 ? Tr(lang, "UDP sockets are not drawn: UDP has no states, only bound (UNCONN) or connected.") : "",
    };
    float legend_y = origin.y;
    for (const char* line : legend) {
        d.Draw->AddText(d.Font, d.M.Small, ImVec2(origin.x, legend_y), colors::Muted, line);
        legend_y += d.M.Small * 1.25f;
    }

    auto counts = StateCounts(frame.Model);
    auto recent = RecentArrowCounts(frame.Model);
    const auto& arrows = DiagramArrows();
    // Quiet arrows first, so the blue ones are drawn over them.
    for (int pass = 0; pass < 2; ++pass)
        for (std::size_t i = 0; i < arrows.size(); ++i)
            if ((recent[i] > 0) == (pass == 1))
                DrawArrow(d, arrows[i], recent[i], lang);
    for (const auto& place : DiagramPlaces())
        DrawBox(d, place.Box, counts[static_cast<int>(place.Box)]);
    ImGui::PopClipRect();

    if (hovered) {
        ImVec2 mouse = ImGui::GetIO().MousePos;
        for (const auto& place : DiagramPlaces()) {
            const Rect& r = d.Boxes[static_cast<int>(place.Box)];
            if (mouse.x >= r.Min.x && mouse.x <= r.Max.x && mouse.y >= r.Min.y && mouse.y <= r.Max.y)
                BoxTooltip(frame, place.Box, lang);
        }
    }
}

} // namespace sockscope
