// The three diagrams as SVG documents, for handouts and slides: the ladder of system
// calls, the packet ladder and the TCP state machine. Each is made from the same models
// the panels draw (ActorColumns/LadderCells, BuildPacketLadder, the state diagram's
// counts and arrows), so the picture says what the screen says, in the chosen language.
// The text is real <text> (searchable, copyable); the fonts named are a Latin sans or
// mono font, then a CJK one. No ImGui here: the headless export and the tests use it.
#pragma once

#include "i18n.hpp"
#include "ui.hpp"
#include "world.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sockscope {

struct ExportedFile {
    std::string Name;    // "ladder.svg", "packets.svg", "states.svg"
    std::string Content; // the document
};

// The three SVG documents of `world` as the panels show it. `now` is the lab's clock
// (MonotonicSeconds) for "blocked for N s"; a replay passes the moment shown.
std::vector<ExportedFile> ExportSvgs(const World& world, const LessonView& lesson, Lang lang, double now);
std::string LadderSvg(const World& world, const LessonView& lesson, Lang lang, double now);
std::string PacketSvg(const World& world, const LessonView& lesson, Lang lang);
std::string StateSvg(const World& world, const LessonView& lesson, Lang lang);

// The file names, in the order ExportSvgs() returns them, without ".svg": "ladder",
// "packets", "states" (the GUI's PNGs take the same names).
const std::vector<std::string>& ExportNames();

// `text` as XML character data or an attribute value: & < > " ' escaped; control bytes
// (which XML 1.0 cannot carry at all) shown as their Unicode control pictures (U+2400 +
// byte); bytes that are not UTF-8 as U+FFFD.
std::string XmlEscape(std::string_view text);

// Writes each file into `dir` (which must exist). Returns the paths written, or empty
// with `error` set to one line ("cannot write /x/ladder.svg: Permission denied").
std::vector<std::string> WriteExports(const std::string& dir, const std::vector<ExportedFile>& files,
                                      std::string& error);
// Whether `dir` is a directory this process may write into; `error` says why not.
bool CheckExportDir(const std::string& dir, std::string& error);

} // namespace sockscope
