// The SOCKSCOPE_* environment variables, read once in main() and passed down: net/ and
// ui/ read none of them. (The standard XDG_CONFIG_HOME, HOME and XDG_PICTURES_DIR, which
// say where a user's settings and pictures go, are read where they are used, in
// ui/settings.cpp and ui/presenter.cpp.)
#pragma once

#include <optional>
#include <string>

namespace sockscope {

struct Environment {
    std::string Lessons;               // $SOCKSCOPE_LESSONS: a lesson folder searched first
    std::string Translations;          // $SOCKSCOPE_I18N: a translation folder searched first
    std::string Worker;                // $SOCKSCOPE_WORKER: the binary the fork server execs
    std::optional<std::string> CjkFont; // $SOCKSCOPE_CJK_FONT: the Chinese font (set but not a font: none)
    bool NoSettings = false;           // $SOCKSCOPE_NO_SETTINGS set to anything but "" or "0"
};

Environment ReadEnvironment();

} // namespace sockscope
