// Every step of every shipped lesson as the real binary draws it, in English and in
// Chinese (`sockscope --screenshot-steps DIR`, one process per lesson and language, the
// two languages at the same time; needs a display, uses xvfb-run when there is none).
// Each picture must not be blank, and a Chinese one must really show Chinese: the font
// atlas the GUI builds has a glyph for every character of the lesson's Chinese texts,
// the run did not fall back to English, and the lesson panel differs from the English
// picture of the same step.
#include "gui_test_util.hpp"

#include <array>
#include <future>
#include <map>
#include <vector>

using namespace sockscope;
using namespace sockscope::guitest;

namespace {

struct Picture {
    int Width = 0;
    int Height = 0;
    std::vector<unsigned char> Rgb;
};

std::optional<Picture> LoadPicture(const std::string& path)
{
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path.c_str()))
        return std::nullopt;
    png.format = PNG_FORMAT_RGB;
    Picture picture;
    picture.Width = static_cast<int>(png.width);
    picture.Height = static_cast<int>(png.height);
    picture.Rgb.resize(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, picture.Rgb.data(), 0, nullptr))
        return std::nullopt;
    return picture;
}

// A part of a picture, as fractions of its size.
struct Area {
    double X0, Y0, X1, Y1;
};
constexpr Area kWhole{0, 0, 1, 1};
// The lesson panel's narration column: right of the controls, left of the checks, below
// the panel's title bar (layout.cpp gives the lesson panel the top 30 %).
constexpr Area kNarration{0.27, 0.05, 0.70, 0.25};

struct Colours {
    std::size_t Distinct = 0;
    double Background = 0; // share of the commonest colour
};

// Counted in a small open-addressing table: a picture of the UI has a few thousand
// colours; past half the table new colours are no longer counted, which only caps
// Distinct. Plain loops over raw pointers: std::map, or even vector::operator[] and a
// function per pixel, make this the slowest part of the test in a debug build.
Colours CountColours(const Picture& p, Area area)
{
    constexpr std::uint32_t kSlots = 1u << 16;
    constexpr std::uint32_t kEmpty = ~0u; // never a 24-bit colour
    std::vector<std::uint32_t> key_table(kSlots, kEmpty);
    std::vector<std::uint32_t> count_table(kSlots, 0);
    std::uint32_t* keys = key_table.data();
    std::uint32_t* counts = count_table.data();
    Colours result;
    std::uint32_t most = 0, total = 0;
    const int x0 = static_cast<int>(area.X0 * p.Width), x1 = static_cast<int>(area.X1 * p.Width);
    for (int y = static_cast<int>(area.Y0 * p.Height); y < static_cast<int>(area.Y1 * p.Height); ++y) {
        const unsigned char* pixel = p.Rgb.data() + (static_cast<std::size_t>(y) * p.Width + x0) * 3;
        for (int x = x0; x < x1; ++x, pixel += 3) {
            ++total;
            std::uint32_t colour = pixel[0] << 16 | pixel[1] << 8 | pixel[2];
            std::uint32_t slot = (colour * 2654435761u) >> 16;
            while (keys[slot] != kEmpty && keys[slot] != colour)
                slot = (slot + 1) & (kSlots - 1);
            if (keys[slot] == kEmpty) {
                if (result.Distinct >= kSlots / 2)
                    continue;
                keys[slot] = colour;
                ++result.Distinct;
            }
            if (++counts[slot] > most)
                most = counts[slot];
        }
    }
    result.Background = total ? static_cast<double>(most) / total : 1.0;
    return result;
}

// Share of the pixels of `area` that differ between two pictures of the same size.
double Difference(const Picture& a, const Picture& b, Area area)
{
    std::size_t differ = 0, total = 0;
    const int x0 = static_cast<int>(area.X0 * a.Width), x1 = static_cast<int>(area.X1 * a.Width);
    for (int y = static_cast<int>(area.Y0 * a.Height); y < static_cast<int>(area.Y1 * a.Height); ++y) {
        std::size_t row = (static_cast<std::size_t>(y) * a.Width + x0) * 3;
        const unsigned char* pa = a.Rgb.data() + row;
        const unsigned char* pb = b.Rgb.data() + row;
        for (int x = x0; x < x1; ++x, pa += 3, pb += 3, ++total)
            differ += pa[0] != pb[0] || pa[1] != pb[1] || pa[2] != pb[2];
    }
    return total ? static_cast<double>(differ) / total : 0.0;
}

// The code points of `text` that `font` has no glyph for (none: "").
std::string MissingGlyphs(const ImFont& font, const std::string& text)
{
    std::string missing;
    const char* s = text.c_str();
    const char* end = s + text.size();
    while (s < end) {
        unsigned int c = 0;
        const char* from = s;
        s += std::max(1, ImTextCharFromUtf8(&c, s, end));
        if (c >= 0x20 && !font.FindGlyphNoFallback(static_cast<ImWchar>(c)))
            missing.append(from, s);
    }
    return missing;
}

// Every text of a lesson the lesson panel may show, with whether it is a title.
std::vector<std::pair<const Text*, bool>> ShownTexts(const Lesson& lesson)
{
    std::vector<std::pair<const Text*, bool>> texts = {{&lesson.Title, true}, {&lesson.Summary, false}};
    for (const auto& step : lesson.Steps) {
        texts.emplace_back(&step.Title, true);
        texts.emplace_back(&step.Narration, false);
        texts.emplace_back(&step.RetryWhy, false);
        for (const auto& check : step.Expect)
            texts.emplace_back(&check.Says, false);
    }
    return texts;
}

std::optional<std::string> DisplayPrefix()
{
    const char* display = std::getenv("DISPLAY");
    if (display && *display)
        return std::string();
    if (access("/usr/bin/xvfb-run", X_OK) == 0)
        return std::string("xvfb-run -a -s '-screen 0 1920x1080x24 -noreset' ");
    return std::nullopt;
}

// The fonts the GUI loads (every lesson's texts), in a context of their own.
class GuiFonts {
public:
    GuiFonts()
    {
        ImGui::CreateContext();
        std::vector<std::string> texts;
        for (const auto& lesson : LoadAllLessons())
            for (const auto& [text, title] : ShownTexts(lesson))
                texts.push_back(text->En + text->Zh);
        Report = LoadFonts(18.0f, texts);
    }
    ~GuiFonts() { ImGui::DestroyContext(); }
    GuiFonts(const GuiFonts&) = delete;
    GuiFonts& operator=(const GuiFonts&) = delete;
    FontReport Report;
};

class LessonScreens : public ::testing::TestWithParam<std::string> {};

TEST_P(LessonScreens, EveryStepDrawnInBothLanguages)
{
    const std::string name = GetParam();
    std::string error;
    auto lesson = FindLesson(name, error);
    ASSERT_TRUE(lesson) << error;
    const int steps = static_cast<int>(lesson->Steps.size());

    // Chinese first in the font atlas: without a CJK font (the GUI then hides Chinese)
    // only English is checked.
    bool chinese = false;
    {
        GuiFonts fonts;
        chinese = fonts.Report.Cjk;
        if (!chinese)
            std::cout << "no Chinese font (" << fonts.Report.Message << "): English only\n";
        for (const auto& [text, title] : ShownTexts(*lesson)) {
            if (!chinese || text->Zh.empty())
                continue;
            const ImFont& font = *(title ? fonts.Report.Title : fonts.Report.Body);
            EXPECT_EQ(MissingGlyphs(font, text->Zh), "") << "no glyph (drawn as '?') in: " << text->Zh;
        }
    }

    auto prefix = DisplayPrefix();
    if (!prefix)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run: cannot open a window";
    const std::string dir =
        ::testing::TempDir() + "sockscope_screens_" + std::to_string(getpid()) + "_" + name;
    std::filesystem::remove_all(dir);
    std::vector<std::string> langs = {"en"};
    if (chinese)
        langs.push_back("zh");
    std::vector<std::future<test::CommandResult>> runs;
    // Both languages at once; one after the other when each needs an Xvfb of its own
    // (two `xvfb-run -a` starting together may pick the same display).
    auto policy = prefix->empty() ? std::launch::async : std::launch::deferred;
    for (const auto& lang : langs)
        runs.push_back(std::async(policy, [&, lang] {
            return test::Run(*prefix + "env SOCKSCOPE_NO_SETTINGS=1 " + SOCKSCOPE_BINARY + " --screenshot-steps " +
                                 dir + " --lesson " + name + " --lang " + lang,
                             true);
        }));
    for (std::size_t i = 0; i < runs.size(); ++i) {
        auto run = runs[i].get();
        ASSERT_EQ(run.Status, 0) << langs[i] << ": " << run.Out;
        if (!run.Out.empty()) // a step that did not show what it claims: lesson_test's business
            std::cout << langs[i] << ": " << run.Out;
    }

    for (int step = 0; step <= steps; ++step) {
        std::map<std::string, Picture> pictures;
        for (const auto& lang : langs) {
            std::string file = dir + "/" + name + "-step" + std::to_string(step) + "-" + lang + ".png";
            auto picture = LoadPicture(file);
            ASSERT_TRUE(picture) << "no picture " << file;
            EXPECT_EQ(picture->Width, 1600);
            EXPECT_EQ(picture->Height, 900);
            // Not blank: panels, text and coloured cells, a tenth of the picture or more
            // (the emptiest, before step 1, are about 83 % background).
            Colours whole = CountColours(*picture, kWhole);
            EXPECT_GE(whole.Distinct, 50u) << file;
            EXPECT_LE(whole.Background, 0.90) << file;
            // The narration is written (step 0: the lesson's summary); two short lines
            // cover about 3 % of this area.
            Colours narration = CountColours(*picture, kNarration);
            EXPECT_GE(narration.Distinct, 10u) << file;
            EXPECT_LE(narration.Background, 0.99) << file;
            pictures.emplace(lang, std::move(*picture));
        }
        if (chinese) {
            // Two English runs differ in none of these pixels (ports are not in the
            // narration); Chinese differs in 4 % (a short step) to 38 %.
            double differ = Difference(pictures.at("en"), pictures.at("zh"), kNarration);
            EXPECT_GE(differ, 0.02) << name << " step " << step << ": the Chinese narration looks like the English one";
        }
    }
    if (!HasFailure())
        std::filesystem::remove_all(dir);
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info)
{
    std::string name = info.param;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)))
            c = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, LessonScreens, ::testing::ValuesIn(ListLessons()), TestName);

} // namespace
