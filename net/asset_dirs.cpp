#include "asset_dirs.hpp"

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

} // namespace sockscope
