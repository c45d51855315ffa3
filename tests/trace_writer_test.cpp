// The trace writer (--trace FILE): one line per change, each finished call and each
// segment in exactly one line, also across World::Clear() (a lesson's reset).
#include "model_fixtures.hpp"
#include "trace.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <netinet/in.h>
#include <unistd.h>

using namespace sockscope;

namespace {

using fixtures::Finished;

class TraceFile : public ::testing::Test {
protected:
    void SetUp() override
    {
        Path = ::testing::TempDir() + "sockscope_trace_" + std::to_string(getpid()) + ".jsonl";
        std::remove(Path.c_str());
        std::string error;
        ASSERT_TRUE(Writer.Open(Path, error)) << error;
    }
    void TearDown() override { std::remove(Path.c_str()); }

    std::vector<nlohmann::json> Lines() const
    {
        std::vector<nlohmann::json> lines;
        std::ifstream in(Path);
        for (std::string text; std::getline(in, text);)
            lines.push_back(nlohmann::json::parse(text));
        return lines;
    }

    std::string Path;
    TraceWriter Writer;
};

Segment Syn(double t)
{
    Segment s;
    s.T = t;
    s.Src = fixtures::Ep("127.0.0.1:50000");
    s.Dst = fixtures::Ep("127.0.0.1:4000");
    s.Flags = FlagSyn;
    return s;
}

} // namespace

TEST_F(TraceFile, EachCallAndSegmentIsWrittenOnceInTheLineAfterIt)
{
    World w;
    w.Apply(Finished(1, "server", "server", "socket", {}, 3));
    w.Apply(Syn(1.5));
    EXPECT_TRUE(Writer.Update(w, nullptr, 2));
    EXPECT_FALSE(Writer.Update(w, nullptr, 3)) << "nothing changed: no line";
    w.Apply(Finished(2, "server", "server", "bind"));
    EXPECT_TRUE(Writer.Update(w, nullptr, 4));

    auto lines = Lines();
    ASSERT_EQ(lines.size(), 2u);
    ASSERT_EQ(lines[0]["calls"].size(), 1u);
    EXPECT_EQ(lines[0]["calls"][0]["call"], "socket");
    ASSERT_EQ(lines[0]["segments"].size(), 1u);
    EXPECT_EQ(lines[0]["segments"][0]["flags"], "SYN");
    ASSERT_EQ(lines[1]["calls"].size(), 1u);
    EXPECT_EQ(lines[1]["calls"][0]["call"], "bind");
    EXPECT_TRUE(lines[1]["segments"].empty());
}

TEST_F(TraceFile, AfterTheWorldIsClearedOnlyTheNewCallsAndSegmentsAreWritten)
{
    World w;
    w.Apply(Finished(1, "server", "server", "socket", {}, 3));
    w.Apply(Syn(1));
    ASSERT_TRUE(Writer.Update(w, nullptr, 1));
    w.Apply(Finished(2, "server", "server", "bind"));
    w.Apply(Syn(2));
    w.Clear(); // the lesson was reset before the writer saw these
    w.Apply(Finished(1, "server", "server", "socket", {}, 3));
    w.Apply(Syn(3));
    ASSERT_TRUE(Writer.Update(w, nullptr, 4));

    auto lines = Lines();
    ASSERT_EQ(lines.size(), 2u);
    ASSERT_EQ(lines[1]["calls"].size(), 1u);
    EXPECT_EQ(lines[1]["calls"][0]["call"], "socket");
    ASSERT_EQ(lines[1]["segments"].size(), 1u);
    EXPECT_EQ(lines[1]["segments"][0]["t"], 3);
}

// The trace contract only grows: a datagram keeps every field a segment has (no flags,
// no numbers) and adds "proto" and its first bytes; an ICMP error adds its type and code.
TEST_F(TraceFile, DatagramsAndTheirIcmpErrorsAddFieldsAndRenameNone)
{
    World w;
    w.Apply(Syn(1));
    Segment datagram;
    datagram.T = 2;
    datagram.Proto = IPPROTO_UDP;
    datagram.Src = fixtures::Ep("127.0.0.1:41000");
    datagram.Dst = fixtures::Ep("127.0.0.1:5000");
    datagram.Len = 5;
    datagram.Payload = "hello";
    w.Apply(datagram);
    w.Apply(PortUnreachableFor(datagram));
    ASSERT_TRUE(Writer.Update(w, nullptr, 3));

    auto lines = Lines();
    ASSERT_EQ(lines.size(), 1u);
    const auto& segments = lines[0]["segments"];
    ASSERT_EQ(segments.size(), 3u);
    for (const char* field : {"t", "src", "dst", "flags", "seq", "ack", "len", "window", "inferred", "proto"})
        for (const auto& s : segments)
            EXPECT_TRUE(s.contains(field)) << field << " in " << s.dump();
    EXPECT_EQ(segments[0]["proto"], "tcp");
    EXPECT_EQ(segments[0]["flags"], "SYN");
    EXPECT_EQ(segments[1]["proto"], "udp");
    EXPECT_EQ(segments[1]["len"], 5);
    EXPECT_EQ(segments[1]["payload"], "hello");
    EXPECT_EQ(segments[2]["proto"], "icmp");
    EXPECT_EQ(segments[2]["icmp_type"], 3);
    EXPECT_EQ(segments[2]["icmp_code"], 3);
    EXPECT_EQ(segments[2]["src"], "127.0.0.1:5000") << "from the port nobody has, back to the sender";
}
