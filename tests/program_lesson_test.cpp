// Lessons whose actors are real programs (an actor's "run": examples/ under the tracer):
// what the parser refuses, that a reset or another lesson kills the program and leaves
// no process behind, and that a program that cannot run fails its step in one line.
// Real programs, real sockets, the real kernel.
#include "lab.hpp"
#include "lesson.hpp"
#include "player.hpp"
#include "child_process.hpp"
#include "lesson_run.hpp"
#include "test_util.hpp"
#include "world.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace sockscope;
using namespace std::chrono_literals;

namespace {

std::string ParseError(const std::string& text)
{
    std::string error;
    EXPECT_FALSE(ParseLesson(text, "x.json", error));
    return error;
}

const char* kRunLesson = R"({
  "name": "x", "title": "x",
  "actors": [{"name": "server", "kind": "server", "run": ["$examples/fork_server", "$prot"]}],
  "steps": [{"title": "t", "calls": [{"actor": "server", "call": "run"}]}]
})";

// Whether a process with this pid exists (a zombie too).
bool Exists(int pid) { return std::filesystem::exists("/proc/" + std::to_string(pid)); }

// This process's children, live or zombie (waitpid would reap them; /proc only looks).
std::set<int> Children()
{
    std::set<int> kids;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(task.path() / "children");
        for (int pid; in >> pid;)
            kids.insert(pid);
    }
    return kids;
}

} // namespace

TEST(ProgramLessonParse, UnknownVariableIsRefusedWithItsPlace)
{
    std::string error = ParseError(kRunLesson);
    EXPECT_NE(error.find("x.json:3:"), std::string::npos) << error;
    EXPECT_NE(error.find("actors[0].run[1]: unknown variable '$prot'"), std::string::npos) << error;
}

TEST(ProgramLessonParse, RunBelongsToAnActorWithAProgramAndItIsItsOnlyCall)
{
    std::string no_program = ParseError(R"({"name": "x", "title": "x",
      "actors": [{"name": "server", "kind": "server"}],
      "steps": [{"title": "t", "calls": [{"actor": "server", "call": "run"}]}]})");
    EXPECT_NE(no_program.find("names no program"), std::string::npos) << no_program;
    std::string other_call = ParseError(R"({"name": "x", "title": "x",
      "actors": [{"name": "server", "kind": "server", "run": ["$examples/echo_server"]}],
      "steps": [{"title": "t", "calls": [{"actor": "server", "call": "socket"}]}]})");
    EXPECT_NE(other_call.find("its only call is \"run\""), std::string::npos) << other_call;
    std::string empty = ParseError(R"({"name": "x", "title": "x",
      "actors": [{"name": "server", "kind": "server", "run": []}], "steps": [{"title": "t"}]})");
    EXPECT_NE(empty.find("actors[0].run"), std::string::npos) << empty;
    std::string error;
    auto ok = ParseLesson(R"({"name": "x", "title": "x",
      "actors": [{"name": "server", "kind": "server", "run": ["$examples/echo_server", "1", "$port"]}],
      "steps": [{"title": "t", "calls": [{"actor": "server", "call": "run"}]}]})",
                          "x.json", error);
    ASSERT_TRUE(ok) << error;
    EXPECT_EQ(ok->Steps[0].Calls[0].Request.Argv.size(), 3u);
}

TEST(ProgramLessonParse, VariablesAreReplacedWhereverTheyStand)
{
    const std::string values[] = {"4000", "/opt/x"};
    EXPECT_EQ(SubstituteRunVars("$examples/fork_server", values), "/opt/x/fork_server");
    EXPECT_EQ(SubstituteRunVars("--port=$port", values), "--port=4000");
    EXPECT_EQ(UnknownRunVar("$port$examples"), "");
    EXPECT_EQ(UnknownRunVar("a$b"), "b");
}

TEST(ProgramLesson, ResetAndAnotherLessonKillTheProgramAndLeaveNoProcess)
{
    std::string error;
    auto lesson = FindLesson("program-fork-server", error);
    ASSERT_TRUE(lesson) << error;
    auto before = Children();
    for (bool reset : {true, false}) {
        LessonRun run;
        run.Player.Load(*lesson);
        ASSERT_TRUE(run.Step() && run.Player.CurrentStatus() == StepStatus::Passed) << run.Failures();
        ASSERT_TRUE(run.Step() && run.Player.CurrentStatus() == StepStatus::Passed) << run.Failures();
        // The program's parent process and its two children, with their pids.
        std::vector<int> pids;
        for (const auto& a : run.TheWorld.Actors())
            if (a.LaneKind == "process" && a.Pid > 0)
                pids.push_back(a.Pid);
        ASSERT_EQ(pids.size(), 3u);
        for (int pid : pids)
            EXPECT_TRUE(Exists(pid)) << pid;
        if (reset) {
            run.Player.Reset();
        } else {
            auto other = FindLesson("three-way-handshake", error);
            ASSERT_TRUE(other) << error;
            run.Player.Load(*other);
        }
        // Reset returns when every process was killed and waited for: none is left, not
        // even as a zombie, and this process has no child (live or zombie) it did not have.
        // The children were reparented when their parent died: whoever adopted them may
        // reap them a moment later.
        EXPECT_TRUE(test::WaitUntil([&] {
            for (int pid : pids)
                if (Exists(pid))
                    return false;
            return true;
        }, 10s)) << "a process of the program is left";
        EXPECT_EQ(Children(), before);
        errno = 0;
        EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), before.empty() ? -1 : 0);
    }
}

TEST(ProgramLesson, AMissingProgramFailsItsStepInOneLine)
{
    std::string error;
    auto lesson = ParseLesson(R"({"name": "x", "title": "x",
      "actors": [{"name": "server", "kind": "server", "run": ["$examples/no_such_example", "$port"]}],
      "steps": [{"title": "t", "calls": [{"actor": "server", "call": "run", "expect": "ok"}]}]})",
                              "x.json", error);
    ASSERT_TRUE(lesson) << error;
    LessonRun run;
    run.Player.Load(*lesson);
    ASSERT_TRUE(run.Step());
    EXPECT_EQ(run.Player.CurrentStatus(), StepStatus::Failed);
    std::string line = run.Player.StatusLine();
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_NE(line.find("no such program"), std::string::npos) << line;
    EXPECT_NE(line.find("no_such_example"), std::string::npos) << line;
    EXPECT_NE(line.find("ENOENT"), std::string::npos) << line;
}

TEST(ProgramLesson, PtraceNotPermittedFailsTheStepInOneClearLine)
{
    int out[2];
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        dup2(out[1], 1);
        dup2(out[1], 2);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        test::ForbidPtraceWithoutLeakCheck();
        execl(SOCKSCOPE_BINARY, SOCKSCOPE_BINARY, "--headless", "--lesson", "program-no-accept", nullptr);
        _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<std::size_t>(n));
    close(out[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << text;
    EXPECT_NE(WEXITSTATUS(status), 0) << text;
    std::size_t lines = 0;
    for (const auto& line : test::Lines(text))
        if (line.find("tracing is not permitted") != std::string::npos)
            ++lines;
    EXPECT_GE(lines, 1u) << text;
    EXPECT_NE(text.find("EPERM"), std::string::npos) << text;
}
