#include "theme.hpp"

#include "i18n.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>

namespace sockscope {

namespace {

// Everything that must read from the back of a room through a dim projector: pure black
// on pure white, thick black borders, saturated fills, no pale grey anywhere.
void ApplyContrast(ImGuiStyle& style)
{
    const ImVec4 black(0, 0, 0, 1);
    const ImVec4 white(1, 1, 1, 1);
    const ImVec4 yellow(1.0f, 0.84f, 0.0f, 1.0f);     // buttons: survive any lamp
    const ImVec4 yellow_hot(1.0f, 0.65f, 0.0f, 1.0f);
    const ImVec4 cyan(0.55f, 0.85f, 1.0f, 1.0f);      // selected tab, headers
    style.WindowBorderSize = 2.0f;
    style.FrameBorderSize = 2.0f;
    style.ChildBorderSize = 2.0f;
    style.PopupBorderSize = 2.0f;
    style.TabBorderSize = 2.0f;
    style.WindowRounding = 0.0f;
    style.FrameRounding = 0.0f;
    style.GrabRounding = 0.0f;
    style.TabRounding = 0.0f;

    ImVec4* c = style.Colors;
    c[ImGuiCol_Text] = black;
    c[ImGuiCol_TextDisabled] = ImVec4(0.20f, 0.20f, 0.20f, 1.0f);
    c[ImGuiCol_WindowBg] = white;
    c[ImGuiCol_PopupBg] = white;
    c[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
    c[ImGuiCol_Border] = black;
    c[ImGuiCol_BorderShadow] = ImVec4(0, 0, 0, 0);
    c[ImGuiCol_TitleBg] = cyan;
    c[ImGuiCol_TitleBgActive] = cyan;
    c[ImGuiCol_TitleBgCollapsed] = cyan;
    c[ImGuiCol_MenuBarBg] = white;
    c[ImGuiCol_FrameBg] = white;
    c[ImGuiCol_FrameBgHovered] = ImVec4(1.0f, 0.95f, 0.6f, 1.0f);
    c[ImGuiCol_FrameBgActive] = yellow;
    c[ImGuiCol_CheckMark] = black;
    c[ImGuiCol_SliderGrab] = black;
    c[ImGuiCol_SliderGrabActive] = black;
    c[ImGuiCol_Button] = yellow;
    c[ImGuiCol_ButtonHovered] = yellow_hot;
    c[ImGuiCol_ButtonActive] = yellow_hot;
    c[ImGuiCol_Header] = cyan;
    c[ImGuiCol_HeaderHovered] = yellow;
    c[ImGuiCol_HeaderActive] = yellow_hot;
    c[ImGuiCol_Separator] = black;
    c[ImGuiCol_SeparatorHovered] = black;
    c[ImGuiCol_SeparatorActive] = black;
    c[ImGuiCol_Tab] = white;
    c[ImGuiCol_TabHovered] = yellow;
    c[ImGuiCol_TabActive] = cyan;
    c[ImGuiCol_TabUnfocused] = white;
    c[ImGuiCol_TabUnfocusedActive] = cyan;
    c[ImGuiCol_TableHeaderBg] = cyan;
    c[ImGuiCol_TableBorderStrong] = black;
    c[ImGuiCol_TableBorderLight] = black;
    c[ImGuiCol_TableRowBg] = ImVec4(0, 0, 0, 0);
    c[ImGuiCol_TableRowBgAlt] = ImVec4(0, 0, 0, 0.08f);
    c[ImGuiCol_ScrollbarBg] = white;
    c[ImGuiCol_ScrollbarGrab] = black;
    c[ImGuiCol_ScrollbarGrabHovered] = black;
    c[ImGuiCol_ScrollbarGrabActive] = black;
    c[ImGuiCol_PlotLines] = black;
    c[ImGuiCol_PlotHistogram] = black;
    c[ImGuiCol_TextSelectedBg] = yellow;
}

} // namespace

void ApplyStyle(ThemeKind theme, float scale)
{
    ApplyTheme(theme);
    ImGui::GetStyle().ScaleAllSizes(scale);
}

void ApplyTheme(ThemeKind theme)
{
    ImGuiStyle& style = ImGui::GetStyle();
    style = ImGuiStyle(); // sizes at scale 1, whatever a previous call did
    ImGui::StyleColorsLight(&style);
    style.WindowRounding = 3.0f;
    style.FrameRounding = 3.0f;
    style.GrabRounding = 3.0f;
    style.WindowBorderSize = 1.0f;
    style.FrameBorderSize = 1.0f;
    style.WindowPadding = ImVec2(12, 10);
    style.FramePadding = ImVec2(10, 5);
    style.ItemSpacing = ImVec2(10, 7);
    style.CellPadding = ImVec2(8, 4);
    style.ScrollbarSize = 16.0f;

    ImVec4* c = style.Colors;
    c[ImGuiCol_Text] = ToVec4(colors::Text);
    c[ImGuiCol_TextDisabled] = ToVec4(colors::Muted);
    c[ImGuiCol_WindowBg] = ImVec4(0.985f, 0.985f, 0.985f, 1.0f);
    c[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
    c[ImGuiCol_Border] = ImVec4(0.55f, 0.55f, 0.58f, 1.0f);
    c[ImGuiCol_TitleBg] = ImVec4(0.82f, 0.86f, 0.93f, 1.0f);
    c[ImGuiCol_TitleBgActive] = c[ImGuiCol_TitleBg];
    c[ImGuiCol_TitleBgCollapsed] = c[ImGuiCol_TitleBg];
    c[ImGuiCol_FrameBg] = ImVec4(1, 1, 1, 1);
    c[ImGuiCol_Button] = ImVec4(0.80f, 0.87f, 0.98f, 1.0f);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.65f, 0.78f, 0.98f, 1.0f);
    c[ImGuiCol_ButtonActive] = ImVec4(0.50f, 0.68f, 0.95f, 1.0f);
    c[ImGuiCol_TableHeaderBg] = ImVec4(0.86f, 0.88f, 0.92f, 1.0f);
    c[ImGuiCol_TableRowBgAlt] = ImVec4(0.0f, 0.0f, 0.1f, 0.04f);
    if (theme == ThemeKind::Contrast)
        ApplyContrast(style);
}

namespace {

bool Readable(const std::string& path)
{
    std::error_code ec;
    return !path.empty() && std::filesystem::is_regular_file(path, ec);
}

// Dear ImGui asserts on a file it cannot parse; check the magic number first.
bool LooksLikeFont(const std::string& path)
{
    if (!Readable(path))
        return false;
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    if (!in.read(magic, 4))
        return false;
    return std::memcmp(magic, "\x00\x01\x00\x00", 4) == 0 || std::memcmp(magic, "OTTO", 4) == 0 ||
           std::memcmp(magic, "ttcf", 4) == 0 || std::memcmp(magic, "true", 4) == 0;
}

std::string FirstFont(std::initializer_list<const char*> paths)
{
    for (const char* p : paths)
        if (LooksLikeFont(p))
            return p;
    return "";
}

std::string FindCjkFont(const std::optional<std::string>& forced, std::string& why_not)
{
    if (forced) {
        if (LooksLikeFont(forced->c_str()))
            return *forced;
        why_not = "SOCKSCOPE_CJK_FONT='" + *forced + "' is not a font file; 简体中文 is hidden";
        return "";
    }
    std::string found = FirstFont({
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
    });
    if (found.empty())
        why_not = "no Chinese font found (install fonts-wqy-microhei); the Chinese option is hidden";
    return found;
}

// The characters each font gets. ImGui keeps pointers to them, so they must outlive the
// atlas build; they are built once for a given set of texts and reused at every scale
// (ImFontGlyphRangesBuilder::BuildRanges appends, so building again would pile copy
// after copy into the same vector).
struct GlyphRanges {
    std::string Source; // the texts they were built for
    ImVector<ImWchar> Body;
    ImVector<ImWchar> Title;
};

GlyphRanges& Ranges()
{
    static GlyphRanges ranges;
    return ranges;
}

// Latin, Latin Extended-A, punctuation, arrows, box drawing and geometric shapes.
const ImWchar kSymbolRanges[] = {0x0020, 0x017F, 0x2000, 0x206F, 0x2190, 0x21FF, 0x2500, 0x25FF, 0};
// CJK symbols and punctuation (、。「」…) and the full-width forms of ASCII (，：？（）).
const ImWchar kCjkPunctuation[] = {0x3000, 0x303F, 0xFF01, 0xFF5E, 0};

ImFont* AddFont(const std::string& primary, const std::string& merged, float size, const ImWchar* ranges)
{
    ImGuiIO& io = ImGui::GetIO();
    ImFontConfig config;
    config.OversampleH = 2;
    config.OversampleV = 1;
    config.SizePixels = size;
    ImFont* font = nullptr;
    if (primary.empty()) {
        font = io.Fonts->AddFontDefault(&config);
    } else {
        font = io.Fonts->AddFontFromFileTTF(primary.c_str(), size, &config, ranges);
    }
    if (!merged.empty() && merged != primary) {
        ImFontConfig merge;
        merge.MergeMode = true;
        merge.OversampleH = 1;
        merge.OversampleV = 1;
        io.Fonts->AddFontFromFileTTF(merged.c_str(), size, &merge, ranges);
    }
    return font;
}

} // namespace

FontReport LoadFonts(float size_px, const std::vector<std::string>& texts, const FontOptions& options)
{
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    // The atlas as tall as its glyphs need, not the next power of two (up to twice that).
    io.Fonts->Flags |= ImFontAtlasFlags_NoPowerOfTwoHeight;
    FontReport report;

    std::string latin = FirstFont({
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    });
    std::string mono = FirstFont({
        "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
        "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
        "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    });
    std::string cjk = FindCjkFont(options.CjkFont, report.Message);

    std::string source;
    for (const auto& text : texts)
        source += text;
    if (!cjk.empty()) {
        source += AllTranslatedText();
        for (const auto& language : Languages())
            source += language.Name; // the picker names each language in itself
    }
    GlyphRanges& ranges = Ranges();
    if (ranges.Body.empty() || source != ranges.Source) {
        ImFontGlyphRangesBuilder builder;
        builder.AddRanges(kSymbolRanges);
        builder.AddText(source.c_str());
        // Only the characters some text uses: every translation, every lesson, the
        // playground's own. A full common-Chinese range (2,500 more glyphs) doubled the
        // atlas, and the atlas is held three times (ImGui's two pixel buffers, the
        // texture). Anything else (typed, a program's output) shows ImGui's fallback
        // glyph, except CJK and full-width punctuation, which an input method types.
        ranges.Title.clear();
        ranges.Body.clear();
        builder.BuildRanges(&ranges.Title);
        if (!cjk.empty())
            builder.AddRanges(kCjkPunctuation);
        builder.BuildRanges(&ranges.Body);
        ranges.Source = std::move(source);
    }

    std::string body_file = latin.empty() ? cjk : latin;
    report.Body = AddFont(body_file, cjk, size_px, ranges.Body.Data);
    report.Title = AddFont(body_file, cjk, size_px * 1.3f, ranges.Title.Data);
    report.Mono = mono.empty() ? report.Body : AddFont(mono, "", size_px, kSymbolRanges);

    if (!io.Fonts->Build()) {
        io.Fonts->Clear();
        ImFontConfig config;
        config.SizePixels = size_px;
        report = FontReport{};
        report.Body = report.Title = report.Mono = io.Fonts->AddFontDefault(&config);
        io.Fonts->Build();
        report.Message = "the font files could not be read; the Chinese option is hidden";
        return report;
    }
    // U+4E2D "中": the merged font really has Chinese glyphs.
    report.Cjk = !cjk.empty() && report.Body->FindGlyphNoFallback(0x4E2D) != nullptr;
    if (report.Cjk)
        report.CjkPath = cjk;
    else if (report.Message.empty())
        report.Message = "the font " + cjk + " has no Chinese glyphs; the Chinese option is hidden";
    io.FontDefault = report.Body;
    // The font files (5 MB for wqy-microhei, read twice: body and title) are needed only
    // to build; the glyphs, the atlas's pixels and the configurations stay. The next
    // LoadFonts reads the files again.
    for (ImFontConfig& config : io.Fonts->ConfigData)
        if (config.FontData && config.FontDataOwnedByAtlas) {
            IM_FREE(config.FontData);
            config.FontData = nullptr;
            config.FontDataSize = 0;
        }
    return report;
}

std::vector<std::string> LessonFontTexts(const std::vector<Lesson>& lessons)
{
    std::vector<std::string> texts;
    auto add = [&](const Text& t) { texts.push_back(t.En + t.Zh); };
    for (const auto& lesson : lessons) {
        add(lesson.Title);
        add(lesson.Summary);
        for (const auto& step : lesson.Steps) {
            add(step.Title);
            add(step.Narration);
            add(step.RetryWhy);
            for (const auto& call : step.Calls)
                add(call.Explain);
            for (const auto& check : step.Expect)
                add(check.Says);
            if (step.Ask) {
                add(step.Ask->Ask);
                for (const auto& choice : step.Ask->Choices)
                    add(choice);
            }
        }
    }
    return texts;
}

} // namespace sockscope
