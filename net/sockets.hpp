// Small helpers on socket descriptors, shared by the actors and the server loops.
#pragma once

#include "events.hpp"

#include <optional>
#include <string>

#include <sys/socket.h>

namespace sockscope {

std::optional<Endpoint> EndpointOf(const sockaddr_storage& ss);
std::optional<Endpoint> LocalOf(int fd);  // getsockname
std::optional<Endpoint> RemoteOf(int fd); // getpeername
// The descriptor as the probe will know it: inode (fstat) and cookie (SO_COOKIE).
FdInfo DescribeFd(const std::string& handle, int fd);
// A sockaddr_in or sockaddr_in6 as it lies in memory, field by field: the family, the
// port before and after htons() with its two bytes, the address bytes from inet_pton().
std::string SockaddrLayout(const sockaddr* sa, socklen_t len);

} // namespace sockscope
