// Helpers shared by the GUI test files: worlds made from recorded events, and an
// ImGui context with fonts and no GL.
#pragma once

#include "format.hpp"
#include "gate_model.hpp"
#include "i18n.hpp"
#include "kernel_model.hpp"
#include "lesson.hpp"
#include "presenter.hpp"
#include "settings.hpp"
#include "state_model.hpp"
#include "test_util.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"
#include "model_fixtures.hpp"
#include "world.hpp"
#include <gtest/gtest.h>
#include <imgui.h>
#include <imgui_internal.h> // FindWindowByName
#include <png.h>
#include <cstdlib>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <regex>
#include <set>
#include <unistd.h>

namespace sockscope::guitest {

using namespace sockscope;


constexpr std::uint16_t kPort = 4000;

using namespace sockscope::fixtures;

// The no-accept lesson after step 3, as the lab and the probe would report it: a
// listener with backlog 5 and three connections the kernel completed, none accepted.
inline World NoAcceptAfterThreeConnects()
{
    World w;
    w.Apply(NewSocket(1, "server", "server", 3, 0x100));
    w.Apply(Finished(2, "server", "server", "setsockopt", "3, SOL_SOCKET, SO_REUSEADDR, &(int){1}, 4"));
    CallEvent bind = Finished(3, "server", "server", "bind", "3, {AF_INET, 127.0.0.1:4000}, 16");
    bind.Local = Ep("127.0.0.1:4000");
    w.Apply(bind);
    w.Apply(Finished(4, "server", "server", "listen", "3, 5"));
    std::uint64_t id = 5;
    for (int i = 1; i <= 3; ++i) {
        std::string actor = "client" + std::to_string(i);
        w.Apply(NewSocket(id++, actor.c_str(), "client", 3 + i, 0x200 + i));
        CallEvent connect = Finished(id++, actor.c_str(), "client", "connect", "4, {AF_INET, 127.0.0.1:4000}, 16");
        connect.Remote = Ep("127.0.0.1:4000");
        w.Apply(connect);
    }
    Snapshot snap;
    snap.T = 20;
    snap.Sockets.push_back(Row(TcpState::Listen, "127.0.0.1:4000", "0.0.0.0:0", 0x100, 1003, 3, 5));
    for (int i = 1; i <= 3; ++i) {
        std::string client = "127.0.0.1:" + std::to_string(50000 + i);
        snap.Sockets.push_back(Row(TcpState::Established, client.c_str(), "127.0.0.1:4000", 0x200 + i, 1003 + i));
        snap.Sockets.push_back(Row(TcpState::Established, "127.0.0.1:4000", client.c_str(), 0x300 + i, 0));
    }
    w.Apply(snap);
    return w;
}

inline std::optional<Lesson> NoAcceptLesson()
{
    std::string error;
    auto lesson = LoadLessonFile(std::string(SOCKSCOPE_SOURCE_DIR) + "/assets/lessons/no-accept.json", error);
    EXPECT_TRUE(lesson) << error;
    return lesson;
}

// A Dear ImGui context with a built font atlas and no backend: frames are laid out and
// tessellated, nothing is rendered.
class ImGuiFrames : public ::testing::Test {
protected:
    void SetUp() override
    {
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(1600, 900);
        io.DeltaTime = 1.0f / 60.0f;
        io.KeyMap[ImGuiKey_Space] = ' ';
        io.KeyMap[ImGuiKey_RightArrow] = 262;
        ApplyTheme();
        unsigned char* pixels = nullptr;
        int width = 0, height = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height);
    }
    void TearDown() override { ImGui::DestroyContext(); }

    // One frame of the whole layout; returns the commands and the vertex count.
    std::vector<UiCommand> Frame(const UiFrame& frame, UiState& state, int* vertices = nullptr)
    {
        ImGui::NewFrame();
        auto commands = DrawMainLayout(frame, state);
        ImGui::Render();
        if (vertices)
            *vertices = ImGui::GetDrawData()->TotalVtxCount;
        return commands;
    }

    // One frame with only a socket's gate toggles, in a window at the top left; `first`
    // gets the top-left corner of the first checkbox.
    std::vector<UiCommand> ToggleFrame(const World& world, const SocketView& socket, bool busy,
                                       ImVec2* first = nullptr)
    {
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImVec2(800, 200));
        ImGui::Begin("toggles", nullptr, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoSavedSettings);
        if (first)
            *first = ImGui::GetCursorScreenPos();
        std::vector<UiCommand> commands;
        DrawGateToggles(world, socket, busy, Lang::En, commands);
        ImGui::End();
        ImGui::Render();
        return commands;
    }

    // Press and release the left button over `at`, one frame each (after one to hover).
    std::vector<UiCommand> Click(const World& world, const SocketView& socket, bool busy, ImVec2 at)
    {
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = at;
        std::vector<UiCommand> commands = ToggleFrame(world, socket, busy);
        io.MouseDown[0] = true;
        for (auto& c : ToggleFrame(world, socket, busy))
            commands.push_back(c);
        io.MouseDown[0] = false;
        for (auto& c : ToggleFrame(world, socket, busy))
            commands.push_back(c);
        return commands;
    }
};

inline const SocketView* FindByRole(const World& world, SocketRole role, std::uint16_t local_port = 0)
{
    for (const auto& s : world.Sockets())
        if (s.Role == role && (local_port == 0 || s.K.Local.Port == local_port))
            return &s;
    return nullptr;
}

inline CallEvent GateCall(std::uint64_t id, const char* actor, const char* handle, const char* kind,
                   CallPhase phase = CallPhase::Finished, long result = 0)
{
    bool ungate = std::string(kind).empty();
    std::string args = ungate ? "3, SOL_SOCKET, SO_DETACH_FILTER, &(int){0}, 4"
                              : std::string("3, SOL_SOCKET, SO_ATTACH_FILTER, &(struct sock_fprog){11, /* drop ") +
                                    kind + " segments */}, 16";
    CallEvent c = Finished(id, actor, "server", ungate ? "ungate" : "gate", args.c_str(), result);
    c.Handle = handle;
    c.Phase = phase;
    if (!ungate)
        c.Gate = kind;
    if (result < 0)
        c.Errno = EPERM;
    return c;
}


} // namespace sockscope::guitest
