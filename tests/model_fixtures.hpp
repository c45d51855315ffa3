// Recorded-input builders for tests of the world model and the panels that draw it:
// call events and kernel rows as the lab and the probe report them, without sockets.
#pragma once

#include "events.hpp"
#include "kernel_types.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <vector>

namespace sockscope::fixtures {

inline Endpoint Ep(const char* text)
{
    auto e = Endpoint::Parse(text);
    EXPECT_TRUE(e) << text;
    return e ? *e : Endpoint{};
}

inline CallId Named(const char* call)
{
    auto id = CallFromName(call);
    EXPECT_TRUE(id) << call;
    return id.value_or(CallId::None);
}

// A call on the actor's "main" descriptor (number `fd`) that finished with `result`.
inline CallEvent Finished(std::uint64_t id, const char* actor, const char* kind, const char* call,
                          CallArgs args = {}, long result = 0, int fd = -1)
{
    CallEvent c;
    c.Id = id;
    c.Actor = actor;
    c.ActorKind = kind;
    c.Call = Named(call);
    c.Args = std::move(args);
    c.Fd = fd;
    c.Handle = "main";
    c.Phase = CallPhase::Finished;
    c.Result = result;
    c.TStart = c.TEnd = static_cast<double>(id);
    return c;
}

// A moment of a server model's lane's life, as the lab reports it: a thread of this
// process, or a forked child whose pid is `pid`.
inline LaneEvent Life(std::uint64_t id, const char* lane, LaneEventKind kind, LaneType type, int pid = 0)
{
    LaneEvent e;
    e.Id = id;
    e.Kind = kind;
    e.Type = type;
    e.Actor = lane;
    e.ActorKind = "server";
    e.Pid = pid;
    e.T = static_cast<double>(id);
    return e;
}

// A lane's first event: made by `parent`, holding `inherited` (fork: copies of the
// parent's descriptors; a thread: the one it serves).
inline LaneEvent Born(std::uint64_t id, const char* lane, LaneType type, int pid, std::vector<FdInfo> inherited,
                      const char* parent = "server")
{
    LaneEvent e = Life(id, lane, type == LaneType::Thread ? LaneEventKind::Started : LaneEventKind::Forked, type, pid);
    e.Parent = parent;
    e.Inherited = std::move(inherited);
    return e;
}

// socket() returning `fd`; inode 0 picks one derived from the descriptor.
inline CallEvent NewSocket(std::uint64_t id, const char* actor, const char* kind, int fd, std::uint64_t cookie,
                           std::uint32_t inode = 0)
{
    CallEvent c = Finished(id, actor, kind, "socket", {.Family = AF_INET, .Type = SOCK_STREAM}, fd, fd);
    c.NewFd = FdInfo{"main", fd, inode != 0 ? inode : static_cast<std::uint32_t>(1000 + fd), cookie};
    return c;
}

// bind, connect, sendto: the address a call passed, as a sockaddr_in of 16 bytes (28: in6).
inline CallArgs To(const char* endpoint)
{
    Endpoint e = Ep(endpoint);
    return {.AddrLen = e.Family == AF_INET6 ? 28 : 16, .Addr = e};
}

inline KernelSocket Row(TcpState state, const char* local, const char* remote, std::uint64_t cookie,
                        std::uint32_t inode, std::uint32_t recv_q = 0, std::uint32_t send_q = 0)
{
    KernelSocket k;
    k.State = state;
    k.Local = Ep(local);
    k.Remote = Ep(remote);
    k.Cookie = cookie;
    k.Inode = inode;
    k.RecvQ = recv_q;
    k.SendQ = send_q;
    return k;
}

} // namespace sockscope::fixtures
