// Lesson files: every shipped lesson parses, and a bad file says where and what.
#include "json_positions.hpp"
#include "lesson.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace sockscope;

namespace {

std::string Error(const std::string& text)
{
    std::string error;
    EXPECT_FALSE(ParseLesson(text, "bad.json", error));
    return error;
}

const char* Minimal = R"({
  "name": "m", "title": "t",
  "actors": [{"name": "server", "kind": "server"}],
  "steps": [{"title": "s", "calls": [CALL], "expect": [CHECK]}]
})";

std::string With(std::string call, std::string check = R"({"listeners": {}, "count": 0})")
{
    std::string text = Minimal;
    text.replace(text.find("CALL"), 4, call);
    text.replace(text.find("CHECK"), 5, check);
    return text;
}

} // namespace

TEST(Lesson, EveryShippedLessonParses)
{
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(SOCKSCOPE_SOURCE_DIR) + "/assets/lessons")) {
        std::string error;
        auto lesson = LoadLessonFile(entry.path().string(), error);
        ASSERT_TRUE(lesson) << error;
        EXPECT_EQ(lesson->Name, entry.path().stem().string()) << "a lesson's name is its file name";
        for (const auto& step : lesson->Steps) {
            EXPECT_FALSE(step.Title.En.empty());
            EXPECT_FALSE(step.Title.Zh.empty()) << lesson->Name << ": every step has a Chinese title";
            EXPECT_FALSE(step.Narration.Zh.empty()) << lesson->Name << ": every step has Chinese narration";
            EXPECT_FALSE(step.Expect.empty()) << lesson->Name << ": every step says what the kernel must show";
        }
        ++n;
    }
    EXPECT_GE(n, 1);
}

TEST(Lesson, TheNoAcceptLessonSaysWhatItDoes)
{
    std::string error;
    auto lesson = FindLesson("no-accept", error);
    ASSERT_TRUE(lesson) << error;
    ASSERT_EQ(lesson->Steps.size(), 6u);
    EXPECT_EQ(lesson->Steps[0].Calls[3].Request.Call, CallId::Listen);
    EXPECT_EQ(lesson->Steps[0].Calls[3].Request.Backlog, 5);
    EXPECT_TRUE(lesson->Steps[0].Calls[2].PortFromLab);
    EXPECT_TRUE(lesson->Steps[0].Calls[0].ExpectFd);
}

TEST(Lesson, NotJsonGivesLineAndColumn)
{
    auto e = Error("{\n  \"name\": \"x\",\n  oops\n}");
    EXPECT_NE(e.find("bad.json:3:3:"), std::string::npos) << e;
}

TEST(Lesson, MistakesNameThePathAndWhatWasExpected)
{
    EXPECT_NE(Error(With(R"({"actor": "server", "call": "acept"})")).find("steps[0].calls[0].call: unknown call 'acept'"),
              std::string::npos);
    EXPECT_NE(Error(With(R"({"actor": "nobody", "call": "accept"})")).find("unknown actor 'nobody'"), std::string::npos);
    EXPECT_NE(Error(With(R"({"call": "accept"})")).find("missing the field 'actor'"), std::string::npos);
    EXPECT_NE(Error(With(R"({"actor": "server", "call": "bind", "port": "http"})")).find("calls[0].port: expected a whole number"),
              std::string::npos);
    EXPECT_NE(Error(With(R"({"actor": "server", "call": "bind", "port": 70000})")).find("from 0 to 65535"),
              std::string::npos);
    EXPECT_NE(Error(With(R"({"actor": "server", "call": "bind", "expect": "EWHATEVER"})")).find("errno name"),
              std::string::npos);
    EXPECT_NE(Error(With(R"({"actor": "server", "call": "bind", "colour": 1})")).find("unknown field 'colour'"),
              std::string::npos);
    EXPECT_NE(Error(With(R"({"actor": "server", "call": "listen"})", R"({"count": 1})")).find("missing \"sockets\", \"listeners\", \"lanes\" or \"kernel\""),
              std::string::npos);
    EXPECT_NE(Error(R"({"name": "m", "title": "t", "actors": [], "steps": []})").find("actors: expected a non-empty array"),
              std::string::npos);
}

TEST(Lesson, UnknownLessonNamesTheKnownOnes)
{
    std::string error;
    EXPECT_FALSE(FindLesson("no-such-lesson", error));
    EXPECT_NE(error.find("unknown lesson 'no-such-lesson'"), std::string::npos);
    EXPECT_NE(error.find("no-accept"), std::string::npos);
}

TEST(Lesson, AMistakeNamesTheLineAndColumnOfTheValue)
{
    // The bad port is on line 6, column 49: where its value, "http", begins.
    std::string text = "{\n"
                       "  \"name\": \"m\", \"title\": \"t\",\n"
                       "  \"actors\": [{\"name\": \"server\", \"kind\": \"server\"}],\n"
                       "  \"steps\": [{\"title\": \"s\", \"calls\": [\n"
                       "    {\"actor\": \"server\", \"call\": \"socket\"},\n"
                       "    {\"actor\": \"server\", \"call\": \"bind\", \"port\": \"http\"}\n"
                       "  ]}]\n"
                       "}\n";
    auto e = Error(text);
    EXPECT_NE(e.find("bad.json:6:49: steps[0].calls[1].port: expected a whole number"), std::string::npos) << e;
    // A missing field points at the object that lacks it.
    std::string missing = text;
    missing.replace(missing.find("\"actor\": \"server\", \"call\": \"bind\", "), 19, "");
    e = Error(missing);
    EXPECT_NE(e.find("bad.json:6:5: steps[0].calls[1]: missing the field 'actor'"), std::string::npos) << e;
}

TEST(JsonPositions, EveryValueByPath)
{
    std::string text = "{\"a\": [1, {\"b\": \"x\\\"y\"}], \"c\": {}}";
    auto offsets = JsonValueOffsets(text);
    EXPECT_EQ(offsets.at(""), 0u);
    EXPECT_EQ(text.substr(offsets.at("a"), 1), "[");
    EXPECT_EQ(text.substr(offsets.at("a[0]"), 1), "1");
    EXPECT_EQ(text.substr(offsets.at("a[1].b"), 1), "\"");
    EXPECT_EQ(text.substr(offsets.at("c"), 2), "{}");
    EXPECT_EQ(OffsetOf(offsets, "a[1].b.nothing[3]"), offsets.at("a[1].b"));
    EXPECT_EQ(OffsetOf(offsets, "zzz"), 0u);
    EXPECT_EQ(LineColumn("ab\ncd", 4), "2:2");
    EXPECT_EQ(LineColumn("\xe4\xb8\xad x", 4), "1:3") << "a Chinese character is one column";
    // Malformed text: what came before the fault is still there, and nothing crashes.
    auto partial = JsonValueOffsets("{\"a\": 1, \"b\": [2, ");
    EXPECT_TRUE(partial.count("a"));
    EXPECT_TRUE(partial.count("b[0]"));
    for (std::size_t cut = 0; cut <= text.size(); ++cut)
        JsonValueOffsets(std::string_view(text).substr(0, cut));
}

// A question before a step ("ask", issue 13): the class picks one of the choices, then
// the step shows which was right.
namespace {

std::string Asking(const std::string& ask)
{
    return R"({"name": "m", "title": "t", "actors": [{"name": "server", "kind": "server"}],
               "steps": [{"title": "s", "ask": )" + ask + R"(, "calls": [{"actor": "server", "call": "socket"}]}]})";
}

} // namespace

TEST(Lesson, AQuestionBeforeAStepHasChoicesAndAnAnswer)
{
    std::string error;
    auto lesson = ParseLesson(Asking(R"({"en": "Which state?", "zh": "哪个状态？",
                                         "choices": ["LISTEN", {"en": "CLOSED", "zh": "关闭"}], "answer": 1})"),
                              "ask.json", error);
    ASSERT_TRUE(lesson) << error;
    ASSERT_TRUE(lesson->Steps[0].Ask);
    const Question& q = *lesson->Steps[0].Ask;
    EXPECT_EQ(q.Ask.Get(Lang::Zh), "哪个状态？");
    ASSERT_EQ(q.Choices.size(), 2u);
    EXPECT_EQ(q.Choices[1].Get(Lang::Zh), "关闭");
    EXPECT_EQ(q.Answer, 1);

    EXPECT_NE(Error(Asking(R"({"en": "Q", "choices": ["a", "b"], "answer": 2})")).find("steps[0].ask.answer: expected a number from 0 to 1"),
              std::string::npos);
    EXPECT_NE(Error(Asking(R"({"en": "Q", "choices": ["a"], "answer": 0})")).find("steps[0].ask.choices: expected an array of 2 to 9 answers"),
              std::string::npos);
    EXPECT_NE(Error(Asking(R"({"en": "Q", "choices": ["a", "b"]})")).find("missing the field 'answer'"),
              std::string::npos);
    EXPECT_NE(Error(Asking(R"({"en": "Q", "choices": ["a", "b"], "answer": 0, "hint": "x"})")).find("unknown field 'hint'"),
              std::string::npos);
    EXPECT_NE(Error(Asking(R"("Which?")")).find("steps[0].ask: expected {"), std::string::npos);
}
