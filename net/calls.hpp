// The call catalogue: one row per system call sockscope makes, shows or parses, in the
// spirit of strace's syscall table. Every layer reads the row: the lesson parser (which
// fields a call takes and which values they allow), the actors (dispatch on CallId), the
// lab (does the call possibly make a socket the probe must sweep for?), the World and
// the panels (switch on CallId), and the formatter that writes a call's typed arguments
// as a C programmer would, once, where they are shown. Nothing outside this file and the
// parsers compares a call's name as a string.
//
// Adding a call: a CallId, a row in calls.cpp (name, C function, flags, parameters), its
// arguments' format in FormatArgs, its actor code, its tests.
#pragma once

#include "kernel_types.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sockscope {

enum class CallId : std::uint8_t {
    None, // no call: an event that is not one yet, or a name nobody knows
    // What a lesson, the playground or a traced program may call.
    Socket,
    Setsockopt,
    Getsockopt,
    Bind,
    Listen,
    Connect,
    Accept,
    Send,
    Write,
    Sendto,
    Recv,
    Read,
    Recvfrom,
    Shutdown,
    Close,
    Getsockname,
    Getpeername,
    Getaddrinfo,
    // sockscope's own: a gate (a socket filter: really setsockopt), waiting for a state
    // (really getsockopt(TCP_INFO) in a loop), a server model's loop, reaping its children.
    Gate,
    Ungate,
    Await,
    Serve,
    Waitpid,
    Run, // start the actor's program (a lesson actor's "run") under the tracer
    // Made by a server model's lanes.
    Waitid,
    Fork,
    PthreadCreate,
    EpollCreate1,
    EpollCtl,
    EpollWait,
    // Only a traced program makes these (net/tracer.hpp): strace's names, the arguments
    // decoded from the program's registers and memory.
    Accept4,
    Socketpair,
    Sendmsg,
    Recvmsg,
    Dup,
    Dup2,
    Dup3,
    Fcntl,
    EpollCreate,
    EpollPwait,
    Select,
    Pselect6,
    Poll,
    Ppoll,
    Clone,
    Vfork,
    Execve,
};
inline constexpr CallId LastCallId = CallId::Execve;

// What kind of value a parameter takes: how a parser reads it and how it is offered.
enum class ParamKind : std::uint8_t {
    Descriptor, // the actor's name for a descriptor ("main", "conn2"); "" is the first
    NewName,    // the name a new descriptor gets
    Choice,     // one of Allowed
    FlagSet,    // Allowed names joined by '|'
    Address,    // an IPv4 or IPv6 address as inet_pton reads it
    Host,       // a host name or an address, for getaddrinfo
    Port,       // 0..65535, or "$port": the lesson's port
    Int,
    Bytes,      // data to send
    Length,
    Bool,
};

struct ParamSpec {
    std::string_view Field;                     // the lesson file's key, the command line's name
    ParamKind Kind;
    std::string_view Default;                   // as it would be written; "" when none
    std::span<const std::string_view> Allowed;  // Choice, FlagSet: the names allowed
    std::string_view Help;                      // one line, English
    bool Required = false;                      // a call without it is refused
};

enum CallFlag : std::uint16_t {
    TakesFd = 1 << 0,       // the call names one of the actor's descriptors
    MayMakeSocket = 1 << 1, // afterwards the kernel may list a socket it did not before
    CanBlock = 1 << 2,      // may wait for the kernel (shown blocked)
    FromLessons = 1 << 3,   // a lesson or the playground may ask for it
    MovesData = 1 << 4,     // carries bytes (send, recv...)
    Receives = 1 << 5,      // the bytes came in
    OwnCall = 1 << 6,       // sockscope's own operation, shown as the C call it makes
    NewDescriptor = 1 << 8, // returns a new descriptor (socket, accept)
    TracedOnly = 1 << 9,    // only a traced program makes it (the lab never does)
};

struct CallRow {
    CallId Id;
    std::string_view Name;     // in lesson files, on the command line and in the trace
    std::string_view Function; // the C function it is ("setsockopt" for gate)
    std::uint16_t Flags;
    std::span<const ParamSpec> Params;
    std::string_view Help;     // one line, English: what it does
    bool Has(CallFlag f) const { return (Flags & f) != 0; }
    const ParamSpec* Param(std::string_view field) const;
};

const CallRow& RowOf(CallId id);
std::span<const CallRow> AllCalls();
std::optional<CallId> CallFromName(std::string_view name); // by Name
std::string_view CallName(CallId id);
std::string_view CallFunctionName(CallId id);
// "socket, setsockopt, ...": the names a lesson or the playground may use.
std::string LessonCallNames();

// Socket options sockscope can set and read: one table for both calls, the parser's
// allowed values and the formatter.
enum class OptValue : std::uint8_t { Int, Linger, LingerZero };
struct SockOptRow {
    std::string_view Name;      // "SO_REUSEADDR"; "SO_LINGER0" is SO_LINGER {1, 0}
    std::string_view LevelName; // "SOL_SOCKET"
    int Level;
    int Option;
    OptValue Value;
    bool Settable;
    bool Gettable;
};
std::span<const SockOptRow> SockOpts();
const SockOptRow* SockOptByName(std::string_view name);
const SockOptRow* SockOptByNumber(int level, int option);

// A call's arguments as typed values: what it was passed (and, for getsockopt, what it
// got). Which fields a call uses is said by its case in FormatArgs. No field allocates
// but Text, which only getaddrinfo and serve use.
struct CallArgs {
    std::int32_t Family = 0;  // socket, getaddrinfo: AF_INET, AF_INET6, AF_UNSPEC
    std::int32_t Type = 0;    // socket: SOCK_STREAM, SOCK_DGRAM
    std::int32_t Level = 0;   // setsockopt, getsockopt
    std::int32_t Option = 0;  // setsockopt, getsockopt: the option; gate: its GateKind;
                              // await: the TcpState awaited; epoll_ctl: the op
    std::int64_t Value = 0;   // setsockopt: the value; getsockopt: the value read; listen:
                              // the backlog; shutdown: how; waitpid: the pid; pthread_create
                              // and epoll_ctl: the descriptor; gate: the program's length
    std::int64_t Len = 0;     // bytes to move or room to read; getsockopt: optlen
    std::int32_t Flags = 0;   // MSG_*, AI_*, EPOLL_CLOEXEC
    std::int32_t AddrLen = 0; // the socklen_t passed with Addr (0: no address)
    Endpoint Addr;            // bind, connect, sendto: to where; recvfrom: from whom
    std::string Text;         // getaddrinfo: the host ("" is NULL); serve: the model;
                              // traced calls: what strace would write for arguments the
                              // fields above do not hold (execve's path, poll's fds...)
};

struct CallEvent;
// The arguments as a C programmer would write them ("3, {AF_INET, 127.0.0.1:4000}, 16"),
// or compact ("3, 127.0.0.1:4000": the address without its family and length).
enum class ArgStyle : std::uint8_t { C, Compact };
std::string FormatArgs(const CallEvent& call, ArgStyle style = ArgStyle::C);
// "connect(3, {AF_INET, 127.0.0.1:4000}, 16)"
std::string FormatCall(const CallEvent& call, ArgStyle style = ArgStyle::C);
// The address argument as it lies in memory (family, port before and after htons, the
// address bytes), for calls that pass one; "" otherwise.
std::string SockaddrLayoutOf(const CallEvent& call);

struct CallRequest;
// A call not made yet, as the ladder and the code view announce it: "listen(fd, 5)".
// `port` stands for "$port".
std::string FormatRequest(const CallRequest& request, bool port_from_lab, int port);

} // namespace sockscope
