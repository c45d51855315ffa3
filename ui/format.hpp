// Pure helpers that turn the model into the words and numbers the panels draw. No ImGui
// here, so the tests can check every label without a frame.
#pragma once

#include "lesson.hpp"
#include "ui.hpp"
#include "world.hpp"

#include <cstdint>
#include <functional>
#include <string_view>
#include <string>
#include <vector>

namespace sockscope {

// printf into a std::string.
std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));

// --- accept queue ---------------------------------------------------------------------
// listen(fd, N) gives N + 1 places: the kernel's "full" test is queue length > N.
int AcceptQueuePlaces(std::uint32_t backlog);
// "limit from the kernel: backlog 5 → 6 places"
std::string PlacesCaption(std::uint32_t backlog, Lang lang);

// Is this socket one the listener hands out (or will): same port, the server's end?
bool BelongsTo(const SocketView& socket, const ListenerView& listener);

// --- socket table ---------------------------------------------------------------------
// The teaching point: a connection the kernel completed that no process holds yet.

// "fd 4 (server)", "no fd yet", "no fd (closed)", "other process"
std::string FdLabel(const SocketView& socket, Lang lang);
// "lab", "external", or "traced" for a socket a traced program holds (`world` given), as the trace says.
std::string OwnerLabel(const SocketView& socket, const World* world = nullptr);
std::string CookieLabel(std::uint64_t cookie);       // "0x2a", "-" for 0
std::string EndpointLabel(const Endpoint& endpoint); // "127.0.0.1:4000", "-" when unknown

// --- ladder ---------------------------------------------------------------------------
enum class CallLook : std::uint8_t { Done, Blocked, Failed, Running, Queued, Next };
CallLook LookOf(const CallEvent& call);
// "listen(3, 5)"
std::string CallLabel(const CallEvent& call);
// "= 0", "= -1 EADDRINUSE", "blocked in accept() for 3 s", "running", "queued"
std::string CallResultLabel(const CallEvent& call, double now, Lang lang);
// A moment of a lane's life, shown as its line of C: "start()", "exit(0)". In exit() a
// process stays (Blocked: "exited: a zombie until waitpid()"); every other moment is
// done ("= 0").
CallLook LookOf(const LaneEvent& event);
std::string LaneEventResultLabel(const LaneEvent& event, Lang lang);
// A lesson call before it is made: "connect(fd, 127.0.0.1:4000)".
std::string RequestLabel(const LessonCall& call, int port);

struct PendingCall {
    std::string Actor;
    std::string Label;
    std::string Code;   // the lesson's C line, for a tooltip
    bool First = false; // the very next call of the lesson
};
// The lesson's calls not made yet, in order: the rest of the running step, or the next
// step's calls when the player is between steps. Empty at the end of the lesson.
std::vector<PendingCall> PendingCalls(const LessonView& lesson);

struct ActorColumn {
    std::string Name;
    std::string Kind; // "server" or "client"
};
// One column per actor: the lesson's actors in their declared order, then any other
// actor the world has seen.
std::vector<ActorColumn> ActorColumns(const World& world, const Lesson* lesson);
// A column's header: "server (server) pid 4242  fd 3, 4", a lane's "child 4243 [zombie]".
std::string ColumnTitle(const ActorColumn& column, const World& world, Lang lang);

// One cell of the ladder: a call made (Call set), a moment of a lane's life (Life set)
// or a call to come (Pending set).
struct LadderCell {
    int Row = 0;
    int Column = 0;
    const CallEvent* Call = nullptr;
    const PendingCall* Pending = nullptr;
    const LaneEvent* Life = nullptr;
    bool Made() const { return Call || Life; }
};
// Calls made (and the lanes' lives) in the order they were numbered, then the calls to come, packed into
// rows: a call shares the current row when its column is to the right of every call
// already in it, so reading left to right, top to bottom is the order of the calls.
// The calls to come start on a row of their own. Pointers are into `world` and
// `pending`; cells are ordered by row, then column.
std::vector<LadderCell> LadderCells(const World& world, const std::vector<ActorColumn>& columns,
                                    const std::vector<PendingCall>& pending);

// "connect(3, 127.0.0.1:4000)": the call as a teacher writes it on the board, a sockaddr
// "{AF_INET, 127.0.0.1:4000}, 16" as "127.0.0.1:4000".
std::string CompactCallLabel(const CallEvent& call);

// Break `text` into lines no wider than `width`. A line may break at a space, at a
// '\n' (always), and between two Chinese characters, but never before closing
// punctuation ("，", "。", ")") or after opening punctuation ("（"). Dear ImGui's own
// wrapping cannot break Chinese text that has no spaces, and breaks "127.0.0.1" after a
// '.'. A word wider than `width` gets lines of its own, broken after a ':' or ',' (else
// a '.' or '/', else anywhere) so that no line is wider than `width`. `measure` gives the
// width of a piece of text (widths are taken as additive: Dear ImGui does not kern).
std::vector<std::string> WrapText(const std::string& text, float width,
                                  const std::function<float(std::string_view)>& measure);

// --- lesson ---------------------------------------------------------------------------
// A check's claim in the UI's language: the player words claims in English; the
// lesson's current step has the translation.
std::string ClaimText(const LessonView& lesson, const CheckResult& result, Lang lang);
// "Step 3 of 7", "Not started (7 steps)"
std::string StepCounterLabel(const LessonView& lesson, Lang lang);

// The kernel's timer for a socket as a countdown: "retransmit 0.8 s (#2)" (the second
// retransmission is due in 0.8 s), "time-wait 57.0 s", or "-" when none runs.
std::string TimerLabel(const SocketView& s, Lang lang);

// What the player is doing now, in the chosen language: "making the calls", "waiting
// for the kernel to show the expected state", ...
std::string StatusLineLabel(const LessonView& lesson, Lang lang);

} // namespace sockscope
