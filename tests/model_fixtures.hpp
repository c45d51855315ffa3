// Recorded-input builders for tests of the world model and the panels that draw it:
// call events and kernel rows as the lab and the probe report them, without sockets.
#pragma once

#include "events.hpp"
#include "kernel_types.hpp"

#include <gtest/gtest.h>

namespace sockscope::fixtures {

inline Endpoint Ep(const char* text)
{
    auto e = Endpoint::Parse(text);
    EXPECT_TRUE(e) << text;
    return e ? *e : Endpoint{};
}

// A call on the actor's "main" descriptor that finished with `result`.
inline CallEvent Finished(std::uint64_t id, const char* actor, const char* kind, const char* call,
                          const char* args = "", long result = 0)
{
    CallEvent c;
    c.Id = id;
    c.Actor = actor;
    c.ActorKind = kind;
    c.Call = call;
    c.Args = args;
    c.Handle = "main";
    c.Phase = CallPhase::Finished;
    c.Result = result;
    c.TStart = c.TEnd = static_cast<double>(id);
    return c;
}

// socket() returning `fd`; inode 0 picks one derived from the descriptor.
inline CallEvent NewSocket(std::uint64_t id, const char* actor, const char* kind, int fd, std::uint64_t cookie,
                           std::uint32_t inode = 0)
{
    CallEvent c = Finished(id, actor, kind, "socket", "AF_INET, SOCK_STREAM, 0", fd);
    c.Fd = fd;
    c.NewFd = FdInfo{"main", fd, inode != 0 ? inode : static_cast<std::uint32_t>(1000 + fd), cookie};
    return c;
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
