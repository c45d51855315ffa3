#include "gui_redraw.hpp"

#include "state_model.hpp"

#include <cmath>

namespace sockscope {

bool AnyBlocked(const World& world)
{
    for (const auto& actor : world.Actors())
        for (const auto& call : actor.Calls)
            if (call.Phase == CallPhase::Blocked)
                return true;
    return false;
}

Visible WhatIsVisible(const World& model, const LessonPlayer& player, const UiState& ui, double now)
{
    Visible v;
    v.Version = model.Version();
    v.Player = PlayerSignature(player);
    if (ui.Tab == LowerTab::StateMachine)
        v.RecentArrows = RecentArrowCounts(model);
    v.Notice = !ui.Notice.empty() && now < ui.NoticeUntil;
    if (AnyBlocked(model))
        v.Second = static_cast<long>(std::floor(now));
    return v;
}

} // namespace sockscope
