// What sockscope remembers between runs: the presenter's scale and theme, the language
// and the window's place. One small "key = value" file in $XDG_CONFIG_HOME/sockscope/
// (default ~/.config/sockscope/), beside Dear ImGui's own imgui.ini. A missing or
// unreadable file, or a line that makes no sense, gives the defaults: never an error.
// Screenshots and tests read and write nothing (SOCKSCOPE_NO_SETTINGS=1).
#pragma once

#include "lesson.hpp"
#include "theme.hpp"

#include <optional>
#include <string>

namespace sockscope {

struct Settings {
    float Scale = 1.0f;                 // one of kScaleSteps
    ThemeKind Theme = ThemeKind::Normal;
    Lang Language = Lang::En;
    bool HasLanguage = false;           // the file named a language
    // The windowed position and size (also while fullscreen); 0 x 0: not known.
    int WindowX = 0;
    int WindowY = 0;
    int WindowWidth = 0;
    int WindowHeight = 0;
    bool HasPosition = false;

    bool operator==(const Settings&) const = default;
};

// $XDG_CONFIG_HOME/sockscope, else $HOME/.config/sockscope; nullopt when settings are
// disabled or neither variable is set.
std::optional<std::string> SettingsDirectory();

// The settings in `path`; defaults for a missing file and for each bad line.
Settings ReadSettings(const std::string& path);
// Writes `settings` to `path` (through a temporary file and a rename, so a crash never
// leaves half a file). Creates the directory. False with `error` set when it cannot.
bool WriteSettings(const std::string& path, const Settings& settings, std::string& error);

// The same, in SettingsDirectory()/settings.ini; Load gives the defaults and Save writes
// nothing (returns false) when settings are disabled.
Settings LoadSettings();
bool SaveSettings(const Settings& settings, std::string& error);

} // namespace sockscope
