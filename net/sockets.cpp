#include "sockets.hpp"

#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

namespace sockscope {

std::optional<Endpoint> EndpointOf(const sockaddr_storage& ss)
{
    Endpoint e;
    if (ss.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        e.Family = AF_INET;
        std::memcpy(e.Addr.data(), &sin->sin_addr, 4);
        e.Port = ntohs(sin->sin_port);
        return e;
    }
    if (ss.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        e.Family = AF_INET6;
        std::memcpy(e.Addr.data(), &sin6->sin6_addr, 16);
        e.Port = ntohs(sin6->sin6_port);
        return e;
    }
    return std::nullopt;
}

std::optional<Endpoint> LocalOf(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return std::nullopt;
    return EndpointOf(ss);
}

std::optional<Endpoint> RemoteOf(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return std::nullopt;
    return EndpointOf(ss);
}

FdInfo DescribeFd(const std::string& handle, int fd)
{
    FdInfo info;
    info.Handle = handle;
    info.Fd = fd;
    struct stat st{};
    if (fstat(fd, &st) == 0)
        info.Inode = static_cast<std::uint32_t>(st.st_ino);
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) == 0)
        info.Cookie = cookie;
    return info;
}

} // namespace sockscope
