// The playground's command line: type `server listen 2` or `client1 connect`, Enter runs
// it (the app hands it to the Session), Up/Down recall earlier lines, Tab completes
// actors, calls, parameter names and allowed values (CompleteCommand, a pure function).
#include "command.hpp"
#include "i18n.hpp"
#include "theme.hpp"
#include "ui.hpp"

#include <imgui.h>

#include <algorithm>

namespace sockscope {
namespace {

struct LineContext {
    CommandLineState* State;
    const ActorKinds* Actors;
};

void Replace(ImGuiInputTextCallbackData* data, int count, const std::string& text)
{
    data->DeleteChars(0, count);
    data->InsertChars(0, text.c_str());
}

int OnLineEvent(ImGuiInputTextCallbackData* data)
{
    auto* context = static_cast<LineContext*>(data->UserData);
    CommandLineState& s = *context->State;
    if (data->EventFlag == ImGuiInputTextFlags_CallbackHistory) {
        int n = static_cast<int>(s.History.size());
        int pos = s.HistoryPos;
        if (data->EventKey == ImGuiKey_UpArrow)
            pos = pos < 0 ? n - 1 : std::max(pos - 1, 0);
        else if (data->EventKey == ImGuiKey_DownArrow)
            pos = pos < 0 || pos + 1 >= n ? -1 : pos + 1;
        if (n > 0 && pos != s.HistoryPos) {
            s.HistoryPos = pos;
            Replace(data, data->BufTextLen, pos < 0 ? std::string() : s.History[static_cast<std::size_t>(pos)]);
        }
    } else if (data->EventFlag == ImGuiInputTextFlags_CallbackCompletion) {
        std::string typed(data->Buf, static_cast<std::size_t>(data->CursorPos));
        std::vector<std::string> offers = CompleteCommand(typed, *context->Actors);
        std::string done = CommonPrefix(offers, typed);
        if (offers.size() == 1 && !done.ends_with("="))
            done += " ";
        s.Offers = offers.size() > 1 ? offers : std::vector<std::string>{};
        if (done != typed)
            Replace(data, data->CursorPos, done);
    }
    return 0;
}

// "listen  recv  ...": the last word of each offer.
std::string OffersLine(const std::vector<std::string>& offers)
{
    std::string line;
    for (const auto& o : offers) {
        auto space = o.find_last_of(' ');
        line += (line.empty() ? "" : "  ") + (space == std::string::npos ? o : o.substr(space + 1));
    }
    return line;
}

} // namespace

void CommandLineState::Ran(const std::string& line)
{
    if (!line.empty() && (History.empty() || History.back() != line))
        History.push_back(line);
    Input[0] = '\0';
    HistoryPos = -1;
    Error.clear();
    Offers.clear();
    Focus = true;
}

float CommandLineHeight(const UiState& state)
{
    if (!state.CommandLine.On)
        return 0.0f;
    return ImGui::GetFrameHeightWithSpacing() + ImGui::GetTextLineHeightWithSpacing();
}

void DrawCommandLine(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands)
{
    CommandLineState& s = state.CommandLine;
    if (!s.On)
        return;
    Lang lang = state.Language;
    ActorKinds actors;
    for (const auto& a : frame.Model.Actors())
        if (a.LaneKind.empty()) // a server model's lanes take no command
            actors[a.Name] = a.Kind;
    ImGui::TextUnformatted(">");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1.0f);
    // Asked again until it holds: windows that appear in the same frame (the first one)
    // take the focus on appearing.
    if (s.Focus)
        ImGui::SetKeyboardFocusHere();
    if (state.MonoFont)
        ImGui::PushFont(state.MonoFont);
    LineContext context{&s, &actors};
    ImGuiInputTextFlags flags = ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CallbackHistory |
                                ImGuiInputTextFlags_CallbackCompletion;
    bool entered = ImGui::InputTextWithHint("##command", Tr(lang, "server listen 2, client1 connect ... (Tab completes)"),
                                            s.Input, sizeof s.Input, flags, OnLineEvent, &context);
    if (ImGui::IsItemActive())
        s.Focus = false;
    if (state.MonoFont)
        ImGui::PopFont();
    if (entered && s.Input[0] != '\0') {
        UiCommand run;
        run.What = UiCommand::RunLine;
        run.Line = s.Input;
        commands.push_back(run);
        s.Focus = true;
    }
    if (!s.Error.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        ImGui::TextUnformatted(s.Error.c_str());
        ImGui::PopStyleColor();
    } else if (!s.Offers.empty()) {
        ImGui::TextDisabled("%s", OffersLine(s.Offers).c_str());
    } else {
        ImGui::TextDisabled("%s", Tr(lang, "Enter runs the line; Up/Down recall earlier ones; Tab completes"));
    }
}

} // namespace sockscope
