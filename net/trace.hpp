// Writes the world model as JSON lines (DESIGN.md, "Trace contract") each time it
// changes. Used by --trace in the GUI and headless modes. Single-threaded.
#pragma once

#include "player.hpp"
#include "world.hpp"

#include <cstdio>
#include <string>

namespace sockscope {

class TraceWriter {
public:
    TraceWriter() = default;
    ~TraceWriter();
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // Opens `path` for appending. On failure returns false and sets `error`.
    bool Open(const std::string& path, std::string& error);
    bool IsOpen() const { return File != nullptr; }
    // Writes one line if the world changed since the previous line (or calls finished).
    // Takes the finished calls out of the world. Returns true if a line was written.
    bool Update(World& world, const LessonPlayer* player, double t);

private:
    std::FILE* File = nullptr;
    std::uint64_t LastVersion = ~0ull;
    int LastStep = -2;
};

} // namespace sockscope
