// The GUI, in two parts.
// (a) The panels on a hand-made world (call events and snapshots, no sockets), drawn in
//     Dear ImGui frames with no window and no OpenGL: the words and slots they show.
//     The state machine's counts and recent arrows, the packet gates' toggles (clicked
//     in a frame) and the kernel panel's figures.
// (b) The real binary: --screenshot of the no-accept lesson after accept(), and of the
//     state machine tab, checked pixel by pixel (needs a display; uses xvfb-run when
//     there is none).
#include "gui_test_util.hpp"
#include "session.hpp"

using namespace sockscope;
using namespace sockscope::guitest;


// --- (a) what the panels say ------------------------------------------------------------

TEST(QueueSlots, BacklogFiveGivesSixPlaces)
{
    EXPECT_EQ(AcceptQueuePlaces(5), 6);
    EXPECT_EQ(AcceptQueuePlaces(0), 1);
    EXPECT_EQ(PlacesCaption(5, Lang::En), "limit from the kernel: backlog 5 → 6 places");
    EXPECT_NE(PlacesCaption(5, Lang::Zh).find("backlog 5 → 6"), std::string::npos);
}

TEST(SocketTable, UnacceptedConnectionsHaveNoFdYet)
{
    World world = NoAcceptAfterThreeConnects();
    int no_fd = 0;
    for (const auto& s : world.Sockets()) {
        if (s.Role == SocketRole::Server) {
            EXPECT_TRUE(s.NoFdYet());
            EXPECT_EQ(FdLabel(s, Lang::En), "no fd yet");
            EXPECT_EQ(FdLabel(s, Lang::Zh), "还没有 fd");
            ++no_fd;
        } else if (s.Role == SocketRole::Listener) {
            EXPECT_EQ(FdLabel(s, Lang::En), "fd 3 · server");
            EXPECT_EQ(EndpointLabel(s.K.Remote), "0.0.0.0:*");
        } else {
            EXPECT_FALSE(s.NoFdYet());
            EXPECT_EQ(FdLabel(s, Lang::En).rfind("fd ", 0), 0u) << FdLabel(s, Lang::En);
        }
        EXPECT_EQ(OwnerLabel(s), "lab");
    }
    EXPECT_EQ(no_fd, 3);
    EXPECT_EQ(CookieLabel(0x2a), "0x2a");
    EXPECT_EQ(CookieLabel(0), "-");
}

TEST(Ladder, CallsReadAsCWithTheirResults)
{
    CallEvent connect = Finished(1, "client1", "client", "connect", To("127.0.0.1:4000"), -1, 4);
    connect.Errno = ECONNREFUSED;
    EXPECT_EQ(LookOf(connect), CallLook::Failed);
    EXPECT_EQ(CompactCallLabel(connect), "connect(4, 127.0.0.1:4000)");
    EXPECT_EQ(CallLabel(connect), "connect(4, {AF_INET, 127.0.0.1:4000}, 16)");
    EXPECT_EQ(CallResultLabel(connect, 0, Lang::En), "= -1 ECONNREFUSED");

    CallEvent accept = Finished(2, "server", "server", "accept", {}, 0, 3);
    accept.Phase = CallPhase::Blocked;
    accept.TStart = 10.0;
    EXPECT_EQ(LookOf(accept), CallLook::Blocked);
    EXPECT_EQ(CallResultLabel(accept, 13.4, Lang::En), "blocked in accept() for 3 s");
    EXPECT_EQ(CompactCallLabel(accept), "accept(3, &addr, &addrlen)");
    CallEvent connect6 = Finished(4, "client1", "client", "connect", To("[::1]:80"), 0, 5);
    EXPECT_EQ(CompactCallLabel(connect6), "connect(5, [::1]:80)");
    EXPECT_EQ(CallLabel(connect6), "connect(5, {AF_INET6, [::1]:80}, 28)");

    EXPECT_EQ(CallResultLabel(Finished(3, "server", "server", "listen", {.Value = 5}, 0, 3), 0, Lang::En), "= 0");
}

TEST(Ladder, BeforeStepOneTheServersFourCallsAreNext)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    LessonView view;
    view.Data = &*lesson;
    view.Port = kPort;
    auto pending = PendingCalls(view);
    ASSERT_EQ(pending.size(), 4u);
    EXPECT_TRUE(pending[0].First);
    EXPECT_EQ(pending[0].Actor, "server");
    EXPECT_EQ(pending[0].Label, "socket(AF_INET, SOCK_STREAM, 0)");
    EXPECT_EQ(pending[2].Label, "bind(fd, 127.0.0.1:4000)");
    EXPECT_EQ(pending[3].Label, "listen(fd, 5)");
    EXPECT_FALSE(pending[3].First);

    auto columns = ActorColumns(World{}, &*lesson);
    ASSERT_EQ(columns.size(), 4u);
    EXPECT_EQ(columns[0].Name, "server");
    EXPECT_EQ(columns[3].Name, "client3");
}

TEST(Ladder, WhileAStepRunsOnlyItsRemainingCallsAreNext)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    LessonView view;
    view.Data = &*lesson;
    view.Port = kPort;
    view.StepIndex = 2; // two more clients connect
    view.Busy = true;
    view.CallIndex = 1; // client2's connect is in progress
    auto pending = PendingCalls(view);
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_EQ(pending[0].Actor, "client3");
    EXPECT_EQ(pending[1].Label, "connect(fd, 127.0.0.1:4000)");

    view.Busy = false;
    view.StepIndex = static_cast<int>(lesson->Steps.size()) - 1;
    EXPECT_TRUE(PendingCalls(view).empty());
}

TEST(Ladder, CallsShareARowOnlyLeftToRight)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    World world = NoAcceptAfterThreeConnects();
    auto columns = ActorColumns(world, &*lesson);
    auto cells = LadderCells(world, columns, {});
    ASSERT_EQ(cells.size(), 10u);
    // server: socket, setsockopt, bind, listen on rows 0..3; client1's socket() follows
    // listen() on its row; client1's connect() starts a row that client2's socket() shares.
    std::vector<std::pair<int, int>> row_column;
    for (const auto& c : cells)
        row_column.emplace_back(c.Row, c.Column);
    std::vector<std::pair<int, int>> expected = {{0, 0}, {1, 0}, {2, 0}, {3, 0}, {3, 1},
                                                 {4, 1}, {4, 2}, {5, 2}, {5, 3}, {6, 3}};
    EXPECT_EQ(row_column, expected);
}

TEST(Wrapping, BreaksAtSpacesAndBetweenChineseCharactersOnly)
{
    auto chars = [](std::string_view s) {
        float n = 0;
        for (unsigned char c : s)
            n += (c & 0xC0) != 0x80 ? 1.0f : 0.0f; // one unit per code point
        return n;
    };
    EXPECT_EQ(WrapText("connect(14, 127.0.0.1:60355)", 18, chars),
              (std::vector<std::string>{"connect(14,", "127.0.0.1:60355)"}));
    EXPECT_EQ(WrapText("a\nb", 80, chars), (std::vector<std::string>{"a", "b"}));
    // A word wider than a line (an IPv6 address in a narrow ladder column) is broken
    // where it must be, after its ':' or ',' first: no line is wider than the column.
    EXPECT_EQ(WrapText("connect(3, [::ffff:127.0.0.1]:4000)", 12, chars),
              (std::vector<std::string>{"connect(3,", "[::ffff:", "127.0.0.1]:", "4000)"}));
    EXPECT_EQ(WrapText("abcdefghij", 4, chars), (std::vector<std::string>{"abcd", "efgh", "ij"}));
    auto lines = WrapText("服务器从不调用accept()，连接停在队列里。", 8, chars);
    ASSERT_GT(lines.size(), 2u);
    for (const auto& line : lines) {
        EXPECT_LE(chars(line), 9.0f) << line; // closing punctuation may hang one past
        EXPECT_NE(line.rfind("，", 0), 0u) << "a line starts with a comma: " << line;
        EXPECT_NE(line.rfind("。", 0), 0u) << line;
    }
    std::string joined;
    for (const auto& line : lines)
        joined += line;
    EXPECT_EQ(joined, "服务器从不调用accept()，连接停在队列里。");
}

TEST(Translations, AreReadFromTheLanguagesFileAndFallBackToEnglish)
{
    EXPECT_STREQ(Tr(Lang::Zh, "no fd yet"), "还没有 fd");
    EXPECT_STREQ(Tr(Lang::En, "no fd yet"), "no fd yet");
    EXPECT_STREQ(Tr(Lang::Zh, "a string nobody translated"), "a string nobody translated");
}

// What the lab says (call notes, verdicts, capture and probe errors) reaches the GUI as a
// key and its arguments: every key net/ can produce is in the key list, hence in every
// language's file (i18n_test.cpp), and has Chinese.
TEST(Translations, EveryPhraseTheLabCanSayHasChinese)
{
    std::set<std::string> keys;
    for (std::string_view key : PhraseKeys()) {
        keys.insert(std::string(key));
        if (key == "%s")
            continue; // data only: the same in every language
        std::string english(key);
        EXPECT_STRNE(Tr(Lang::Zh, english.c_str()), english.c_str()) << "no Chinese for: " << english;
    }
    EXPECT_EQ(keys.size(), PhraseKeys().size()) << "a key is listed twice";
    // The words a lane's status takes (world.cpp) are phrase keys too.
    for (const char* status : {"running", "zombie", "exiting", "exited", "reaped"})
        EXPECT_TRUE(keys.count(status)) << status;
}

TEST(Translations, APhraseIsFilledInAfterItsKeyIsTranslated)
{
    Phrase note = Say(PhraseId::AwaitWentElsewhere, "FIN-WAIT-1", "TIME-WAIT", "CLOSING");
    EXPECT_EQ(note.English(), "went from FIN-WAIT-1 to TIME-WAIT, not CLOSING") << "the trace's words";
    EXPECT_EQ(Tr(Lang::En, note), note.English());
    EXPECT_EQ(Tr(Lang::Zh, note), "从 FIN-WAIT-1 变成了 TIME-WAIT，而不是 CLOSING");
    EXPECT_EQ(Tr(Lang::Zh, Say(PhraseId::PartialSend, 4096, 65536, "EPIPE")), "只发出了 4096 / 65536 字节，随后 EPIPE");
    EXPECT_EQ(Tr(Lang::Zh, Say(PhraseId::Verbatim, "AF_INET 127.0.0.1:80")), "AF_INET 127.0.0.1:80");
    EXPECT_EQ(Tr(Lang::Zh, Phrase{}), "");
    EXPECT_EQ(FillIn("100%% of %s, then %s", {"3"}), "100% of 3, then %s") << "a missing argument stays visible";

    // A failed check: the call's verdict and what was seen, in Chinese.
    CheckResult failed{"call", Say(PhraseId::ClaimFailsWith, "client1", "connect", "ECONNREFUSED"), false,
                       Say(PhraseId::SeenNoReturn)};
    LessonView view;
    EXPECT_EQ(ClaimText(view, failed, Lang::Zh), "client1：connect() 失败，错误为 ECONNREFUSED");
    EXPECT_EQ(ClaimText(view, failed, Lang::En), "client1: connect() fails with ECONNREFUSED");
}

// net/ makes its phrases only with Say(PhraseId, ...): a Phrase spelled out by hand (or
// a key set directly) would be a sentence no translator sees. The worker's pipe decoder
// in lane.cpp and the recording's reader (recording.cpp) are the places a key is read back.
TEST(Translations, NetMakesPhrasesOnlyFromTheCatalog)
{
    namespace fs = std::filesystem;
    int files = 0;
    for (const auto& entry : fs::directory_iterator(std::string(SOCKSCOPE_SOURCE_DIR) + "/net")) {
        std::string name = entry.path().filename().string();
        if (name.rfind("phrase.", 0) == 0 || (entry.path().extension() != ".cpp" && entry.path().extension() != ".hpp"))
            continue;
        ++files;
        std::ifstream in(entry.path());
        std::string line;
        for (int number = 1; std::getline(in, line); ++number) {
            EXPECT_EQ(line.find("Phrase{"), std::string::npos) << name << ":" << number << ": " << line;
            bool decoder = (name == "lane.cpp" && line.find("Note.Key = Unhex(") != std::string::npos) ||
                           (name == "recording.cpp" && line.find("p.Key = Unhex(") != std::string::npos);
            if (!decoder) {
                EXPECT_EQ(line.find(".Key ="), std::string::npos) << name << ":" << number << ": " << line;
            }
        }
    }
    EXPECT_GT(files, 10);
}

TEST(Claims, ChecksAreShownInTheChosenLanguage)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    LessonView view;
    view.Data = &*lesson;
    view.StepIndex = 2;
    const Check& check = lesson->Steps[2].Expect[0];
    CheckResult result{"listeners", Say(PhraseId::Verbatim, check.Says.En), true, {}};
    EXPECT_EQ(ClaimText(view, result, Lang::Zh), check.Says.Zh);
    EXPECT_EQ(ClaimText(view, result, Lang::En), check.Says.En);
}

TEST_F(ImGuiFrames, TheWholeLayoutDrawsTheWorld)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    World world = NoAcceptAfterThreeConnects();
    UiState state;
    state.LessonNames = {"no-accept"};
    LessonView view;
    view.Data = &*lesson;
    view.StepIndex = 2;
    view.StepsDone = 3;
    view.Status = StepStatus::Passed;
    view.Port = kPort;
    view.Results = {{"call", Say(PhraseId::ClaimReturnsValue, "client2", "connect", 0), true, {}},
                    {"listeners", Say(PhraseId::Verbatim, "three wait"), false, Say(PhraseId::Verbatim, "two")}};
    UiFrame frame{world, view, 30.0, true};

    int vertices = 0;
    auto commands = Frame(frame, state, &vertices);
    EXPECT_TRUE(commands.empty());
    EXPECT_GT(vertices, 1000); // five panels of text, slots and table cells
    for (const char* window : {"###lesson", "###ladder", "###queues", "##lower"})
        EXPECT_NE(ImGui::FindWindowByName(window), nullptr) << window;

    // The same frame in Chinese, and with nothing at all: no panel may trip an assert.
    state.Language = Lang::Zh;
    Frame(frame, state);
    World empty;
    Frame(UiFrame{empty, LessonView{}, 0.0, false}, state);
}

// Issue 13 §6: a script's actor may hold 10,000 descriptors. Its ladder column's title
// listed them all, and ImGui keeps a table's column names in one buffer with 16-bit
// offsets: the next column's name was out of range (an assert in the real GUI).
TEST_F(ImGuiFrames, AnActorHoldingTenThousandDescriptorsStillGetsItsLadderColumn)
{
    World world;
    std::uint64_t id = 1;
    for (int i = 0; i < 10000; ++i) {
        CallEvent socket = NewSocket(id++, "client", "client", 10 + i, 0x1000 + static_cast<std::uint64_t>(i));
        socket.Handle = socket.NewFd->Handle = "s" + std::to_string(i);
        world.Apply(socket);
    }
    world.Apply(NewSocket(id++, "server", "server", 3, 0x99));
    ASSERT_EQ(world.FindActor("client")->Fds.size(), 10000u);
    UiState state;
    Frame(UiFrame{world, LessonView{}, 0.0, true}, state);
    Frame(UiFrame{world, LessonView{}, 0.0, true}, state);
    ImGuiTable* ladder = nullptr;
    for (int i = 0; i < ImGui::GetCurrentContext()->Tables.GetMapSize(); ++i)
        if (ImGuiTable* t = ImGui::GetCurrentContext()->Tables.TryGetMapData(i); t && t->ColumnsCount == 2)
            ladder = t;
    ASSERT_NE(ladder, nullptr);
    std::string client = ladder->ColumnsNames.begin() + ladder->Columns[0].NameOffset;
    std::string server = ladder->ColumnsNames.begin() + ladder->Columns[1].NameOffset;
    EXPECT_EQ(client, "client  fd 10, 11, 12, …, 10007, 10008, 10009 (10000)");
    EXPECT_EQ(server, "server  fd 3");
}

TEST_F(ImGuiFrames, SpaceStepsForwardUnlessAStepIsRunning)
{
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    World world;
    UiState state;
    LessonView view;
    view.Data = &*lesson;
    UiFrame frame{world, view, 0.0, true};
    ImGuiIO& io = ImGui::GetIO();

    EXPECT_TRUE(Frame(frame, state).empty());
    io.KeysDown[' '] = true;
    auto commands = Frame(frame, state);
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0].What, UiCommand::StepForward);
    EXPECT_TRUE(Frame(frame, state).empty()) << "holding the key steps once";
    io.KeysDown[' '] = false;
    Frame(frame, state);

    UiFrame busy{world, view, 0.0, true};
    busy.Lesson.Busy = true;
    io.KeysDown[262] = true; // Right arrow
    EXPECT_TRUE(Frame(busy, state).empty());
}

TEST_F(ImGuiFrames, ChineseGlyphsLoadOrTheOptionIsHiddenWithAReason)
{
    FontReport fonts = LoadFonts(18.0f, {"不调用 accept()，三次握手照样完成"});
    ASSERT_NE(fonts.Body, nullptr);
    if (!fonts.Cjk) {
        EXPECT_FALSE(fonts.Message.empty());
        GTEST_SKIP() << "no CJK font on this machine: " << fonts.Message;
    }
    EXPECT_NE(fonts.Body->FindGlyphNoFallback(0x63E1), nullptr); // 握, from the lesson text
    EXPECT_NE(fonts.Title->FindGlyphNoFallback(0x63E1), nullptr);
    EXPECT_NE(fonts.Body->FindGlyphNoFallback(0x961F), nullptr); // 队, from the UI's words
    // Every character of every translation, net/'s phrases included, has its glyph.
    std::string all = AllTranslatedText();
    for (std::size_t i = 0; i < all.size();) {
        unsigned int c = 0;
        int n = ImTextCharFromUtf8(&c, all.c_str() + i, all.c_str() + all.size());
        i += static_cast<std::size_t>(std::max(n, 1));
        if (c > 0x7f) {
            EXPECT_NE(fonts.Body->FindGlyphNoFallback(static_cast<ImWchar>(c)), nullptr) << "U+" << std::hex << c;
        }
    }

    FontReport none = LoadFonts(18.0f, {}, FontOptions{"/nonexistent/font.ttc"});
    EXPECT_FALSE(none.Cjk);
    EXPECT_NE(none.Message.find("/nonexistent/font.ttc"), std::string::npos) << none.Message;
}

// The fonts hold a glyph for every character a text can show (every lesson, the
// playground, a "What if..." title, every translation, the language picker) and no
// more: a full common-Chinese range made the atlas 1024x2048, held three times.
TEST_F(ImGuiFrames, TheFontsHoldEveryCharacterTheTextsUseAndNoOther)
{
    std::vector<Lesson> lessons = LoadAllLessons(nullptr, {std::string(SOCKSCOPE_SOURCE_DIR) + "/assets/lessons"});
    ASSERT_GT(lessons.size(), 5u);
    lessons.push_back(PlaygroundLesson());
    std::vector<std::string> texts = LessonFontTexts(lessons);
    Text what_if = ContinueTitle(Text{}, 0);
    texts.push_back(what_if.En + what_if.Zh);
    FontReport fonts = LoadFonts(18.0f, texts);
    ASSERT_NE(fonts.Body, nullptr);
    if (!fonts.Cjk)
        GTEST_SKIP() << "no CJK font on this machine: " << fonts.Message;

    std::vector<std::string> shown = texts;
    shown.push_back(AllTranslatedText());
    for (const auto& language : Languages())
        shown.emplace_back(language.Name);
    // A question's choices and a call's explanation are texts a lesson shows too.
    auto among = [&](const Text& t) { return std::find(texts.begin(), texts.end(), t.En + t.Zh) != texts.end(); };
    for (const auto& lesson : lessons)
        for (const auto& step : lesson.Steps) {
            if (step.Ask)
                for (const auto& choice : step.Ask->Choices)
                    EXPECT_TRUE(among(choice)) << choice.En;
            for (const auto& call : step.Calls)
                EXPECT_TRUE(among(call.Explain)) << call.Explain.En;
        }
    for (const auto& text : shown)
        for (std::size_t i = 0; i < text.size();) {
            unsigned int c = 0;
            i += static_cast<std::size_t>(std::max(1, ImTextCharFromUtf8(&c, text.c_str() + i, text.c_str() + text.size())));
            if (c >= 0x20) {
                EXPECT_NE(fonts.Body->FindGlyphNoFallback(static_cast<ImWchar>(c)), nullptr) << "U+" << std::hex << c;
                EXPECT_NE(fonts.Title->FindGlyphNoFallback(static_cast<ImWchar>(c)), nullptr) << "U+" << std::hex << c;
            }
        }
    // A character typed with an input method's punctuation has its glyph; one no text uses
    // (U+9F98) shows the fallback.
    EXPECT_NE(fonts.Body->FindGlyphNoFallback(0xFF1F), nullptr); // ？
    EXPECT_EQ(fonts.Body->FindGlyphNoFallback(0x9F98), nullptr);
    unsigned char* pixels = nullptr;
    int width = 0, height = 0;
    ImGui::GetIO().Fonts->GetTexDataAsAlpha8(&pixels, &width, &height);
    EXPECT_LE(width * height, 1024 * 1536) << width << "x" << height;
}

// A scale change loads the fonts again at another size: the glyph ranges ImGui is given
// are the same ones, not a new copy built (and appended) each time.
TEST_F(ImGuiFrames, TheGlyphRangesAreBuiltOnceNotAgainAtEveryScale)
{
    std::vector<std::string> texts = {"不调用 accept()，三次握手照样完成"};
    FontReport first = LoadFonts(18.0f, texts);
    ASSERT_NE(first.Body, nullptr);
    const ImWchar* body = first.Body->ConfigData->GlyphRanges;
    const ImWchar* title = first.Title->ConfigData->GlyphRanges;
    std::vector<ImWchar> body_ranges;
    for (const ImWchar* r = body; *r; ++r)
        body_ranges.push_back(*r);
    for (float size : {27.0f, 36.0f, 18.0f}) {
        FontReport again = LoadFonts(size, texts);
        EXPECT_EQ(again.Body->ConfigData->GlyphRanges, body) << size;
        EXPECT_EQ(again.Title->ConfigData->GlyphRanges, title) << size;
    }
    std::vector<ImWchar> now;
    for (const ImWchar* r = body; *r; ++r)
        now.push_back(*r);
    EXPECT_EQ(now, body_ranges);
    // Other texts (another lesson set): built again, for them.
    FontReport other = LoadFonts(18.0f, {"另一段文字"});
    if (first.Cjk)
        EXPECT_NE(other.Body->FindGlyphNoFallback(0x53E6), nullptr); // 另
}

// --- (b) the real binary ----------------------------------------------------------------

namespace {

struct Image {
    int Width = 0;
    int Height = 0;
    std::vector<unsigned char> Rgb;
    bool Has(unsigned char r, unsigned char g, unsigned char b) const
    {
        for (std::size_t i = 0; i + 2 < Rgb.size(); i += 3)
            if (Rgb[i] == r && Rgb[i + 1] == g && Rgb[i + 2] == b)
                return true;
        return false;
    }
};

std::optional<Image> ReadPng(const std::string& path)
{
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path.c_str()))
        return std::nullopt;
    png.format = PNG_FORMAT_RGB;
    Image image;
    image.Width = static_cast<int>(png.width);
    image.Height = static_cast<int>(png.height);
    image.Rgb.resize(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, image.Rgb.data(), 0, nullptr))
        return std::nullopt;
    return image;
}

// How to reach a display: "" (there is one), "xvfb-run -a " or nullopt (none).
std::optional<std::string> DisplayPrefix()
{
    const char* display = std::getenv("DISPLAY");
    if (display && *display)
        return std::string();
    if (access("/usr/bin/xvfb-run", X_OK) == 0)
        return std::string("xvfb-run -a ");
    return std::nullopt;
}

std::string TempPath(const std::string& name)
{
    return ::testing::TempDir() + "sockscope_gui_" + std::to_string(getpid()) + "_" + name;
}

} // namespace

TEST(GuiSmoke, ScreenshotAfterAcceptShowsTheQueueAndNoFdYet)
{
    auto prefix = DisplayPrefix();
    if (!prefix)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run: cannot open a window";
    std::string png = TempPath("no-accept-5.png");
    std::filesystem::remove(png);
    auto run = test::Run(*prefix + "env SOCKSCOPE_NO_SETTINGS=1 " + SOCKSCOPE_BINARY + " --screenshot " + png +
                             " --lesson no-accept --step 5 --width 1280 --height 720",
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;

    auto image = ReadPng(png);
    ASSERT_TRUE(image) << "not a PNG: " << png;
    EXPECT_EQ(image->Width, 1280);
    EXPECT_EQ(image->Height, 720);
    std::set<std::uint32_t> colours;
    for (std::size_t i = 0; i + 2 < image->Rgb.size(); i += 3)
        colours.insert(image->Rgb[i] << 16 | image->Rgb[i + 1] << 8 | image->Rgb[i + 2]);
    EXPECT_GT(colours.size(), 5u) << "the screenshot is blank";
    // After accept(), two connections still wait: their "no fd yet" cells are amber and
    // their accept-queue places blue (theme.hpp's colours, drawn unblended).
    EXPECT_TRUE(image->Has(255, 193, 7)) << "no amber \"no fd yet\" cell";
    EXPECT_TRUE(image->Has(21, 101, 192)) << "no taken accept-queue place";
    EXPECT_FALSE(image->Has(219, 234, 252)) << "the state machine is shown instead of the socket table";
    std::filesystem::remove(png);
}

TEST(GuiSmoke, TheStateMachineTabShowsTheStatesInUse)
{
    auto prefix = DisplayPrefix();
    if (!prefix)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run: cannot open a window";
    std::string png = TempPath("no-accept-3-state.png");
    std::filesystem::remove(png);
    auto run = test::Run(*prefix + "env SOCKSCOPE_NO_SETTINGS=1 SOCKSCOPE_TAB=state " + SOCKSCOPE_BINARY + " --screenshot " + png +
                             " --lesson no-accept --step 3",
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;
    auto image = ReadPng(png);
    ASSERT_TRUE(image) << "not a PNG: " << png;
    EXPECT_EQ(image->Width, 1600);
    // LISTEN and ESTABLISHED hold sockets: their boxes are light blue with a blue count.
    EXPECT_TRUE(image->Has(219, 234, 252)) << "no box with sockets in it";
    EXPECT_TRUE(image->Has(21, 101, 192)) << "no count badge";
    std::filesystem::remove(png);
}

TEST(GuiSmoke, NoDisplayIsAClearError)
{
    std::string png = TempPath("never.png");
    auto run = test::Run(std::string("env -u DISPLAY -u WAYLAND_DISPLAY SOCKSCOPE_NO_SETTINGS=1 ") + SOCKSCOPE_BINARY + " --screenshot " + png,
                         true);
    EXPECT_NE(run.Status, 0);
    EXPECT_NE(run.Out.find("sockscope: cannot open a window (no display?); use --headless"), std::string::npos)
        << run.Out;
    EXPECT_FALSE(std::filesystem::exists(png));
}

TEST(GuiSmoke, AnUnwritableScreenshotIsAClearError)
{
    auto prefix = DisplayPrefix();
    if (!prefix)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run: cannot open a window";
    auto run = test::Run(*prefix + "env SOCKSCOPE_NO_SETTINGS=1 " + SOCKSCOPE_BINARY + " --screenshot /nonexistent-dir/shot.png --step 0", true);
    EXPECT_NE(run.Status, 0);
    EXPECT_NE(run.Out.find("sockscope: cannot write /nonexistent-dir/shot.png"), std::string::npos) << run.Out;
}

// Presenter mode for a screenshot: 150 % and the high-contrast theme, chosen by
// environment variables (screenshots read no settings file, and write none).
TEST(GuiSmoke, AHighContrastScreenshotAt150PercentWritesNoSettings)
{
    auto prefix = DisplayPrefix();
    if (!prefix)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run: cannot open a window";
    std::string png = TempPath("contrast-150.png");
    std::string config = TempPath("config");
    std::filesystem::remove(png);
    std::filesystem::remove_all(config);
    std::filesystem::create_directories(config);
    auto run = test::Run(*prefix + "env XDG_CONFIG_HOME=" + config + " SOCKSCOPE_SCALE=1.5 SOCKSCOPE_THEME=contrast " +
                             SOCKSCOPE_BINARY + " --screenshot " + png + " --lesson no-accept --step 3",
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;
    auto image = ReadPng(png);
    ASSERT_TRUE(image) << "not a PNG: " << png;
    EXPECT_TRUE(image->Has(255, 255, 255)) << "no white background";
    EXPECT_TRUE(image->Has(0, 0, 0)) << "no black text or border";
    EXPECT_TRUE(image->Has(255, 214, 0)) << "no yellow button";
    EXPECT_TRUE(std::filesystem::is_empty(config)) << "a screenshot wrote settings";
    std::filesystem::remove(png);
    std::filesystem::remove_all(config);
}

TEST(StatusLine, SaysWhatThePlayerDoesInTheChosenLanguage)
{
    LessonView view;
    EXPECT_EQ(StatusLineLabel(view, Lang::En), "no lesson loaded");
    auto lesson = NoAcceptLesson();
    ASSERT_TRUE(lesson);
    view.Data = &*lesson;
    view.Port = 4000;
    EXPECT_EQ(StatusLineLabel(view, Lang::En), "ready: 6 steps, listener port 4000");
    view.Status = StepStatus::Checking;
    EXPECT_EQ(StatusLineLabel(view, Lang::En), "waiting for the kernel to show the expected state");
    EXPECT_EQ(StatusLineLabel(view, Lang::Zh), "等待内核显示预期的状态");
}

// A step recorded live and the same step replayed from the file: the same picture below
// the lesson panel (whose timeline says "moment 22 of 22" live and "replay: moment 22 of
// 40" replayed: the recording goes on after the screenshot).
TEST(GuiSmoke, AReplayedStepLooksLikeTheLiveOne)
{
    auto prefix = DisplayPrefix();
    if (!prefix)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run: cannot open a window";
    std::string live = TempPath("live-3.png"), replayed = TempPath("replay-3.png"), rec = TempPath("no-accept.rec");
    for (const auto& f : {live, replayed, rec})
        std::filesystem::remove(f);
    std::string size = " --width 1280 --height 720";
    auto run = test::Run(*prefix + "env SOCKSCOPE_NO_SETTINGS=1 " + SOCKSCOPE_BINARY + " --screenshot " + live +
                             " --lesson no-accept --step 3 --record " + rec + size,
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;
    auto again = test::Run(*prefix + "env SOCKSCOPE_NO_SETTINGS=1 " + SOCKSCOPE_BINARY + " --screenshot " + replayed +
                               " --replay " + rec + " --step 3" + size,
                           true);
    ASSERT_EQ(again.Status, 0) << again.Out;
    auto a = ReadPng(live), b = ReadPng(replayed);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->Rgb.size(), b->Rgb.size());
    // The lower half: the ladder, the queues, the socket table, the status bar.
    std::size_t row = static_cast<std::size_t>(a->Width) * 3, from = row * static_cast<std::size_t>(a->Height / 2);
    std::size_t differ = 0;
    for (std::size_t i = from; i < a->Rgb.size(); i += 3)
        if (a->Rgb[i] != b->Rgb[i] || a->Rgb[i + 1] != b->Rgb[i + 1] || a->Rgb[i + 2] != b->Rgb[i + 2])
            ++differ;
    std::size_t total = (a->Rgb.size() - from) / 3;
    EXPECT_EQ(differ, 0u) << differ << " of " << total << " pixels differ";
    for (const auto& f : {live, replayed, rec})
        std::filesystem::remove(f);
}
