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
        return SomeClickAsks(frame, state, "narration", UiCommand::RestartPrivateNetwork, 10.0f);
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
