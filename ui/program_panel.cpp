// `--run` and `--watch` in the GUI: the lesson panel's place says what runs (or which
// ports are watched), how the program ended, and shows its output, scrolled to the end
// while the user has not scrolled up, with a line that Enter sends to its stdin.
#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"
#include "widgets.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstring>

namespace sockscope {
namespace {

void DrawStatus(const ProgramView& p, Lang lang)
{
    if (!p.Error.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        WrappedText(p.Error);
        ImGui::PopStyleColor();
        if (!p.Offer.empty())
            WrappedText(Format(Tr(lang, "Without tracing, its sockets can still be watched: %s"), p.Offer.c_str()));
        return;
    }
    if (p.Ended) {
        ImGui::PushStyleColor(ImGuiCol_Text, p.ExitSignal || p.ExitStatus ? colors::AmberText : colors::Green);
        if (p.ExitSignal)
            WrappedText(Format(Tr(lang, "The program was killed by %s. Reset runs it again."), p.SignalName.c_str()));
        else
            WrappedText(Format(Tr(lang, "The program exited with status %d. Reset runs it again."), p.ExitStatus));
        ImGui::PopStyleColor();
    } else if (p.Running) {
        WrappedText(Tr(lang, "Running: each socket call it makes is on the ladder, its sockets in the table."));
    }
}

void DrawOutput(const ProgramView& p, UiState& state, std::vector<UiCommand>& commands)
{
    Lang lang = state.Language;
    ImGui::TextDisabled("%s", Tr(lang, "Output (stdout and stderr)"));
    if (p.OutputTotal > p.Output.size()) {
        ImGui::SameLine();
        ImGui::TextDisabled("%s", Format(Tr(lang, "(the last %zu bytes of %llu)"), p.Output.size(),
                                         static_cast<unsigned long long>(p.OutputTotal))
                                      .c_str());
    }
    float input_h = ImGui::GetFrameHeightWithSpacing();
    ImVec2 size(0, std::max(ImGui::GetContentRegionAvail().y - input_h, ImGui::GetTextLineHeight() * 2.0f));
    if (ImGui::BeginChild("##program-output", size, true, ImGuiWindowFlags_HorizontalScrollbar)) {
        ImGui::PushFont(state.MonoFont);
        bool at_end = ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1.0f;
        ImGui::TextUnformatted(p.Output.data(), p.Output.data() + p.Output.size());
        // New output: follow it, unless the user scrolled up to read.
        if (p.OutputVersion != state.ProgramInput.OutputSeen && (at_end || state.ProgramInput.OutputSeen == ~0ull))
            ImGui::SetScrollHereY(1.0f);
        state.ProgramInput.OutputSeen = p.OutputVersion;
        ImGui::PopFont();
    }
    ImGui::EndChild();

    if (!p.StdinOpen) {
        ImGui::TextDisabled("%s", Tr(lang, "Its stdin is closed."));
        return;
    }
    const char* close_label = Tr(lang, "Close stdin (Ctrl+D)");
    float close_w = ImGui::CalcTextSize(close_label).x + ImGui::GetStyle().FramePadding.x * 2.0f;
    ImGui::SetNextItemWidth(std::max(ImGui::GetContentRegionAvail().x - close_w - ImGui::GetStyle().ItemSpacing.x,
                                     ImGui::GetFontSize() * 6.0f));
    if (state.ProgramInput.Focus) // asked for until the field has it (the request may take a frame or two)
        ImGui::SetKeyboardFocusHere();
    bool entered = ImGui::InputTextWithHint("##stdin", Tr(lang, "a line for its stdin (Enter sends it)"),
                                            state.ProgramInput.Input, sizeof state.ProgramInput.Input,
                                            ImGuiInputTextFlags_EnterReturnsTrue);
    // 'D': the GLFW backend's key codes are ASCII for letters (ImGui 1.86 names no D key).
    if (ImGui::IsItemActive())
        state.ProgramInput.Focus = false;
    bool ctrl_d = ImGui::IsItemActive() && ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed('D');
    if (entered) {
        UiCommand c;
        c.What = UiCommand::WriteStdin;
        c.Line = std::string(state.ProgramInput.Input) + "\n";
        commands.push_back(std::move(c));
        state.ProgramInput.Input[0] = '\0';
        state.ProgramInput.Focus = true; // Enter leaves the field: the next line goes there too
    }
    ImGui::SameLine();
    if (ImGui::Button(close_label) || ctrl_d) {
        UiCommand c;
        c.What = UiCommand::CloseStdin;
        commands.push_back(std::move(c));
    }
}

} // namespace

void DrawProgramPanel(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands)
{
    if (!frame.Program)
        return;
    const ProgramView& p = *frame.Program;
    Lang lang = state.Language;
    if (p.Watch)
        Heading(Format(Tr(lang, "Watching ports %s"), p.Ports.c_str()), state);
    else if (p.Pid > 0)
        Heading(Format(Tr(lang, "Tracing %s, pid %d"), p.Command.c_str(), p.Pid), state);
    else
        Heading(Format(Tr(lang, "Tracing %s"), p.Command.c_str()), state);
    DrawTimeline(frame, state, commands);
    if (p.Watch) {
        WrappedText(Tr(lang, "No tracing: the kernel's view of every socket on these ports, whoever holds it."));
        return;
    }
    if (ImGui::Button(Tr(lang, "Reset"))) {
        UiCommand c;
        c.What = UiCommand::Reset;
        commands.push_back(std::move(c));
    }
    ImGui::SameLine();
    DrawStatus(p, lang);
    if (p.Error.empty())
        DrawOutput(p, state, commands);
}

} // namespace sockscope
