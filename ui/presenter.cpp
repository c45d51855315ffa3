#include "presenter.hpp"

#include "i18n.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <cstdlib>

namespace sockscope {

float SnapScale(float scale)
{
    if (!std::isfinite(scale))
        return kMinScale;
    float best = kScaleSteps[0];
    for (float step : kScaleSteps)
        if (std::fabs(step - scale) < std::fabs(best - scale))
            best = step;
    return best;
}

float StepScale(float scale, int direction)
{
    constexpr int count = static_cast<int>(std::size(kScaleSteps));
    float snapped = SnapScale(scale);
    int index = 0;
    for (int i = 0; i < count; ++i)
        if (kScaleSteps[i] == snapped)
            index = i;
    if (direction > 0)
        index = std::min(index + 1, count - 1);
    else if (direction < 0)
        index = std::max(index - 1, 0);
    return kScaleSteps[index];
}

const char* ThemeName(ThemeKind theme)
{
    return theme == ThemeKind::Contrast ? "contrast" : "normal";
}

std::optional<ThemeKind> ThemeFromName(std::string_view name)
{
    if (name == "normal")
        return ThemeKind::Normal;
    if (name == "contrast")
        return ThemeKind::Contrast;
    return std::nullopt;
}

UiCommand ScaleCommand(float scale)
{
    UiCommand command;
    command.What = UiCommand::SetScale;
    command.Scale = SnapScale(scale);
    return command;
}

UiCommand ThemeCommand(ThemeKind theme)
{
    UiCommand command;
    command.What = UiCommand::SetTheme;
    command.Theme = theme;
    return command;
}

namespace {

bool Pressed(int key)
{
    return ImGui::IsKeyPressed(key, false);
}

void Add(std::vector<UiCommand>& commands, UiCommand::Kind what)
{
    UiCommand command;
    command.What = what;
    commands.push_back(command);
}

} // namespace

void HandlePresenterKeys(const UiState& state, std::vector<UiCommand>& commands)
{
    const ImGuiIO& io = ImGui::GetIO();
    if (io.KeyCtrl && !io.KeyAlt) {
        float scale = state.Scale;
        if (Pressed(keys::Equal) || Pressed(keys::KeypadPlus))
            scale = StepScale(state.Scale, +1);
        else if (Pressed(keys::Minus) || Pressed(keys::KeypadMinus))
            scale = StepScale(state.Scale, -1);
        else if (Pressed(keys::Zero) || Pressed(keys::KeypadZero))
            scale = 1.0f;
        if (scale != state.Scale)
            commands.push_back(ScaleCommand(scale));
        if (Pressed(keys::S))
            Add(commands, UiCommand::SaveScreenshot);
    }
    if (Pressed(keys::F11))
        Add(commands, UiCommand::ToggleFullscreen);
    if (Pressed(keys::F12))
        Add(commands, UiCommand::SaveScreenshot);
}

std::string ScreenshotFileName(std::time_t when)
{
    std::tm local{};
    localtime_r(&when, &local);
    char name[64];
    std::strftime(name, sizeof name, "sockscope-%Y%m%d-%H%M%S.png", &local);
    return name;
}

std::string ScreenshotPath(std::time_t when)
{
    std::string name = ScreenshotFileName(when);
    const char* pictures = std::getenv("XDG_PICTURES_DIR");
    if (!pictures || !*pictures)
        return name;
    std::string dir = pictures;
    if (dir.back() != '/')
        dir += '/';
    return dir + name;
}

std::string ExportDirPath(std::time_t when)
{
    std::string path = ScreenshotPath(when);
    return path.substr(0, path.size() - 4); // ".png"
}

std::string KeyHelp(Lang lang)
{
    return std::string(Tr(lang, "Space / \xe2\x86\x92 step")) + "    " + Tr(lang, "P play / pause") + "    " +
           Tr(lang, "\xe2\x86\x90 / Shift+\xe2\x86\x90 back in time, End now") + "    " + Tr(lang, "Ctrl+= / Ctrl+- scale, Ctrl+0 reset") +
           "    " + Tr(lang, "F11 fullscreen") + "    " + Tr(lang, "F12 or Ctrl+S screenshot");
}

} // namespace sockscope
