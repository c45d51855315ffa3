// The playground's command line: the grammar, its one-line errors and its completions.
#include "command.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace sockscope;

namespace {

const ActorKinds kActors = {{"server", "server"}, {"client1", "client"}};

Command Parsed(std::string_view line, const ActorKinds& actors = kActors)
{
    std::string error;
    auto command = ParseCommand(line, actors, error);
    EXPECT_TRUE(command) << line << ": " << error;
    return command ? *command : Command{};
}

// Refused, with one line that mentions `mentions`.
void ExpectError(std::string_view line, const std::string& mentions)
{
    std::string error;
    auto command = ParseCommand(line, kActors, error);
    EXPECT_FALSE(command) << line;
    EXPECT_NE(error.find(mentions), std::string::npos) << line << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << line << " -> " << error;
}

} // namespace

TEST(CommandGrammar, PositionalValuesFillTheRowsParametersInOrder)
{
    Command listen = Parsed("server listen 2");
    EXPECT_EQ(listen.Kind, CommandKind::Call);
    EXPECT_EQ(listen.Call.Request.Call, CallId::Listen);
    EXPECT_EQ(listen.Call.Request.Backlog, 2);
    EXPECT_EQ(listen.Call.Request.ActorKind, "server");
    EXPECT_EQ(Parsed("server listen backlog=3").Call.Request.Backlog, 3);
    EXPECT_EQ(Parsed("server listen").Call.Request.Backlog, 5);

    Command shut = Parsed("client1 shutdown SHUT_RD fd=conn2");
    EXPECT_EQ(shut.Call.Request.How, "SHUT_RD");
    EXPECT_EQ(shut.Call.Request.Fd, "conn2");
    EXPECT_EQ(shut.Fields["fd"], "conn2");

    Command bind = Parsed("server bind 0.0.0.0 4242");
    EXPECT_EQ(bind.Call.Request.Addr, "0.0.0.0");
    EXPECT_EQ(bind.Call.Request.Port, 4242);
    EXPECT_FALSE(bind.Call.PortFromLab);
}

TEST(CommandGrammar, ConnectGoesToThePlaygroundsPortUnlessTold)
{
    Command connect = Parsed("client2 connect");
    EXPECT_TRUE(connect.NewActor);
    EXPECT_EQ(connect.ActorKind, "client");
    EXPECT_TRUE(connect.Call.PortFromLab);
    EXPECT_EQ(connect.Fields["port"], "$port");
    EXPECT_FALSE(connect.Fields.contains("fd")); // the session picks the newest descriptor
    EXPECT_FALSE(Parsed("client1 connect port=80").Call.PortFromLab);
    EXPECT_TRUE(Parsed("client1 connect nonblock=true").Call.Request.NonBlock);
    EXPECT_EQ(Parsed("server2 socket").ActorKind, "server");
}

TEST(CommandGrammar, QuotedDataWithCEscapes)
{
    EXPECT_EQ(Parsed(R"(client1 send "hello\n")").Call.Request.Data, "hello\n");
    EXPECT_EQ(Parsed(R"(client1 send data="a b\t\x41\"\\")").Call.Request.Data, "a b\tA\"\\");
    EXPECT_EQ(Parsed("client1 send bye").Call.Request.Data, "bye");
    EXPECT_EQ(Parsed(R"(client1 send "x=1 # not a comment")").Call.Request.Data, "x=1 # not a comment");
}

TEST(CommandGrammar, HoldReleaseStepActorCommentsAndBlankLines)
{
    Command hold = Parsed("server hold syn");
    EXPECT_EQ(hold.Call.Request.Call, CallId::Gate);
    EXPECT_EQ(hold.Call.Request.Option, "syn");
    EXPECT_EQ(Parsed("server release").Call.Request.Call, CallId::Ungate);

    Command step = Parsed("step   The queue is full  ");
    EXPECT_EQ(step.Kind, CommandKind::Step);
    EXPECT_EQ(step.Title, "The queue is full");
    EXPECT_EQ(Parsed("step").Title, "");

    Command actor = Parsed("actor alice server");
    EXPECT_EQ(actor.Kind, CommandKind::DeclareActor);
    EXPECT_EQ(actor.ActorKind, "server");
    EXPECT_TRUE(actor.NewActor);

    EXPECT_EQ(Parsed("# just a comment").Kind, CommandKind::Nothing);
    EXPECT_EQ(Parsed("   ").Kind, CommandKind::Nothing);
    EXPECT_EQ(Parsed("server listen 1   # the smallest queue").Call.Request.Backlog, 1);
}

TEST(CommandGrammar, EachMistakeIsOneLineNamingWhatWasExpected)
{
    ExpectError("server frob", "unknown call 'frob' (expected one of: socket, setsockopt");
    ExpectError("server frob", "hold, release");
    ExpectError("server", "expected a call after 'server'");
    ExpectError("listen 5", "expected an actor (client1, server)");
    ExpectError("3client connect", "expected an actor");
    ExpectError("server listen depth=3", "unknown parameter 'depth' for listen (expected one of: fd, backlog)");
    ExpectError("server listen many", "backlog: expected a whole number, found \"many\"");
    ExpectError("server listen 1 2", "too many values for listen");
    ExpectError("server listen 1 backlog=2", "backlog is given twice");
    ExpectError("client1 connect port=70000", "port: expected a number from 0 to 65535, found 70000");
    ExpectError("client1 connect port=http", "port: expected a whole number from 0 to 65535 or $port");
    ExpectError("client1 connect 127.0.0.300", "addr: expected an IPv4 or IPv6 address");
    ExpectError("client1 connect nonblock=maybe", "nonblock: expected true or false");
    ExpectError("client1 shutdown SHUT_UP", "how: expected \"SHUT_RD\", \"SHUT_WR\" or \"SHUT_RDWR\"; found \"SHUT_UP\"");
    ExpectError("server hold everything", "hold: expected \"syn\", \"handshake-ack\", \"fin\" or \"ack\"");
    ExpectError("server hold", "a gate call needs \"hold\"");
    ExpectError(R"(client1 send "hello)", "expected a closing '\"'");
    ExpectError(R"(client1 send "a\qb")", "unknown escape '\\q'");
    ExpectError(R"(client1 send "\x4")", "expected two hex digits after \\x");
    ExpectError("actor bob teacher", "expected \"actor NAME server\" or \"actor NAME client\"");
    ExpectError("actor client1 server", "the actor 'client1' is a client already");
    ExpectError("client1 send data=x len=3", "a send takes \"data\" or \"len\"");
}

TEST(CommandGrammar, TabCompletesActorsCallsParametersAndValues)
{
    using V = std::vector<std::string>;
    EXPECT_EQ(CompleteCommand("cl", kActors), V{"client1"});
    EXPECT_EQ(CompleteCommand("s", kActors), (V{"save", "server", "step"}));
    EXPECT_EQ(CompleteCommand("server li", kActors), V{"server listen"});
    EXPECT_EQ(CompleteCommand("server re", kActors), (V{"server read", "server recv", "server recvfrom", "server release"}));
    EXPECT_EQ(CompleteCommand("client1 shutdown SHUT_R", kActors),
              (V{"client1 shutdown SHUT_RD", "client1 shutdown SHUT_RDWR"}));
    EXPECT_EQ(CompleteCommand("server listen b", kActors), V{"server listen backlog="});
    EXPECT_EQ(CompleteCommand("server hold ", kActors),
              (V{"server hold ack", "server hold fd=", "server hold fin", "server hold handshake-ack",
                 "server hold port=", "server hold syn"}));
    EXPECT_EQ(CompleteCommand("client1 connect nonblock=t", kActors), V{"client1 connect nonblock=true"});
    EXPECT_EQ(CompleteCommand("actor bob s", kActors), V{"actor bob server"});
    EXPECT_TRUE(CompleteCommand("client1 send \"hel", kActors).empty());
    EXPECT_EQ(CommonPrefix(CompleteCommand("server rec", kActors), "server rec"), "server recv");
    EXPECT_EQ(CommonPrefix({}, "zzz"), "zzz");
}

TEST(CommandGrammar, EveryCatalogueCallIsReachable)
{
    for (const CallRow& row : AllCalls()) {
        if (!row.Has(FromLessons))
            continue;
        std::string line = "server " + std::string(row.Name);
        for (const ParamSpec& p : row.Params)
            if (p.Required)
                line += " " + std::string(p.Field) + "=" + std::string(p.Default);
        EXPECT_EQ(Parsed(line).Call.Request.Call, row.Id) << line;
        EXPECT_EQ(CompleteCommand(line.substr(0, 7 + row.Name.size()), kActors).size() >= 1, true) << line;
    }
}

TEST(CommandGrammar, SaveNamesALessonFile)
{
    std::string error;
    auto save = ParseCommand("save my-lesson_2", {}, error);
    ASSERT_TRUE(save) << error;
    EXPECT_EQ(save->Kind, CommandKind::Save);
    EXPECT_EQ(save->Title, "my-lesson_2");
    for (const char* bad : {"save", "save a b", "save ../x", "save -x", "save name=x", "save a/b"}) {
        EXPECT_FALSE(ParseCommand(bad, {}, error)) << bad;
        EXPECT_NE(error.find("expected \"save NAME\""), std::string::npos) << bad << ": " << error;
    }
    auto offers = CompleteCommand("sa", {});
    EXPECT_NE(std::find(offers.begin(), offers.end(), "save"), offers.end());
}
