// The TCP state diagram as data: its boxes (the RFC 9293 states), its arrows (the
// standard transitions), how many sockets sit in each box now and which arrows sockets
// took lately. No ImGui here: the state panel draws this, the tests check it.
#pragma once

#include "lesson.hpp"
#include "world.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sockscope {

// A box of the diagram. CLOSED appears twice, as in the classic diagram: where a socket
// starts (Closed, which carries the count) and where a closing one ends (ClosedEnd).
enum class DiagramBox : std::uint8_t {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
    ClosedEnd,
};
inline constexpr int kDiagramBoxCount = 12;

// The state a box stands for (ClosedEnd: Close).
TcpState StateOfBox(DiagramBox box);
// The box of a state: Close and Unknown are Closed, NewSynRecv is SynReceived.
DiagramBox BoxOfState(TcpState state);
// "SYN-RECEIVED": the RFC 9293 name.
std::string BoxName(DiagramBox box);

struct DiagramArrow {
    DiagramBox From;
    DiagramBox To;
    const char* Label; // "event / segment sent", in English: translate with Tr()
};
// The standard transitions (RFC 9293, figure 5), plus "timeout, RST" from SYN-SENT back
// to CLOSED (connect() failing). In drawing order.
const std::vector<DiagramArrow>& DiagramArrows();
// Index into DiagramArrows() of the arrow from one box to another, -1 if none.
int FindArrow(DiagramBox from, DiagramBox to);

// Where the classic drawing puts each box: a column (0 left, 0.5 middle, 1 right) and a
// row (0 to kDiagramRows). The state panel and the SVG export lay the diagram out from it.
struct DiagramPlace {
    DiagramBox Box;
    float Column;
    float Row;
};
inline constexpr float kDiagramRows = 6.0f;
const std::vector<DiagramPlace>& DiagramPlaces();

// Which side of its arrow a label goes on, and where along the arrow (0 start, 1 end).
// An arrow whose reverse is drawn too is moved off the centre line towards its label.
enum class LabelSide : std::uint8_t { Above, Below, Left, Right };
struct ArrowLook {
    LabelSide Side = LabelSide::Above;
    float At = 0.5f;
};
ArrowLook LookOf(const DiagramArrow& arrow);

// Sockets per box, indexed by DiagramBox: world.Sockets() by SocketView::State(). CLOSED
// counts the lab's descriptors the kernel does not list; ClosedEnd is always 0.
// UDP sockets are not counted: they have no TCP state (UdpSocketCount says how many).
std::array<int, kDiagramBoxCount> StateCounts(const World& world);
bool IsUdp(const SocketView& socket);
int UdpSocketCount(const World& world);

// How recently a transition must have been seen (by the probe) to be highlighted.
inline constexpr double kRecentSeconds = 2.0;

// The arrows a socket took to go from `from` to `to` in one step of its history. The
// probe looks every 10-20 ms, so a fast step (SYN-SENT lasts microseconds on loopback)
// may be missed: when there is no arrow from `from` to `to`, the shortest path of two
// arrows is returned; nothing when there is none (a reset: no arrow of the diagram).
// Going to CLOSED may end at either CLOSED box.
std::vector<int> ArrowPath(DiagramBox from, TcpState to);

// Where a socket's history begins: its first entry has no From (Unknown). A connection
// a listener made comes from LISTEN, anything else from CLOSED.
DiagramBox StartBox(const SocketView& socket);

// For each arrow of DiagramArrows(), how many sockets took it within `seconds` of the
// newest snapshot (world.SnapshotTime()), from their SocketView::History.
std::vector<int> RecentArrowCounts(const World& world, double seconds = kRecentSeconds);

// One line per socket in a box, for its tooltip:
// "client  127.0.0.1:50001 → 127.0.0.1:4000  fd 4 · client1".
std::vector<std::string> SocketsInBox(const World& world, DiagramBox box, Lang lang);

} // namespace sockscope
