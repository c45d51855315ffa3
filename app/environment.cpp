#include "environment.hpp"

#include <cstdlib>

namespace sockscope {
namespace {

std::string Get(const char* name)
{
    const char* value = std::getenv(name);
    return value ? value : "";
}

} // namespace

Environment ReadEnvironment()
{
    Environment env;
    env.Lessons = Get("SOCKSCOPE_LESSONS");
    env.Translations = Get("SOCKSCOPE_I18N");
    env.Worker = Get("SOCKSCOPE_WORKER");
    if (const char* font = std::getenv("SOCKSCOPE_CJK_FONT"))
        env.CjkFont = font;
    std::string off = Get("SOCKSCOPE_NO_SETTINGS");
    env.NoSettings = !off.empty() && off != "0";
    return env;
}

} // namespace sockscope
