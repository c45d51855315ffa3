// "Redraw now?": everything the window shows that may change with no input (the world
// model, the player, a recent arrow, a notice, a blocked call's seconds, a traced
// program's output). When any of it differs from what the last frame showed, the GUI's
// loop draws again; otherwise it sleeps until an event.
#pragma once

#include "player.hpp"
#include "ui.hpp"
#include "world.hpp"

#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

namespace sockscope {

// What of the player a user can see.
inline auto PlayerSignature(const LessonPlayer& player)
{
    return std::make_tuple(player.Current(), player.StepIndex(), player.CurrentStatus(), player.CallIndex(),
                           player.Port(), player.Results().size());
}

struct Visible {
    std::uint64_t Version = ~0ull; // the world model
    decltype(PlayerSignature(std::declval<const LessonPlayer&>())) Player{};
    std::vector<int> RecentArrows; // the state machine tab: an arrow stops being "recent" with no event
    bool Notice = false;           // "saved <path>" in the status bar, until it expires
    long Second = -1;              // while a call is blocked: "blocked in accept() for N s" counts seconds
    std::uint64_t Output = 0;      // --run: the program's output, and whether it has ended
    bool Ended = false;
    bool operator==(const Visible&) const = default;
};

// Whether any actor is blocked in a call.
bool AnyBlocked(const World& world);

// What the window shows now (Output and Ended are the app's to fill for --run).
Visible WhatIsVisible(const World& model, const LessonPlayer& player, const UiState& ui, double now);

} // namespace sockscope
