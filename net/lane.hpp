// A lane: one thread or one process of a server model (the lecture notes' iterative,
// fork, thread and epoll servers). It makes real system calls and reports each one as a
// CallEvent under its own name, with its pid and tid, exactly as an actor does; the
// moments of its life (it starts, it exits) as LaneEvents.
// Also: the echo service those servers run on each connection, and the encoding a
// forked worker uses to send its events to sockscope through a pipe.
#pragma once

#include "events.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace sockscope {

class Lane {
public:
    using Sink = std::function<void(LaneReport)>;
    using IdSource = std::function<std::uint64_t()>;

    // `kind` is the actor kind shown ("server"); `lane_kind` "thread" or "process", or ""
    // for the lane that is the actor's own thread.
    Lane(std::string name, std::string kind, Sink sink, IdSource ids);

    const std::string& Name() const { return LaneName; }
    // Report a moment of this lane's life: its first (a thread Started, a process Forked:
    // who made it, the descriptors it starts with) or its end (Returned, Exiting).
    void Life(LaneEventKind kind, LaneType type, Phrase note, std::string parent = {},
              std::vector<FdInfo> inherited = {});
    // A call: Begin reports it Started, Blocked and Finish as they happen.
    CallEvent Begin(CallId call, const std::string& handle, int fd, CallArgs args = {});
    void Blocked(CallEvent& call);
    void Finish(CallEvent& call, long result, int err);
    // A call that returns at once (already made): Begin + Finish.
    CallEvent Done(CallId call, const std::string& handle, int fd, CallArgs args, long result, int err,
                   Phrase note = {});
    // close(fd), reported, with the handle released.
    void Close(int fd, const std::string& handle);

private:
    std::string LaneName;
    std::string Kind;
    Sink SinkFn;
    IdSource Ids;
    int Pid = 0;
    int Tid = 0;
};

// Wait until `fd` has `events` or `stop_fd` is readable. False: stopped.
bool WaitReady(int fd, short events, int stop_fd);

// One round of the echo service of the lecture notes on a connected descriptor: recv up
// to `len` bytes (blocking, woken by `stop_fd`); "bye" in them or EOF ends the service;
// anything else is sent back with a blocking send. Does not close the descriptor.
enum class EchoRound : std::uint8_t { Again, Bye, Eof, Error, Stopped };
EchoRound EchoOnce(Lane& lane, int fd, const std::string& handle, int len, int stop_fd);
// Rounds until one ends the service; then close(fd) unless stopped.
EchoRound ServeEcho(Lane& lane, int fd, const std::string& handle, int len, int stop_fd);

// One call or lane event as one line of text (JSON) and back: how a forked worker
// reports. Times travel on the system-wide monotonic clock and come back on this process's.
std::string EncodeEvent(const LaneReport& event);
std::optional<LaneReport> DecodeEvent(const std::string& line);
// The same as a JSON object: times on the system-wide clock (`absolute_times`, between
// processes) or the lab clock's own (a recording). nullopt for anything malformed.
nlohmann::json EventToJson(const LaneReport& event, bool absolute_times);
std::optional<LaneReport> EventFromJson(const nlohmann::json& j, bool absolute_times);

// The worker mode: `sockscope --worker echo ...`, exec'd by the fork server in the
// child so that the child runs a fresh single-threaded program. Returns the exit status.
int RunWorker(int argc, char** argv);

} // namespace sockscope
