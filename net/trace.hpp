// Writes the world model as JSON lines (DESIGN.md, "Trace contract") each time it
// changes. Used by --trace in the GUI and headless modes. Single-threaded.
#pragma once

#include "player.hpp"
#include "world.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace sockscope {

// The calls that finished (and the lane events that happened) after the one numbered
// `cursor` (those the world still keeps); moves `cursor` past them.
std::vector<LaneReport> FinishedSince(const World& world, std::uint64_t& cursor);

class TraceWriter {
public:
    TraceWriter() = default;
    ~TraceWriter();
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // Opens `path` for appending. On failure returns false and sets `error`.
    bool Open(const std::string& path, std::string& error);
    bool IsOpen() const { return File != nullptr; }
    // Writes one line if the world changed since the previous line (or the step did), with
    // the calls that finished and the segments seen since then. Returns true if a line was
    // written.
    bool Update(const World& world, const LessonPlayer* player, double t);
    bool Update(const World& world, const TraceLesson* lesson, double t); // a recording's
    bool Update(const World& world, std::nullptr_t, double t)             // no lesson
    {
        return Update(world, static_cast<const TraceLesson*>(nullptr), t);
    }

private:
    std::vector<LaneReport> NewCalls(const World& world);
    nlohmann::json NewSegments(const World& world);

    std::FILE* File = nullptr;
    std::uint64_t LastVersion = ~0ull;
    int LastStep = -2;
    // How far this writer has read the world's finished calls and segments (their numbers
    // keep growing across World::Clear(), so these stay valid).
    std::uint64_t CallsWritten = 0;
    std::uint64_t SegmentsWritten = 0;
};

} // namespace sockscope
