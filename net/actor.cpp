#include "actor.hpp"

#include "clock.hpp"
#include "gate.hpp"
#include "lab.hpp"
#include "server_loop.hpp"
#include "sockets.hpp"
#include "tracer.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <optional>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <netdb.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sockscope {

namespace {

// A sockaddr built from the text a lesson gives, as inet_pton would read it.
struct SockAddr {
    sockaddr_storage Storage{};
    socklen_t Len = 0;
    bool Ok = false;
    const sockaddr* Get() const { return reinterpret_cast<const sockaddr*>(&Storage); }
};

SockAddr MakeSockAddr(const std::string& addr, int port)
{
    SockAddr out;
    auto port_net = htons(static_cast<std::uint16_t>(port));
    if (addr.find(':') != std::string::npos) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.Storage);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = port_net;
        out.Ok = inet_pton(AF_INET6, addr.c_str(), &sin6->sin6_addr) == 1;
        out.Len = sizeof(sockaddr_in6);
    } else {
        auto* sin = reinterpret_cast<sockaddr_in*>(&out.Storage);
        sin->sin_family = AF_INET;
        sin->sin_port = port_net;
        out.Ok = inet_pton(AF_INET, addr.c_str(), &sin->sin_addr) == 1;
        out.Len = sizeof(sockaddr_in);
    }
    return out;
}

// The address goes into the call's arguments; false when the text was no address.
bool PassAddress(CallEvent& call, const SockAddr& sa)
{
    if (!sa.Ok)
        return false;
    if (auto e = EndpointOf(sa.Storage))
        call.Args.Addr = *e;
    call.Args.AddrLen = static_cast<std::int32_t>(sa.Len);
    return true;
}

// O_NONBLOCK on `fd` for as long as the scope lasts, so that a call that would block
// returns EAGAIN and the actor can report it as blocked and wait in poll() (where a reset
// can wake it). The actor's descriptors carry no other status flag (socket() and accept4()
// make them with none, and nothing else sets one), so clearing it needs no F_GETFL first.
class NonBlockScope {
public:
    explicit NonBlockScope(int fd) : Fd(fcntl(fd, F_SETFL, O_NONBLOCK) == 0 ? fd : -1) {}
    ~NonBlockScope()
    {
        int saved = errno;
        if (Fd >= 0)
            fcntl(Fd, F_SETFL, 0);
        errno = saved;
    }
    NonBlockScope(const NonBlockScope&) = delete;
    NonBlockScope& operator=(const NonBlockScope&) = delete;

private:
    int Fd;
};

} // namespace

void UniqueFd::Reset()
{
    if (Fd >= 0)
        ::close(Fd);
    Fd = -1;
}

Actor::Actor(std::string name, std::string kind, Lab& lab)
    : ActorName(std::move(name)), Kind(std::move(kind)), LabRef(lab),
      WakeFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    Thread = std::thread([this] { Run(); });
}

Actor::~Actor()
{
    {
        std::lock_guard lock(Mutex);
        Stopping = true;
        Queue.clear();
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(WakeFd.Get(), &one, sizeof one);
    if (Thread.joinable())
        Thread.join();
    Server.reset(); // stops its lanes: threads joined, children killed and reaped
    Program.reset(); // kills every process of the traced program and waits for them
    // An abortive close: a reset leaves no TIME-WAIT or orphan behind on the lab's ports.
    for (auto& [handle, fd] : Fds) {
        linger lg{1, 0};
        setsockopt(fd.Get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    Fds.clear();
}

void Actor::Post(std::uint64_t id, CallRequest request)
{
    bool was_empty;
    {
        std::lock_guard lock(Mutex);
        was_empty = Queue.empty();
        Queue.emplace_back(id, std::move(request));
    }
    // The thread takes the whole queue after every batch of calls: only an empty queue
    // needs a wake-up.
    if (was_empty) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = write(WakeFd.Get(), &one, sizeof one);
    }
}

bool Actor::StopRequested()
{
    std::lock_guard lock(Mutex);
    return Stopping;
}

void Actor::Run()
{
    std::vector<std::pair<std::uint64_t, CallRequest>> batch;
    for (;;) {
        {
            std::lock_guard lock(Mutex);
            if (Stopping)
                break;
            batch.swap(Queue); // every call queued so far, for one lock
        }
        for (auto& [id, request] : batch) {
            if (Stopping.load(std::memory_order_relaxed))
                break;
            Execute(id, request);
            // Its events went out Soon: a long run of calls wakes the reader once per
            // Lab::NotifyDelay, not once per call.
            LabRef.NotifyIfDue();
        }
        if (!batch.empty()) {
            batch.clear();
            continue;
        }
        LabRef.NotifyNow(); // nothing more to do: the reader sees the last calls now
        pollfd pfd{WakeFd.Get(), POLLIN, 0};
        if (poll(&pfd, 1, WakePollTimeout()) > 0) {
            std::uint64_t count;
            [[maybe_unused]] auto n = read(WakeFd.Get(), &count, sizeof count);
        }
    }
    LabRef.NotifyNow();
}

int Actor::WakePollTimeout() const
{
    // Without its eventfd (the actor was made while the process had no descriptor free:
    // EMFILE) nothing can wake a poll(): look at the queue and for a reset every 10 ms.
    return WakeFd.Get() >= 0 ? -1 : 10;
}

Actor::Wait Actor::WaitFor(int fd, short events, CallEvent& call)
{
    call.Phase = CallPhase::Blocked;
    // Soon: a wait that ends within Lab::NotifyDelay (an accept in a busy lab) wakes no
    // reader; a longer one is shown when the poll() below times out at that delay.
    LabRef.Report(call, Lab::Notify::Soon);
    for (;;) {
        pollfd pfds[2] = {{fd, events, 0}, {WakeFd.Get(), POLLIN, 0}};
        int wake = WakePollTimeout(), due = LabRef.NotifyTimeoutMs();
        int n = poll(pfds, 2, wake < 0 ? due : due < 0 ? wake : std::min(wake, due));
        if (n == 0)
            LabRef.NotifyIfDue();
        if (n < 0 && errno != EINTR)
            return Wait::Ready; // let the call itself report the error
        if ((pfds[1].revents & POLLIN) || WakeFd.Get() < 0) {
            std::uint64_t count;
            [[maybe_unused]] auto r = read(WakeFd.Get(), &count, sizeof count);
            if (StopRequested())
                return Wait::Stopped;
        }
        if (n > 0 && pfds[0].revents)
            return Wait::Ready;
    }
}

bool Actor::BlockUntilReady(int fd, short events, CallEvent& call)
{
    if (WaitFor(fd, events, call) == Wait::Ready)
        return true;
    call.Note = Say(PhraseId::WokenByReset);
    Finish(call, -1, EINTR);
    return false;
}

int Actor::FdOf(const std::string& handle) const
{
    auto it = Fds.find(handle.empty() ? std::string("main") : handle);
    return it == Fds.end() ? -1 : it->second.Get();
}

std::string Actor::NewHandle(const std::string& wanted, const char* prefix)
{
    if (!wanted.empty() && !Fds.count(wanted))
        return wanted;
    std::string base = wanted.empty() ? prefix : wanted;
    if (!Fds.count(base))
        return base;
    // Numbered names go on from the last one given, so thousands of accepts stay cheap.
    int& next = NextSuffix[base];
    for (next = std::max(next, 2);; ++next) {
        std::string candidate = base + std::to_string(next);
        if (!Fds.count(candidate))
            return candidate;
    }
}

void Actor::Announce(CallEvent& call)
{
    Begin(call);
    LabRef.Report(call);
}

void Actor::Finish(CallEvent& call, long result, int err)
{
    call.Result = result;
    call.Errno = result < 0 ? err : 0;
    if (call.Note.Empty() && (call.Errno == EMFILE || call.Errno == ENFILE))
        call.Note = Say(call.Errno == EMFILE ? PhraseId::NoDescriptorFree : PhraseId::NoFileFree);
    call.Phase = CallPhase::Finished;
    call.TEnd = MonotonicSeconds();
    LabRef.Report(std::move(call), Lab::Notify::Soon); // Run() notifies within the delay
}

void Actor::Execute(std::uint64_t id, const CallRequest& request)
{
    CallEvent call;
    call.Id = id;
    call.Actor = ActorName;
    call.ActorKind = Kind;
    call.Call = request.Call;
    call.Handle = request.Fd.empty() ? "main" : request.Fd;
    call.TStart = MonotonicSeconds();
    static thread_local const int tid = gettid();
    static thread_local const int pid = getpid(); // an actor's thread never forks
    call.Pid = pid;
    call.Tid = tid;
    const CallRow& row = RowOf(request.Call);
    if (!row.Has(TakesFd)) {
        switch (request.Call) {
        case CallId::Socket: DoSocket(call, request); return;
        case CallId::Getaddrinfo: DoGetaddrinfo(call, request); return;
        case CallId::Waitpid: DoWaitpid(call); return;
        case CallId::Run: DoRun(call, request); return;
        default:
            call.Note = Say(PhraseId::UnknownCall, std::string(row.Name));
            Finish(call, -1, ENOSYS);
            return;
        }
    }
    // Every other call names a descriptor. A handle the actor does not hold is passed as
    // -1, so the kernel itself answers EBADF: calls in the wrong order show real errors.
    int fd = FdOf(request.Fd);
    call.Fd = fd;
    if (fd < 0)
        call.Note = Say(PhraseId::NoDescriptorNamed, call.Handle);
    call.Phase = CallPhase::Started;

    switch (request.Call) {
    case CallId::Setsockopt: DoSetsockopt(call, request, fd); return;
    case CallId::Getsockopt: DoGetsockopt(call, request, fd); return;
    case CallId::Bind: DoBind(call, request, fd); return;
    case CallId::Listen: {
        call.Args.Value = request.Backlog;
        Begin(call);
        long rc = listen(fd, request.Backlog);
        int err = errno;
        if (rc == 0)
            call.Local = LocalOf(fd);
        Finish(call, rc, err);
        return;
    }
    case CallId::Connect: DoConnect(call, request, fd); return;
    case CallId::Accept: DoAccept(call, request, fd); return;
    case CallId::Recv:
    case CallId::Read:
    case CallId::Recvfrom: DoRecv(call, request, fd); return;
    case CallId::Send:
    case CallId::Write:
    case CallId::Sendto: DoSend(call, request, fd); return;
    case CallId::Shutdown: {
        int how = request.How == "SHUT_RD" ? SHUT_RD : request.How == "SHUT_RDWR" ? SHUT_RDWR : SHUT_WR;
        call.Args.Value = how;
        Begin(call);
        long rc = shutdown(fd, how);
        Finish(call, rc, errno);
        return;
    }
    case CallId::Close: {
        Announce(call);
        long rc = -1;
        int err = EBADF;
        auto it = Fds.find(call.Handle);
        if (it != Fds.end()) {
            Gated.erase(it->second.Get());
            rc = ::close(it->second.Release());
            err = errno;
            Fds.erase(it);
            call.Closed = true;
        }
        Finish(call, rc, err);
        return;
    }
    case CallId::Gate:
    case CallId::Ungate: DoGate(call, request, fd); return;
    case CallId::Await: DoAwait(call, request, fd); return;
    case CallId::Serve: DoServe(call, request); return;
    case CallId::Getsockname:
    case CallId::Getpeername: {
        Begin(call);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        auto* sa = reinterpret_cast<sockaddr*>(&ss);
        bool local = request.Call == CallId::Getsockname;
        long rc = local ? getsockname(fd, sa, &len) : getpeername(fd, sa, &len);
        int err = errno;
        if (rc == 0)
            (local ? call.Local : call.Remote) = EndpointOf(ss);
        Finish(call, rc, err);
        return;
    }
    default:
        call.Note = Say(PhraseId::UnknownCall, std::string(row.Name));
        Finish(call, -1, ENOSYS);
        return;
    }
}

void Actor::DoSocket(CallEvent& call, const CallRequest& request)
{
    bool v6 = request.Family == "inet6";
    call.Args.Family = v6 ? AF_INET6 : AF_INET;
    call.Args.Type = request.Type == "SOCK_DGRAM" ? SOCK_DGRAM : SOCK_STREAM;
    call.Phase = CallPhase::Started;
    Begin(call);
    int fd = socket(call.Args.Family, call.Args.Type | SOCK_CLOEXEC, 0);
    int err = errno;
    if (fd >= 0) {
        std::string handle = NewHandle(request.As, "main");
        call.Handle = handle;
        call.Fd = fd;
        call.NewFd = DescribeFd(handle, fd);
        Fds.emplace(handle, UniqueFd(fd));
    }
    Finish(call, fd, err);
}

void Actor::DoSetsockopt(CallEvent& call, const CallRequest& request, int fd)
{
    const SockOptRow* opt = SockOptByName(request.Option);
    if (!opt || !opt->Settable) {
        Begin(call);
        call.Note = Say(PhraseId::UnknownOption, request.Option);
        Finish(call, -1, ENOPROTOOPT);
        return;
    }
    call.Args.Level = opt->Level;
    call.Args.Option = opt->Option;
    Begin(call);
    long rc;
    if (opt->Value != OptValue::Int) {
        linger lg{1, opt->Value == OptValue::LingerZero ? 0 : request.Value};
        call.Args.Value = lg.l_linger;
        call.Args.Len = sizeof lg;
        rc = setsockopt(fd, opt->Level, opt->Option, &lg, sizeof lg);
    } else {
        int value = request.Value;
        call.Args.Value = value;
        call.Args.Len = sizeof value;
        rc = setsockopt(fd, opt->Level, opt->Option, &value, sizeof value);
    }
    Finish(call, rc, errno);
}

void Actor::DoGetsockopt(CallEvent& call, const CallRequest& request, int fd)
{
    const SockOptRow* opt = SockOptByName(request.Option);
    Begin(call);
    if (!opt || !opt->Gettable) {
        call.Note = Say(PhraseId::UnknownOption, request.Option);
        Finish(call, -1, ENOPROTOOPT);
        return;
    }
    call.Args.Level = opt->Level;
    call.Args.Option = opt->Option;
    int value = 0;
    socklen_t len = sizeof value;
    long rc = getsockopt(fd, opt->Level, opt->Option, &value, &len);
    int err = errno;
    call.Args.Value = value;
    call.Args.Len = len;
    if (rc == 0 && opt->Level == SOL_SOCKET && opt->Option == SO_ERROR && value != 0)
        call.Note = Say(PhraseId::PendingError, ErrnoName(value));
    Finish(call, rc, err);
}

void Actor::FinishBadAddress(CallEvent& call, const std::string& addr)
{
    call.Note = Say(PhraseId::BadAddress, addr);
    Finish(call, -1, EINVAL);
}

void Actor::DoBind(CallEvent& call, const CallRequest& request, int fd)
{
    SockAddr sa = MakeSockAddr(request.Addr, request.Port);
    Begin(call);
    if (!PassAddress(call, sa))
        return FinishBadAddress(call, request.Addr);
    long rc = bind(fd, sa.Get(), sa.Len);
    int err = errno;
    if (rc == 0) {
        call.Local = LocalOf(fd);
        if (call.Local)
            LabRef.WatchPort(call.Local->Port);
    } else if (request.Port > 0) {
        LabRef.WatchPort(static_cast<std::uint16_t>(request.Port)); // show who holds it
    }
    Finish(call, rc, err);
}

void Actor::DoConnect(CallEvent& call, const CallRequest& request, int fd)
{
    SockAddr sa = MakeSockAddr(request.Addr, request.Port);
    Begin(call);
    if (!PassAddress(call, sa))
        return FinishBadAddress(call, request.Addr);
    // Watch the port before the SYN leaves, so the probe can see SYN-SENT.
    LabRef.WatchPort(static_cast<std::uint16_t>(request.Port));
    NonBlockScope nonblock(fd);
    long rc = ::connect(fd, sa.Get(), sa.Len);
    int err = errno;
    // What a blocking connect() does: wait for the handshake, then return its outcome.
    // The wait is poll() so a reset can wake it; the outcome comes from calling connect()
    // again, which is what leaves the socket exactly as a blocking connect() would
    // (SS_CONNECTED: a third connect() then fails with EISCONN, as it must).
    // On loopback the handshake is usually over before the first connect() returns (the
    // SYN-ACK and the ACK are processed inside that system call), and a blocking connect()
    // would then return without sleeping: so ask again before reporting the call blocked.
    if (rc < 0 && err == EINPROGRESS && !request.NonBlock) {
        rc = ::connect(fd, sa.Get(), sa.Len);
        err = errno;
    }
    while (rc < 0 && (err == EINPROGRESS || err == EALREADY) && !request.NonBlock) {
        if (!BlockUntilReady(fd, POLLOUT, call))
            return;
        rc = ::connect(fd, sa.Get(), sa.Len);
        err = errno;
    }
    call.Local = LocalOf(fd);
    if (rc == 0)
        call.Remote = RemoteOf(fd);
    Finish(call, rc, err);
}

void Actor::DoAccept(CallEvent& call, const CallRequest& request, int fd)
{
    Begin(call);
    NonBlockScope nonblock(fd);
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        int conn = accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
        int err = errno;
        if (conn >= 0) {
            std::string handle = NewHandle(request.As, "conn");
            // A child copies its listener's filter when its handshake completes (not at
            // accept()), so a connection made under a gate keeps it even after the
            // listener was ungated; left there it would drop the connection's ACKs.
            // Gates hold one listener's handshake only: detach from every socket accepted
            // on a listener that was ever gated (ENOENT: this one came through without).
            if (Gated.count(fd) && DetachGate(conn) == 0)
                call.Note = Say(PhraseId::GateRemovedFromAccepted);
            call.NewFd = DescribeFd(handle, conn);
            call.Remote = EndpointOf(ss);
            call.Local = LocalOf(conn);
            Fds.emplace(handle, UniqueFd(conn));
            Finish(call, conn, 0);
            return;
        }
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
            if (err == EMFILE || err == ENFILE)
                call.Note = Say(err == EMFILE ? PhraseId::AcceptNoDescriptorFree : PhraseId::AcceptNoFileFree);
            Finish(call, -1, err);
            return;
        }
        if (!BlockUntilReady(fd, POLLIN, call))
            return;
    }
}

void Actor::DoRecv(CallEvent& call, const CallRequest& request, int fd)
{
    int len = std::max(0, request.Len);
    call.Args.Len = len;
    Begin(call);
    std::string buffer(static_cast<std::size_t>(len), '\0');
    for (;;) {
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        long n = recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                          &from_len);
        int err = errno;
        if (n >= 0) {
            // recvfrom on a datagram socket learns the sender (a stream socket leaves it empty).
            if (request.Call == CallId::Recvfrom && from_len > 0) {
                if (auto e = EndpointOf(from)) {
                    call.Args.Addr = *e;
                    call.Args.AddrLen = static_cast<std::int32_t>(from_len);
                }
            }
            call.Data.assign(buffer.data(), std::min(static_cast<std::size_t>(n), MaxCallData));
            if (n == 0 && len > 0)
                call.Note = Say(PhraseId::EndOfStream);
            Finish(call, n, 0);
            return;
        }
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
            Finish(call, -1, err);
            return;
        }
        if (!BlockUntilReady(fd, POLLIN, call))
            return;
    }
}

void Actor::DoSend(CallEvent& call, const CallRequest& request, int fd)
{
    // Generated bytes ("abc...xyz" repeating) are read from one 64 KiB buffer at the
    // offset where the pattern goes on: a send of any length costs no memory.
    static const std::string pattern = [] {
        std::string p(65536 + 26, '\0');
        for (std::size_t i = 0; i < p.size(); ++i)
            p[i] = static_cast<char>('a' + i % 26);
        return p;
    }();
    const std::size_t total =
        request.Generate ? static_cast<std::size_t>(std::max(0, request.Len)) : request.Data.size();
    auto from = [&](std::size_t at) {
        if (!request.Generate)
            return std::string_view(request.Data).substr(at);
        return std::string_view(pattern).substr(at % 26, std::min<std::size_t>(65536, total - at));
    };
    call.Args.Len = static_cast<std::int64_t>(total);
    // The bytes passed, as strace shows the buffer at entry (Result says how many went out).
    call.Data = std::string(from(0).substr(0, std::min(total, MaxCallData)));
    SockAddr to;
    if (request.Call == CallId::Sendto) {
        to = MakeSockAddr(request.Addr, request.Port);
        if (!PassAddress(call, to))
            return FinishBadAddress(call, request.Addr);
        if (request.Port > 0)
            LabRef.WatchPort(static_cast<std::uint16_t>(request.Port));
    }
    Begin(call);
    std::size_t sent = 0;
    bool announced = false;
    // A blocking write: keep going until every byte is in the send buffer. MSG_NOSIGNAL:
    // writing to a reset connection returns EPIPE instead of killing sockscope.
    while (sent < total || total == 0) {
        std::string_view next = from(sent);
        long n = request.Call == CallId::Sendto
                      ? sendto(fd, next.data(), next.size(), MSG_DONTWAIT | MSG_NOSIGNAL, to.Get(), to.Len)
                      : send(fd, next.data(), next.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        int err = errno;
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            if (total == 0)
                break;
            // A long send to a fast reader may never wait: show it running meanwhile.
            if (!announced && MonotonicSeconds() - call.TStart > 0.002) {
                LabRef.Report(call);
                announced = true;
            }
            continue;
        }
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
            if (sent > 0) { // a partial write reports what went out, as write(2) does
                call.Note = Say(PhraseId::PartialSend, sent, total, ErrnoName(err));
                break;
            }
            Finish(call, -1, err);
            return;
        }
        if (WaitFor(fd, POLLOUT, call) == Wait::Stopped) {
            call.Note = Say(PhraseId::WokenByReset);
            if (sent > 0)
                call.Data.resize(std::min(sent, call.Data.size()));
            Finish(call, sent > 0 ? static_cast<long>(sent) : -1, EINTR);
            return;
        }
    }
    // A datagram socket's first sendto() binds it to an ephemeral port: watch that port
    // too, so the probe lists the socket.
    if (request.Call == CallId::Sendto && sent > 0) {
        call.Local = LocalOf(fd);
        if (call.Local && call.Local->Port != 0)
            LabRef.WatchPort(call.Local->Port);
    }
    // Data keeps what went out (the World counts the bytes waiting in the kernel from it);
    // a call that sent nothing keeps the bytes it was passed, to show them.
    if (sent > 0)
        call.Data.resize(std::min(sent, call.Data.size()));
    Finish(call, static_cast<long>(sent), 0);
}

void Actor::DoGetaddrinfo(CallEvent& call, const CallRequest& request)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = request.Family == "inet" ? AF_INET : request.Family == "inet6" ? AF_INET6 : AF_UNSPEC;
    for (const auto& [name, bit] : {std::pair{"AI_PASSIVE", AI_PASSIVE}, {"AI_NUMERICHOST", AI_NUMERICHOST},
                                    {"AI_NUMERICSERV", AI_NUMERICSERV}, {"AI_ADDRCONFIG", AI_ADDRCONFIG},
                                    {"AI_V4MAPPED", AI_V4MAPPED}}) {
        if (request.Option.find(name) != std::string::npos)
            hints.ai_flags |= bit;
    }
    std::string service = std::to_string(request.Port);
    const char* host = request.Addr.empty() ? nullptr : request.Addr.c_str();
    call.Handle.clear();
    call.Args.Text = request.Addr;
    call.Args.Addr.Port = static_cast<std::uint16_t>(request.Port);
    call.Args.Family = hints.ai_family;
    call.Args.Flags = hints.ai_flags;
    Announce(call);
    addrinfo* list = nullptr;
    int rc = getaddrinfo(host, service.c_str(), &hints, &list);
    if (rc != 0) {
        call.Note = Say(PhraseId::GetaddrinfoFailed, gai_strerror(rc));
        Finish(call, -1, rc == EAI_SYSTEM ? errno : EINVAL);
        return;
    }
    long n = 0;
    std::string found;
    for (addrinfo* ai = list; ai; ai = ai->ai_next) {
        sockaddr_storage ss{};
        std::memcpy(&ss, ai->ai_addr, std::min<std::size_t>(ai->ai_addrlen, sizeof ss));
        auto e = EndpointOf(ss);
        found += (found.empty() ? "" : "; ") + std::to_string(++n) + ": " +
                 (ai->ai_family == AF_INET6 ? "AF_INET6 " : "AF_INET ") + (e ? e->ToString() : "?");
    }
    freeaddrinfo(list);
    if (!found.empty())
        call.Note = Say(PhraseId::Verbatim, found);
    Finish(call, n, 0);
}

} // namespace sockscope
