// One look for every panel: a light, high-contrast theme that survives a projector, the
// colours that carry meaning (blocked = amber, failed = red, passed = green, next =
// grey), and the fonts.
#pragma once

#include "lesson.hpp"

#include <imgui.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sockscope {

// Normal: the light theme below. Contrast: for a washed-out projector, black on white,
// black borders twice as thick, no pale greys.
enum class ThemeKind : std::uint8_t { Normal, Contrast };

namespace colors {
inline constexpr ImU32 Text = IM_COL32(20, 20, 20, 255);
inline constexpr ImU32 Muted = IM_COL32(110, 110, 110, 255);  // "next" calls, hints
inline constexpr ImU32 Amber = IM_COL32(255, 193, 7, 255);    // blocked, "no fd yet"
inline constexpr ImU32 AmberText = IM_COL32(120, 70, 0, 255);
inline constexpr ImU32 Red = IM_COL32(198, 40, 40, 255);
inline constexpr ImU32 RedBg = IM_COL32(255, 220, 220, 255);
inline constexpr ImU32 Green = IM_COL32(46, 125, 50, 255);
inline constexpr ImU32 Blue = IM_COL32(21, 101, 192, 255);    // a taken queue place
inline constexpr ImU32 SlotEmpty = IM_COL32(245, 245, 245, 255);
inline constexpr ImU32 SlotBorder = IM_COL32(90, 90, 90, 255);
inline constexpr ImU32 White = IM_COL32(255, 255, 255, 255);
} // namespace colors

inline ImVec4 ToVec4(ImU32 color) { return ImGui::ColorConvertU32ToFloat4(color); }

// The style: light background, dark text, generous spacing. Starts from a fresh
// ImGuiStyle, so it may be called again (a theme switch); sizes are at scale 1.
void ApplyTheme(ThemeKind theme = ThemeKind::Normal);
// ApplyTheme(theme), then every size scaled by `scale` (ImGuiStyle::ScaleAllSizes).
void ApplyStyle(ThemeKind theme, float scale);

struct FontReport {
    bool Cjk = false;            // Chinese glyphs are available
    std::string CjkPath;         // the font they came from
    std::string Message;         // why not, when Cjk is false
    ImFont* Body = nullptr;
    ImFont* Title = nullptr;
    ImFont* Mono = nullptr;
};

// Load the fonts into the current context's atlas and build it: a Latin body font at
// `size_px` with a CJK font merged in, a larger title font and a monospaced font for
// calls and addresses. The CJK font gives only the characters some text uses: every
// character of `texts` (e.g. LessonFontTexts of every lesson), of the translations and
// of the language names, plus CJK and full-width punctuation; any other character
// (typed, a program's output) shows ImGui's fallback glyph. Looks in the usual Debian
// paths unless `options` names the CJK font. The glyph ranges are built once per set of
// texts, so a new size (a scale change) reuses them. The font files are let go once
// the atlas is built; its pixels stay until the caller has uploaded and cleared them.
struct FontOptions {
    std::optional<std::string> CjkFont; // the app passes $SOCKSCOPE_CJK_FONT; "" or not a font: none
};
FontReport LoadFonts(float size_px, const std::vector<std::string>& texts, const FontOptions& options = {});

// Every text a lesson can show (titles, summary, narration, questions and choices, the
// calls' explanations, the checks' claims, a retry's reason), both languages: what the
// fonts need for it.
std::vector<std::string> LessonFontTexts(const std::vector<Lesson>& lessons);

} // namespace sockscope
