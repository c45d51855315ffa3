// Packet gates as the UI sees them: which gate a lab socket holds now (derived from the
// gate/ungate calls its actor made), which gates a socket may take, and the command a
// toggle gives. No ImGui here.
//
// A socket has one gate at a time: attaching one replaces the previous (SO_ATTACH_FILTER
// replaces the filter). The gate's kind is read back from the call's C text
// ("... /* drop fin segments */ ..."), the way the lab wrote it.
#pragma once

#include "lesson.hpp"
#include "ui.hpp"
#include "world.hpp"

#include <string>
#include <vector>

namespace sockscope {

struct GateStatus {
    std::string Held;      // "syn", "handshake-ack", "fin", "ack"; "" when none
    bool Changing = false; // a gate/ungate call for the descriptor is queued or in progress
    std::string Failure;   // errno name of the latest gate/ungate call, if it failed
                           // after the latest one that worked ("EPERM")
};

// The gate the descriptor `handle` of `actor` holds now, from the actor's calls in the
// order they were made. A new descriptor under that name (socket(), accept()) or
// close() starts it over without a gate.
GateStatus GateOf(const World& world, const std::string& actor, const std::string& handle);

// The gates that make sense on a socket the lab holds: "syn" and "handshake-ack" on a
// listener, "fin" and "ack" on a connection; none on a socket without a descriptor or
// one the kernel no longer lists.
std::vector<std::string> GateChoices(const SocketView& socket);

// What clicking a gate's toggle asks for: attach `kind` (on) or detach the gate (off),
// as a Submit command for the socket's actor and descriptor.
UiCommand GateCommand(const World& world, const SocketView& socket, const std::string& kind, bool on);

// The segment a gate holds, as the toggles name it: "SYN", "handshake ACK", "FIN", "ACK".
const char* GateSegmentName(const std::string& kind);
// "hold FIN" (a toggle that is off) or "holding FIN" (on), in the UI's language.
std::string GateToggleLabel(const std::string& kind, bool held, Lang lang);
// One sentence on what the gate does to the connection, for a tooltip.
const char* GateExplanation(const std::string& kind, Lang lang);

} // namespace sockscope
