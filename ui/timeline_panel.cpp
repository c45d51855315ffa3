// The timeline under the lesson's controls: a slider over the session's moments, and the
// keys that move along it. Past moments are marked so that nobody takes them for now.
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>

namespace sockscope {

namespace {

void Ask(std::vector<UiCommand>& commands, long moment)
{
    UiCommand c;
    c.What = UiCommand::ShowMoment;
    c.Moment = moment;
    commands.push_back(std::move(c));
}

bool Pressed(ImGuiKey key)
{
    int index = ImGui::GetKeyIndex(key);
    return index >= 0 && ImGui::IsKeyPressed(index, true);
}

// The moment the keys start from: the one shown, or (the present) the newest.
long Here(const TimelineView& t)
{
    return t.Viewing ? static_cast<long>(*t.Viewing) : static_cast<long>(t.Moments) - 1;
}

// Where a key asks to go, or -2 for no key. -1 is the present.
long KeyTarget(const TimelineView& t)
{
    const ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput || io.KeyCtrl || io.KeyAlt || t.Moments == 0)
        return -2;
    long here = Here(t);
    long last = static_cast<long>(t.Moments) - 1;
    long present = t.Replay ? last : -1;
    if (Pressed(ImGuiKey_End))
        return present;
    if (Pressed(ImGuiKey_Home))
        return 0;
    if (Pressed(ImGuiKey_LeftArrow)) {
        if (io.KeyShift) {
            // The end of the step before the one shown, where the shown one began (or the
            // first moment).
            long target = 0;
            for (std::size_t i = 0; i < t.StepEnds.size(); ++i)
                if (static_cast<long>(t.StepEnds[i]) < here && t.StepEndSteps[i] < t.HereStep)
                    target = static_cast<long>(t.StepEnds[i]);
            return target;
        }
        return std::max(here - 1, 0L);
    }
    // In the present, → is the lesson's Step key; in the past it walks toward now.
    if (t.Viewing && Pressed(ImGuiKey_RightArrow)) {
        if (io.KeyShift) {
            for (std::size_t e : t.StepEnds)
                if (static_cast<long>(e) > here)
                    return static_cast<long>(e);
            return present;
        }
        return here + 1 > last ? present : here + 1;
    }
    return -2;
}

} // namespace

float TimelineHeight(const UiFrame& frame)
{
    if (!frame.Timeline || frame.Timeline->Moments == 0)
        return 0.0f;
    bool past = frame.Past() && !frame.Timeline->Replay;
    return ImGui::GetFrameHeightWithSpacing() + (past ? ImGui::GetTextLineHeightWithSpacing() : 0.0f);
}

void DrawTimeline(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands)
{
    if (!frame.Timeline || frame.Timeline->Moments == 0)
        return;
    const TimelineView& t = *frame.Timeline;
    Lang lang = state.Language;
    long target = KeyTarget(t);
    if (target != -2 && target != (t.Viewing ? static_cast<long>(*t.Viewing) : -1))
        Ask(commands, target);

    ImGui::PushID("timeline");
    int last = static_cast<int>(t.Moments) - 1;
    int shown = t.Viewing ? static_cast<int>(*t.Viewing) : last;
    // |<  <  [slider]  >  Now
    if (ImGui::SmallButton("|<"))
        Ask(commands, 0);
    ImGui::SameLine();
    if (ImGui::SmallButton("<"))
        Ask(commands, std::max(shown - 1, 0));
    ImGui::SameLine();
    if (ImGui::SmallButton(">"))
        Ask(commands, shown + 1 > last ? (t.Replay ? last : -1) : shown + 1);
    ImGui::SameLine();
    bool at_present = !t.Viewing || (t.Replay && shown == last);
    ImGui::BeginDisabled(at_present);
    if (ImGui::SmallButton(t.Replay ? Tr(lang, "End") : Tr(lang, "Now")))
        Ask(commands, t.Replay ? last : -1);
    ImGui::EndDisabled();
    ImGui::SameLine();
    double seconds = (t.Viewing ? t.ViewT : t.LiveT) - t.FirstT;
    std::string label =
        t.Full ? Format(Tr(lang, "moment %d of %d, %.1f s (history full: nothing after %.0f s kept)"), shown + 1,
                        last + 1, std::max(seconds, 0.0), std::max(t.FullT - t.FirstT, 0.0))
               : Format(Tr(lang, t.Replay ? "replay: moment %d of %d, %.1f s" : "moment %d of %d, %.1f s"), shown + 1,
                        last + 1, std::max(seconds, 0.0));
    ImGui::SetNextItemWidth(std::max(ImGui::GetContentRegionAvail().x, ImGui::GetFontSize() * 6.0f));
    int value = shown;
    if (ImGui::SliderInt("##moment", &value, 0, std::max(last, 0), label.c_str(), ImGuiSliderFlags_AlwaysClamp) &&
        value != shown)
        Ask(commands, !t.Replay && value == last ? -1 : value);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s", Tr(lang, "Drag, or press Left and Shift+Left, to go back; Right, Shift+Right and End come back"));
    if (t.Viewing && !t.Replay) {
        ImGui::PushStyleColor(ImGuiCol_Text, ToVec4(colors::Red));
        WrappedText(Format(Tr(lang, "THE PAST: %.1f s ago (step %d). The lab lives on; End comes back to now."),
                           std::max(t.LiveT - t.ViewT, 0.0), t.ViewStep + 1));
        ImGui::PopStyleColor();
    }
    ImGui::PopID();
}

} // namespace sockscope
