// A second process for the flood tests (flood_test.cpp), as a student's own program
// would be: it talks to the lab over loopback and reports on standard output, one line
// per event, and exits when its standard input closes.
//
//   flood_peer connect PORT N   N non-blocking connect()s to 127.0.0.1:PORT (the soft
//                               open-file limit raised to the hard one first); prints
//                               "connecting K" (K: how many connect()s were accepted),
//                               or "error ..." and exits 1
//   flood_peer send PORT BYTES  connects and sends BYTES ("abc...xyz" repeating) without
//                               ever reading; prints "blocked AT" the first time the
//                               kernel will take no more (EAGAIN), then "sent BYTES"
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

sockaddr_in Loopback(int port)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

void Say(const std::string& line)
{
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

// Standard input closed (the test is done with us), or `fd` is ready for `events`.
bool WaitForFdOrEof(int fd, short events)
{
    pollfd pfds[2] = {{0, POLLIN, 0}, {fd, events, 0}};
    int n = fd >= 0 ? 2 : 1;
    for (;;) {
        if (poll(pfds, static_cast<nfds_t>(n), -1) < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (pfds[0].revents) {
            char buf[64];
            if (read(0, buf, sizeof buf) <= 0)
                return false;
        }
        if (n == 2 && pfds[1].revents)
            return true;
    }
}

int Connect(int port, long count)
{
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    sockaddr_in sin = Loopback(port);
    long started = 0;
    for (long i = 0; i < count; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            Say("error socket() after " + std::to_string(started) + ": " + std::strerror(errno));
            return 1;
        }
        if (connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 && errno != EINPROGRESS) {
            Say("error connect() after " + std::to_string(started) + ": " + std::strerror(errno));
            return 1;
        }
        ++started;
    }
    Say("connecting " + std::to_string(started));
    WaitForFdOrEof(-1, 0);
    return 0; // exiting closes every socket
}

int Send(int port, long long total)
{
    sockaddr_in sin = Loopback(port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
        Say(std::string("error connect(): ") + std::strerror(errno));
        return 1;
    }
    static char pattern[65536 + 26];
    for (std::size_t i = 0; i < sizeof pattern; ++i)
        pattern[i] = static_cast<char>('a' + i % 26);
    long long sent = 0;
    bool said_blocked = false;
    while (sent < total) {
        std::size_t want = static_cast<std::size_t>(std::min<long long>(65536, total - sent));
        long n = send(fd, pattern + sent % 26, want, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent += n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            Say("error send() after " + std::to_string(sent) + ": " + std::strerror(errno));
            WaitForFdOrEof(-1, 0);
            return 1;
        }
        if (!said_blocked) {
            Say("blocked " + std::to_string(sent));
            said_blocked = true;
        }
        if (!WaitForFdOrEof(fd, POLLOUT))
            return 2; // told to go before everything went out
    }
    Say("sent " + std::to_string(sent));
    WaitForFdOrEof(-1, 0);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "connect" && argc == 4)
        return Connect(std::atoi(argv[2]), std::atol(argv[3]));
    if (mode == "send" && argc == 4)
        return Send(std::atoi(argv[2]), std::atoll(argv[3]));
    std::fputs("usage: flood_peer connect PORT N | send PORT BYTES\n", stderr);
    return 2;
}
