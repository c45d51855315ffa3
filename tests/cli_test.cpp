// The command-line contract (DESIGN.md), through the real binary.
#include "test_util.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

using namespace sockscope::test;

namespace {

CommandResult Sockscope(const std::string& args, bool merge = true)
{
    return Run(std::string(SOCKSCOPE_BINARY) + " " + args, merge);
}

// A bad argument: exit status 2 and exactly one line that says what is wrong.
void ExpectOneLineError(const std::string& args, const std::string& mentions)
{
    auto r = Sockscope(args);
    EXPECT_EQ(r.Status, 2) << args << ": " << r.Out;
    EXPECT_EQ(Lines(r.Out).size(), 1u) << args << ": " << r.Out;
    EXPECT_NE(r.Out.find(mentions), std::string::npos) << args << ": " << r.Out;
}

} // namespace

TEST(CommandLine, HelpAndVersion)
{
    auto help = Sockscope("--help");
    EXPECT_EQ(help.Status, 0);
    for (const char* option : {"--headless", "--lesson", "--json", "--trace", "--screenshot", "--step", "--port",
                               "--version"})
        EXPECT_NE(help.Out.find(option), std::string::npos) << option;
    auto version = Sockscope("--version");
    EXPECT_EQ(version.Status, 0);
    EXPECT_NE(version.Out.find("sockscope"), std::string::npos);
}

TEST(CommandLine, BadArgumentsGiveOneClearLine)
{
    ExpectOneLineError("--frobnicate", "frobnicate");
    ExpectOneLineError("--headless --port abc", "port");
    ExpectOneLineError("--headless --port 70000", "port");
    ExpectOneLineError("--headless --port -1", "port");
    ExpectOneLineError("--headless --backlog -5", "backlog");
    ExpectOneLineError("--headless --lesson no-such-lesson", "unknown lesson 'no-such-lesson'");
    ExpectOneLineError("--headless --screenshot x.png", "--screenshot");
    ExpectOneLineError("--headless --lang fr", "lang");
}

TEST(CommandLine, HeadlessJsonFollowsTheTraceContract)
{
    auto r = Sockscope("--headless --lesson no-accept --json", false);
    ASSERT_EQ(r.Status, 0) << r.Out;
    auto lines = Lines(r.Out);
    ASSERT_EQ(lines.size(), 6u);
    int step = 0;
    for (const auto& text : lines) {
        auto line = nlohmann::json::parse(text);
        EXPECT_EQ(line["lesson"], "no-accept");
        EXPECT_EQ(line["step"], ++step);
        EXPECT_TRUE(line["t"].is_number());
        EXPECT_EQ(line["status"], "passed");
        ASSERT_TRUE(line["listeners"].is_array());
        ASSERT_TRUE(line["sockets"].is_array());
        ASSERT_TRUE(line["calls"].is_array());
        EXPECT_FALSE(line["calls"].empty());
        for (const auto& c : line["calls"])
            for (const char* field : {"actor", "call", "args", "result", "errno"})
                EXPECT_TRUE(c.contains(field)) << field;
    }
    auto third = nlohmann::json::parse(lines[2]);
    EXPECT_EQ(third["listeners"][0]["accept_queue"], 3);
    EXPECT_EQ(third["listeners"][0]["backlog"], 5);
    int unaccepted = 0;
    for (const auto& s : third["sockets"])
        if (s["role"] == "server" && s["queue"] == "accept" && s["fd"].is_null() && s["state"] == "ESTABLISHED")
            ++unaccepted;
    EXPECT_EQ(unaccepted, 3);
}

TEST(CommandLine, TraceFileGetsALineForEachChange)
{
    std::string path = testing::TempDir() + "sockscope_trace_test.jsonl";
    unlink(path.c_str());
    auto r = Sockscope("--headless --lesson no-accept --step 3 --trace " + path);
    ASSERT_EQ(r.Status, 0) << r.Out;
    auto lines = Lines(sockscope::test::Run("cat " + path).Out);
    ASSERT_GE(lines.size(), 3u);
    int calls = 0;
    bool saw_three = false;
    for (const auto& text : lines) {
        auto line = nlohmann::json::parse(text);
        calls += static_cast<int>(line["calls"].size());
        for (const auto& l : line["listeners"])
            saw_three = saw_three || l["accept_queue"] == 3;
    }
    EXPECT_EQ(calls, 10) << "steps 1-3 make 4 + 2 + 4 calls, each reported once";
    EXPECT_TRUE(saw_three);
    unlink(path.c_str());
}

TEST(CommandLine, PortInUseIsShownNotFatal)
{
    PortHolder holder;
    ASSERT_GT(holder.Port, 0);
    auto r = Sockscope("--headless --lesson no-accept --step 1 --port " + std::to_string(holder.Port));
    EXPECT_EQ(r.Status, 1) << r.Out;
    EXPECT_NE(r.Out.find("EADDRINUSE"), std::string::npos) << r.Out;
}

TEST(CommandLine, ListLessons)
{
    auto r = Sockscope("--list-lessons", false);
    EXPECT_EQ(r.Status, 0);
    EXPECT_NE(r.Out.find("no-accept"), std::string::npos);
}

TEST(CommandLine, EveryLessonAndEveryStateWorksUnprivilegedInAPrivateNetwork)
{
    // A student is not root. Since Linux 6.x a filter on a TCP socket needs
    // CAP_NET_ADMIN, which a private user+network namespace gives any user.
    std::string as_student = getuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    auto r = sockscope::test::Run(as_student + SOCKSCOPE_BINARY + " --private-network --headless --lesson all", true);
    EXPECT_EQ(r.Status, 0) << r.Out;
    for (const char* state : {"LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
                              "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT", "CLOSED"})
        EXPECT_NE(r.Out.find(std::string(" ") + state + " "), std::string::npos) << state << " never shown";
}

TEST(CommandLine, ListenersStayOnLoopbackUnlessBindAllIsGiven)
{
    auto local = [](const std::string& out) {
        std::string last;
        for (const auto& line : Lines(out))
            if (line.starts_with("{"))
                last = line;
        auto j = nlohmann::json::parse(last);
        return j["listeners"].empty() ? std::string() : j["listeners"][0]["local"].get<std::string>();
    };
    auto plain = Sockscope("--headless --json --lesson no-accept --step 1");
    ASSERT_EQ(plain.Status, 0) << plain.Out;
    EXPECT_TRUE(local(plain.Out).starts_with("127.0.0.1:")) << local(plain.Out);
    auto all = Sockscope("--headless --json --bind-all --lesson no-accept --step 2");
    ASSERT_EQ(all.Status, 0) << all.Out;
    EXPECT_TRUE(local(all.Out).starts_with("0.0.0.0:")) << local(all.Out);
    auto text = Sockscope("--headless --bind-all --lesson no-accept --step 1");
    EXPECT_NE(text.Out.find("WARNING: --bind-all"), std::string::npos) << text.Out;
}
