// Where the main layout puts each panel, as a pure function of the display and the font
// size: proportions follow the font, so 200 % on a 1920x1080 projector and 100 % on a
// 1280x720 laptop both stay readable. Separate from the drawing so tests can check the
// arithmetic without a frame.
#pragma once

#include "ui.hpp"

#include <imgui.h>

namespace sockscope {

// The Wide layout needs this many font sizes (em) across and down; below either, Narrow.
// 1920x1080 at 150 % (18 px fonts: 27 px) is 71 x 40 em, Wide; at 175 % it is 61 x 34 em,
// Narrow. 1280x720 at 100 % is 71 x 40 em, Wide.
inline constexpr float kWideMinEms = 64.0f;
inline constexpr float kWideMinHeightEms = 36.0f;
LayoutMode ChooseLayoutMode(ImVec2 display, float font_size);

struct PanelRect {
    ImVec2 Pos{0, 0};
    ImVec2 Size{0, 0};
    bool Shown() const { return Size.x > 0 && Size.y > 0; }
};

// What the plan needs to know besides the display: sizes the panels' contents ask for.
struct LayoutNeeds {
    ImVec2 Display{0, 0};
    float FontSize = 13;    // ImGui::GetFontSize()
    float LineHeight = 17;  // a line of text and the spacing after it
    float StatusHeight = 0; // the status bar's window
    float LessonHeight = 0; // the lesson panel's window with all of its text (LessonPanelHeight)
    float LessonControlsHeight = 0; // ... with its controls only, which must not scroll
    float TableHeight = 0;  // the lower window showing every row of the socket table
    float TableMinHeight = 0; // ... showing its header and two rows (the rest scroll)
    float QueuesHeight = 0; // the queue panel showing its first listener's both queues
    LowerTab Tab = LowerTab::Sockets;
    bool Asking = false;    // a question waits before the next step: the lesson may take half
};

struct LayoutPlan {
    LayoutMode Mode = LayoutMode::Wide;
    PanelRect Lesson;
    PanelRect Ladder; // not shown in Narrow: a tab of the lower area instead
    PanelRect Queues; // likewise
    PanelRect Lower;  // the tabs
    PanelRect Status;
};

// The panels tile the display exactly, without overlap. Each keeps a minimum in lines of
// text (the lesson panel eight, and its controls, up to 45 % of the height; the ladder a
// few calls; the tabs a few rows) and grows towards what its contents need within a
// share of the height. The ladder and the queues are as tall as both queues of the first
// listener need, taken from the socket table down to two rows.
LayoutPlan PlanLayout(const LayoutNeeds& needs);

// The height of the lesson panel's window (title bar included) that shows its controls,
// the step's title and narration and the checks without scrolling, at `width` and in
// `state.Layout`'s arrangement. Needs the current ImGui context's fonts.
float LessonPanelHeight(const UiFrame& frame, const UiState& state, float width);
// The height that shows its controls (and the separator under them in Narrow).
float LessonControlsHeight(const UiFrame& frame, const UiState& state, float width);

} // namespace sockscope
