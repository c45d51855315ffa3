// What the packet panel draws: the conversation of the newest packet, one row (an arrow)
// per packet. A TCP connection's segments carry flags, sequence and acknowledgement
// numbers (relative to each side's first, as Wireshark shows them) and length; the
// datagrams between two UDP ends carry a length and their first bytes, with the ICMP
// errors about them. Each row says whether it was captured or inferred. No ImGui here:
// the tests check the rows without a frame.
#pragma once

#include "i18n.hpp"
#include "packet.hpp"

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

namespace sockscope {

struct PacketRow {
    const Segment* S = nullptr;
    bool ToServer = true;   // drawn from the client (left) to the server (right)
    bool Inferred = false;  // not captured: the label ends in " (inferred)" and it is drawn grey
    std::string Label;      // "SYN seq=0 len=0", "UDP datagram len=5 \"hello\"", "ICMP port unreachable ..."
};

struct PacketLadder {
    bool Datagrams = false; // UDP datagrams (and ICMP about them): no connection, no flags or numbers
    Endpoint Client, Server;
    std::string Title;      // "Connection A (client) - B (server): N segments", or the datagrams' own
    std::vector<PacketRow> Rows; // oldest first; empty when there is no packet
    bool AnyCaptured = false, AnyInferred = false;
};

// The packets of the newest packet's conversation. The server is the end on one of
// `server_ports` (the lab's listeners, the lesson's port), else the lower port.
PacketLadder BuildPacketLadder(const std::deque<Segment>& segments, const std::set<std::uint16_t>& server_ports,
                               Lang lang);

// One packet's label. A captured TCP segment's numbers are shown relative to seq_base
// (its sender's first) and ack_base (its receiver's first).
std::string PacketLabel(const Segment& s, std::uint32_t seq_base, std::uint32_t ack_base, Lang lang);

} // namespace sockscope
