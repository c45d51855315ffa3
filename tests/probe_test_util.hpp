// The probe tests' tiny socket lab: real sockets on loopback (listen, connect, accept),
// what getsockname/SO_COOKIE/fstat say about them, and finding rows in a snapshot.
#pragma once

#include "probe.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <span>
#include <sstream>
#include <string>
#include <utility>

namespace sockscope::probe_test {

using namespace std::chrono_literals;

// A descriptor closed when it goes (or on Reset).
class Fd {
public:
    explicit Fd(int fd = -1) : Value(fd) {}
    Fd(Fd&& other) noexcept : Value(std::exchange(other.Value, -1)) {}
    Fd& operator=(Fd&& other) noexcept
    {
        std::swap(Value, other.Value);
        return *this;
    }
    ~Fd() { Reset(); }
    int Get() const { return Value; }
    void Reset()
    {
        if (Value >= 0)
            close(Value);
        Value = -1;
    }

private:
    int Value;
};

inline Endpoint FromSockaddr(const sockaddr_storage& ss)
{
    Endpoint ep;
    ep.Family = ss.ss_family;
    if (ss.ss_family == AF_INET) {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
        std::memcpy(ep.Addr.data(), &sin.sin_addr, 4);
        ep.Port = ntohs(sin.sin_port);
    } else {
        const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
        std::memcpy(ep.Addr.data(), &sin6.sin6_addr, 16);
        ep.Port = ntohs(sin6.sin6_port);
    }
    return ep;
}

inline Endpoint LocalOf(const Fd& fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    EXPECT_EQ(getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
    return FromSockaddr(ss);
}

inline Endpoint PeerOf(const Fd& fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    EXPECT_EQ(getpeername(fd.Get(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
    return FromSockaddr(ss);
}

inline std::uint64_t CookieOf(const Fd& fd)
{
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    EXPECT_EQ(getsockopt(fd.Get(), SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
    return cookie;
}

inline std::uint32_t InodeOf(const Fd& fd)
{
    struct stat st{};
    EXPECT_EQ(fstat(fd.Get(), &st), 0);
    return static_cast<std::uint32_t>(st.st_ino);
}

inline sockaddr_storage Loopback(int family, std::uint16_t port, socklen_t& len)
{
    sockaddr_storage ss{};
    if (family == AF_INET) {
        auto& sin = reinterpret_cast<sockaddr_in&>(ss);
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin.sin_port = htons(port);
        len = sizeof sin;
    } else {
        auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_loopback;
        sin6.sin6_port = htons(port);
        len = sizeof sin6;
    }
    return ss;
}

inline Fd ListenOnce(int family, int backlog)
{
    Fd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t len = 0;
    const sockaddr_storage addr = Loopback(family, 0, len);
    if (fd.Get() < 0 || bind(fd.Get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0 ||
        listen(fd.Get(), backlog) != 0)
        return Fd();
    return fd;
}

// A listener on the loopback address, on a port the kernel picks and nobody else uses.
// bind() to port 0 happily hands out a port that earlier connections to some other,
// long-closed listener still mention: their client ends sit in TIME-WAIT for 60 s with
// that port as remote port, and a dump filtered on the port shows them. Those ports are
// passed over (kept bound meanwhile, so the kernel offers another).
inline Fd Listen(int family, int backlog)
{
    std::vector<Fd> passed_over;
    for (int attempt = 0; attempt < 50; ++attempt) {
        Fd fd = ListenOnce(family, backlog);
        if (fd.Get() < 0)
            return fd;
        const std::uint16_t port = LocalOf(fd).Port;
        if (DumpSockets(std::span(&port, 1)).Sockets.size() == 1)
            return fd;
        passed_over.push_back(std::move(fd));
    }
    ADD_FAILURE() << "no port free of old connections in 50 tries";
    return Fd();
}

// A blocking connect: on loopback it returns with the three-way handshake done.
inline Fd Connect(int family, std::uint16_t port)
{
    Fd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t len = 0;
    const sockaddr_storage addr = Loopback(family, port, len);
    EXPECT_EQ(connect(fd.Get(), reinterpret_cast<const sockaddr*>(&addr), len), 0);
    return fd;
}

inline Fd Accept(const Fd& listener)
{
    return Fd(accept4(listener.Get(), nullptr, nullptr, SOCK_CLOEXEC));
}

inline bool HaveIpv6Loopback()
{
    return ListenOnce(AF_INET6, 1).Get() >= 0;
}

inline const KernelSocket* Find(const Snapshot& snap, const Endpoint& local, const Endpoint& remote)
{
    for (const KernelSocket& k : snap.Sockets) {
        if (k.Local == local && k.Remote == remote)
            return &k;
    }
    return nullptr;
}

inline const KernelSocket* FindListener(const Snapshot& snap, const Endpoint& local)
{
    for (const KernelSocket& k : snap.Sockets) {
        if (k.State == TcpState::Listen && k.Local == local)
            return &k;
    }
    return nullptr;
}

// The snapshot as `ss` would print it, for failure messages.
inline std::string Describe(const Snapshot& snap)
{
    std::ostringstream out;
    if (!snap.Error.Empty())
        out << "error: " << snap.Error << '\n';
    for (const KernelSocket& k : snap.Sockets) {
        out << TcpStateName(k.State) << ' ' << k.RecvQ << ' ' << k.SendQ << ' '
            << k.Local.ToString() << ' ' << k.Remote.ToString() << " ino:" << k.Inode
            << " sk:" << std::hex << k.Cookie << std::dec << '\n';
    }
    return out.str();
}

// Dumps until `ready` holds for the snapshot or the deadline passes; returns the last
// snapshot, for the caller to assert on.
template <typename Ready>
Snapshot DumpUntil(std::span<const std::uint16_t> ports, Ready ready,
                   std::chrono::milliseconds timeout = 5s)
{
    Snapshot snap;
    sockscope::test::WaitUntil([&] { return ready(snap = DumpSockets(ports)); }, timeout);
    return snap;
}

} // namespace sockscope::probe_test
