#include "settings.hpp"

#include "presenter.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>

namespace sockscope {
namespace {

constexpr const char* kFileName = "settings.ini";
constexpr int kMaxCoordinate = 100000;

std::string Trim(const std::string& text)
{
    auto begin = text.find_first_not_of(" \t\r");
    if (begin == std::string::npos)
        return "";
    auto end = text.find_last_not_of(" \t\r");
    return text.substr(begin, end - begin + 1);
}

std::optional<long> ParseInt(const std::string& text)
{
    try {
        std::size_t used = 0;
        long value = std::stol(text, &used);
        if (used != text.size() || value < -kMaxCoordinate || value > kMaxCoordinate)
            return std::nullopt;
        return value;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<float> ParseFloat(const std::string& text)
{
    try {
        std::size_t used = 0;
        float value = std::stof(text, &used);
        if (used != text.size())
            return std::nullopt;
        return value;
    } catch (...) {
        return std::nullopt;
    }
}

} // namespace

std::optional<std::string> SettingsDirectory()
{
    const char* config = std::getenv("XDG_CONFIG_HOME");
    if (config && *config == '/')
        return std::string(config) + "/sockscope";
    const char* home = std::getenv("HOME");
    if (home && *home)
        return std::string(home) + "/.config/sockscope";
    return std::nullopt;
}

Settings ReadSettings(const std::string& path)
{
    Settings settings;
    std::ifstream in(path);
    std::string line;
    int x = 0, y = 0, width = 0, height = 0;
    int window_fields = 0;
    while (in && std::getline(in, line)) {
        if (line.size() > 1000)
            continue;
        auto equals = line.find('=');
        if (equals == std::string::npos || Trim(line).rfind('#', 0) == 0)
            continue;
        std::string key = Trim(line.substr(0, equals));
        std::string value = Trim(line.substr(equals + 1));
        if (key == "scale") {
            if (auto scale = ParseFloat(value); scale && *scale >= kMinScale && *scale <= kMaxScale)
                settings.Scale = SnapScale(*scale);
        } else if (key == "theme") {
            if (auto theme = ThemeFromName(value))
                settings.Theme = *theme;
        } else if (key == "language") {
            if (value == "en" || value == "zh") {
                settings.Language = value == "zh" ? Lang::Zh : Lang::En;
                settings.HasLanguage = true;
            }
        } else if (key == "window_x" || key == "window_y" || key == "window_width" || key == "window_height") {
            auto number = ParseInt(value);
            if (!number)
                continue;
            int v = static_cast<int>(*number);
            if (key == "window_x")
                x = v;
            else if (key == "window_y")
                y = v;
            else if (key == "window_width")
                width = v;
            else
                height = v;
            ++window_fields;
        }
    }
    // A window is only remembered whole, and never smaller than the GUI accepts.
    if (window_fields == 4 && width >= 320 && height >= 240) {
        settings.WindowX = x;
        settings.WindowY = y;
        settings.WindowWidth = width;
        settings.WindowHeight = height;
        settings.HasPosition = true;
    }
    return settings;
}

bool WriteSettings(const std::string& path, const Settings& settings, std::string& error)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path file(path);
    if (file.has_parent_path())
        fs::create_directories(file.parent_path(), ec);
    if (ec) {
        error = "cannot create " + file.parent_path().string() + ": " + ec.message();
        return false;
    }
    std::ostringstream text;
    text << "# sockscope settings (rewritten on exit)\n";
    text << "scale = " << SnapScale(settings.Scale) << "\n";
    text << "theme = " << ThemeName(settings.Theme) << "\n";
    if (settings.HasLanguage)
        text << "language = " << (settings.Language == Lang::Zh ? "zh" : "en") << "\n";
    if (settings.HasPosition) {
        text << "window_x = " << settings.WindowX << "\n";
        text << "window_y = " << settings.WindowY << "\n";
        text << "window_width = " << settings.WindowWidth << "\n";
        text << "window_height = " << settings.WindowHeight << "\n";
    }
    std::string temp = path + ".tmp" + std::to_string(getpid());
    {
        std::ofstream out(temp, std::ios::trunc);
        out << text.str();
        out.close();
        if (!out) {
            fs::remove(temp, ec);
            error = "cannot write " + temp;
            return false;
        }
    }
    fs::rename(temp, file, ec);
    if (ec) {
        fs::remove(temp, ec);
        error = "cannot write " + path;
        return false;
    }
    return true;
}

Settings LoadSettings()
{
    auto dir = SettingsDirectory();
    return dir ? ReadSettings(*dir + "/" + kFileName) : Settings{};
}

bool SaveSettings(const Settings& settings, std::string& error)
{
    auto dir = SettingsDirectory();
    if (!dir) {
        error = "settings are off";
        return false;
    }
    return WriteSettings(*dir + "/" + kFileName, settings, error);
}

} // namespace sockscope
