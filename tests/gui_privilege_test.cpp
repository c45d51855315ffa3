// The lesson notice for machines where gates do not work (not root, no sockscope-helper,
// no private network): a lesson with gate steps says so above its narration and offers,
// in one click, to restart in a private network; a lesson without gates, or a session
// where gates work, shows nothing of it.
#include "gui_test_util.hpp"

#include <imgui_internal.h>

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

std::optional<Lesson> LessonNamed(const char* name)
{
    std::string error;
    auto lesson = LoadLessonFile(std::string(SOCKSCOPE_SOURCE_DIR) + "/assets/lessons/" + name + ".json", error);
    EXPECT_TRUE(lesson) << error;
    return lesson;
}

class PrivilegeNotice : public ImGuiFrames {
protected:
    // Clicks over a grid of the narration window's top rows; true if any click asked
    // for the restart.
    bool SomeClickRestarts(const UiFrame& frame, UiState& state)
    {
        Frame(frame, state);
        ImRect area;
        for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows)
            if (std::string(w->Name).find("narration") != std::string::npos)
                area = w->Rect();
        if (area.GetWidth() <= 0)
            return false;
        ImGuiIO& io = ImGui::GetIO();
        float step_y = ImGui::GetFontSize() * 0.5f;
        for (float y = area.Min.y + 2; y < std::min(area.Max.y, area.Min.y + ImGui::GetFontSize() * 10); y += step_y)
            for (float x = area.Min.x + 4; x < std::min(area.Max.x, area.Min.x + 300.0f); x += 24.0f) {
                io.MousePos = ImVec2(x, y);
                std::vector<UiCommand> commands = Frame(frame, state);
                io.MouseDown[0] = true;
                for (auto& c : Frame(frame, state))
                    commands.push_back(c);
                io.MouseDown[0] = false;
                for (auto& c : Frame(frame, state))
                    commands.push_back(c);
                for (const auto& c : commands)
                    if (c.What == UiCommand::RestartPrivateNetwork)
                        return true;
            }
        return false;
    }
};

} // namespace

TEST_F(PrivilegeNotice, AGateLessonWithoutGatesSaysSoAndOffersThePrivateNetwork)
{
    auto gated = LessonNamed("three-way-handshake");
    ASSERT_TRUE(gated);
    World world;
    UiState state;
    state.LessonNames = {"no-accept", "three-way-handshake"};
    state.GateLessons = {"three-way-handshake"};
    LessonView view;
    view.Data = &*gated;
    UiFrame frame{world, view, 0.0, false, true};

    state.GatesWork = true;
    EXPECT_FALSE(SomeClickRestarts(frame, state));
    state.GatesWork = false;
    EXPECT_TRUE(SomeClickRestarts(frame, state)) << "no restart button above the narration";
    // Already in a private network: nothing to offer.
    state.PrivateNetwork = true;
    EXPECT_FALSE(SomeClickRestarts(frame, state));
}

TEST_F(PrivilegeNotice, ALessonWithoutGatesShowsNoNotice)
{
    auto plain = LessonNamed("no-accept");
    ASSERT_TRUE(plain);
    World world;
    UiState state;
    state.LessonNames = {"no-accept", "three-way-handshake"};
    state.GateLessons = {"three-way-handshake"};
    LessonView view;
    view.Data = &*plain;
    UiFrame frame{world, view, 0.0, false, true};
    state.GatesWork = false;
    EXPECT_FALSE(SomeClickRestarts(frame, state));
}
