// --record and --replay through the real binary: a lesson recorded on real sockets, then
// replayed from the file alone, prints the same steps and writes the same trace lines;
// bad recordings get one clear line. And the recording format itself, in memory.
#include "recording.hpp"

#include "clock.hpp"

#include "lesson_run.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace sockscope;
using namespace sockscope::test;

namespace {

CommandResult Sockscope(const std::string& args, bool merge = true)
{
    return Run(std::string(SOCKSCOPE_BINARY) + " " + args, merge);
}

std::string Temp(const std::string& name)
{
    return ::testing::TempDir() + "sockscope_rec_" + std::to_string(getpid()) + "_" + name;
}

std::string ReadAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The trace lines of a file with their times taken out ("times aside"). A socket's timer
// countdown is a time too.
std::vector<nlohmann::json> TimelessLines(const std::string& path)
{
    std::vector<nlohmann::json> lines;
    for (const auto& line : Lines(ReadAll(path))) {
        auto j = nlohmann::json::parse(line);
        j.erase("t");
        for (auto& s : j["sockets"])
            if (s["timer"].is_object())
                s["timer"].erase("expires_ms");
        lines.push_back(std::move(j));
    }
    return lines;
}

void ExpectSameReplay(const std::string& lesson)
{
    std::string rec = Temp(lesson + ".rec"), live = Temp(lesson + ".live"), again = Temp(lesson + ".again");
    for (const auto& f : {rec, live, again})
        std::filesystem::remove(f);
    auto recorded = Sockscope("--headless --lesson " + lesson + " --record " + rec + " --trace " + live, false);
    ASSERT_EQ(recorded.Status, 0) << recorded.Out;
    auto replayed = Sockscope("--headless --replay " + rec + " --trace " + again, false);
    ASSERT_EQ(replayed.Status, 0) << replayed.Out;
    // The per-step output is the live run's, word for word.
    EXPECT_EQ(replayed.Out, recorded.Out);
    auto a = TimelessLines(live), b = TimelessLines(again);
    ASSERT_GT(a.size(), 3u);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        EXPECT_EQ(a[i], b[i]) << lesson << ": trace line " << i + 1 << " differs";
    for (const auto& f : {rec, live, again})
        std::filesystem::remove(f);
}

} // namespace

TEST(Recording, AReplayedLessonPrintsAndTracesWhatTheLiveRunDid)
{
    ExpectSameReplay("no-accept");
}

TEST(Recording, AReplayOfForkServerKeepsItsLanes)
{
    ExpectSameReplay("fork-server");
}

TEST(Recording, JsonStepsAreTheSameReplayed)
{
    std::string rec = Temp("json.rec");
    auto live = Sockscope("--headless --json --lesson close --record " + rec, false);
    ASSERT_EQ(live.Status, 0) << live.Out;
    auto replay = Sockscope("--headless --json --replay " + rec, false);
    ASSERT_EQ(replay.Status, 0) << replay.Out;
    auto a = Lines(live.Out), b = Lines(replay.Out);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto x = nlohmann::json::parse(a[i]), y = nlohmann::json::parse(b[i]);
        for (auto* j : {&x, &y}) {
            j->erase("t");
            for (auto& s : (*j)["sockets"])
                if (s["timer"].is_object())
                    s["timer"].erase("expires_ms");
        }
        EXPECT_EQ(x, y) << "step " << i + 1;
    }
    std::filesystem::remove(rec);
}

TEST(Recording, BadRecordingsGetOneClearLine)
{
    std::string rec = Temp("good.rec");
    ASSERT_EQ(Sockscope("--headless --lesson no-accept --step 2 --record " + rec).Status, 0);
    std::string text = ReadAll(rec);
    struct Case {
        std::string Name, Text, Says;
    };
    std::string newer = text;
    newer.replace(newer.find("\"sockscope_recording\":1"), 23, "\"sockscope_recording\":99");
    std::vector<Case> cases = {
        {"garbage", "\x7f" "ELF\x02\x01 not a recording\n", "not a sockscope recording"},
        {"empty", "", "empty"},
        {"json", "{\"hello\": 1}\n", "not a sockscope recording"},
        {"newer", newer, "newer sockscope"},
        {"truncated", text.substr(0, text.size() * 2 / 3), "truncated"},
        {"cut-header", text.substr(0, 40), "truncated"},
        {"bad-line", text.substr(0, text.find('\n') + 1) + "{\"snap\": {\"t\": 1, \"rows\": [[99]]}}\n",
         "cannot be read"},
    };
    for (const auto& c : cases) {
        std::string path = Temp(c.Name + ".rec");
        std::ofstream(path, std::ios::binary) << c.Text;
        auto r = Sockscope("--headless --replay " + path);
        EXPECT_EQ(r.Status, 2) << c.Name << ": " << r.Out;
        EXPECT_EQ(Lines(r.Out).size(), 1u) << c.Name << ": " << r.Out;
        EXPECT_NE(r.Out.find(c.Says), std::string::npos) << c.Name << ": " << r.Out;
        EXPECT_NE(r.Out.find(path), std::string::npos) << c.Name << ": the file is named: " << r.Out;
        std::filesystem::remove(path);
    }
    auto missing = Sockscope("--headless --replay " + Temp("no-such-file"));
    EXPECT_EQ(missing.Status, 2);
    EXPECT_NE(missing.Out.find("cannot open the recording"), std::string::npos) << missing.Out;
    std::filesystem::remove(rec);
}

TEST(Recording, CommandLineRefusesWhatAReplayCannotDo)
{
    for (const char* args : {"--replay x --lesson eof", "--replay x --record y", "--replay x --port 5000",
                             "--replay x --run -- /bin/true", "--headless --lesson all --record y",
                             "--replay x --screenshot-steps d"}) {
        auto r = Sockscope(args);
        EXPECT_EQ(r.Status, 2) << args << ": " << r.Out;
        EXPECT_EQ(Lines(r.Out).size(), 1u) << args << ": " << r.Out;
    }
}

// A replay needs no privilege and makes no socket: as nobody, from a file nobody can read.
TEST(Recording, ReplaysUnprivileged)
{
    if (geteuid() != 0 || access("/usr/sbin/runuser", X_OK) != 0)
        GTEST_SKIP() << "needs root to become nobody";
    std::string dir = Temp("nobody");
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::all);
    std::string rec = dir + "/eof.rec";
    auto live = Sockscope("--headless --lesson eof --record " + rec, false);
    ASSERT_EQ(live.Status, 0) << live.Out;
    std::filesystem::permissions(rec, std::filesystem::perms::owner_read | std::filesystem::perms::group_read |
                                          std::filesystem::perms::others_read);
    auto r = test::Run("runuser -u nobody -- " + std::string(SOCKSCOPE_BINARY) + " --headless --replay " + rec, false);
    EXPECT_EQ(r.Status, 0) << r.Out;
    EXPECT_EQ(r.Out, live.Out);
    std::filesystem::remove_all(dir);
}

// In memory: the recorder keeps a moment per change and drops the snapshots that change
// nothing; the cursor gives the World of any moment, back and forth.
// no-accept on real sockets, a Recorder watching it as the GUI's history does.
struct RecordedNoAccept {
    LessonRun Run;
    Recorder Rec;
    bool Loaded = false;
    RecordedNoAccept()
    {
        std::string error;
        auto lesson = FindLesson("no-accept", error, LessonDirs());
        if (!lesson)
            return;
        RecordingInfo info;
        info.InferSegments = !Run.TheLab.Capturing();
        info.InferDatagrams = !Run.TheLab.CapturesDatagrams();
        InferWhatIsNotCaptured(Run.TheLab, Run.TheWorld);
        Run.Player.Load(std::move(*lesson));
        Rec.Begin(info, Run.TheWorld);
        Loaded = true;
    }
    // The next step, each event noted and each moment ticked; false if it did not finish.
    bool Step()
    {
        Run.Player.StepForward();
        bool done = DriveUntilIdle(
            Run.TheLab, Run.TheWorld, Run.Player, 60.0, [&] { Rec.Tick(Run.TheWorld, &Run.Player, MonotonicSeconds()); },
            [&](const LabEvent& e) { Rec.Note(e, Run.TheWorld); });
        Rec.StepEnded(Run.TheWorld, Run.Player, MonotonicSeconds(), true);
        return done;
    }
};

TEST(Recording, TheCursorGivesEveryMomentsWorld)
{
    RecordedNoAccept recorded;
    ASSERT_TRUE(recorded.Loaded);
    LessonRun& run = recorded.Run;
    Recorder& rec = recorded.Rec;
    std::vector<std::uint32_t> queue_after_step;
    for (int step = 0; step < 3; ++step) {
        ASSERT_TRUE(recorded.Step());
        queue_after_step.push_back(run.TheWorld.Listeners().empty() ? 0 : run.TheWorld.Listeners()[0].AcceptQueue);
    }
    EXPECT_EQ(queue_after_step, (std::vector<std::uint32_t>{0, 1, 3})) << run.Failures();
    const Recording& data = rec.Get();
    ReplayCursor cursor(data);
    std::vector<std::size_t> ends;
    for (std::size_t i = 0; i < data.Ticks.size(); ++i)
        if (data.Ticks[i].StepEnd)
            ends.push_back(i);
    ASSERT_EQ(ends.size(), 3u);
    auto queue = [&](std::size_t tick) {
        const World& w = cursor.At(tick);
        return w.Listeners().empty() ? 0u : w.Listeners()[0].AcceptQueue;
    };
    // Forward, back, and forward again: the same answers.
    for (int pass = 0; pass < 2; ++pass) {
        EXPECT_EQ(queue(ends[2]), 3u);
        EXPECT_EQ(queue(ends[0]), 0u);
        EXPECT_EQ(queue(ends[1]), 1u);
    }
    EXPECT_EQ(cursor.At(ends[2]).Sockets().size(), run.TheWorld.Sockets().size());
    EXPECT_LT(data.Ticks.size(), 200u) << "a moment is kept only when something shown changed";
}

// A history whose memory runs out stops keeping moments but the file still gets every
// one; checkpoints over their budget are thinned, and every moment's World stays right.
TEST(Recording, AFullHistoryKeepsNoMoreButItsFileGetsEverything)
{
    RecordedNoAccept recorded;
    ASSERT_TRUE(recorded.Loaded);
    Recorder& rec = recorded.Rec;
    std::string error;
    const std::string path = ::testing::TempDir() + "sockscope_full_history.jsonl";
    ASSERT_TRUE(rec.OpenFile(path, error)) << error;
    rec.SetMemoryLimit(1); // full once the first moment is kept
    for (int step = 0; step < 3; ++step)
        ASSERT_TRUE(recorded.Step());
    rec.Finish(RecordingEnd{});
    EXPECT_TRUE(rec.Full());
    EXPECT_EQ(rec.Get().Ticks.size(), 1u) << "nothing kept in memory after the first moment";
    auto whole = LoadRecording(path, error);
    std::remove(path.c_str());
    ASSERT_TRUE(whole) << error;
    std::vector<std::size_t> ends;
    for (std::size_t i = 0; i < whole->Ticks.size(); ++i)
        if (whole->Ticks[i].StepEnd)
            ends.push_back(i);
    ASSERT_EQ(ends.size(), 3u) << "the file has every step";

    // Checkpoints every 4 events within a budget of one byte: at most the fresh World and
    // the newest copy are kept, further and further apart; every moment is still right.
    ReplayCursor thin(*whole, 4, 1), plain(*whole);
    thin.CheckpointAll();
    EXPECT_LE(thin.Checkpoints(), 2u);
    EXPECT_GT(thin.CheckpointSpacing(), 4u);
    auto queue = [](const World& w) { return w.Listeners().empty() ? 0u : w.Listeners()[0].AcceptQueue; };
    for (std::size_t tick : {ends[2], ends[0], ends[1], ends[2]})
        EXPECT_EQ(queue(thin.At(tick)), queue(plain.At(tick))) << tick;
    EXPECT_EQ(queue(thin.At(ends[2])), 3u);
}

// Damaged recordings, made from a real one: every byte flip, cut and line swap is either
// read or refused with one line naming the file; nothing throws or crashes (the ASan
// stage runs this too), and whatever is read replays to its end.
TEST(Recording, DamagedFilesAreReadOrRefusedNeverCrash)
{
    std::string rec = Temp("mutate.rec");
    ASSERT_EQ(Sockscope("--headless --lesson byte-stream --record " + rec).Status, 0);
    const std::string good = ReadAll(rec);
    std::string error;
    ASSERT_TRUE(ParseRecording(good, "good", error)) << error;
    std::uint64_t seed = 0x5eed;
    auto next = [&seed] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<std::size_t>(seed >> 33);
    };
    int refused = 0, read = 0;
    for (int i = 0; i < 400; ++i) {
        std::string text = good;
        switch (i % 4) {
        case 0: // a byte changed
            for (int k = 0; k < 3; ++k)
                text[next() % text.size()] = static_cast<char>(next() & 0xff);
            break;
        case 1: // cut anywhere
            text.resize(next() % text.size());
            break;
        case 2: { // a line dropped
            auto lines = Lines(text);
            lines.erase(lines.begin() + static_cast<long>(next() % lines.size()));
            text.clear();
            for (const auto& l : lines)
                text += l + "\n";
            break;
        }
        default: { // a digit changed inside the JSON (counts, ids, states, times)
            for (int k = 0; k < 8; ++k) {
                std::size_t at = next() % text.size();
                if (text[at] >= '0' && text[at] <= '9')
                    text[at] = static_cast<char>('0' + next() % 10);
            }
            break;
        }
        }
        error.clear();
        auto parsed = ParseRecording(text, "damaged.rec", error);
        if (!parsed) {
            ++refused;
            EXPECT_EQ(error.find('\n'), std::string::npos) << error;
            EXPECT_EQ(error.rfind("damaged.rec", 0), 0u) << error;
            continue;
        }
        ++read;
        ReplayCursor cursor(*parsed);
        for (std::size_t t = 0; t < parsed->Ticks.size(); ++t)
            (void)cursor.At(t).Sockets();
        if (!parsed->Ticks.empty())
            (void)cursor.At(0).Listeners();
    }
    EXPECT_GT(refused, 50);
    EXPECT_GT(read, 10);
    std::filesystem::remove(rec);
}
