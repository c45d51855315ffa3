#include "asset_dirs.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sockscope {

std::vector<std::string> AssetDirs(const std::string& first, std::string_view kind, const char* source,
                                   const char* install)
{
    std::vector<std::string> dirs;
    if (!first.empty())
        dirs.push_back(first);
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        dirs.push_back((exe.parent_path() / "../share/sockscope" / kind).lexically_normal().string());
        dirs.push_back((exe.parent_path() / "assets" / kind).string());
    }
    if (source)
        dirs.emplace_back(source);
    if (install)
        dirs.emplace_back(install);
    return dirs;
}

std::string ExamplesDir()
{
#ifndef SOCKSCOPE_BUILD_EXAMPLES
#define SOCKSCOPE_BUILD_EXAMPLES nullptr
#endif
#ifndef SOCKSCOPE_INSTALL_EXAMPLES
#define SOCKSCOPE_INSTALL_EXAMPLES nullptr
#endif
    if (const char* env = std::getenv("SOCKSCOPE_EXAMPLES"); env && *env)
        return env;
    std::vector<std::filesystem::path> dirs;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        dirs.push_back(exe.parent_path() / "../lib/sockscope/examples");
        dirs.push_back(exe.parent_path() / "../examples");
        dirs.push_back(exe.parent_path() / "examples");
    }
    for (const char* dir : {SOCKSCOPE_BUILD_EXAMPLES, SOCKSCOPE_INSTALL_EXAMPLES})
        if (dir)
            dirs.emplace_back(dir);
    for (const auto& dir : dirs)
        if (std::filesystem::is_directory(dir, ec))
            return dir.lexically_normal().string();
    return "";
}

} // namespace sockscope
