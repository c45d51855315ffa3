// Playground sessions on real sockets: command lines run one by one, saved as a lesson
// that passes in another run on another port (in-process and through --script).
#include "session.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

using namespace sockscope;
using nlohmann::json;

namespace {

// A listener with room for two connections (backlog 1), and three clients.
const char* const kScript = R"(# backlog 1: the accept queue holds two
server socket
server setsockopt SO_REUSEADDR 1
server bind
server listen 1
step A listener with backlog 1

client1 socket
client1 connect
client2 socket
client2 connect
step Two connections fill the accept queue

client3 socket
client3 connect     # its SYN is dropped: the queue is full
step The third client waits in SYN-SENT
client1 send "hello\n"
server accept
)";

std::vector<std::string> ScriptLines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

struct Playground {
    Lab TheLab;
    World TheWorld;
    LessonPlayer Player{TheLab, TheWorld};
    Session TheSession{TheLab, TheWorld, Player};

    Playground() { TheWorld.SetInferSegments(!TheLab.Capturing()); }

    void RunAll(const std::string& script)
    {
        for (const auto& line : ScriptLines(script)) {
            std::string error;
            ASSERT_TRUE(TheSession.Run(line, error)) << line << ": " << error;
            ASSERT_TRUE(TheSession.Drive(10.0)) << line;
        }
    }
    const CallEvent* LastCallOf(const std::string& actor) const
    {
        const ActorView* a = TheWorld.FindActor(actor);
        return a && !a->Calls.empty() ? &a->Calls.back() : nullptr;
    }
};

// `saved` parses as a lesson, and every step of it passes on a port other than `not_port`.
void ExpectPassesOnAnotherPort(const json& saved, int not_port)
{
    std::string error;
    auto lesson = ParseLesson(saved.dump(2), saved.value("name", "saved") + ".json", error);
    ASSERT_TRUE(lesson) << error;
    Lab lab;
    World world;
    world.SetInferSegments(!lab.Capturing());
    LessonPlayer player(lab, world);
    int port = PickFreePort();
    while (port == not_port)
        port = PickFreePort();
    std::size_t steps = lesson->Steps.size();
    player.Load(std::move(*lesson), port);
    for (std::size_t i = 0; i < steps; ++i) {
        player.StepForward();
        ASSERT_TRUE(DriveUntilIdle(lab, world, player, 20.0));
        ASSERT_EQ(player.CurrentStatus(), StepStatus::Passed) << "step " << i + 1 << ": " << player.StatusLine();
    }
}

json CallsOf(const json& lesson, int step) { return lesson["steps"][step]["calls"]; }

bool HasCheck(const json& steps_expect, const json& check)
{
    for (const auto& c : steps_expect)
        if (c.value("sockets", json()) == check.value("sockets", json()) &&
            c.value("listeners", json()) == check.value("listeners", json()) && c["count"] == check["count"])
            return true;
    return false;
}

// Step `step` checks that the listener on $port has `accept_queue` connections waiting.
void ExpectListenerCheck(const json& lesson, int step, int accept_queue)
{
    const json& checks = lesson["steps"][step]["expect"];
    json listener = {{"local", "127.0.0.1:$port"}, {"accept_queue", accept_queue}, {"syn_queue", 0}};
    EXPECT_TRUE(HasCheck(checks, {{"listeners", listener}, {"count", 1}})) << "step " << step << ": " << checks.dump();
}

void ExpectSocketsCheck(const json& lesson, int step, const json& sockets, int count)
{
    const json& checks = lesson["steps"][step]["expect"];
    EXPECT_TRUE(HasCheck(checks, {{"sockets", sockets}, {"count", count}})) << "step " << step << ": " << checks.dump();
}

} // namespace

TEST(PlaygroundSession, BacklogOneThreeClientsSavedAsALessonThatPassesOnAnotherPort)
{
    json saved;
    int first_port = 0;
    {
        Playground p;
        p.TheSession.Start();
        first_port = p.Player.Port();
        p.RunAll(kScript);
        // What the kernel did, as the calls returned it.
        const CallEvent* connect3 = nullptr;
        for (const auto& c : p.TheWorld.FindActor("client3")->Calls)
            if (c.Call == CallId::Connect)
                connect3 = &c;
        ASSERT_NE(connect3, nullptr);
        EXPECT_EQ(connect3->Phase, CallPhase::Blocked);
        const CallEvent* accept = p.LastCallOf("server");
        ASSERT_EQ(accept->Call, CallId::Accept);
        EXPECT_GE(accept->Result, 0);
        std::string error;
        auto lesson = p.TheSession.SaveLesson("backlog-one", error);
        ASSERT_TRUE(lesson) << error;
        saved = *lesson;
    }
    ASSERT_EQ(saved["steps"].size(), 4u) << saved.dump(2);
    EXPECT_EQ(saved["steps"][0]["title"]["en"], "A listener with backlog 1");
    EXPECT_EQ(saved["steps"][3]["title"]["en"], "");
    EXPECT_EQ(saved["actors"], json::parse(R"([{"name":"server","kind":"server"},{"name":"client1","kind":"client"},
                                               {"name":"client2","kind":"client"},{"name":"client3","kind":"client"}])"));
    // Each call's expect is what it returned.
    EXPECT_EQ(CallsOf(saved, 0)[0]["expect"], "fd");
    EXPECT_EQ(CallsOf(saved, 0)[3]["expect"], 0);
    EXPECT_EQ(CallsOf(saved, 0)[3]["backlog"], 1);
    EXPECT_EQ(CallsOf(saved, 1)[1]["port"], "$port");
    EXPECT_EQ(CallsOf(saved, 1)[1]["fd"], "main");
    EXPECT_EQ(CallsOf(saved, 2)[1]["expect"], "blocks");
    EXPECT_EQ(CallsOf(saved, 3)[0]["data"], "hello\n");
    EXPECT_EQ(CallsOf(saved, 3)[0]["expect"], 6);
    EXPECT_EQ(CallsOf(saved, 3)[1]["expect"], "fd");
    // Checks from the kernel's view when each step closed.
    ExpectListenerCheck(saved, 0, 0);
    ExpectListenerCheck(saved, 1, 2);
    ExpectSocketsCheck(saved, 1, {{"role", "server"}, {"state", "ESTABLISHED"}, {"queue", "accept"}}, 2);
    ExpectSocketsCheck(saved, 2, {{"role", "client"}, {"state", "SYN-SENT"}, {"queue", nullptr}}, 1);
    ExpectListenerCheck(saved, 3, 1);

    // The saved file is a lesson, and the kernel shows it again on another port.
    ExpectPassesOnAnotherPort(saved, first_port);
}

TEST(PlaygroundSession, DefaultsAreTheNewestDescriptorAndWrongOrderShowsTheErrno)
{
    Playground p;
    p.TheSession.Start();
    p.RunAll("server listen\n"); // no socket yet: the actor says which descriptor it lacks
    const CallEvent* listen = p.LastCallOf("server");
    ASSERT_NE(listen, nullptr);
    EXPECT_EQ(listen->Result, -1);
    EXPECT_EQ(ErrnoName(listen->Errno), "EBADF");
    p.RunAll("server socket\nserver bind\nserver listen\nclient socket\nclient connect\nserver accept\n"
             "server send \"hi\"\nclient recv\n");
    EXPECT_EQ(p.LastCallOf("server")->Handle, "conn"); // send went to the accepted descriptor
    EXPECT_EQ(p.LastCallOf("client")->Data, "hi");
    // A line refused is one line and changes nothing.
    std::string error;
    auto before = p.TheSession.History().size();
    EXPECT_FALSE(p.TheSession.Run("server listen backlog=lots", error));
    EXPECT_EQ(error, "backlog: expected a whole number, found \"lots\"");
    EXPECT_EQ(p.TheSession.History().size(), before);
}

// Without a capture (as nobody: no CAP_NET_RAW, no helper installed) a script's lab infers
// its datagrams from the calls, as a lesson's does: the trace lists the datagram sent.
TEST(PlaygroundSession, AScriptRunUnprivilegedInfersItsDatagrams)
{
    if (geteuid() != 0 || access("/usr/sbin/runuser", X_OK) != 0)
        GTEST_SKIP() << "needs root to become nobody";
    std::string dir = testing::TempDir() + "sockscope_udp_script";
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::all);
    std::string script = dir + "/udp.txt", trace = dir + "/udp.jsonl";
    std::ofstream(script) << "server socket inet SOCK_DGRAM\nserver bind\nclient socket inet SOCK_DGRAM\n"
                             "client sendto \"hello\"\nstep a datagram\n";
    std::filesystem::permissions(script, std::filesystem::perms::all);
    auto run = test::Run("runuser -u nobody -- " + std::string(SOCKSCOPE_BINARY) + " --headless --script " + script +
                             " --trace " + trace,
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;
    std::ifstream in(trace);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty())
            last = line;
    ASSERT_FALSE(last.empty()) << run.Out;
    auto segments = nlohmann::json::parse(last)["segments"];
    ASSERT_EQ(segments.size(), 1u) << last;
    EXPECT_EQ(segments[0]["proto"], "udp");
    EXPECT_EQ(segments[0]["payload"], "hello");
    EXPECT_EQ(segments[0]["inferred"], true);
    std::filesystem::remove_all(dir);
}

TEST(PlaygroundSession, ScriptAndSaveLessonThroughTheBinary)
{
    std::string dir = testing::TempDir();
    std::string script = dir + "sockscope_session_test.txt", out = dir + "sockscope_session_test.json";
    std::ofstream(script) << kScript;
    unlink(out.c_str());
    auto run = test::Run(std::string(SOCKSCOPE_BINARY) + " --headless --script " + script + " --save-lesson " + out,
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;
    EXPECT_NE(run.Out.find("Step 2/4: Two connections fill the accept queue"), std::string::npos) << run.Out;
    EXPECT_NE(run.Out.find("accept queue 2 of 2 places"), std::string::npos) << run.Out;
    EXPECT_NE(run.Out.find("saved the session as a lesson: " + out), std::string::npos) << run.Out;
    auto replay = test::Run(std::string(SOCKSCOPE_BINARY) + " --headless --lesson " + out, true);
    EXPECT_EQ(replay.Status, 0) << replay.Out;
    EXPECT_NE(replay.Out.find("every step showed what it claims"), std::string::npos) << replay.Out;

    // A bad line: one line naming the file, the line and what was expected; nothing runs.
    std::ofstream(script) << "server socket\nserver listen deep\n";
    auto bad = test::Run(std::string(SOCKSCOPE_BINARY) + " --headless --script " + script, true);
    EXPECT_EQ(bad.Status, 2) << bad.Out;
    EXPECT_EQ(test::Lines(bad.Out).size(), 1u) << bad.Out;
    EXPECT_NE(bad.Out.find(":2: backlog: expected a whole number"), std::string::npos) << bad.Out;
}

TEST(PlaygroundSession, HelpListsTheOptionsAndBadCombinationsGiveOneLine)
{
    auto help = test::Run(std::string(SOCKSCOPE_BINARY) + " --help", true);
    EXPECT_EQ(help.Status, 0);
    for (const char* option : {"--playground", "--script", "--save-lesson"})
        EXPECT_NE(help.Out.find(option), std::string::npos) << option;
    for (const char* args : {"--headless --save-lesson x.json", "--script x.txt --lesson no-accept",
                             "--headless --playground", "--headless --script /nonexistent/s.txt"}) {
        auto r = test::Run(std::string(SOCKSCOPE_BINARY) + " " + args, true);
        EXPECT_EQ(r.Status, 2) << args << ": " << r.Out;
        EXPECT_EQ(test::Lines(r.Out).size(), 1u) << args << ": " << r.Out;
    }
}

TEST(PlaygroundSession, HeadlessPrintsTheQuestionBeforeAStepWithItsAnswer)
{
    std::string path = testing::TempDir() + "sockscope_ask_test.json";
    std::ofstream(path) << R"({"name": "ask", "title": "t", "actors": [{"name": "server", "kind": "server"}],
        "steps": [{"title": "A socket", "calls": [{"actor": "server", "call": "socket", "expect": "fd"}],
                   "ask": {"en": "What does socket() return?", "zh": "socket() 返回什么？",
                           "choices": ["0", "a descriptor"], "answer": 1}}]})";
    auto r = test::Run(std::string(SOCKSCOPE_BINARY) + " --headless --lesson " + path, true);
    EXPECT_EQ(r.Status, 0) << r.Out;
    EXPECT_NE(r.Out.find("asked: What does socket() return?  1. 0  2. a descriptor  (answer: 2. a descriptor)"),
              std::string::npos)
        << r.Out;
}

TEST(PlaygroundSession, WhatIfGoesOnFromALessonsStepAndASavedLessonBeginsWithItsSteps)
{
    json saved;
    int first_port = 0;
    {
        Playground p;
        std::string error;
        auto lesson = FindLesson("no-accept", error);
        ASSERT_TRUE(lesson) << error;
        p.Player.Load(std::move(*lesson));
        first_port = p.Player.Port();
        for (int i = 0; i < 2; ++i) {
            p.Player.StepForward();
            ASSERT_TRUE(DriveUntilIdle(p.TheLab, p.TheWorld, p.Player, 20.0));
            ASSERT_EQ(p.Player.CurrentStatus(), StepStatus::Passed) << p.Player.StatusLine();
        }
        ASSERT_TRUE(p.TheSession.ContinueFrom(error)) << error;
        // The lesson's lab stays: its listener and client1's connection in the accept queue.
        ASSERT_EQ(p.TheWorld.Listeners().size(), 1u);
        EXPECT_EQ(p.TheWorld.Listeners()[0].AcceptQueue, 1u);
        EXPECT_EQ(p.Player.Current()->Steps.size(), 2u) << "the steps not done are dropped";
        EXPECT_EQ(p.TheSession.Actors().at("client2"), "client") << "the lesson's actors are known";
        // "server accept" goes to the lesson's listener: the server's first descriptor.
        p.RunAll("client3 socket\nclient3 connect\nstep A third client joins the queue\nserver accept\n");
        EXPECT_TRUE(test::WaitUntil([&] {
            p.TheSession.Drive(0.05);
            return p.TheWorld.Listeners().size() == 1 && p.TheWorld.Listeners()[0].AcceptQueue == 1;
        })) << "two connections queued, one taken by accept";
        const CallEvent* accept = p.LastCallOf("server");
        ASSERT_EQ(accept->Call, CallId::Accept);
        EXPECT_GE(accept->Result, 0);
        auto lesson_json = p.TheSession.SaveLesson("what-if", error);
        ASSERT_TRUE(lesson_json) << error;
        saved = *lesson_json;
    }
    ASSERT_EQ(saved["steps"].size(), 4u) << saved.dump(2);
    EXPECT_EQ(saved["steps"][0]["title"]["en"], "The server listens, and will not accept") << "the lesson's own step";
    EXPECT_EQ(saved["steps"][2]["title"]["en"], "A third client joins the queue");
    int client3 = 0;
    for (const auto& a : saved["actors"])
        client3 += a["name"] == "client3";
    EXPECT_EQ(client3, 1);
    ExpectListenerCheck(saved, 2, 2);
    ExpectListenerCheck(saved, 3, 1);
    ExpectPassesOnAnotherPort(saved, first_port);

    // Nothing to go on from: one line.
    Playground empty;
    std::string error;
    EXPECT_FALSE(empty.TheSession.ContinueFrom(error));
    EXPECT_EQ(error, "no lesson is loaded to continue from");
}

TEST(PlaygroundSession, SaveNameWritesTheLessonAndRefusesATakenName)
{
    std::string dir = testing::TempDir() + "sockscope_save_test";
    std::filesystem::remove_all(dir);
    Playground p;
    p.TheSession.Start();
    std::string error;
    EXPECT_FALSE(p.TheSession.Run("save mine", error)) << "no folder given: refused";
    p.TheSession.SetSaveDir(dir, {"close"});
    EXPECT_FALSE(p.TheSession.Run("save mine", error));
    EXPECT_EQ(error, "nothing to save: no call was made");
    p.RunAll("server socket\nserver bind\nserver listen 3\n");
    EXPECT_FALSE(p.TheSession.Run("save close", error));
    EXPECT_EQ(error, "save: a lesson named 'close' exists already; pick another name");
    EXPECT_FALSE(p.TheSession.Run("save ../elsewhere", error));
    EXPECT_NE(error.find("expected \"save NAME\""), std::string::npos) << error;
    ASSERT_TRUE(p.TheSession.Run("save mine", error)) << error;
    EXPECT_EQ(p.TheSession.SavedPath(), dir + "/mine.json");
    std::string why;
    auto lesson = LoadLessonFile(dir + "/mine.json", why);
    ASSERT_TRUE(lesson) << why;
    EXPECT_EQ(lesson->Name, "mine");
    ASSERT_EQ(lesson->Steps.size(), 1u);
    EXPECT_EQ(lesson->Steps[0].Calls.size(), 3u);
    // The next call is not a save: no path to show.
    p.RunAll("client socket\n");
    EXPECT_EQ(p.TheSession.SavedPath(), "");
    std::filesystem::remove_all(dir);
}

TEST(PlaygroundSession, HeadlessScriptGoesOnFromALessonsStep)
{
    std::string script = testing::TempDir() + "sockscope_whatif_test.txt";
    std::ofstream(script) << "client3 socket\nclient3 connect\n";
    auto run = test::Run(std::string(SOCKSCOPE_BINARY) + " --headless --lesson no-accept --step 2 --script " + script,
                         true);
    ASSERT_EQ(run.Status, 0) << run.Out;
    EXPECT_NE(run.Out.find("Lesson no-accept after step 2 of"), std::string::npos) << run.Out;
    EXPECT_NE(run.Out.find("accept queue 2 of 6 places"), std::string::npos) << run.Out;
    EXPECT_EQ(run.Out.find("client1  connect"), std::string::npos) << "the lesson's calls are not printed again";
}

// Issue 13 §6: a script of many connections. A call's line waits for no kernel view of
// its own (it used to: 25 ms a line, and a trace line built from the whole World, so
// 1,000 connections took 51 s; how long it takes now is the benchmark's figure,
// `sockscope_bench --only playground`, not this test's: under TSan it takes 30 s); the
// `step` line after them still records the view taken after the last one.
TEST(PlaygroundSession, AThousandConnectionsRunAndTheStepSeesThemAll)
{
    constexpr int kConnections = 1000;
    Playground p;
    p.TheSession.Start();
    std::string script = "server socket\nserver bind\nserver listen 4096\n";
    for (int i = 0; i < kConnections; ++i)
        script += "client socket\nclient connect\nserver accept\n";
    script += "client close\nstep All of them\n";
    p.RunAll(script);
    std::string error;
    auto saved = p.TheSession.SaveLesson("many", error);
    ASSERT_TRUE(saved) << error;
    const json& steps = (*saved)["steps"];
    ASSERT_EQ(steps.size(), 1u);
    // The last close is in the view: one client end fewer than the server's.
    ExpectSocketsCheck(*saved, 0, {{"role", "client"}, {"state", "ESTABLISHED"}, {"queue", nullptr}}, kConnections - 1);
    ExpectSocketsCheck(*saved, 0, {{"role", "server"}, {"state", "CLOSE-WAIT"}, {"queue", nullptr}}, 1);
    ExpectListenerCheck(*saved, 0, 0);
}

// Issue 13 §6: a line that cannot be run gets one line naming what was expected, and
// nothing is lost (the lines before stay, the next line runs).
TEST(PlaygroundSession, EachBadLineSaysWhatWasExpectedInOneLineAndLosesNothing)
{
    Playground p;
    p.TheSession.Start();
    p.RunAll("server socket\n");
    const std::pair<const char*, const char*> bad[] = {
        {"server frobnicate", "unknown call 'frobnicate' (expected one of: socket,"},
        {"server listen colour=3", "unknown parameter 'colour' for listen (expected one of: fd, backlog)"},
        {"client1 connect port=70000", "port: expected a number from 0 to 65535, found 70000"},
        {"client1 connect 127.0.0.1 -1", "port: expected a number from 0 to 65535, found -1"},
        {"server listen 5 6", "too many values for listen: \"6\""},
        {"server bind \"127.0.0.1", "expected a closing '\"'"},
        {"= =", "expected an actor"},
        {"actor x wizard", "expected \"actor NAME server\" or \"actor NAME client\""},
    };
    for (const auto& [line, says] : bad) {
        std::string error;
        auto before = p.TheSession.History();
        EXPECT_FALSE(p.TheSession.Run(line, error)) << line;
        EXPECT_NE(error.find(says), std::string::npos) << line << " -> " << error;
        EXPECT_EQ(error.find('\n'), std::string::npos) << line << " -> " << error;
        EXPECT_EQ(p.TheSession.History(), before) << line;
    }
    p.RunAll("server bind\nserver listen\n");
    EXPECT_EQ(p.LastCallOf("server")->Call, CallId::Listen);
    EXPECT_EQ(p.LastCallOf("server")->Result, 0);
    EXPECT_EQ(p.TheSession.History().size(), 3u);
}
