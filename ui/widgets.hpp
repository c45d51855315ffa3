// Small drawing helpers shared by the panels.
#pragma once

#include "gate_model.hpp"
#include "ui.hpp"

#include <imgui.h>

#include <string>
#include <vector>

namespace sockscope {

// Text wrapped to the space left on the line (or `width` when > 0) with WrapText:
// Chinese narration breaks between characters, addresses are never split at a '.'.
// Drawn as one item, so IsItemHovered() after it refers to the whole block.
void WrappedText(const std::string& text, float width = 0.0f);

// A panel's heading in the title font (when one was loaded); wrapped like WrappedText.
void Heading(const std::string& text, const UiState& state);

// A filled square in `color`, the height of a line of text, followed by SameLine().
void Mark(ImU32 color);

// One checkbox per gate the socket may take (GateChoices): "hold FIN", checked and amber
// while the socket holds that gate ("holding FIN"). A click adds the gate (or ungate)
// command to `commands`. Disabled while `busy` (a lesson step runs) or while a gate call
// for the socket is on its way. Returns the socket's gate status. `wrap`: a checkbox
// that would run past the right edge goes to the next line (never cut); false keeps
// them on one line (a table column that fits its contents).
GateStatus DrawGateToggles(const World& world, const SocketView& socket, bool busy, Lang lang,
                           std::vector<UiCommand>& commands, bool wrap = true);

} // namespace sockscope
