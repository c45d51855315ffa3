// Small drawing helpers shared by the panels.
#pragma once

#include <imgui.h>

#include <string>

namespace sockscope {

// Text wrapped to the space left on the line (or `width` when > 0) with WrapText:
// Chinese narration breaks between characters, addresses are never split at a '.'.
// Drawn as one item, so IsItemHovered() after it refers to the whole block.
void WrappedText(const std::string& text, float width = 0.0f);

// A filled square in `color`, the height of a line of text, followed by SameLine().
void Mark(ImU32 color);

} // namespace sockscope
