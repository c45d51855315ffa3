#include "helper_client.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sockscope {

namespace {

std::mutex PathMutex;
std::string ConfiguredPath;

bool Executable(const std::string& path)
{
    return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string OwnDirectory()
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return {};
    std::string path(exe, static_cast<std::size_t>(n));
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

} // namespace

std::unique_ptr<HelperChannel> HelperChannel::Start(const std::string& path, int& err)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        err = errno;
        return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pair[1], 3); // clears close-on-exec
    char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
    char* envp[] = {nullptr}; // the helper reads no environment; give it none
    pid_t child = -1;
    err = posix_spawn(&child, path.c_str(), &actions, nullptr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    close(pair[1]);
    if (err != 0) {
        close(pair[0]);
        return nullptr;
    }
    return std::unique_ptr<HelperChannel>(new HelperChannel(pair[0], child));
}

HelperChannel::~HelperChannel()
{
    if (Sock >= 0)
        close(Sock);
    if (Child > 0) {
        int status = 0;
        pid_t got;
        while ((got = waitpid(Child, &status, 0)) < 0 && errno == EINTR) {
        }
        // The helper must never crash: if it does, say so (it is a bug to report).
        if (got == Child && WIFSIGNALED(status))
            std::fprintf(stderr, "sockscope: sockscope-helper died of signal %d (%s)\n", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
    }
}

bool HelperChannel::Send(std::span<const std::uint8_t> bytes, std::span<const int> fds)
{
    iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control;
    if (!fds.empty()) {
        control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    for (;;) {
        if (sendmsg(Sock, &msg, MSG_NOSIGNAL) >= 0)
            return true;
        if (errno != EINTR)
            return false;
    }
}

std::optional<HelperMessageKind> HelperChannel::Receive(HelperReply& reply, std::vector<HelperSegment>& segments,
                                                        int timeout_ms)
{
    pollfd pfd{Sock, POLLIN, 0};
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready <= 0)
        return std::nullopt;
    std::vector<std::uint8_t> buf(65536);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do
        n = recvmsg(Sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    // The helper sends no descriptors; close any that came anyway.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (std::size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                close(fd);
            }
    if (n <= 0)
        return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    return ParseHelperMessage(buf, reply, segments);
}

bool HelperChannel::Call(const HelperRequest& request, int fd, HelperReply& reply,
                         std::vector<HelperSegment>* segments, int timeout_ms)
{
    HelperRequest numbered = request;
    numbered.Id = NextId++;
    auto bytes = EncodeHelperRequest(numbered);
    int fds[1] = {fd};
    if (!Send(bytes, fd >= 0 ? std::span<const int>(fds) : std::span<const int>()))
        return false;
    std::vector<HelperSegment> dropped;
    for (;;) {
        HelperReply got;
        auto kind = Receive(got, segments ? *segments : dropped, timeout_ms);
        if (!kind)
            return false;
        dropped.clear();
        if (*kind == HelperMessageKind::Reply && got.Id == numbered.Id) {
            reply = got;
            return true;
        }
    }
}

void SetHelperPath(std::string path)
{
    std::lock_guard lock(PathMutex);
    ConfiguredPath = std::move(path);
}

std::string HelperPath()
{
    {
        std::lock_guard lock(PathMutex);
        if (!ConfiguredPath.empty())
            return Executable(ConfiguredPath) ? ConfiguredPath : std::string{};
    }
    std::string dir = OwnDirectory();
    if (dir.empty())
        return {};
    for (const char* relative : {"/sockscope-helper", "/../libexec/sockscope/sockscope-helper"})
        if (Executable(dir + relative))
            return dir + relative;
    return {};
}

namespace {

std::mutex ChannelMutex;
std::unique_ptr<HelperChannel> Channel; // the process-wide helper for gates

// One request through the process-wide helper, restarting it once if it died.
// Returns 0 or an errno value; `fallback` when there is no helper to ask.
int Ask(const HelperRequest& request, int fd, int fallback, HelperRefusal* refusal)
{
    std::lock_guard lock(ChannelMutex);
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!Channel) {
            std::string path = HelperPath();
            if (path.empty())
                return fallback;
            int err = 0;
            Channel = HelperChannel::Start(path, err);
            if (!Channel)
                return fallback;
        }
        HelperReply reply;
        if (Channel->Call(request, fd, reply)) {
            if (refusal)
                *refusal = reply.Refusal;
            return HelperRefusalErrno(reply.Refusal, reply.Errno);
        }
        Channel.reset(); // gone or mute: start another once
    }
    return fallback;
}

} // namespace

int HelperAttachGate(int fd, GateKind kind, std::uint16_t peer_port, int fallback, HelperRefusal* refusal)
{
    HelperRequest request;
    request.Op = HelperOp::Attach;
    request.Gate = kind;
    request.PeerPort = peer_port;
    return Ask(request, fd, fallback, refusal);
}

int HelperDetachGate(int fd, int fallback, HelperRefusal* refusal)
{
    HelperRequest request;
    request.Op = HelperOp::Detach;
    return Ask(request, fd, fallback, refusal);
}

int HelperGateSupport()
{
    HelperRequest request;
    request.Op = HelperOp::Hello;
    return Ask(request, -1, ENOENT, nullptr);
}

} // namespace sockscope
