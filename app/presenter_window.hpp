// The window side of presenter mode (GLFW): fullscreen and back, the settings to save
// from the window's place, and the scale and theme a --screenshot may ask for through
// the environment. Main thread only, like every GLFW call.
#pragma once

#include "settings.hpp"
#include "ui.hpp"

#include <string>

struct GLFWwindow;

namespace sockscope {

// Where the window was before it went fullscreen.
struct WindowedPlace {
    int X = 0;
    int Y = 0;
    int Width = 0;
    int Height = 0;
};

// To the primary monitor's video mode (remembering `place`), or back to `place`.
// Returns the new fullscreen state; on failure keeps the old one and sets `error`.
bool ToggleFullscreen(GLFWwindow* window, bool fullscreen, WindowedPlace& place, std::string& error);

// `base` with the UI's scale, theme and language and the window's windowed place.
Settings SettingsToSave(GLFWwindow* window, const Settings& base, const UiState& ui, const WindowedPlace& place);

// $SOCKSCOPE_SCALE (1 to 2) and $SOCKSCOPE_THEME (normal, contrast) into `ui`: read only
// for --screenshot, which reads no settings file. Bad values are reported and ignored.
void ApplyScreenshotPresenterEnv(UiState& ui);

} // namespace sockscope
