// Helpers shared by the GUI test files: worlds made from recorded events, and an
// ImGui context with fonts and no GL.
#pragma once

#include "format.hpp"
#include "gate.hpp"
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
#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
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
    w.Apply(Finished(2, "server", "server", "setsockopt", {.Level = SOL_SOCKET, .Option = SO_REUSEADDR, .Value = 1, .Len = 4}, 0, 3));
    CallEvent bind = Finished(3, "server", "server", "bind", To("127.0.0.1:4000"), 0, 3);
    bind.Local = Ep("127.0.0.1:4000");
    w.Apply(bind);
    w.Apply(Finished(4, "server", "server", "listen", {.Value = 5}, 0, 3));
    std::uint64_t id = 5;
    for (int i = 1; i <= 3; ++i) {
        std::string actor = "client" + std::to_string(i);
        w.Apply(NewSocket(id++, actor.c_str(), "client", 3 + i, 0x200 + i));
        CallEvent connect = Finished(id++, actor.c_str(), "client", "connect", To("127.0.0.1:4000"), 0, 3 + i);
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

    // Clicks the whole layout's windows whose name has `window` in it, over a grid of their
    // first `rows` lines of text (each click: hover, press, release, a frame each); true as
    // soon as one asks for `wanted`.
    bool SomeClickAsks(const UiFrame& frame, UiState& state, const std::string& window, UiCommand::Kind wanted,
                       float rows = 1000.0f)
    {
        Frame(frame, state);
        std::vector<ImRect> areas;
        for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows)
            if (std::string(w->Name).find(window) != std::string::npos)
                areas.push_back(w->Rect());
        ImGuiIO& io = ImGui::GetIO();
        for (const ImRect& area : areas) {
            float bottom = std::min(area.Max.y, area.Min.y + ImGui::GetFontSize() * rows);
            for (float y = area.Min.y + 2; y < bottom; y += ImGui::GetFontSize() * 0.5f)
                for (float x = area.Min.x + 4; x < area.Max.x; x += 24.0f) {
                    io.MousePos = ImVec2(x, y);
                    std::vector<UiCommand> commands = Frame(frame, state);
                    io.MouseDown[0] = true;
                    for (auto& c : Frame(frame, state))
                        commands.push_back(c);
                    io.MouseDown[0] = false;
                    for (auto& c : Frame(frame, state))
                        commands.push_back(c);
                    for (const auto& c : commands)
                        if (c.What == wanted)
                            return true;
                }
        }
        return false;
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
    CallArgs args;
    if (!ungate) {
        args.Option = static_cast<int>(GateKindFromName(kind).value_or(GateKind::Syn));
        args.Value = 11;
    }
    CallEvent c = Finished(id, actor, "server", ungate ? "ungate" : "gate", args, result, 3);
    c.Handle = handle;
    c.Phase = phase;
    if (!ungate)
        c.Gate = kind;
    if (result < 0)
        c.Errno = EPERM;
    return c;
}

// --- what a frame drew: glyphs, for overlap and clipping checks ----------------------------

// One glyph of the frame last rendered: where it was drawn, the part its draw command's
// clipping rectangle lets show, and the window whose draw list holds it.
struct Glyph {
    ImRect Drawn;
    ImRect Shown;
    std::string Window;
};

// Every glyph in ImGui::GetDrawData(): a textured quad (two triangles over four vertices,
// as ImDrawList::PrimRectUV writes them) whose texture is not the atlas's white pixel.
inline std::vector<Glyph> FrameGlyphs()
{
    std::vector<Glyph> glyphs;
    ImDrawData* data = ImGui::GetDrawData();
    if (!data)
        return glyphs;
    ImVec2 white = ImGui::GetIO().Fonts->TexUvWhitePixel;
    std::map<const ImDrawList*, std::string> owners;
    for (ImGuiWindow* window : ImGui::GetCurrentContext()->Windows)
        owners[window->DrawList] = window->Name;
    for (int l = 0; l < data->CmdListsCount; ++l) {
        const ImDrawList* list = data->CmdLists[l];
        for (const ImDrawCmd& cmd : list->CmdBuffer) {
            if (cmd.UserCallback)
                continue;
            ImRect clip(cmd.ClipRect.x, cmd.ClipRect.y, cmd.ClipRect.z, cmd.ClipRect.w);
            unsigned end = cmd.IdxOffset + cmd.ElemCount;
            for (unsigned e = cmd.IdxOffset; e + 3 <= end;) {
                const ImDrawIdx* i = &list->IdxBuffer[static_cast<int>(e)];
                bool quad = e + 6 <= end && i[1] == i[0] + 1 && i[2] == i[0] + 2 && i[3] == i[0] &&
                            i[4] == i[0] + 2 && i[5] == i[0] + 3;
                if (quad) {
                    const ImDrawVert* v = &list->VtxBuffer[static_cast<int>(cmd.VtxOffset + i[0])];
                    bool textured = v[0].uv.x != white.x || v[0].uv.y != white.y;
                    bool rect = v[0].pos.y == v[1].pos.y && v[1].pos.x == v[2].pos.x && v[2].pos.y == v[3].pos.y &&
                                v[3].pos.x == v[0].pos.x;
                    if (textured && rect) {
                        Glyph g;
                        g.Drawn = ImRect(v[0].pos, v[2].pos);
                        g.Shown = g.Drawn;
                        g.Shown.ClipWithFull(clip);
                        g.Window = owners.count(list) ? owners[list] : "?";
                        glyphs.push_back(std::move(g));
                        e += 6;
                        continue;
                    }
                }
                e += 3;
            }
        }
    }
    return glyphs;
}

inline float Area(const ImRect& r)
{
    return std::max(r.Max.x - r.Min.x, 0.0f) * std::max(r.Max.y - r.Min.y, 0.0f);
}

// Pairs of visible glyphs that cover each other by more than a third of the smaller one
// (neighbours in a word may touch; text drawn over text covers much more), described.
inline std::vector<std::string> OverlappingGlyphs(std::vector<Glyph> glyphs)
{
    glyphs.erase(std::remove_if(glyphs.begin(), glyphs.end(), [](const Glyph& g) { return Area(g.Shown) <= 0; }),
                 glyphs.end());
    std::sort(glyphs.begin(), glyphs.end(), [](const Glyph& a, const Glyph& b) { return a.Shown.Min.x < b.Shown.Min.x; });
    std::vector<std::string> found;
    for (std::size_t a = 0; a < glyphs.size() && found.size() < 10; ++a)
        for (std::size_t b = a + 1; b < glyphs.size() && glyphs[b].Shown.Min.x < glyphs[a].Shown.Max.x; ++b) {
            ImRect both = glyphs[a].Shown;
            both.ClipWithFull(glyphs[b].Shown);
            if (Area(both) > std::min(Area(glyphs[a].Shown), Area(glyphs[b].Shown)) / 3.0f) {
                std::ostringstream what;
                what << glyphs[a].Window << " (" << glyphs[a].Shown.Min.x << ", " << glyphs[a].Shown.Min.y << ") and "
                     << glyphs[b].Window << " (" << glyphs[b].Shown.Min.x << ", " << glyphs[b].Shown.Min.y << ")";
                found.push_back(what.str());
            }
        }
    return found;
}

// Glyphs cut at the left or right by their clipping rectangle (a word running past the
// edge of its panel, cell or child window), in windows whose name contains `window`.
// Only for windows that do not scroll sideways: there a cut glyph is simply scrolled.
inline std::vector<std::string> CutGlyphs(const std::vector<Glyph>& glyphs, const std::string& window)
{
    std::vector<std::string> found;
    for (const auto& g : glyphs) {
        if (g.Window.find(window) == std::string::npos || Area(g.Shown) <= 0)
            continue;
        // A glyph may hang a pixel past its pen position (its bearing): not a cut.
        float slack = std::max(1.5f, (g.Drawn.Max.x - g.Drawn.Min.x) * 0.15f);
        bool cut = g.Shown.Min.x > g.Drawn.Min.x + slack || g.Shown.Max.x < g.Drawn.Max.x - slack;
        if (cut && found.size() < 10) {
            std::ostringstream what;
            what << g.Window << " at (" << g.Drawn.Min.x << ", " << g.Drawn.Min.y << ")-(" << g.Drawn.Max.x << ", "
                 << g.Drawn.Max.y << "), shown from " << g.Shown.Min.x << " to " << g.Shown.Max.x;
            found.push_back(what.str());
        }
    }
    return found;
}

} // namespace sockscope::guitest
