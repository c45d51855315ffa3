// SVG has no text layout of its own: widths are estimated here (a Latin character 0.6 of
// the font size, the width of DejaVu Sans Mono and a little more than DejaVu Sans; a
// Chinese one a full em), generously, and lines are broken with the panels' WrapText.
#include "svg_export.hpp"

#include "format.hpp"
#include "packet_model.hpp"
#include "state_model.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

namespace sockscope {
namespace {

// The theme's colours (ui/theme.hpp) as SVG writes them.
constexpr const char* kText = "#141414";
constexpr const char* kMuted = "#6e6e6e";
constexpr const char* kAmber = "#ffc107";
constexpr const char* kAmberText = "#784600";
constexpr const char* kRed = "#c62828";
constexpr const char* kRedBg = "#ffdcdc";
constexpr const char* kGreen = "#2e7d32";
constexpr const char* kBlue = "#1565c0";
constexpr const char* kBusyFill = "#dbeafc";
constexpr const char* kVisitedFill = "#eef4fb";
constexpr const char* kSlotEmpty = "#f5f5f5";
constexpr const char* kBorder = "#787878";
constexpr const char* kArrow = "#969696";
constexpr const char* kPaper = "#ffffff";
constexpr const char* kRowBg = "#f6f6f6";
constexpr const char* kHeaderBg = "#e8ecf1";

// A Latin sans (or mono) font first, so Latin text keeps its look, then CJK fonts for
// the Chinese labels (a browser falls back per character).
constexpr const char* kSansFonts = "'DejaVu Sans', 'Liberation Sans', Arial, 'WenQuanYi Micro Hei', "
                                   "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif";
constexpr const char* kMonoFonts = "'DejaVu Sans Mono', 'Liberation Mono', Consolas, 'WenQuanYi Micro Hei Mono', "
                                   "'Noto Sans Mono CJK SC', 'WenQuanYi Micro Hei', monospace";

constexpr float kMargin = 20.0f;
constexpr float kSize = 14.0f;  // body text
constexpr float kSmall = 13.0f; // arrow labels, notes
constexpr float kTitle = 20.0f;
constexpr float kLine = 1.35f;  // line height, in font sizes

// Decode one UTF-8 code point at text[at]; false (and len 1) for a byte that does not
// start a valid, shortest-form sequence of a character XML may carry.
bool DecodeAt(std::string_view text, std::size_t at, char32_t& cp, std::size_t& len)
{
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char c = byte(at);
    len = 1;
    if (c < 0x80) {
        cp = c;
        return true;
    }
    std::size_t need = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (need == 0 || at + need > text.size())
        return false;
    char32_t value = need == 2 ? (c & 0x1F) : need == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t i = 1; i < need; ++i) {
        if ((byte(at + i) & 0xC0) != 0x80)
            return false;
        value = (value << 6) | (byte(at + i) & 0x3F);
    }
    static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < kSmallest[need] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) || value == 0xFFFE ||
        value == 0xFFFF)
        return false;
    cp = value;
    len = need;
    return true;
}

bool Wide(char32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
}

float Measure(std::string_view text, float size)
{
    float width = 0;
    for (std::size_t at = 0; at < text.size();) {
        char32_t cp = 0;
        std::size_t len = 1;
        DecodeAt(text, at, cp, len);
        width += Wide(cp) ? size : size * 0.6f;
        at += len;
    }
    return width;
}

std::vector<std::string> Wrap(const std::string& text, float width, float size)
{
    if (text.empty())
        return {};
    return WrapText(text, std::max(width, size), [size](std::string_view piece) { return Measure(piece, size); });
}

std::string Num(float v)
{
    return Format("%.1f", static_cast<double>(v));
}

// The document being drawn: its elements, and how far down it goes.
class Svg {
public:
    enum Anchor { Start, Middle, End };
    struct TextStyle {
        bool Mono = false;
        float Size = kSize;
        const char* Fill = kText;
        Anchor Align = Start;
        bool Bold = false;
    };

    // One line of text whose top is at `top` (a line of kLine sizes).
    void Text(float x, float top, std::string_view text, const TextStyle& style)
    {
        if (text.empty())
            return;
        float baseline = top + style.Size * (kLine - 1.0f) * 0.5f + style.Size * 0.8f;
        Body += "<text x=\"" + Num(x) + "\" y=\"" + Num(baseline) + "\"";
        if (style.Mono)
            Body += " class=\"m\"";
        Body += " font-size=\"" + Num(style.Size) + "\" fill=\"" + style.Fill + "\"";
        if (style.Align != Start)
            Body += style.Align == Middle ? " text-anchor=\"middle\"" : " text-anchor=\"end\"";
        if (style.Bold)
            Body += " font-weight=\"bold\"";
        Body += ">" + XmlEscape(text) + "</text>\n";
    }
    void Rect(float x, float y, float w, float h, const char* fill, const char* stroke = nullptr, float stroke_w = 1,
              float radius = 0, const char* extra = "")
    {
        Body += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"" + Num(w) + "\" height=\"" + Num(h) +
                "\" fill=\"" + fill + "\"";
        if (stroke)
            Body += std::string(" stroke=\"") + stroke + "\" stroke-width=\"" + Num(stroke_w) + "\"";
        if (radius > 0)
            Body += " rx=\"" + Num(radius) + "\"";
        Body += std::string(extra) + "/>\n";
    }
    void Line(float x1, float y1, float x2, float y2, const char* stroke, float width, bool dashed = false)
    {
        Body += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" + Num(y2) +
                "\" stroke=\"" + stroke + "\" stroke-width=\"" + Num(width) + "\"" +
                (dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    }
    void Triangle(float x1, float y1, float x2, float y2, float x3, float y3, const char* fill)
    {
        Body += "<polygon points=\"" + Num(x1) + "," + Num(y1) + " " + Num(x2) + "," + Num(y2) + " " + Num(x3) + "," +
                Num(y3) + "\" fill=\"" + fill + "\"/>\n";
    }
    void Group(const std::string& id) { Body += "<g id=\"" + id + "\">\n"; }
    void EndGroup() { Body += "</g>\n"; }

    std::string Document(float width, float height, const std::string& title, Lang lang) const
    {
        std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        doc += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + Num(width) + "\" height=\"" +
               Num(height) + "\" viewBox=\"0 0 " + Num(width) + " " + Num(height) + "\" xml:lang=\"" +
               (lang == Lang::Zh ? "zh-CN" : "en") + "\" font-family=\"" + XmlEscape(kSansFonts) + "\">\n";
        doc += "<title>" + XmlEscape(title) + "</title>\n";
        doc += "<style>text{white-space:pre}.m{font-family:" + XmlEscape(kMonoFonts) + "}</style>\n";
        doc += "<rect width=\"100%\" height=\"100%\" fill=\"" + std::string(kPaper) + "\"/>\n";
        return doc + Body + "</svg>\n";
    }

    std::string Body;
};

float LineHeight(float size) { return size * kLine; }

// The panel's name, then the lesson and its step, wrapped to `width`. Returns the y
// below them.
float Heading(Svg& svg, const std::string& title, const LessonView& lesson, Lang lang, float width)
{
    float y = kMargin;
    svg.Text(kMargin, y, title, {false, kTitle, kText, Svg::Start, true});
    y += LineHeight(kTitle);
    if (lesson.Data) {
        std::string line = lesson.Data->Title.Get(lang) + "  \xc2\xb7  " + StepCounterLabel(lesson, lang);
        if (lesson.StepIndex >= 0 && lesson.StepIndex < static_cast<int>(lesson.Data->Steps.size()))
            line += ": " + lesson.Data->Steps[static_cast<std::size_t>(lesson.StepIndex)].Title.Get(lang);
        for (const auto& part : Wrap(line, width - 2 * kMargin, kSize)) {
            svg.Text(kMargin, y, part, {false, kSize, kMuted});
            y += LineHeight(kSize);
        }
    }
    return y + kSize * 0.6f;
}

// --- the ladder of calls ------------------------------------------------------------

// One line of a cell: left-aligned from `Indent`, or right-aligned; on a line of its own
// or beside the line before (`Beside`).
struct Piece {
    std::string Text;
    bool Mono = true;
    const char* Fill = kText;
    bool Right = false;
    bool Beside = false;
    float Indent = 0;
};

struct Cell {
    std::vector<Piece> Pieces;
    const char* Bg = nullptr;
    float Height() const
    {
        int lines = 0;
        for (const auto& p : Pieces)
            lines += p.Beside ? 0 : 1;
        return static_cast<float>(lines) * LineHeight(kSize);
    }
};

struct MadeText {
    CallLook Look;
    std::string Label, Result;
    std::string Note, Layout;
};

// DrawMade (ladder_panel.cpp) in pieces: the call wrapped on the left, its result on the
// right of the first line, or on a line of its own when both do not fit.
Cell MadeCell(const MadeText& made, float width)
{
    Cell cell;
    CallLook look = made.Look;
    if (look == CallLook::Blocked)
        cell.Bg = kAmber;
    else if (look == CallLook::Failed)
        cell.Bg = kRedBg;
    bool returned = look == CallLook::Done || look == CallLook::Failed;
    float gap = kSize * 0.6f;
    float result_w = returned ? Measure(made.Result, kSize) : 0.0f;
    std::vector<std::string> lines = Wrap(made.Label, width - result_w - gap, kSize);
    bool beside = returned && !lines.empty() && width - result_w - gap >= kSize * 4.0f &&
                  Measure(lines.front(), kSize) + gap + result_w <= width;
    if (!beside)
        lines = Wrap(made.Label, width, kSize);
    const char* call_fill = look == CallLook::Failed ? kRed : look == CallLook::Queued ? kMuted : kText;
    for (const auto& line : lines)
        cell.Pieces.push_back({line, true, call_fill});
    if (returned) {
        const char* fill = look == CallLook::Failed ? kRed : kGreen;
        if (result_w <= width)
            cell.Pieces.push_back({made.Result, true, fill, true, beside});
        else
            for (const auto& line : Wrap(made.Result, width, kSize))
                cell.Pieces.push_back({line, true, fill});
    } else {
        for (const auto& line : Wrap(made.Result, width, kSize))
            cell.Pieces.push_back({line, false, look == CallLook::Blocked ? kText : kMuted});
    }
    for (const auto& line : Wrap(made.Note, width, kSize))
        cell.Pieces.push_back({line, false, kMuted});
    for (const auto& line : Wrap(made.Layout, width, kSize))
        cell.Pieces.push_back({line, true, kMuted});
    return cell;
}

Cell PendingCell(const PendingCall& pending, float width, Lang lang)
{
    Cell cell;
    std::string prefix = Tr(lang, pending.First ? "next:" : "then:");
    float indent = Measure(prefix, kSize) + kSize * 0.5f;
    cell.Pieces.push_back({prefix, false, kMuted});
    auto lines = Wrap(pending.Label, width - indent, kSize);
    for (std::size_t i = 0; i < lines.size(); ++i)
        cell.Pieces.push_back({lines[i], true, kMuted, false, i == 0, indent});
    return cell;
}

MadeText TextOf(const LadderCell& cell, double now, Lang lang)
{
    if (cell.Call) {
        const CallEvent& call = *cell.Call;
        return {LookOf(call), CompactCallLabel(call), CallResultLabel(call, now, lang), Tr(lang, call.Note),
                SockaddrLayoutOf(call)};
    }
    const LaneEvent& life = *cell.Life;
    return {LookOf(life), FormatLaneEvent(life), LaneEventResultLabel(life, lang), Tr(lang, life.Note), ""};
}

// The natural width of a cell's content, before wrapping.
float NaturalWidth(const LadderCell& cell, double now, Lang lang)
{
    if (cell.Pending)
        return Measure(Tr(lang, cell.Pending->First ? "next:" : "then:"), kSize) + kSize * 0.5f +
               Measure(cell.Pending->Label, kSize);
    MadeText made = TextOf(cell, now, lang);
    return Measure(made.Label, kSize) + kSize * 0.6f + Measure(made.Result, kSize);
}

} // namespace

std::string LadderSvg(const World& world, const LessonView& lesson, Lang lang, double now)
{
    Svg svg;
    auto columns = ActorColumns(world, lesson.Data);
    auto pending = PendingCalls(lesson);
    auto cells = LadderCells(world, columns, pending);
    const std::string title = Tr(lang, "System calls");
    float width = 640;
    if (columns.empty() || cells.empty()) {
        float y = Heading(svg, title, lesson, lang, width);
        svg.Text(kMargin, y, Tr(lang, "No calls yet."), {false, kSize, kMuted});
        return svg.Document(width, y + LineHeight(kSize) + kMargin, title, lang);
    }
    // The rows the panel keeps (the newest), so a handout of a long session stays readable.
    constexpr int kShownRows = 400;
    int last_row = 0;
    for (const auto& cell : cells)
        last_row = std::max(last_row, cell.Row);
    int first_row = std::max(0, last_row - kShownRows);

    const float pad = kSize * 0.5f;
    const float min_inner = kSize * 11.0f, max_inner = kSize * 24.0f;
    // Columns of one width, as the panel's (the widest call decides, within limits).
    float natural = min_inner;
    for (const auto& cell : cells)
        if (cell.Row >= first_row)
            natural = std::max(natural, NaturalWidth(cell, now, lang));
    std::vector<float> inner(columns.size(), std::min(natural, max_inner));
    std::vector<float> left(columns.size() + 1, kMargin);
    for (std::size_t c = 0; c < columns.size(); ++c)
        left[c + 1] = left[c] + inner[c] + 2 * pad;
    float table_w = left.back() - kMargin;
    width = std::max(width, table_w + 2 * kMargin);
    float y = Heading(svg, title, lesson, lang, width);
    float table_top = y;

    // Headers: each actor's name, kind, pid and descriptors, wrapped.
    std::vector<std::vector<std::string>> headers;
    float header_h = 0;
    for (std::size_t c = 0; c < columns.size(); ++c) {
        headers.push_back(Wrap(ColumnTitle(columns[c], world, lang), inner[c], kSize));
        header_h = std::max(header_h, static_cast<float>(headers.back().size()) * LineHeight(kSize));
    }
    header_h += 2 * pad;
    svg.Group("header");
    svg.Rect(kMargin, y, table_w, header_h, kHeaderBg);
    for (std::size_t c = 0; c < columns.size(); ++c)
        for (std::size_t i = 0; i < headers[c].size(); ++i)
            svg.Text(left[c] + pad, y + pad + static_cast<float>(i) * LineHeight(kSize), headers[c][i],
                     {false, kSize, kText, Svg::Start, true});
    svg.EndGroup();
    y += header_h;

    svg.Group("calls");
    if (first_row > 0) {
        float h = LineHeight(kSize) + 2 * pad;
        svg.Text(kMargin + pad, y + pad, Format(Tr(lang, "(%d earlier rows not shown)"), first_row),
                 {false, kSize, kMuted});
        y += h;
    }
    // Rows in order: lay each row's cells out, then draw them at the row's height.
    std::size_t at = 0;
    int shown = 0;
    while (at < cells.size()) {
        int row = cells[at].Row;
        std::size_t end = at;
        while (end < cells.size() && cells[end].Row == row)
            ++end;
        if (row < first_row) {
            at = end;
            continue;
        }
        std::vector<std::pair<int, Cell>> laid;
        float row_h = LineHeight(kSize);
        for (std::size_t i = at; i < end; ++i) {
            const LadderCell& lc = cells[i];
            float w = inner[static_cast<std::size_t>(lc.Column)];
            Cell cell = lc.Pending ? PendingCell(*lc.Pending, w, lang) : MadeCell(TextOf(lc, now, lang), w);
            row_h = std::max(row_h, cell.Height());
            laid.emplace_back(lc.Column, std::move(cell));
        }
        row_h += 2 * pad;
        if (shown++ % 2 == 1)
            svg.Rect(kMargin, y, table_w, row_h, kRowBg);
        for (const auto& [column, cell] : laid) {
            auto c = static_cast<std::size_t>(column);
            if (cell.Bg)
                svg.Rect(left[c], y, left[c + 1] - left[c], row_h, cell.Bg);
            float line_y = y + pad - LineHeight(kSize);
            for (const auto& piece : cell.Pieces) {
                if (!piece.Beside)
                    line_y += LineHeight(kSize);
                float x = piece.Right ? left[c] + pad + inner[c] : left[c] + pad + piece.Indent;
                svg.Text(x, line_y, piece.Text,
                         {piece.Mono, kSize, piece.Fill, piece.Right ? Svg::End : Svg::Start, false});
            }
        }
        y += row_h;
        at = end;
    }
    svg.EndGroup();
    // The table's frame and the lines between the actors.
    svg.Rect(kMargin, table_top, table_w, y - table_top, "none", kBorder, 1);
    for (std::size_t c = 1; c < columns.size(); ++c)
        svg.Line(left[c], table_top, left[c], y, kBorder, 1);
    return svg.Document(width, y + kMargin, title, lang);
}

// --- the packet ladder ----------------------------------------------------------------

std::string PacketSvg(const World& world, const LessonView& lesson, Lang lang)
{
    Svg svg;
    std::set<std::uint16_t> server_ports;
    for (const auto& l : world.Listeners())
        server_ports.insert(l.Local.Port);
    if (lesson.Port > 0)
        server_ports.insert(static_cast<std::uint16_t>(lesson.Port));
    const PacketLadder ladder = BuildPacketLadder(world.Segments(), server_ports, lang);
    const std::string title = Tr(lang, "Packets");

    float widest = 0;
    for (const auto& row : ladder.Rows)
        widest = std::max(widest, Measure(row.Label, kSize));
    // The labels sit between the two ends, which stand at 12% and 88% of the width.
    float width = std::max(760.0f, (widest + kSize * 4.0f) / 0.76f);
    float y = Heading(svg, title, lesson, lang, width);

    std::string note;
    const char* note_fill = kText;
    if (ladder.AnyCaptured && ladder.Datagrams)
        note = Tr(lang, "Captured on the loopback interface (AF_PACKET): real ports, lengths and first bytes of each "
                        "datagram, and the ICMP errors they caused.");
    else if (ladder.AnyCaptured)
        note = Tr(lang, "Captured on the loopback interface (AF_PACKET): real seq, ack, flags and lengths.");
    else if (ladder.AnyInferred) {
        note = Tr(lang, "Not captured: these packets are inferred from the calls and the kernel's states (grey).");
        note_fill = kAmberText;
    }
    for (const auto& line : Wrap(note, width - 2 * kMargin, kSize)) {
        svg.Text(kMargin, y, line, {false, kSize, note_fill});
        y += LineHeight(kSize);
    }
    if (ladder.Rows.empty()) {
        svg.Text(kMargin, y, Tr(lang, "No segments yet."), {false, kSize, kMuted});
        return svg.Document(width, y + LineHeight(kSize) + kMargin, title, lang);
    }
    for (const auto& line : Wrap(ladder.Title, width - 2 * kMargin, kSize)) {
        svg.Text(kMargin, y, line, {false, kSize, kText});
        y += LineHeight(kSize);
    }
    y += kSize * 0.6f;

    float left = width * 0.12f, right = width * 0.88f;
    svg.Group("ends");
    svg.Text(left, y, Tr(lang, "client"), {false, kSize, kText, Svg::Middle, true});
    svg.Text(right, y, Tr(lang, "server"), {false, kSize, kText, Svg::Middle, true});
    y += LineHeight(kSize);
    svg.Text(left, y, EndpointLabel(ladder.Client), {true, kSmall, kMuted, Svg::Middle});
    svg.Text(right, y, EndpointLabel(ladder.Server), {true, kSmall, kMuted, Svg::Middle});
    y += LineHeight(kSmall) + kSize * 0.3f;
    svg.EndGroup();

    float row_h = LineHeight(kSize) * 2.2f;
    float top = y;
    float height = row_h * static_cast<float>(ladder.Rows.size()) + row_h * 0.3f;
    svg.Line(left, top, left, top + height, kText, 2);
    svg.Line(right, top, right, top + height, kText, 2);
    svg.Group("packets");
    for (std::size_t i = 0; i < ladder.Rows.size(); ++i) {
        const PacketRow& row = ladder.Rows[i];
        const Segment& s = *row.S;
        float y0 = top + row_h * (static_cast<float>(i) + 0.55f), y1 = y0 + row_h * 0.45f;
        float x0 = row.ToServer ? left : right, x1 = row.ToServer ? right : left;
        const char* colour = row.Inferred                         ? kMuted
                             : IsIcmp(s) || (s.Flags & FlagRst)    ? kRed
                             : s.Flags & (FlagSyn | FlagFin)       ? kBlue
                                                                   : kText;
        float head = kSize * 0.7f;
        // The line stops where the head begins, so a thick line does not blunt its point.
        float len = std::hypot(x1 - x0, y1 - y0);
        float ux = (x1 - x0) / len, uy = (y1 - y0) / len;
        float bx = x1 - ux * head, by = y1 - uy * head;
        svg.Line(x0, y0, bx, by, colour, row.Inferred ? 1.5f : 2.0f, row.Inferred);
        svg.Triangle(x1, y1, bx - uy * head * 0.45f, by + ux * head * 0.45f, bx + uy * head * 0.45f,
                     by - ux * head * 0.45f, colour);
        // The label above the arrow's middle, on the paper's colour so the line does not cross it.
        float label_w = Measure(row.Label, kSize);
        float mid = (left + right) * 0.5f;
        float label_top = (y0 + y1) * 0.5f - LineHeight(kSize) - kSize * 0.15f;
        svg.Rect(mid - label_w * 0.5f - 3, label_top + 1, label_w + 6, LineHeight(kSize) - 2, kPaper, nullptr, 1, 3,
                 " fill-opacity=\"0.85\"");
        svg.Text(mid, label_top, row.Label, {true, kSize, colour, Svg::Middle});
        svg.Text(kMargin * 0.5f, y0 - LineHeight(kSmall) * 0.5f, Format("%.3f", s.T), {true, kSmall, kMuted});
    }
    svg.EndGroup();
    return svg.Document(width, top + height + kMargin, title, lang);
}

// --- the state machine ------------------------------------------------------------------

namespace {

struct Box {
    float X0, Y0, X1, Y1;
    float Cx() const { return (X0 + X1) * 0.5f; }
    float Cy() const { return (Y0 + Y1) * 0.5f; }
};

// Where the ray from (x, y) inside `b` along (dx, dy) leaves it.
void Exit(const Box& b, float& x, float& y, float dx, float dy)
{
    float t = 1e9f;
    if (dx > 1e-4f) t = std::min(t, (b.X1 - x) / dx);
    if (dx < -1e-4f) t = std::min(t, (b.X0 - x) / dx);
    if (dy > 1e-4f) t = std::min(t, (b.Y1 - y) / dy);
    if (dy < -1e-4f) t = std::min(t, (b.Y0 - y) / dy);
    if (t < 1e9f) {
        x += dx * t;
        y += dy * t;
    }
}

} // namespace

std::string StateSvg(const World& world, const LessonView& lesson, Lang lang)
{
    Svg svg;
    const std::string title = Tr(lang, "TCP state machine");
    const float width = 980;
    float y = Heading(svg, title, lesson, lang, width);
    std::vector<std::string> legend = {
        Tr(lang, "Each box: how many sockets the kernel has in that state now."),
        Tr(lang, "Arrows: what arrives or is called / what is sent. Blue: taken by these sockets; shaded boxes: "
                 "states they went through."),
    };
    if (UdpSocketCount(world) > 0)
        legend.push_back(Tr(lang, "UDP sockets are not drawn: UDP has no states, only bound (UNCONN) or connected."));
    for (const auto& text : legend)
        for (const auto& line : Wrap(text, width - 2 * kMargin, kSmall)) {
            svg.Text(kMargin, y, line, {false, kSmall, kMuted});
            y += LineHeight(kSmall);
        }
    y += kSize;

    const float text = 16.0f;
    float widest = 0;
    for (const auto& place : DiagramPlaces())
        widest = std::max(widest, Measure(BoxName(place.Box), text));
    const float box_w = widest + text * 3.4f, box_h = text * 1.9f;
    const float left = kMargin + box_w * 0.5f + text * 4.0f, right = width - kMargin - box_w * 0.5f - text * 4.0f;
    const float top = y + box_h * 0.5f, pitch = text * 5.2f;
    Box boxes[kDiagramBoxCount];
    for (const auto& place : DiagramPlaces()) {
        float cx = left + (right - left) * place.Column, cy = top + pitch * place.Row;
        boxes[static_cast<int>(place.Box)] = {cx - box_w * 0.5f, cy - box_h * 0.5f, cx + box_w * 0.5f,
                                              cy + box_h * 0.5f};
    }

    auto counts = StateCounts(world);
    // Every arrow a socket shown took in the session (a picture has no "last 2 s").
    auto taken = RecentArrowCounts(world, 1e18);
    const auto& arrows = DiagramArrows();
    bool visited[kDiagramBoxCount] = {};
    for (std::size_t i = 0; i < arrows.size(); ++i)
        if (taken[i] > 0)
            visited[static_cast<int>(arrows[i].From)] = visited[static_cast<int>(arrows[i].To)] = true;

    const float small = kSmall;
    svg.Group("arrows");
    for (int pass = 0; pass < 2; ++pass)
        for (std::size_t i = 0; i < arrows.size(); ++i) {
            if ((taken[i] > 0) != (pass == 1))
                continue;
            const DiagramArrow& arrow = arrows[i];
            const Box& from = boxes[static_cast<int>(arrow.From)];
            const Box& to = boxes[static_cast<int>(arrow.To)];
            float dx = to.Cx() - from.Cx(), dy = to.Cy() - from.Cy();
            float length = std::hypot(dx, dy);
            if (length < 1.0f)
                continue;
            dx /= length;
            dy /= length;
            float nx = -dy, ny = dx;
            ArrowLook look = LookOf(arrow);
            float wx = look.Side == LabelSide::Left ? -1.0f : look.Side == LabelSide::Right ? 1.0f : 0.0f;
            float wy = look.Side == LabelSide::Above ? -1.0f : look.Side == LabelSide::Below ? 1.0f : 0.0f;
            float sign = nx * wx + ny * wy < 0 ? -1.0f : 1.0f;
            float sx = nx * sign, sy = ny * sign;
            float shift = FindArrow(arrow.To, arrow.From) >= 0 ? text * 0.3f : 0.0f;
            float x0 = from.Cx() + sx * shift, y0 = from.Cy() + sy * shift;
            float x1 = to.Cx() + sx * shift, y1 = to.Cy() + sy * shift;
            Exit(from, x0, y0, dx, dy);
            Exit(to, x1, y1, -dx, -dy);
            bool hot = taken[i] > 0;
            const char* colour = hot ? kBlue : kArrow;
            float head = small * (hot ? 0.8f : 0.65f);
            float bx = x1 - dx * head, by = y1 - dy * head;
            svg.Line(x0, y0, bx, by, colour, hot ? 3.0f : 1.5f);
            svg.Triangle(x1, y1, bx + nx * head * 0.45f, by + ny * head * 0.45f, bx - nx * head * 0.45f,
                         by - ny * head * 0.45f, colour);

            std::string label = Tr(lang, arrow.Label);
            if (taken[i] > 1)
                label += Format("  \xc3\x97%d", taken[i]); // ×N sockets
            float lw = Measure(label, small) * (hot ? 1.12f : 1.0f), lh = LineHeight(small); // bold is wider
            float extent = std::fabs(sx) * lw * 0.5f + std::fabs(sy) * lh * 0.5f;
            float mx = x0 + (x1 - x0) * look.At, my = y0 + (y1 - y0) * look.At;
            float cx = mx + sx * (text * 0.25f + extent), cy = my + sy * (text * 0.25f + extent);
            svg.Rect(cx - lw * 0.5f - 3, cy - lh * 0.5f, lw + 6, lh, "#fbfbfb", nullptr, 1, 3, " fill-opacity=\"0.92\"");
            svg.Text(cx, cy - lh * 0.5f, label, {false, small, hot ? kBlue : kMuted, Svg::Middle, hot});
        }
    svg.EndGroup();

    svg.Group("states");
    for (const auto& place : DiagramPlaces()) {
        int index = static_cast<int>(place.Box);
        const Box& b = boxes[index];
        int count = counts[static_cast<std::size_t>(index)];
        bool end = place.Box == DiagramBox::ClosedEnd;
        bool busy = count > 0;
        const char* fill = end ? kSlotEmpty : busy ? kBusyFill : visited[index] ? kVisitedFill : kPaper;
        const char* stroke = busy || (visited[index] && !end) ? kBlue : end ? kArrow : kBorder;
        svg.Rect(b.X0, b.Y0, b.X1 - b.X0, b.Y1 - b.Y0, fill, stroke, busy ? 2.5f : 1.5f, text * 0.3f);
        std::string name = BoxName(place.Box);
        float line_top = b.Cy() - LineHeight(text) * 0.5f;
        if (end) {
            svg.Text(b.Cx(), line_top, name, {false, text, kMuted, Svg::Middle});
            continue;
        }
        float pad = text * 0.45f;
        svg.Text(b.X0 + pad, line_top, name, {false, text, kText, Svg::Start, busy});
        std::string number = std::to_string(count);
        float badge_h = (b.Y1 - b.Y0) - pad * 1.2f;
        float badge_w = std::max(badge_h, Measure(number, text) + pad * 1.5f);
        float bx = b.X1 - pad * 0.6f - badge_w;
        if (busy)
            svg.Rect(bx, b.Cy() - badge_h * 0.5f, badge_w, badge_h, kBlue, nullptr, 1, badge_h * 0.5f);
        svg.Text(bx + badge_w * 0.5f, line_top, number, {false, text, busy ? "#ffffff" : kMuted, Svg::Middle, busy});
    }
    svg.EndGroup();
    return svg.Document(width, top + pitch * kDiagramRows + box_h * 0.5f + kMargin, title, lang);
}

// --- files -----------------------------------------------------------------------------

const std::vector<std::string>& ExportNames()
{
    static const std::vector<std::string> names = {"ladder", "packets", "states"};
    return names;
}

std::vector<ExportedFile> ExportSvgs(const World& world, const LessonView& lesson, Lang lang, double now)
{
    const auto& names = ExportNames();
    return {
        {names[0] + ".svg", LadderSvg(world, lesson, lang, now)},
        {names[1] + ".svg", PacketSvg(world, lesson, lang)},
        {names[2] + ".svg", StateSvg(world, lesson, lang)},
    };
}

std::string XmlEscape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        char32_t cp = 0;
        std::size_t len = 1;
        if (!DecodeAt(text, at, cp, len)) {
            out += "\xef\xbf\xbd"; // U+FFFD
            at += 1;
            continue;
        }
        switch (cp) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            if (cp < 0x20 || cp == 0x7F) {
                // U+2400..U+241F (and U+2421 for DEL): "␀", "␊"...
                char32_t picture = cp == 0x7F ? 0x2421 : 0x2400 + cp;
                out += static_cast<char>(0xE0 | (picture >> 12));
                out += static_cast<char>(0x80 | ((picture >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (picture & 0x3F));
            } else {
                out.append(text.substr(at, len));
            }
        }
        at += len;
    }
    return out;
}

bool CheckExportDir(const std::string& dir, std::string& error)
{
    struct stat st {};
    if (dir.empty()) {
        error = "no directory given to export into";
        return false;
    }
    if (::stat(dir.c_str(), &st) != 0) {
        error = "cannot export into " + dir + ": " + std::strerror(errno);
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        error = "cannot export into " + dir + ": not a directory";
        return false;
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        error = "cannot export into " + dir + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

std::vector<std::string> WriteExports(const std::string& dir, const std::vector<ExportedFile>& files,
                                      std::string& error)
{
    std::vector<std::string> written;
    if (!CheckExportDir(dir, error))
        return {};
    std::string base = dir.back() == '/' ? dir : dir + "/";
    for (const auto& file : files) {
        std::string path = base + file.Name;
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (out)
            out.write(file.Content.data(), static_cast<std::streamsize>(file.Content.size()));
        out.close();
        if (!out) {
            error = "cannot write " + path + ": " + std::strerror(errno ? errno : EIO);
            return {};
        }
        written.push_back(path);
    }
    return written;
}

} // namespace sockscope
