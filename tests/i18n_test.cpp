// The translations are data (assets/i18n/*.po): every language's file holds exactly the
// program's key list, keeps each text's printf specifiers, and a missing or broken file
// leaves that language in English with a message saying which file and why.
#include "i18n.hpp"
#include "po_file.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <unistd.h>

using namespace sockscope;

namespace {

const std::string kSourceDir = SOCKSCOPE_SOURCE_DIR;
const std::string kI18nDir = kSourceDir + "/assets/i18n";

std::string Slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string FreshDir(const std::string& name)
{
    std::string dir = ::testing::TempDir() + "sockscope_i18n_" + std::to_string(getpid()) + "_" + name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

void Write(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

// After a test loads other files, the shipped ones again.
struct ShippedTranslationsAfterwards {
    ~ShippedTranslationsAfterwards() { LoadTranslations(TranslationDirs()); }
};

} // namespace

TEST(PoFile, ReadsEntriesContinuedStringsEscapesAndFlags)
{
    std::string error;
    auto entries = ParsePo(R"(# a comment
msgid ""
msgstr ""
"Language: xx\n"

#, c-format
msgid "Step %d of %d"
msgstr "第 %d 步，共 %d 步"

msgid ""
"a long text "
"on two lines"
msgstr "一段"
"两行的文字"

#, fuzzy
msgid "a \"quoted\" word\tand a tab"
msgstr "guess"

msgid "not yet"
msgstr ""
)",
                           "t.po", error);
    ASSERT_TRUE(entries) << error;
    ASSERT_EQ(entries->size(), 4u) << "the header (msgid \"\") is not an entry";
    EXPECT_EQ((*entries)[0].Id, "Step %d of %d");
    EXPECT_EQ((*entries)[0].Str, "第 %d 步，共 %d 步");
    EXPECT_EQ((*entries)[0].Line, 7);
    EXPECT_FALSE((*entries)[0].Fuzzy);
    EXPECT_EQ((*entries)[1].Id, "a long text on two lines");
    EXPECT_EQ((*entries)[1].Str, "一段两行的文字");
    EXPECT_EQ((*entries)[2].Id, "a \"quoted\" word\tand a tab");
    EXPECT_TRUE((*entries)[2].Fuzzy);
    EXPECT_EQ((*entries)[3].Str, "");
}

TEST(PoFile, ABrokenFileSaysWhereAndWhat)
{
    struct Case {
        const char* Text;
        const char* Error;
    };
    for (const Case& c : {
             Case{"msgid \"a\"\nmsgstr \"b\n", "t.po:2: expected a string in double quotes"},
             Case{"msgid \"a\"\n\nmsgid \"b\"\nmsgstr \"c\"\n", "t.po:1: msgid without a msgstr"},
             Case{"msgid \"a\"\nmsgstr \"x\"\nmsgid \"a\"\nmsgstr \"y\"\n", "t.po:3: msgid \"a\" is given twice"},
             Case{"msgstr \"b\"\n", "t.po:1: msgstr without a msgid before it"},
             Case{"msgid \"a\\q\"\nmsgstr \"b\"\n", "t.po:1: unknown escape \\q"},
             Case{"msgctxt \"menu\"\nmsgid \"a\"\nmsgstr \"b\"\n", "t.po:1: msgctxt is not used"},
             Case{"msgid \"a\"\nmsgstr \"b\"\nhello\n", "t.po:3: expected msgid, msgstr, a string or a # comment"},
         }) {
        std::string error;
        EXPECT_FALSE(ParsePo(c.Text, "t.po", error)) << c.Text;
        EXPECT_EQ(error.rfind(c.Error, 0), 0u) << "got: " << error;
    }
}

// The key list is the program's: the GUI's texts (i18n_keys.cpp) and the lab's phrases
// (net/phrase.hpp). Each language's file holds every key and nothing else.
TEST(Translations, EveryLanguageFileHoldsEveryKeyAndNoOther)
{
    std::set<std::string> files;
    for (const auto& language : Languages()) {
        if (*language.File == '\0')
            continue;
        files.insert(language.File);
        std::string path = kI18nDir + "/" + language.File;
        TranslationFile file;
        std::string error;
        ASSERT_TRUE(ReadTranslationFile(path, file, error)) << error;
        for (const auto& key : file.Missing)
            ADD_FAILURE() << path << " has no translation of: \"" << key << "\"";
        for (const auto& key : file.Unknown)
            ADD_FAILURE() << path << " translates a text sockscope never shows: \"" << key << "\"";
        EXPECT_EQ(file.Texts.size(), TranslationKeys().size()) << path;
    }
    EXPECT_FALSE(files.empty());
    for (const auto& entry : std::filesystem::directory_iterator(kI18nDir))
        if (entry.path().extension() == ".po")
            EXPECT_TRUE(files.count(entry.path().filename().string()))
                << entry.path() << " is a language the picker does not offer (i18n.cpp's Languages())";
    std::vector<std::string> keys = TranslationKeys();
    std::set<std::string> unique(keys.begin(), keys.end());
    EXPECT_EQ(unique.size(), keys.size()) << "a key is listed twice";
}

TEST(Translations, EveryTranslationKeepsItsPrintfSpecifiers)
{
    std::regex spec("%[-+ #0]*[0-9]*(\\.[0-9]+)?(ll|l|z)?[diouxXfeEgGsc%]");
    auto specifiers = [&](const std::string& s) {
        std::string out;
        for (std::sregex_iterator it(s.begin(), s.end(), spec), end; it != end; ++it)
            out += it->str() + " ";
        return out;
    };
    for (const auto& language : Languages()) {
        if (*language.File == '\0')
            continue;
        TranslationFile file;
        std::string error;
        ASSERT_TRUE(ReadTranslationFile(kI18nDir + "/" + language.File, file, error)) << error;
        for (const auto& [english, translated] : file.Texts)
            EXPECT_EQ(specifiers(english), specifiers(translated)) << language.File << ": " << english;
    }
}

// A Tr(lang, "text") in ui/ or app/ whose text is not in the key list would never be
// translated: every string literal handed to Tr() directly (both arms of a ?: too) is a key.
TEST(Translations, EveryTextTheSourcesHandToTrIsAKey)
{
    std::vector<std::string> keys = TranslationKeys();
    std::set<std::string> known(keys.begin(), keys.end());
    std::regex literal("\"((?:[^\"\\\\]|\\\\.)*)\"");
    int calls = 0;
    for (const char* folder : {"ui", "app"}) {
        for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/" + folder)) {
            if (entry.path().extension() != ".cpp")
                continue;
            // Comments out (they may quote a call).
            std::string text = std::regex_replace(Slurp(entry.path().string()), std::regex("(^|[\n \t])//[^\n]*"), "$1");
            for (std::size_t at = text.find("Tr("); at != std::string::npos; at = text.find("Tr(", at + 3)) {
                if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_'))
                    continue; // another function whose name ends in Tr
                // The call's arguments: up to its closing parenthesis (none of them has a
                // parenthesis inside a string).
                std::size_t end = at + 3;
                for (int depth = 1; end < text.size() && depth > 0; ++end)
                    depth += text[end] == '(' ? 1 : text[end] == ')' ? -1 : 0;
                std::string args = text.substr(at + 3, end - at - 4);
                auto comma = args.find(',');
                if (comma == std::string::npos)
                    continue; // a declaration
                std::string second = args.substr(comma + 1);
                // Adjacent literals are one string; "a" ? ... : "b" are two.
                std::string joined;
                std::vector<std::string> texts;
                std::size_t last_end = std::string::npos;
                for (std::sregex_iterator it(second.begin(), second.end(), literal), e; it != e; ++it) {
                    std::string between = last_end == std::string::npos
                                              ? ""
                                              : second.substr(last_end, it->position() - last_end);
                    bool adjacent = last_end != std::string::npos &&
                                    between.find_first_not_of(" \t\r\n") == std::string::npos;
                    std::string value = std::regex_replace(it->str(1), std::regex("\\\\\""), "\"");
                    if (adjacent)
                        texts.back() += value;
                    else
                        texts.push_back(value);
                    last_end = it->position() + it->length();
                }
                for (const auto& t : texts) {
                    ++calls;
                    if (t.find('\\') != std::string::npos)
                        continue; // an escape (\xe2...) is checked by eye
                    EXPECT_TRUE(known.count(t)) << entry.path().filename() << ": Tr(..., \"" << t
                                                << "\") is not in ui/i18n_keys.cpp";
                }
            }
        }
    }
    EXPECT_GT(calls, 100) << "the scan found the Tr() calls";
}

TEST(Translations, AMissingOrBrokenFileLeavesEnglishAndSaysWhy)
{
    ShippedTranslationsAfterwards restore;
    ASSERT_STREQ(Tr(Lang::Zh, "no fd yet"), "还没有 fd");

    std::string dir = FreshDir("broken");
    Write(dir + "/zh_CN.po", "msgid \"no fd yet\"\nmsgstr \"还没有 fd\"\n\nmsgid \"fd\"\nmsgstr 描述符\n");
    auto problems = LoadTranslations({dir});
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find(dir + "/zh_CN.po:5: expected a string in double quotes"), std::string::npos)
        << problems[0];
    EXPECT_NE(problems[0].find("shows English"), std::string::npos) << problems[0];
    EXPECT_STREQ(Tr(Lang::Zh, "no fd yet"), "no fd yet") << "nothing of a broken file is used";

    // Complete but for one text, and with one the program does not know.
    std::string text = Slurp(kI18nDir + "/zh_CN.po");
    auto at = text.find("msgid \"no fd yet\"\nmsgstr \"还没有 fd\"");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("msgid \"no fd yet\"\nmsgstr \"还没有 fd\"").size(),
                 "msgid \"no fd yet\"\nmsgstr \"\"\n\nmsgid \"a text nobody shows\"\nmsgstr \"没人显示\"");
    Write(dir + "/zh_CN.po", text);
    problems = LoadTranslations({dir});
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_NE(problems[0].find("1 texts have no translation"), std::string::npos) << problems[0];
    EXPECT_NE(problems[1].find("\"a text nobody shows\" is not a text sockscope shows"), std::string::npos)
        << problems[1];
    EXPECT_STREQ(Tr(Lang::Zh, "no fd yet"), "no fd yet");
    EXPECT_STREQ(Tr(Lang::Zh, "fd"), "描述符") << "the rest is translated";

    std::filesystem::remove(dir + "/zh_CN.po");
    problems = LoadTranslations({dir});
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].rfind("no translation file zh_CN.po in " + dir, 0), 0u) << problems[0];
    EXPECT_STREQ(Tr(Lang::Zh, "fd"), "fd");
    std::filesystem::remove_all(dir);
}

// The real binary: a broken file in $SOCKSCOPE_I18N is reported on stderr, the picture is
// still taken (in English words where the file would have had Chinese).
TEST(Translations, TheProgramReportsABrokenFileAndCarriesOn)
{
    std::string dir = FreshDir("binary");
    Write(dir + "/zh_CN.po", "msgid \"Step\"\nmsgstr \"下一步\"\nmsgid \"Reset\"\n");
    std::string png = dir + "/shot.png";
    const char* display = std::getenv("DISPLAY");
    std::string prefix = display && *display ? "" : "xvfb-run -a ";
    if (!prefix.empty() && access("/usr/bin/xvfb-run", X_OK) != 0)
        GTEST_SKIP() << "no DISPLAY and no xvfb-run";
    auto run = test::Run(prefix + "env SOCKSCOPE_NO_SETTINGS=1 SOCKSCOPE_I18N=" + dir + " " + SOCKSCOPE_BINARY +
                             " --screenshot " + png + " --lesson no-accept --step 0 --lang zh --width 640 --height 480",
                         true);
    EXPECT_EQ(run.Status, 0) << run.Out;
    EXPECT_NE(run.Out.find(dir + "/zh_CN.po:3: msgid without a msgstr"), std::string::npos) << run.Out;
    EXPECT_TRUE(std::filesystem::exists(png)) << run.Out;
    std::filesystem::remove_all(dir);
}
