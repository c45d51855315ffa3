#include "state_model.hpp"

#include "format.hpp"

#include <algorithm>

#include <netinet/in.h>

namespace sockscope {

TcpState StateOfBox(DiagramBox box)
{
    switch (box) {
    case DiagramBox::Closed: return TcpState::Close;
    case DiagramBox::Listen: return TcpState::Listen;
    case DiagramBox::SynSent: return TcpState::SynSent;
    case DiagramBox::SynReceived: return TcpState::SynRecv;
    case DiagramBox::Established: return TcpState::Established;
    case DiagramBox::FinWait1: return TcpState::FinWait1;
    case DiagramBox::FinWait2: return TcpState::FinWait2;
    case DiagramBox::CloseWait: return TcpState::CloseWait;
    case DiagramBox::Closing: return TcpState::Closing;
    case DiagramBox::LastAck: return TcpState::LastAck;
    case DiagramBox::TimeWait: return TcpState::TimeWait;
    case DiagramBox::ClosedEnd: return TcpState::Close;
    }
    return TcpState::Close;
}

DiagramBox BoxOfState(TcpState state)
{
    switch (state) {
    case TcpState::Listen: return DiagramBox::Listen;
    case TcpState::SynSent: return DiagramBox::SynSent;
    case TcpState::SynRecv:
    case TcpState::NewSynRecv: return DiagramBox::SynReceived;
    case TcpState::Established: return DiagramBox::Established;
    case TcpState::FinWait1: return DiagramBox::FinWait1;
    case TcpState::FinWait2: return DiagramBox::FinWait2;
    case TcpState::CloseWait: return DiagramBox::CloseWait;
    case TcpState::Closing: return DiagramBox::Closing;
    case TcpState::LastAck: return DiagramBox::LastAck;
    case TcpState::TimeWait: return DiagramBox::TimeWait;
    case TcpState::Close:
    case TcpState::Unknown: break;
    }
    return DiagramBox::Closed;
}

std::string BoxName(DiagramBox box)
{
    return std::string(TcpStateName(StateOfBox(box)));
}

const std::vector<DiagramArrow>& DiagramArrows()
{
    using B = DiagramBox;
    static const std::vector<DiagramArrow> arrows = {
        // Opening: active on the left, passive on the right.
        {B::Closed, B::SynSent, "connect / SYN"},
        {B::SynSent, B::Closed, "timeout, RST"},
        {B::Closed, B::Listen, "listen"},
        {B::Listen, B::Closed, "close"},
        {B::Listen, B::SynReceived, "SYN / SYN+ACK"},
        {B::SynSent, B::SynReceived, "SYN / SYN+ACK (simultaneous open)"},
        {B::SynSent, B::Established, "SYN+ACK / ACK"},
        {B::SynReceived, B::Established, "ACK"},
        // Closing: active on the left, passive on the right.
        {B::Established, B::FinWait1, "close / FIN"},
        {B::Established, B::CloseWait, "FIN / ACK"},
        {B::FinWait1, B::FinWait2, "ACK"},
        {B::FinWait1, B::Closing, "FIN / ACK"},
        {B::FinWait2, B::TimeWait, "FIN / ACK"},
        {B::Closing, B::TimeWait, "ACK"},
        {B::CloseWait, B::LastAck, "close / FIN"},
        {B::LastAck, B::ClosedEnd, "ACK"},
        {B::TimeWait, B::ClosedEnd, "timeout 2MSL"},
    };
    return arrows;
}

const std::vector<DiagramPlace>& DiagramPlaces()
{
    using B = DiagramBox;
    static const std::vector<DiagramPlace> places = {
        {B::Closed, 0.5f, 0},      {B::Listen, 1.0f, 1},      {B::SynSent, 0.0f, 2},  {B::SynReceived, 1.0f, 2},
        {B::Established, 0.5f, 3}, {B::FinWait1, 0.0f, 4},    {B::CloseWait, 1.0f, 4}, {B::FinWait2, 0.0f, 5},
        {B::Closing, 0.5f, 5},     {B::LastAck, 1.0f, 5},     {B::TimeWait, 0.5f, 6}, {B::ClosedEnd, 1.0f, 6},
    };
    return places;
}

ArrowLook LookOf(const DiagramArrow& arrow)
{
    using B = DiagramBox;
    using S = LabelSide;
    struct Row {
        B From, To;
        ArrowLook Look;
    };
    static const Row looks[] = {
        {B::Closed, B::SynSent, {S::Above, 0.45f}},
        {B::SynSent, B::Closed, {S::Below, 0.55f}},
        {B::Closed, B::Listen, {S::Above, 0.5f}},
        {B::Listen, B::Closed, {S::Below, 0.5f}},
        {B::Listen, B::SynReceived, {S::Left, 0.5f}},
        {B::SynSent, B::SynReceived, {S::Above, 0.5f}},
        {B::SynSent, B::Established, {S::Below, 0.45f}},
        {B::SynReceived, B::Established, {S::Below, 0.45f}},
        {B::Established, B::FinWait1, {S::Above, 0.55f}},
        {B::Established, B::CloseWait, {S::Above, 0.55f}},
        {B::FinWait1, B::FinWait2, {S::Left, 0.5f}},
        {B::FinWait1, B::Closing, {S::Above, 0.6f}},
        {B::FinWait2, B::TimeWait, {S::Below, 0.45f}},
        {B::Closing, B::TimeWait, {S::Right, 0.5f}},
        {B::CloseWait, B::LastAck, {S::Left, 0.5f}},
        {B::LastAck, B::ClosedEnd, {S::Left, 0.5f}},
        {B::TimeWait, B::ClosedEnd, {S::Above, 0.5f}},
    };
    for (const auto& row : looks)
        if (row.From == arrow.From && row.To == arrow.To)
            return row.Look;
    return {};
}

int FindArrow(DiagramBox from, DiagramBox to)
{
    const auto& arrows = DiagramArrows();
    for (std::size_t i = 0; i < arrows.size(); ++i)
        if (arrows[i].From == from && arrows[i].To == to)
            return static_cast<int>(i);
    return -1;
}

bool IsUdp(const SocketView& socket) { return socket.K.Proto == IPPROTO_UDP; }

int UdpSocketCount(const World& world)
{
    return static_cast<int>(std::count_if(world.Sockets().begin(), world.Sockets().end(), IsUdp));
}

std::array<int, kDiagramBoxCount> StateCounts(const World& world)
{
    std::array<int, kDiagramBoxCount> counts{};
    for (const auto& socket : world.Sockets())
        if (!IsUdp(socket)) // UDP has no states: the kernel's CLOSE/ESTABLISHED are only "connected or not"
            ++counts[static_cast<int>(BoxOfState(socket.State()))];
    return counts;
}

std::vector<int> ArrowPath(DiagramBox from, TcpState to)
{
    auto is_target = [&](DiagramBox box) {
        return box == BoxOfState(to) || (to == TcpState::Close && box == DiagramBox::ClosedEnd);
    };
    if (is_target(from))
        return {};
    const auto& arrows = DiagramArrows();
    for (std::size_t i = 0; i < arrows.size(); ++i)
        if (arrows[i].From == from && is_target(arrows[i].To))
            return {static_cast<int>(i)};
    for (std::size_t i = 0; i < arrows.size(); ++i) {
        if (arrows[i].From != from)
            continue;
        for (std::size_t j = 0; j < arrows.size(); ++j)
            if (arrows[j].From == arrows[i].To && is_target(arrows[j].To))
                return {static_cast<int>(i), static_cast<int>(j)};
    }
    return {};
}

DiagramBox StartBox(const SocketView& socket)
{
    return socket.Role == SocketRole::Server ? DiagramBox::Listen : DiagramBox::Closed;
}

std::vector<int> RecentArrowCounts(const World& world, double seconds)
{
    std::vector<int> counts(DiagramArrows().size(), 0);
    double since = world.SnapshotTime() - seconds;
    std::vector<bool> taken(counts.size());
    for (const auto& socket : world.Sockets()) {
        if (IsUdp(socket))
            continue;
        std::fill(taken.begin(), taken.end(), false);
        for (const auto& change : socket.History) {
            if (change.T < since)
                continue;
            DiagramBox from = change.From == TcpState::Unknown ? StartBox(socket) : BoxOfState(change.From);
            for (int arrow : ArrowPath(from, change.To))
                taken[arrow] = true;
        }
        for (std::size_t i = 0; i < counts.size(); ++i)
            counts[i] += taken[i] ? 1 : 0;
    }
    return counts;
}

std::vector<std::string> SocketsInBox(const World& world, DiagramBox box, Lang lang)
{
    std::vector<std::string> lines;
    if (box == DiagramBox::ClosedEnd)
        return lines;
    for (const auto& socket : world.Sockets()) {
        if (IsUdp(socket) || BoxOfState(socket.State()) != box)
            continue;
        std::string line = std::string(SocketRoleName(socket.Role)) + "  " + EndpointLabel(socket.K.Local);
        if (socket.K.Remote.Family != 0 && socket.K.Remote.Port != 0)
            line += " \xe2\x86\x92 " + EndpointLabel(socket.K.Remote); // →
        line += "  " + FdLabel(socket, lang);
        lines.push_back(std::move(line));
    }
    return lines;
}

} // namespace sockscope
