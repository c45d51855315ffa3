// The kernel panel's rows: the TCP sysctls with what each one means, and the TCP
// counters with their total and how much they moved since the lesson began. No ImGui
// here, so the tests check every figure without a frame.
#pragma once

#include "world.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sockscope {

struct SysctlRow {
    std::string Name;    // "net.core.somaxconn"
    std::string Value;   // as the kernel prints it, "-" when not read
    const char* Meaning; // one line, in English: translate with Tr()
};
// The sysctls sockscope explains, in a fixed order, whether or not the probe read them.
std::vector<SysctlRow> SysctlRows(const World& world);

struct CounterRow {
    std::string Name;    // "ListenOverflows"
    std::string Total;   // "12", "-" when not read
    std::string Change;  // since the lesson began: "+3", "0", "-" when not read
    bool Moved = false;  // the change is not zero: highlight it
    const char* Meaning; // one line, in English ("" for a counter sockscope does not explain)
};
// The counters sockscope explains, grouped (listen queues, opens, retransmissions,
// resets), then any other counter the probe read.
std::vector<CounterRow> CounterRows(const World& world);

// "+3" for a counter that moved, "0" for one that did not.
std::string CounterChangeLabel(std::uint64_t delta);

} // namespace sockscope
