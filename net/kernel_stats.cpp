#include "kernel_stats.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace sockscope {

namespace {

// Close-on-exec ("e"): a program sockscope starts (--run) while the probe reads these must
// not inherit the descriptor.
std::string ReadFile(const char* path)
{
    std::string out;
    if (std::FILE* f = std::fopen(path, "re")) {
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
            out.append(buf, n);
        std::fclose(f);
    }
    return out;
}

std::vector<std::string_view> Words(std::string_view line)
{
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ')
            ++i;
        if (i > start)
            words.push_back(line.substr(start, i - start));
    }
    return words;
}

} // namespace

Counters ParseProcCounters(std::string_view text, std::string_view section)
{
    Counters out;
    std::string prefix = std::string(section) + ":";
    std::vector<std::string_view> names;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (line.rfind(prefix, 0) != 0)
            continue;
        auto words = Words(line.substr(prefix.size()));
        if (names.empty()) {
            names = words; // the header line comes first
            continue;
        }
        for (std::size_t i = 0; i < names.size() && i < words.size(); ++i) {
            std::uint64_t value = 0;
            bool ok = !words[i].empty();
            for (char c : words[i]) {
                if (c < '0' || c > '9') {
                    ok = false;
                    break;
                }
                value = value * 10 + static_cast<std::uint64_t>(c - '0');
            }
            if (ok)
                out[std::string(names[i])] = value;
        }
        names.clear();
    }
    return out;
}

Counters ReadTcpCounters()
{
    static const char* const tcp_ext[] = {"ListenOverflows", "ListenDrops", "TCPReqQFullDrop",
                                          "TCPReqQFullDoCookies", "SyncookiesSent", "SyncookiesRecv",
                                          "SyncookiesFailed", "TCPAbortOnData", "TCPAbortOnClose",
                                          "TCPAbortOnLinger", "TCPTimeouts", "TCPSynRetrans"};
    static const char* const tcp[] = {"ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets",
                                      "RetransSegs", "OutRsts"};
    Counters out;
    auto ext = ParseProcCounters(ReadFile("/proc/net/netstat"), "TcpExt");
    for (const char* name : tcp_ext)
        if (auto it = ext.find(name); it != ext.end())
            out[name] = it->second;
    const std::string snmp_text = ReadFile("/proc/net/snmp");
    auto snmp = ParseProcCounters(snmp_text, "Tcp");
    for (const char* name : tcp)
        if (auto it = snmp.find(name); it != snmp.end())
            out[name] = it->second;
    // UDP's: datagrams in and out, those to a port nobody had, those dropped for a full
    // receive buffer.
    static const char* const udp[] = {"InDatagrams", "OutDatagrams", "NoPorts", "RcvbufErrors"};
    auto udp_counters = ParseProcCounters(snmp_text, "Udp");
    for (const char* name : udp)
        if (auto it = udp_counters.find(name); it != udp_counters.end())
            out[name] = it->second;
    return out;
}

std::map<std::string, std::string> ReadTcpSysctls()
{
    static const char* const names[] = {
        "net.core.somaxconn",         "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_syn_retries", "net.ipv4.tcp_synack_retries",
        "net.ipv4.tcp_fin_timeout",   "net.ipv4.tcp_orphan_retries"};
    std::map<std::string, std::string> out;
    for (const char* name : names) {
        std::string path = "/proc/sys/" + std::string(name);
        for (char& c : path)
            if (c == '.')
                c = '/';
        std::string value = ReadFile(path.c_str());
        while (!value.empty() && (value.back() == '\n' || value.back() == ' '))
            value.pop_back();
        if (!value.empty())
            out[name] = value;
    }
    return out;
}

} // namespace sockscope
