#include "kernel_model.hpp"

#include <set>

namespace sockscope {
namespace {

struct Explained {
    const char* Name;
    const char* Meaning;
};

constexpr Explained kSysctls[] = {
    {"net.core.somaxconn", "cap on every listen() backlog"},
    {"net.ipv4.tcp_max_syn_backlog", "cap on half-done handshakes when syncookies are off"},
    {"net.ipv4.tcp_syncookies", "1: syncookies once the SYN queue is full; 2: always"},
    {"net.ipv4.tcp_abort_on_overflow", "accept queue full: 0 drops the ACK, 1 sends RST"},
    {"net.ipv4.tcp_syn_retries", "SYN resends before connect() gives up"},
    {"net.ipv4.tcp_synack_retries", "SYN+ACK resends for a half-done handshake"},
    {"net.ipv4.tcp_fin_timeout", "seconds a closed socket may stay in FIN-WAIT-2"},
    {"net.ipv4.tcp_orphan_retries", "resends before a closed socket gives up (0: 8)"},
};

constexpr Explained kCounters[] = {
    // listen queues
    {"ListenOverflows", "SYNs or handshake ACKs dropped because the accept queue was full"},
    {"ListenDrops", "segments a listener dropped, for any reason (ListenOverflows included)"},
    {"TCPReqQFullDrop", "SYNs dropped because the SYN queue was full and syncookies were off"},
    {"TCPReqQFullDoCookies", "SYN queue full: answered with a syncookie instead"},
    {"SyncookiesSent", "SYN+ACKs sent with a syncookie (no SYN-queue entry kept)"},
    {"SyncookiesRecv", "ACKs carrying a valid syncookie: connections made from a cookie"},
    {"SyncookiesFailed", "ACKs carrying a syncookie that did not check out"},
    // opens
    {"ActiveOpens", "connect() sent a SYN: CLOSED → SYN-SENT"},
    {"PassiveOpens", "handshakes a listener completed (Linux counts the new socket)"},
    {"AttemptFails", "handshakes given up: SYN-SENT or SYN-RECEIVED back to CLOSED or LISTEN"},
    // retransmissions
    {"TCPSynRetrans", "SYNs and SYN+ACKs sent again"},
    {"TCPTimeouts", "retransmission timers that ran out"},
    {"RetransSegs", "segments sent again, of every kind"},
    // resets
    {"EstabResets", "ESTABLISHED or CLOSE-WAIT connections ended by a reset"},
    {"OutRsts", "RST segments sent"},
    {"TCPAbortOnClose", "close() with unread data: RST sent instead of FIN"},
    {"TCPAbortOnData", "RST sent: close() with SO_LINGER 0, or data after close()"},
    {"TCPAbortOnLinger", "close() with TCP_LINGER2 < 0: reset, no FIN-WAIT-2"},
    // UDP
    {"InDatagrams", "UDP datagrams delivered to a socket"},
    {"OutDatagrams", "UDP datagrams sent"},
    {"NoPorts", "UDP datagrams to a port no socket had: ICMP port unreachable sent back"},
    {"RcvbufErrors", "UDP datagrams dropped: the socket's receive buffer was full"},
};

} // namespace

std::vector<SysctlRow> SysctlRows(const World& world)
{
    std::vector<SysctlRow> rows;
    const auto& values = world.Sysctls();
    for (const auto& s : kSysctls) {
        auto it = values.find(s.Name);
        rows.push_back({s.Name, it == values.end() ? "-" : it->second, s.Meaning});
    }
    return rows;
}

std::string CounterChangeLabel(std::uint64_t delta)
{
    return delta == 0 ? "0" : "+" + std::to_string(delta);
}

std::vector<CounterRow> CounterRows(const World& world)
{
    std::vector<CounterRow> rows;
    const auto& values = world.CounterValues();
    auto add = [&](const std::string& name, const char* meaning) {
        CounterRow row{name, "-", "-", false, meaning};
        if (auto it = values.find(name); it != values.end()) {
            std::uint64_t delta = world.CounterDelta(name);
            row.Total = std::to_string(it->second);
            row.Change = CounterChangeLabel(delta);
            row.Moved = delta != 0;
        }
        rows.push_back(std::move(row));
    };
    std::set<std::string> known;
    for (const auto& c : kCounters) {
        add(c.Name, c.Meaning);
        known.insert(c.Name);
    }
    for (const auto& [name, value] : values)
        if (!known.count(name))
            add(name, "");
    return rows;
}

} // namespace sockscope
