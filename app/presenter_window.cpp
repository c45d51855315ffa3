#include "presenter_window.hpp"

#include "presenter.hpp"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <cstdio>
#include <cstdlib>

namespace sockscope {

bool ToggleFullscreen(GLFWwindow* window, bool fullscreen, WindowedPlace& place, std::string& error)
{
    if (fullscreen) {
        glfwSetWindowMonitor(window, nullptr, place.X, place.Y, place.Width, place.Height, 0);
        return false;
    }
    GLFWmonitor* monitor = glfwGetPrimaryMonitor();
    const GLFWvidmode* mode = monitor ? glfwGetVideoMode(monitor) : nullptr;
    if (!mode) {
        error = "no monitor to go fullscreen on";
        return false;
    }
    glfwGetWindowPos(window, &place.X, &place.Y);
    glfwGetWindowSize(window, &place.Width, &place.Height);
    glfwSetWindowMonitor(window, monitor, 0, 0, mode->width, mode->height, mode->refreshRate);
    return true;
}

Settings SettingsToSave(GLFWwindow* window, const Settings& base, const UiState& ui, const WindowedPlace& place)
{
    Settings settings = base;
    settings.Scale = ui.Scale;
    settings.Theme = ui.Theme;
    settings.Language = ui.Language;
    settings.HasLanguage = true;
    WindowedPlace now = place;
    if (!ui.Fullscreen) {
        glfwGetWindowPos(window, &now.X, &now.Y);
        glfwGetWindowSize(window, &now.Width, &now.Height);
    }
    if (now.Width >= 320 && now.Height >= 240) {
        settings.WindowX = now.X;
        settings.WindowY = now.Y;
        settings.WindowWidth = now.Width;
        settings.WindowHeight = now.Height;
        settings.HasPosition = true;
    }
    return settings;
}

void ApplyScreenshotPresenterEnv(UiState& ui)
{
    if (const char* text = std::getenv("SOCKSCOPE_SCALE")) {
        char* end = nullptr;
        float chosen = std::strtof(text, &end);
        if (end == text || *end || !(chosen >= kMinScale && chosen <= kMaxScale))
            std::fprintf(stderr, "sockscope: SOCKSCOPE_SCALE='%s' is not a scale from 1 to 2; ignored\n", text);
        else
            ui.Scale = SnapScale(chosen);
    }
    if (const char* text = std::getenv("SOCKSCOPE_THEME")) {
        if (auto theme = ThemeFromName(text))
            ui.Theme = *theme;
        else
            std::fprintf(stderr, "sockscope: SOCKSCOPE_THEME='%s' is not one of normal, contrast; ignored\n", text);
    }
}

} // namespace sockscope
