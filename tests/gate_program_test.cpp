// The gate programs without sockets: classic BPF run by a small interpreter on
// hand-made TCP headers, so each gate's verdict on each kind of segment is checked
// exactly. gate_test checks that the real kernel agrees.
#include "gate.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace sockscope;

namespace {

// ---------------------------------------------------------------------------------------
// Hand-made TCP segments for the programs

std::vector<std::uint8_t> Segment(std::uint8_t flags, std::size_t payload = 0, std::uint16_t source_port = 40000,
                                  std::size_t header = 20)
{
    std::vector<std::uint8_t> bytes(header + payload, 0);
    bytes[0] = static_cast<std::uint8_t>(source_port >> 8);
    bytes[1] = static_cast<std::uint8_t>(source_port & 0xff);
    bytes[2] = 0x0f; // destination port 4000
    bytes[3] = 0xa0;
    bytes[12] = static_cast<std::uint8_t>((header / 4) << 4);
    bytes[13] = flags;
    return bytes;
}

constexpr std::uint8_t F = 0x01, S = 0x02, R = 0x04, P = 0x08, A = 0x10, U = 0x20, E = 0x40, C = 0x80;

bool Drops(GateKind kind, const std::vector<std::uint8_t>& segment, std::uint16_t peer_port = AnyPeerPort)
{
    auto verdict = RunGateProgram(GateProgram(kind, peer_port), segment);
    EXPECT_TRUE(verdict.has_value());
    EXPECT_TRUE(!verdict || *verdict == 0 || *verdict == GateAccept) << "a verdict that trims: " << *verdict;
    return verdict && *verdict == 0;
}

// ---------------------------------------------------------------------------------------
// The programs, without sockets

TEST(GateProgramTest, NamesRoundTrip)
{
    EXPECT_EQ(GateKindName(GateKind::Syn), "syn");
    EXPECT_EQ(GateKindName(GateKind::HandshakeAck), "handshake-ack");
    EXPECT_EQ(GateKindName(GateKind::Fin), "fin");
    EXPECT_EQ(GateKindName(GateKind::PureAck), "ack");
    for (GateKind kind : AllGateKinds)
        EXPECT_EQ(GateKindFromName(GateKindName(kind)), kind);
    EXPECT_FALSE(GateKindFromName("rst"));
    EXPECT_FALSE(GateKindFromName(""));
    EXPECT_FALSE(GateKindFromName("SYN"));
}

TEST(GateProgramTest, ShapesAndJumpsStayInside)
{
    EXPECT_EQ(GateProgram(GateKind::Syn).size(), 5u);
    EXPECT_EQ(GateProgram(GateKind::Fin).size(), 4u);
    EXPECT_EQ(GateProgram(GateKind::HandshakeAck).size(), 11u);
    EXPECT_TRUE(SameProgram(GateProgram(GateKind::HandshakeAck), GateProgram(GateKind::PureAck)));
    for (GateKind kind : AllGateKinds) {
        for (std::uint16_t port : {AnyPeerPort, std::uint16_t(40000)}) {
            auto program = GateProgram(kind, port);
            SCOPED_TRACE(std::string(GateKindName(kind)) + " port " + std::to_string(port));
            EXPECT_EQ(program.size(), GateProgram(kind).size() + (port ? 2u : 0u));
            ASSERT_GE(program.size(), 2u);
            EXPECT_EQ(program[program.size() - 2].code, BPF_RET | BPF_K);
            EXPECT_EQ(program[program.size() - 2].k, 0u);
            EXPECT_EQ(program.back().code, BPF_RET | BPF_K);
            EXPECT_EQ(program.back().k, GateAccept);
            for (std::size_t pc = 0; pc < program.size(); ++pc)
                if (BPF_CLASS(program[pc].code) == BPF_JMP) {
                    EXPECT_LT(pc + 1 + program[pc].jt, program.size()) << "at " << pc;
                    EXPECT_LT(pc + 1 + program[pc].jf, program.size()) << "at " << pc;
                }
        }
    }
    EXPECT_FALSE(SameProgram(GateProgram(GateKind::Syn), GateProgram(GateKind::Fin)));
    EXPECT_FALSE(SameProgram(GateProgram(GateKind::Syn), GateProgram(GateKind::Syn, 1)));
}

TEST(GateProgramTest, EachGateDropsExactlyWhatItHolds)
{
    // Syn: connection requests only.
    EXPECT_TRUE(Drops(GateKind::Syn, Segment(S)));
    EXPECT_TRUE(Drops(GateKind::Syn, Segment(S | E | C, 0, 40000, 40))); // ECN setup SYN, options
    EXPECT_FALSE(Drops(GateKind::Syn, Segment(S | A)));
    EXPECT_FALSE(Drops(GateKind::Syn, Segment(A)));
    EXPECT_FALSE(Drops(GateKind::Syn, Segment(R)));
    EXPECT_FALSE(Drops(GateKind::Syn, Segment(F | A)));

    // Fin: any segment carrying FIN, data and all.
    EXPECT_TRUE(Drops(GateKind::Fin, Segment(F | A)));
    EXPECT_TRUE(Drops(GateKind::Fin, Segment(F | P | A, 100)));
    EXPECT_FALSE(Drops(GateKind::Fin, Segment(A)));
    EXPECT_FALSE(Drops(GateKind::Fin, Segment(P | A, 100)));
    EXPECT_FALSE(Drops(GateKind::Fin, Segment(R | A)));

    for (GateKind kind : {GateKind::HandshakeAck, GateKind::PureAck}) {
        SCOPED_TRACE(GateKindName(kind));
        EXPECT_TRUE(Drops(kind, Segment(A)));
        EXPECT_TRUE(Drops(kind, Segment(A, 0, 40000, 32)));   // with timestamps
        EXPECT_TRUE(Drops(kind, Segment(A | E)));             // ECN echo is still a pure ACK
        EXPECT_FALSE(Drops(kind, Segment(A, 1)));             // data without PSH passes
        EXPECT_FALSE(Drops(kind, Segment(A, 1, 40000, 32)));
        EXPECT_FALSE(Drops(kind, Segment(P | A, 5)));
        EXPECT_FALSE(Drops(kind, Segment(F | A)));
        EXPECT_FALSE(Drops(kind, Segment(R | A)));
        EXPECT_FALSE(Drops(kind, Segment(S | A)));
        EXPECT_FALSE(Drops(kind, Segment(U | A)));
        EXPECT_FALSE(Drops(kind, Segment(S)));
    }

    // A segment too short to hold a flags byte cannot be read: the kernel drops it.
    EXPECT_EQ(RunGateProgram(GateProgram(GateKind::Fin), std::vector<std::uint8_t>(13, 0)), 0u);
}

TEST(GateProgramTest, PeerPortNarrowsEveryKind)
{
    const std::pair<GateKind, std::uint8_t> held[] = {
        {GateKind::Syn, S}, {GateKind::HandshakeAck, A}, {GateKind::Fin, F | A}, {GateKind::PureAck, A}};
    for (auto [kind, flags] : held) {
        SCOPED_TRACE(GateKindName(kind));
        EXPECT_TRUE(Drops(kind, Segment(flags, 0, 40000), 40000));
        EXPECT_FALSE(Drops(kind, Segment(flags, 0, 40001), 40000));
        EXPECT_FALSE(Drops(kind, Segment(flags, 0, 0x9c40 ^ 0xff00), 40000)); // high byte differs
        EXPECT_TRUE(Drops(kind, Segment(flags, 0, 40001)));                   // any port
    }
}

TEST(GateProgramTest, InterpreterRefusesWhatItDoesNotKnow)
{
    std::vector<sock_filter> program = {{BPF_LD | BPF_B | BPF_IND, 0, 0, 0}, {BPF_RET | BPF_K, 0, 0, 0}};
    EXPECT_FALSE(RunGateProgram(program, Segment(A)));
    std::vector<sock_filter> runs_off = {{BPF_LD | BPF_B | BPF_ABS, 0, 0, 13}};
    EXPECT_FALSE(RunGateProgram(runs_off, Segment(A)));
}

} // namespace
