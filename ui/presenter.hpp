// Presenter mode: the UI scale steps, the theme names, the keys a teacher uses in front
// of a projector (scale, fullscreen, screenshot) and the name of a saved screenshot.
// Pure functions and one key handler that only reads ImGui's input: the app executes
// the commands it returns.
#pragma once

#include "ui.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockscope {

// The UI scales a teacher can choose, smallest first.
inline constexpr float kScaleSteps[] = {1.0f, 1.25f, 1.5f, 1.75f, 2.0f};
inline constexpr float kMinScale = 1.0f;
inline constexpr float kMaxScale = 2.0f;

// The nearest step to `scale` (anything outside the steps lands on the first or last).
float SnapScale(float scale);
// One step up (direction > 0) or down (< 0) from `scale`, staying within the steps.
float StepScale(float scale, int direction);

// "normal" / "contrast" and back; nullopt for anything else.
const char* ThemeName(ThemeKind theme);
std::optional<ThemeKind> ThemeFromName(std::string_view name);

// Dear ImGui 1.86 has no named keys for these: its GLFW backend stores each key in
// io.KeysDown[] under its GLFW key code, so these are GLFW's codes (layout independent).
namespace keys {
inline constexpr int Zero = 48;        // GLFW_KEY_0
inline constexpr int Minus = 45;       // GLFW_KEY_MINUS
inline constexpr int Equal = 61;       // GLFW_KEY_EQUAL ('=' and, with Shift, '+')
inline constexpr int P = 80;           // GLFW_KEY_P
inline constexpr int S = 83;           // GLFW_KEY_S
inline constexpr int F11 = 300;        // GLFW_KEY_F11
inline constexpr int F12 = 301;        // GLFW_KEY_F12
inline constexpr int KeypadZero = 320; // GLFW_KEY_KP_0
inline constexpr int KeypadMinus = 333;
inline constexpr int KeypadPlus = 334;
} // namespace keys

// Ctrl+= / Ctrl++ (scale up), Ctrl+- (down), Ctrl+0 (100%), F11 (fullscreen), F12 or
// Ctrl+S (screenshot). Call between NewFrame() and Render(); appends the commands.
void HandlePresenterKeys(const UiState& state, std::vector<UiCommand>& commands);

// The commands of the View menu's items.
UiCommand ScaleCommand(float scale);
UiCommand ThemeCommand(ThemeKind theme);

// "sockscope-YYYYMMDD-HHMMSS.png" for local time `when`.
std::string ScreenshotFileName(std::time_t when);
// Where F12 saves: $XDG_PICTURES_DIR/<name> when that is set, else <name> (the current
// directory).
std::string ScreenshotPath(std::time_t when);
// Where the View menu's Export SVG / Export PNG write their three files: a directory
// named as the screenshot would be, without ".png" (the app makes it).
std::string ExportDirPath(std::time_t when);

// The one-line key help (for the status bar's "?").
std::string KeyHelp(Lang lang);

} // namespace sockscope
