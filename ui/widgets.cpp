#include "widgets.hpp"

#include "format.hpp"
#include "i18n.hpp"
#include "theme.hpp"

namespace sockscope {

void WrappedText(const std::string& text, float width)
{
    if (width <= 0.0f)
        width = ImGui::GetContentRegionAvail().x;
    auto measure = [](std::string_view piece) {
        return ImGui::CalcTextSize(piece.data(), piece.data() + piece.size()).x;
    };
    ImGui::BeginGroup();
    for (const auto& line : WrapText(text, width, measure))
        ImGui::TextUnformatted(line.c_str());
    ImGui::EndGroup();
}

void Heading(const std::string& text, const UiState& state)
{
    if (state.TitleFont)
        ImGui::PushFont(state.TitleFont);
    WrappedText(text);
    if (state.TitleFont)
        ImGui::PopFont();
}

void Mark(ImU32 color)
{
    float size = ImGui::GetFontSize() * 0.8f;
    ImVec2 p = ImGui::GetCursorScreenPos();
    float pad = (ImGui::GetTextLineHeight() - size) * 0.5f;
    ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + pad), ImVec2(p.x + size, p.y + pad + size), color,
                                              2.0f);
    ImGui::Dummy(ImVec2(size, ImGui::GetTextLineHeight()));
    ImGui::SameLine();
}

} // namespace sockscope

namespace sockscope {

namespace {

// SameLine() unless `wrap` and an item `width` wide would run past the window's edge.
void NextOnLine(bool wrap, float width)
{
    float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (!wrap || ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + width <= right)
        ImGui::SameLine();
}

float CheckboxWidth(const std::string& label)
{
    const ImGuiStyle& style = ImGui::GetStyle();
    return ImGui::GetFrameHeight() + style.ItemInnerSpacing.x + ImGui::CalcTextSize(label.c_str(), nullptr, true).x;
}

} // namespace

GateStatus DrawGateToggles(const World& world, const SocketView& socket, bool busy, Lang lang,
                           std::vector<UiCommand>& commands, bool wrap)
{
    GateStatus gate = GateOf(world, socket.Actor, socket.Handle);
    auto choices = GateChoices(socket);
    ImGui::PushID(socket.Actor.c_str());
    ImGui::PushID(socket.Handle.c_str());
    for (std::size_t i = 0; i < choices.size(); ++i) {
        const std::string& kind = choices[i];
        bool held = gate.Held == kind;
        bool value = held;
        std::string label = GateToggleLabel(kind, held, lang) + "###" + kind;
        if (i > 0)
            NextOnLine(wrap, CheckboxWidth(label));
        ImGui::BeginDisabled(busy || gate.Changing);
        if (held) {
            ImGui::PushStyleColor(ImGuiCol_FrameBg, colors::Amber);
            ImGui::PushStyleColor(ImGuiCol_CheckMark, colors::Text);
            ImGui::PushStyleColor(ImGuiCol_Text, colors::AmberText);
        }
        if (ImGui::Checkbox(label.c_str(), &value))
            commands.push_back(GateCommand(world, socket, kind, value));
        if (held)
            ImGui::PopStyleColor(3);
        ImGui::EndDisabled();
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
            ImGui::SetTooltip("%s", GateExplanation(kind, lang));
    }
    if (gate.Changing) {
        ImGui::SameLine();
        ImGui::TextDisabled("\xe2\x80\xa6"); // …
    } else if (!gate.Failure.empty()) {
        std::string failed = Format(Tr(lang, "gate failed: %s"), gate.Failure.c_str());
        NextOnLine(wrap, ImGui::CalcTextSize(failed.c_str()).x);
        ImGui::PushStyleColor(ImGuiCol_Text, colors::Red);
        ImGui::TextUnformatted(failed.c_str());
        ImGui::PopStyleColor();
    }
    ImGui::PopID();
    ImGui::PopID();
    return gate;
}

} // namespace sockscope
