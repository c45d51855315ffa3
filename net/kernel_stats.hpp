// Kernel-wide TCP counters and settings that explain what the lab shows: why a SYN was
// dropped (ListenOverflows), how long retransmissions go on (tcp_syn_retries), ...
// They are per network namespace and shared with every other program in it: lessons
// look at how much they moved, not at their value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sockscope {

using Counters = std::map<std::string, std::uint64_t>;

// Parses /proc/net/netstat or /proc/net/snmp text: pairs of lines "Section: names..."
// and "Section: values...". Pure; malformed lines are skipped.
Counters ParseProcCounters(std::string_view text, std::string_view section);

// The counters sockscope shows (TcpExt and Tcp), read now. Empty on failure.
Counters ReadTcpCounters();

// The sysctls sockscope shows, read now: name (e.g. "net.core.somaxconn") -> value.
std::map<std::string, std::string> ReadTcpSysctls();

} // namespace sockscope
