// The diagrams exported (ui/svg_export.hpp, --export-svg, --export-png): lessons run on
// real sockets, the SVG checked by xmllint and read back as text, the PNGs drawn by the
// real binary under Xvfb.
#include "i18n.hpp"
#include "lesson.hpp"
#include "lesson_run.hpp"
#include "model_fixtures.hpp"
#include "svg_export.hpp"
#include "test_util.hpp"
#include "clock.hpp"
#include "ui.hpp"

#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace sockscope {
namespace {

using namespace sockscope::fixtures;
using test::Lines;
namespace fs = std::filesystem;

// A directory of its own under the system's temporary directory, removed afterwards.
struct TempDir {
    TempDir()
    {
        std::string pattern = (fs::temp_directory_path() / "sockscope-export-XXXXXX").string();
        Path = mkdtemp(pattern.data()) ? pattern : "";
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(Path, ec);
    }
    std::string Path;
};

bool HaveXmllint() { return access("/usr/bin/xmllint", X_OK) == 0; }

// xmllint's verdict on a file: "" when it is well-formed XML, else what it said.
std::string XmllintProblems(const std::string& path)
{
    auto r = test::Run("xmllint --noout '" + path + "'", true);
    return r.Status == 0 ? "" : r.Out.empty() ? "xmllint failed" : r.Out;
}

std::string Slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// What a reader can search and copy: the character data of every <text>, unescaped, one
// line each.
std::string TextOf(const std::string& svg)
{
    static const std::regex text("<text[^>]*>([^<]*)</text>");
    std::string out;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), text); it != std::sregex_iterator(); ++it) {
        std::string t = (*it)[1];
        for (auto [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                                {"&apos;", "'"}, {"&amp;", "&"}}) {
            for (std::size_t at = t.find(from); at != std::string::npos; at = t.find(from, at + to.size()))
                t.replace(at, from.size(), to);
        }
        out += t + "\n";
    }
    return out;
}

// Writes the documents into a fresh directory and checks each with xmllint.
void ExpectValid(const std::vector<ExportedFile>& files)
{
    TempDir dir;
    std::string error;
    auto written = WriteExports(dir.Path, files, error);
    ASSERT_EQ(written.size(), files.size()) << error;
    if (!HaveXmllint())
        GTEST_SKIP() << "xmllint is not installed (libxml2-utils; scripts/setup.sh --test)";
    for (const auto& path : written)
        EXPECT_EQ(XmllintProblems(path), "") << path;
}

std::optional<Lesson> LessonNamed(const std::string& name)
{
    std::string error;
    auto lesson = LoadLessonFile(std::string(SOCKSCOPE_SOURCE_DIR) + "/assets/lessons/" + name + ".json", error);
    EXPECT_TRUE(lesson) << error;
    return lesson;
}

const std::string& Find(const std::vector<ExportedFile>& files, const std::string& name)
{
    for (const auto& f : files)
        if (f.Name == name)
            return f.Content;
    ADD_FAILURE() << "no " << name;
    static const std::string none;
    return none;
}

TEST(SvgExport, EscapesWhatXmlCannotCarry)
{
    EXPECT_EQ(XmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    EXPECT_EQ(XmlEscape(std::string("x\x01y\x1f\x7f", 5)), "x\xe2\x90\x81y\xe2\x90\x9f\xe2\x90\xa1")
        << "control bytes are shown as their control pictures";
    EXPECT_EQ(XmlEscape(std::string("\0", 1)), "\xe2\x90\x80");
    EXPECT_EQ(XmlEscape("\xff\xc0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") << "not UTF-8: U+FFFD";
    EXPECT_EQ(XmlEscape("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") << "a surrogate is not a character";
    EXPECT_EQ(XmlEscape("客户端 → 服务器"), "客户端 → 服务器");
}

// A traced program can name itself anything, and send anything: the ladder and the packet
// ladder carry it as text, and the documents stay well-formed.
TEST(SvgExport, ACallPayloadWithMarkupQuotesAndControlBytesStaysText)
{
    const std::string actor = std::string("prog<&\"'\x01\xff", 11);
    const std::string payload = std::string("<b>&amp;\"q\" 'x'\x01\x02", 18);
    World w;
    w.Apply(NewSocket(1, actor.c_str(), "client", 3, 0x100));
    CallEvent send = Finished(2, actor.c_str(), "client", "send", {.Len = static_cast<std::int64_t>(payload.size())},
                              static_cast<long>(payload.size()), 3);
    send.Data = payload;
    w.Apply(send);
    Segment datagram;
    datagram.T = 3;
    datagram.Proto = 17;
    datagram.Src = Ep("127.0.0.1:50000");
    datagram.Dst = Ep("127.0.0.1:4000");
    datagram.Len = static_cast<std::uint32_t>(payload.size());
    datagram.Payload = payload;
    w.Apply(datagram);

    auto files = ExportSvgs(w, LessonView{}, Lang::En, 10.0);
    ASSERT_EQ(files.size(), 3u);
    ExpectValid(files);
    std::string ladder = TextOf(Find(files, "ladder.svg"));
    EXPECT_NE(ladder.find("prog<&\"'\xe2\x90\x81\xef\xbf\xbd"), std::string::npos) << ladder;
    EXPECT_NE(ladder.find("send("), std::string::npos) << ladder;
    std::string packets = TextOf(Find(files, "packets.svg"));
    EXPECT_NE(packets.find("<b>&amp;"), std::string::npos) << "the payload's first bytes, as text: " << packets;
    for (const auto& f : files)
        EXPECT_EQ(f.Content.find('\x01'), std::string::npos) << f.Name;
}

// no-accept after step 3: three connections the kernel completed, none accepted. The
// SVGs say so, as text, in English and in Chinese.
TEST(NoAcceptLesson, ExportAfterStep3ShowsTheConnectionsNoOneAccepted)
{
    auto lesson = LessonNamed("no-accept");
    ASSERT_TRUE(lesson);
    LessonRun run;
    run.TheWorld.SetInferSegments(!run.TheLab.Capturing()); // as the GUI and --headless do
    run.Player.Load(std::move(*lesson), 0);
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(run.Step()) << "step " << i + 1 << ": " << run.Failures();
    std::string port = std::to_string(run.Player.Port());

    LessonView view = MakeLessonView(run.Player);
    auto en = ExportSvgs(run.TheWorld, view, Lang::En, MonotonicSeconds());
    ExpectValid(en);
    std::string ladder = TextOf(Find(en, "ladder.svg"));
    for (const char* call : {"socket(", "bind(", "listen(", "connect("})
        EXPECT_NE(ladder.find(call), std::string::npos) << call << " in\n" << ladder;
    EXPECT_NE(ladder.find(port), std::string::npos) << "the listener's port " << port;
    EXPECT_NE(ladder.find("accept("), std::string::npos) << "accept() is still to come (grey): " << ladder;
    EXPECT_NE(ladder.find("Step 3 of 6"), std::string::npos) << ladder;
    std::string states = TextOf(Find(en, "states.svg"));
    for (const char* state : {"LISTEN", "ESTABLISHED", "SYN-SENT", "TIME-WAIT"})
        EXPECT_NE(states.find(state), std::string::npos) << state;
    std::string packets = TextOf(Find(en, "packets.svg"));
    EXPECT_NE(packets.find("SYN"), std::string::npos) << packets;
    EXPECT_NE(packets.find(":" + port), std::string::npos) << packets;

    auto zh = ExportSvgs(run.TheWorld, view, Lang::Zh, MonotonicSeconds());
    ExpectValid(zh);
    EXPECT_NE(TextOf(Find(zh, "ladder.svg")).find(Tr(Lang::Zh, "System calls")), std::string::npos);
    EXPECT_NE(std::string(Tr(Lang::Zh, "System calls")), "System calls") << "the Chinese file is loaded";
    EXPECT_NE(TextOf(Find(zh, "ladder.svg")).find(view.Data->Title.Zh), std::string::npos) << "the lesson's title";
    EXPECT_NE(TextOf(Find(zh, "states.svg")).find(Tr(Lang::Zh, "TCP state machine")), std::string::npos);
    EXPECT_NE(TextOf(Find(zh, "packets.svg")).find(Tr(Lang::Zh, "client")), std::string::npos);
    EXPECT_NE(Find(zh, "ladder.svg").find("WenQuanYi Micro Hei"), std::string::npos) << "a CJK font is named";
}

// udp-unreachable: the datagram to a port nobody has, and the ICMP error that came back.
TEST(UdpUnreachableLesson, ExportShowsTheDatagramAndTheIcmpError)
{
    auto lesson = LessonNamed("udp-unreachable");
    ASSERT_TRUE(lesson);
    LessonRun run;
    run.TheWorld.SetInferDatagrams(!run.TheLab.CapturesDatagrams());
    run.Player.Load(std::move(*lesson), 0);
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(run.Step()) << "step " << i + 1 << ": " << run.Failures();
    auto files = ExportSvgs(run.TheWorld, MakeLessonView(run.Player), Lang::En, MonotonicSeconds());
    ExpectValid(files);
    std::string packets = TextOf(Find(files, "packets.svg"));
    EXPECT_NE(packets.find("UDP datagram"), std::string::npos) << packets;
    EXPECT_NE(packets.find("ICMP port unreachable"), std::string::npos) << packets;
    std::string ladder = TextOf(Find(files, "ladder.svg"));
    EXPECT_NE(ladder.find("ECONNREFUSED"), std::string::npos) << ladder;
    EXPECT_NE(TextOf(Find(files, "states.svg")).find("UDP sockets are not drawn"), std::string::npos);
}

TEST(SvgExport, WritingIntoADirectoryThatIsNotThereIsOneLine)
{
    TempDir dir;
    std::string error;
    EXPECT_TRUE(WriteExports(dir.Path + "/missing", {{"a.svg", "<svg/>"}}, error).empty());
    EXPECT_NE(error.find("missing"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
    std::ofstream(dir.Path + "/file") << "x";
    EXPECT_TRUE(WriteExports(dir.Path + "/file", {{"a.svg", "<svg/>"}}, error).empty());
    EXPECT_NE(error.find("not a directory"), std::string::npos) << error;
}

// --- the command line -----------------------------------------------------------------

std::string Sockscope() { return std::string("env SOCKSCOPE_NO_SETTINGS=1 ") + SOCKSCOPE_BINARY; }

TEST(ExportCommandLine, WritesTheThreeSvgsInChinese)
{
    TempDir dir;
    auto r = test::Run(Sockscope() + " --export-svg " + dir.Path + " --lesson no-accept --step 3 --lang zh", true);
    ASSERT_EQ(r.Status, 0) << r.Out;
    for (const char* name : {"ladder.svg", "packets.svg", "states.svg"}) {
        std::string path = dir.Path + "/" + name;
        ASSERT_TRUE(fs::exists(path)) << path << "\n" << r.Out;
        EXPECT_NE(r.Out.find(path), std::string::npos) << "says where: " << r.Out;
        if (HaveXmllint()) {
            EXPECT_EQ(XmllintProblems(path), "") << path;
        }
    }
    EXPECT_NE(TextOf(Slurp(dir.Path + "/ladder.svg")).find("系统调用"), std::string::npos);
    EXPECT_NE(TextOf(Slurp(dir.Path + "/states.svg")).find("ESTABLISHED"), std::string::npos);
}

// A recorded lesson's step, exported from the recording alone: the same diagrams as live.
TEST(ExportCommandLine, ARecordingExportsTheStepAsTheLiveRunDid)
{
    TempDir dir;
    fs::create_directories(dir.Path + "/live");
    fs::create_directories(dir.Path + "/replayed");
    std::string rec = dir.Path + "/no-accept.rec";
    auto live = test::Run(Sockscope() + " --export-svg " + dir.Path + "/live --lesson no-accept --step 3", true);
    ASSERT_EQ(live.Status, 0) << live.Out;
    auto record = test::Run(Sockscope() + " --headless --lesson no-accept --record " + rec, true);
    ASSERT_EQ(record.Status, 0) << record.Out;
    auto r = test::Run(Sockscope() + " --export-svg " + dir.Path + "/replayed --replay " + rec + " --step 3", true);
    ASSERT_EQ(r.Status, 0) << r.Out;
    for (const char* name : {"ladder.svg", "packets.svg", "states.svg"}) {
        std::string path = dir.Path + "/replayed/" + name;
        ASSERT_TRUE(fs::exists(path)) << r.Out;
        if (HaveXmllint()) {
            EXPECT_EQ(XmllintProblems(path), "") << path;
        }
    }
    // Step 3 of no-accept: three connect() calls, none accepted, in both.
    std::string replayed = TextOf(Slurp(dir.Path + "/replayed/ladder.svg"));
    std::string fresh = TextOf(Slurp(dir.Path + "/live/ladder.svg"));
    auto count = [](const std::string& text, const std::string& what) {
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
            ++n;
        return n;
    };
    EXPECT_EQ(count(replayed, "connect("), 3u) << replayed;
    EXPECT_EQ(count(replayed, "connect("), count(fresh, "connect("));
    EXPECT_EQ(count(replayed, "accept("), count(fresh, "accept("));
}

TEST(ExportCommandLine, BadInputIsOneClearLineAndANonZeroExit)
{
    TempDir dir;
    std::ofstream(dir.Path + "/file") << "x";
    struct Case {
        std::string Args;
        std::string Says;
    };
    const Case cases[] = {
        {"--export-svg " + dir.Path + "/missing --lesson no-accept --step 1", "missing"},
        {"--export-svg " + dir.Path + "/file --lesson no-accept --step 1", "not a directory"},
        {"--export-svg " + dir.Path + " --lesson no-accept --step 99", "has 6 steps"},
        {"--export-svg " + dir.Path + " --lesson no-such-lesson --step 1", "no-such-lesson"},
        {"--export-svg " + dir.Path + " --step 1", "needs a lesson"},
        {"--export-svg " + dir.Path + " --lesson all", "needs a lesson"},
        {"--export-svg " + dir.Path + " --replay " + dir.Path + "/no-such.rec", "cannot open the recording"},
        {"--export-svg " + dir.Path + " --replay " + dir.Path + "/file", "not a sockscope recording"},
        {"--export-svg " + dir.Path + " --export-png " + dir.Path + " --lesson no-accept", "cannot be combined"},
        {"--export-png " + dir.Path + " --lesson no-accept --headless", "needs the GUI"},
    };
    for (const auto& c : cases) {
        auto r = test::Run(Sockscope() + " " + c.Args, true);
        EXPECT_EQ(r.Status, 2) << c.Args << "\n" << r.Out;
        auto lines = Lines(r.Out);
        EXPECT_EQ(lines.size(), 1u) << c.Args << "\n" << r.Out;
        EXPECT_NE(r.Out.find("sockscope: "), std::string::npos) << r.Out;
        EXPECT_NE(r.Out.find(c.Says), std::string::npos) << c.Args << "\n" << r.Out;
    }
    EXPECT_FALSE(fs::exists(dir.Path + "/ladder.svg")) << "nothing written after bad input";
}

// --- PNG, drawn by the GUI ----------------------------------------------------------------

struct Picture {
    int Width = 0, Height = 0;
    std::vector<unsigned char> Rgba;
};

std::optional<Picture> ReadPng(const std::string& path)
{
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path.c_str()))
        return std::nullopt;
    image.format = PNG_FORMAT_RGBA;
    Picture p;
    p.Width = static_cast<int>(image.width);
    p.Height = static_cast<int>(image.height);
    p.Rgba.resize(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, p.Rgba.data(), 0, nullptr))
        return std::nullopt;
    return p;
}

// The menu's Export PNG and --export-png share one path (GuiSession::ExportDiagrams): the
// real binary, under Xvfb, draws each diagram alone and writes it.
TEST(ExportPng, EachDiagramIsARealPictureUnderXvfb)
{
    const char* display = std::getenv("DISPLAY");
    std::string prefix = display && *display ? "" : "xvfb-run -a ";
    if (!prefix.empty() && access("/usr/bin/xvfb-run", X_OK) != 0)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run";
    TempDir dir;
    auto r = test::Run(prefix + Sockscope() + " --export-png " + dir.Path + " --lesson no-accept --step 3", true);
    ASSERT_EQ(r.Status, 0) << r.Out;
    for (const char* name : {"ladder.png", "packets.png", "states.png"}) {
        auto picture = ReadPng(dir.Path + "/" + name);
        ASSERT_TRUE(picture) << name << " is not a PNG";
        EXPECT_GE(picture->Width, 1000) << name;
        EXPECT_GE(picture->Height, 800) << name;
        // A diagram, not a blank: many colours (text is anti-aliased), and ink on a good
        // part of the rows.
        std::set<std::uint32_t> colours;
        int rows_with_ink = 0;
        for (int y = 0; y < picture->Height; ++y) {
            bool ink = false;
            for (int x = 0; x < picture->Width; ++x) {
                const unsigned char* px = &picture->Rgba[static_cast<std::size_t>((y * picture->Width + x) * 4)];
                colours.insert(static_cast<std::uint32_t>(px[0] << 16 | px[1] << 8 | px[2]));
                ink = ink || px[0] + px[1] + px[2] < 3 * 128;
            }
            rows_with_ink += ink ? 1 : 0;
        }
        EXPECT_GT(colours.size(), 20u) << name;
        EXPECT_GT(rows_with_ink, picture->Height / 8) << name;
    }
    // Bad input is one line before any window or socket.
    for (const std::string& args : {" --export-png " + dir.Path + "/missing --lesson no-accept --step 1",
                                    " --export-png " + dir.Path + " --lesson no-accept --step 99"}) {
        auto bad = test::Run(prefix + Sockscope() + args, true);
        EXPECT_EQ(bad.Status, 2) << args << "\n" << bad.Out;
        EXPECT_EQ(Lines(bad.Out).size(), 1u) << args << "\n" << bad.Out;
    }
}

} // namespace
} // namespace sockscope
