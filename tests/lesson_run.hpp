// A lesson played on a lab of its own, a step at a time, as the lab and program-lesson
// tests drive it.
#pragma once

#include "lab.hpp"
#include "player.hpp"
#include "world.hpp"

#include <string>

namespace sockscope {

struct LessonRun {
    explicit LessonRun(PlayerOptions options = {}) : Player(TheLab, TheWorld, options) {}
    Lab TheLab;
    World TheWorld;
    LessonPlayer Player;

    bool Step()
    {
        Player.StepForward();
        return DriveUntilIdle(TheLab, TheWorld, Player, 90.0);
    }
    std::string Failures() const
    {
        std::string out;
        for (const auto& r : Player.Results())
            if (!r.Ok)
                out += r.Claim.English() + " (seen: " + r.Seen.English() + "); ";
        return out;
    }
};

} // namespace sockscope
