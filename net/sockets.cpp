#include "sockets.hpp"

#include <cstdio>
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

namespace {

// "7f 00 00 01"; a run of four or more equal bytes is written once with a count
// ("00x15 01"), so a 16-byte IPv6 address stays short.
std::string HexBytes(const void* data, std::size_t n)
{
    const auto* p = static_cast<const unsigned char*>(data);
    std::string out;
    char buf[16];
    for (std::size_t i = 0; i < n;) {
        std::size_t run = 1;
        while (i + run < n && p[i + run] == p[i])
            ++run;
        if (run >= 4) {
            std::snprintf(buf, sizeof buf, "%02xx%zu", p[i], run);
        } else {
            run = 1;
            std::snprintf(buf, sizeof buf, "%02x", p[i]);
        }
        out += (out.empty() ? "" : " ") + std::string(buf);
        i += run;
    }
    return out;
}

std::string Layout(const sockaddr* sa, socklen_t len)
{
    char text[INET6_ADDRSTRLEN] = "";
    if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        return "sockaddr_in (" + std::to_string(sizeof(sockaddr_in)) + " bytes): sin_family=AF_INET(" +
               std::to_string(AF_INET) + ") sin_port=htons(" + std::to_string(ntohs(sin->sin_port)) + ")=[" +
               HexBytes(&sin->sin_port, 2) + "] sin_addr=inet_pton(\"" + text + "\")=[" +
               HexBytes(&sin->sin_addr, 4) + "]";
    }
    if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        return "sockaddr_in6 (" + std::to_string(sizeof(sockaddr_in6)) + " bytes): sin6_family=AF_INET6(" +
               std::to_string(AF_INET6) + ") sin6_port=htons(" + std::to_string(ntohs(sin6->sin6_port)) + ")=[" +
               HexBytes(&sin6->sin6_port, 2) + "] sin6_addr=inet_pton(\"" + text + "\")=[" +
               HexBytes(&sin6->sin6_addr, 16) + "]";
    }
    return {};
}

} // namespace

std::string SockaddrLayout(const sockaddr* sa, socklen_t len)
{
    // A lab connects to one address thousands of times: each thread keeps its last answer.
    thread_local sockaddr_storage last{};
    thread_local socklen_t last_len = 0;
    thread_local std::string last_layout;
    if (len > 0 && len == last_len && std::memcmp(sa, &last, static_cast<std::size_t>(len)) == 0)
        return last_layout;
    std::string layout = Layout(sa, len);
    if (len > 0 && static_cast<std::size_t>(len) <= sizeof last) {
        std::memcpy(&last, sa, static_cast<std::size_t>(len));
        last_len = len;
        last_layout = layout;
    }
    return layout;
}

} // namespace sockscope
