// Names and text forms for the kernel's view of TCP sockets (see kernel_types.hpp).
#include "kernel_types.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace sockscope {

std::string_view TcpStateName(TcpState s)
{
    switch (s) {
    case TcpState::Established: return "ESTABLISHED";
    case TcpState::SynSent: return "SYN-SENT";
    // A request socket is the kernel's cheap stand-in for a half-open connection; to
    // the user it is the RFC's SYN-RECEIVED state all the same.
    case TcpState::SynRecv:
    case TcpState::NewSynRecv: return "SYN-RECEIVED";
    case TcpState::FinWait1: return "FIN-WAIT-1";
    case TcpState::FinWait2: return "FIN-WAIT-2";
    case TcpState::TimeWait: return "TIME-WAIT";
    case TcpState::CloseWait: return "CLOSE-WAIT";
    case TcpState::LastAck: return "LAST-ACK";
    case TcpState::Listen: return "LISTEN";
    case TcpState::Closing: return "CLOSING";
    case TcpState::Close:
    case TcpState::Unknown: break;
    }
    return "CLOSED";
}

std::string_view SocketStateName(TcpState s, std::uint8_t proto)
{
    return proto == 17 /* IPPROTO_UDP */ && s == TcpState::Close ? "UNCONN" : TcpStateName(s);
}

std::optional<TcpState> TcpStateFromName(std::string_view name)
{
    // Normalise so that RFC text, ss ("SYN-RECV", "ESTAB"), netstat ("SYN_RECV",
    // "FIN_WAIT1") and lower-case spellings all meet in one table.
    std::string key;
    key.reserve(name.size());
    for (char c : name) {
        if (c == '_' || c == ' ')
            c = '-';
        else if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        key.push_back(c);
    }

    struct Entry {
        std::string_view Name;
        TcpState State;
    };
    static constexpr Entry kNames[] = {
        {"LISTEN", TcpState::Listen},
        {"SYN-SENT", TcpState::SynSent},
        {"SYN-RECEIVED", TcpState::SynRecv},
        {"SYN-RECV", TcpState::SynRecv},
        {"NEW-SYN-RECV", TcpState::SynRecv},
        {"ESTABLISHED", TcpState::Established},
        {"ESTAB", TcpState::Established},
        {"FIN-WAIT-1", TcpState::FinWait1},
        {"FIN-WAIT1", TcpState::FinWait1},
        {"FIN-WAIT-2", TcpState::FinWait2},
        {"FIN-WAIT2", TcpState::FinWait2},
        {"CLOSE-WAIT", TcpState::CloseWait},
        {"CLOSING", TcpState::Closing},
        {"LAST-ACK", TcpState::LastAck},
        {"TIME-WAIT", TcpState::TimeWait},
        {"CLOSED", TcpState::Close},
        {"CLOSE", TcpState::Close},
        {"UNCONN", TcpState::Close},
    };
    for (const Entry& e : kNames) {
        if (e.Name == key)
            return e.State;
    }
    return std::nullopt;
}

std::string_view TimerKindName(TimerKind k)
{
    switch (k) {
    case TimerKind::Retransmit: return "retransmit";
    case TimerKind::Keepalive: return "keepalive";
    case TimerKind::TimeWait: return "time-wait";
    case TimerKind::Probe: return "probe";
    case TimerKind::None: break;
    }
    return "";
}

std::string Endpoint::AddrString() const
{
    char text[INET6_ADDRSTRLEN] = {};
    if (Family == AF_INET || Family == AF_INET6) {
        if (inet_ntop(Family, Addr.data(), text, sizeof text) != nullptr)
            return text;
    }
    return "*";
}

std::string Endpoint::ToString() const
{
    if (Family == AF_INET6)
        return "[" + AddrString() + "]:" + std::to_string(Port);
    if (Family == AF_INET)
        return AddrString() + ":" + std::to_string(Port);
    return "*:*";
}

std::optional<Endpoint> Endpoint::Parse(std::string_view text)
{
    if (text == "*:*")
        return Endpoint{};

    std::string_view host;
    std::string_view port;
    Endpoint ep;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string_view::npos)
            return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        ep.Family = AF_INET6;
    } else {
        // An IPv6 address always comes bracketed, so the last colon splits off the port.
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        ep.Family = AF_INET;
    }

    unsigned value = 0;
    const char* port_end = port.data() + port.size();
    const auto [ptr, ec] = std::from_chars(port.data(), port_end, value);
    if (port.empty() || ec != std::errc{} || ptr != port_end || value > 65535)
        return std::nullopt;
    ep.Port = static_cast<std::uint16_t>(value);

    // inet_pton wants a terminated string; host is a view into the caller's text.
    const std::string host_text(host);
    if (inet_pton(ep.Family, host_text.c_str(), ep.Addr.data()) != 1)
        return std::nullopt;
    return ep;
}

Endpoint Endpoint::V4(std::uint32_t addr_host_order, std::uint16_t port)
{
    Endpoint ep;
    ep.Family = AF_INET;
    const std::uint32_t net = htonl(addr_host_order);
    std::memcpy(ep.Addr.data(), &net, sizeof net);
    ep.Port = port;
    return ep;
}

} // namespace sockscope
