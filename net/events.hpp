// Commands that go into the lab, and the events that come out of it.
// Value types only: safe to copy between threads.
#pragma once

#include "kernel_types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace sockscope {

// One system call that an actor is asked to make. Which fields matter depends on Call:
//   socket       Family ("inet" | "inet6"), As (handle name, default "main")
//   setsockopt   Option ("SO_REUSEADDR" | "SO_LINGER0" | "TCP_NODELAY"), Value
//   bind         Addr, Port (0: the kernel picks)
//   listen       Backlog
//   connect      Addr, Port; NonBlock makes it return EINPROGRESS at once
//   accept       As (name for the new descriptor)
//   send, write  Data
//   recv, read   Len
//   shutdown     How ("SHUT_RD" | "SHUT_WR" | "SHUT_RDWR")
//   close        (nothing)
//   getsockname, getpeername (nothing)
//   gate         Option ("syn" | "handshake-ack" | "fin" | "ack"): attach a packet gate,
//                a socket filter that drops those incoming segments (KERNEL_NOTES);
//                Port, if not 0, limits it to segments from that peer port
//   ungate       detach the gate: held segments get through at their next retransmission
//   await        Option (a state name, "CLOSING"): poll getsockopt(TCP_INFO) every
//                millisecond until the socket is in that state (10 s at most: ETIMEDOUT)
// Fd names the descriptor within the actor: "" means the actor's first socket ("main").
struct CallRequest {
    std::string Actor;
    std::string ActorKind = "client"; // "server" or "client": how the UI lays the actor out
    std::string Call;
    std::string Fd;
    std::string As;
    std::string Family = "inet";
    std::string Addr = "127.0.0.1";
    int Port = 0;
    int Backlog = 5;
    std::string Option;
    int Value = 1;
    std::string Data;
    int Len = 1024;
    std::string How = "SHUT_WR";
    bool NonBlock = false;
};

// A descriptor an actor came to own (socket(), accept()).
struct FdInfo {
    std::string Handle;      // the actor's name for it ("main", "conn1")
    int Fd = -1;
    std::uint32_t Inode = 0; // fstat().st_ino: the inode inet_diag reports
    std::uint64_t Cookie = 0;// SO_COOKIE: the key the probe reports
};

enum class CallPhase : std::uint8_t {
    Queued,   // accepted by the lab, waiting for the actor's previous call to end
    Started,  // the actor is in the call now
    Blocked,  // the call is waiting for the kernel (accept on an empty queue, recv with nothing to read)
    Finished, // returned; Result and Errno are the kernel's
};
std::string_view CallPhaseName(CallPhase p);

struct CallEvent {
    std::uint64_t Id = 0;        // the id Lab::Submit returned
    std::string Actor;
    std::string ActorKind;
    std::string Call;
    std::string Handle;          // which descriptor of the actor
    int Fd = -1;                 // its number, -1 if none
    std::string Args;            // as a C programmer would write them: "fd=3, 127.0.0.1:4000"
    CallPhase Phase = CallPhase::Queued;
    long Result = 0;
    int Errno = 0;               // 0 when the call succeeded
    std::string Note;            // e.g. "woken by reset", "no such descriptor"
    double TStart = 0, TEnd = 0; // seconds on the lab clock
    std::optional<FdInfo> NewFd; // socket() and accept() results
    bool Closed = false;         // close() released Handle
    std::optional<Endpoint> Local;  // after bind/connect/accept/getsockname
    std::optional<Endpoint> Remote; // after connect/accept/getpeername
    std::string Data;            // bytes sent or received (raw)
    std::string Gate;            // gate: the kind attached ("syn", "handshake-ack", "fin", "ack")
};

// Bytes as a C string literal's contents: printable ASCII as is, the rest escaped
// (\n, \r, \t, \\, \", \xNN). Longer than `max` bytes: cut, with "..." appended.
std::string EscapeBytes(std::string_view bytes, std::size_t max = 64);

// The C function a call really is: "setsockopt" for sockscope's gate/ungate, else Call.
std::string_view CallFunctionName(std::string_view call);

// "EADDRINUSE", or "" for 0.
std::string ErrnoName(int err);
int ErrnoFromName(std::string_view name); // 0 if unknown

// Everything the background threads report, in the order they reported it.
using LabEvent = std::variant<CallEvent, Snapshot>;

} // namespace sockscope
