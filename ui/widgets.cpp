#include "widgets.hpp"

#include "format.hpp"

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
