// What the lab says to a person, as a stable key and its arguments rather than finished
// English: the GUI translates the key when it draws (ui/i18n), while traces, headless
// output and logs use English() and stay exactly as they were.
//
// Every key net/ may say is listed once in SOCKSCOPE_PHRASES below, so a test can check
// that each one has a translation. A key is the English sentence with %s where each
// argument goes; arguments are data shown as they are (numbers, descriptor and actor
// names, TCP state names, errno names, addresses, the C library's own error texts).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sockscope {

// X(Id, "English key"). Keep each key's %s in the order its arguments are given.
#define SOCKSCOPE_PHRASES(X)                                                                                       \
    /* data with no words of its own (getaddrinfo's address list, a lesson's own claim) */                       \
    X(Verbatim, "%s")                                                                                              \
    /* call notes: actors */                                                                                       \
    X(WokenByReset, "woken by reset")                                                                              \
    X(NoDescriptorFree,                                                                                            \
      "sockscope has no descriptor free (RLIMIT_NOFILE, ulimit -n): close some or raise the limit")               \
    X(NoFileFree, "the system has no file free (fs.file-max)")                                                     \
    X(NoDescriptorNamed, "no descriptor named '%s'")                                                               \
    X(UnknownCall, "sockscope does not know the call '%s'")                                                        \
    X(UnknownOption, "sockscope does not know the option '%s'")                                                    \
    X(PendingError, "the socket had the error %s pending: reading SO_ERROR clears it")                            \
    X(UnknownGate, "unknown gate '%s'")                                                                            \
    X(GateNeedsCapNetAdmin, "since Linux 6.x a filter on a TCP socket needs CAP_NET_ADMIN: run sockscope as "      \
                            "root, or with --private-network")                                                     \
    X(UnknownState, "unknown state '%s'")                                                                          \
    X(AwaitWentElsewhere, "went from %s to %s, not %s")                                                            \
    X(AwaitTimedOut, "still %s after 10 s")                                                                        \
    X(BadAddress, "inet_pton cannot read the address '%s'")                                                        \
    X(GateRemovedFromAccepted, "the listener's gate was removed from the accepted socket")                        \
    X(AcceptNoDescriptorFree, "this process has no descriptor free (RLIMIT_NOFILE): the connection stays in the "  \
                              "accept queue until a descriptor is closed")                                         \
    X(AcceptNoFileFree, "the system has no file free (fs.file-max): the connection stays in the accept queue "     \
                        "until a descriptor is closed")                                                            \
    X(EndOfStream, "end of stream: the peer sent FIN")                                                             \
    X(PartialSend, "only %s of %s bytes went out, then %s")                                                        \
    X(AlreadyServing, "this actor already runs a server loop")                                                     \
    X(UnknownServerModel, "unknown server model '%s' (iterative, thread, fork, epoll)")                            \
    X(ServeNeedsListener, "a server loop needs a listening socket: call listen() first")                           \
    X(ServerOnItsLanes, "the %s server runs on its own lanes from now on")                                         \
    X(NoForkServer, "this actor runs no fork server: waitid() only looked, it reaps nothing")                      \
    X(ZombiesReaped, "%s zombie(s) reaped")                                                                        \
    X(GetaddrinfoFailed, "getaddrinfo: %s")                                                                        \
    X(RunNoProgram, "this actor names no program to run (a lesson's actor gives one with \"run\")")              \
    X(RunStillRunning, "this actor's program is still running")                                                    \
    X(RunFailed, "cannot run it: %s")                                                                              \
    X(RunStarted, "%s runs traced as pid %s: its calls are on its own lanes")                                     \
    /* call notes: a server model's lanes */                                                                       \
    X(ClientSaidBye, "\"bye\": the client is done, the server closes")                                             \
    X(ChildEnds, "the child ends: a zombie until its parent calls waitpid()")                                      \
    X(ForkInChild, "fork() returned 0: this is the child, with copies of the parent's descriptors")               \
    X(OutOfDescriptors, "out of descriptors: the connection stays in the accept queue")                           \
    X(ThreadStarts, "a thread of the same process: it shares every descriptor and serves fd %s")                   \
    X(ThreadEnds, "the thread ends")                                                                               \
    X(NewThreadServes, "a new thread serves %s")                                                                   \
    X(NoReportPipe, "sockscope could not make the child's report pipe")                                            \
    X(NoWorkerBinary, "sockscope cannot find its own binary to run the child (set SOCKSCOPE_WORKER)")              \
    X(ForkInParent, "fork() returned the child's pid here, and 0 in the child")                                    \
    X(ChildIsZombie, "exited; the kernel keeps its entry (exit status) until the parent calls waitpid()")          \
    X(ZombieReaped, "the zombie is reaped")                                                                        \
    X(ZombieReapedExited, "the zombie is reaped: child %s exited with status %s, reaped")                          \
    X(ZombieReapedKilled, "the zombie is reaped: child %s killed by signal %s, reaped")                            \
    X(ZombieReapedStatus, "the zombie is reaped: child %s status %s, reaped")                                      \
    X(ReapedInHandler, "in the SIGCHLD handler")                                                                   \
    X(ReapedInHandlerExited, "in the SIGCHLD handler: child %s exited with status %s, reaped")                     \
    X(ReapedInHandlerKilled, "in the SIGCHLD handler: child %s killed by signal %s, reaped")                       \
    X(ReapedInHandlerStatus, "in the SIGCHLD handler: child %s status %s, reaped")                                 \
    X(NoChildExited, "no child of this server has exited")                                                         \
    X(InterruptedBySigchld, "interrupted by SIGCHLD (child %s exited)")                                            \
    /* a lane's life (ActorView::Status) */                                                                        \
    X(LaneRunning, "running")                                                                                      \
    X(LaneZombie, "zombie")                                                                                        \
    X(LaneExiting, "exiting")                                                                                      \
    X(LaneExited, "exited")                                                                                        \
    X(LaneReaped, "reaped")                                                                                        \
    /* a traced program's lanes (net/tracer.hpp) */                                                                \
    X(TracedExited, "exited with status %s")                                                                       \
    X(TracedKilled, "killed by %s")                                                                                \
    X(TracedNeverReturned, "never returned: the lane ended inside it")                                             \
    /* a lesson step's verdict on a call */                                                                        \
    X(ClaimBlocks, "%s: %s() blocks")                                                                              \
    X(ClaimReturnsDescriptor, "%s: %s() returns a descriptor")                                                     \
    X(ClaimReturnsValue, "%s: %s() returns %s")                                                                    \
    X(ClaimSucceeds, "%s: %s() succeeds")                                                                          \
    X(ClaimFailsWith, "%s: %s() fails with %s")                                                                    \
    X(ClaimReturns, "%s: %s() returns")                                                                            \
    X(SeenStillBlocked, "still blocked after %s s")                                                                \
    X(SeenNoReturn, "did not return in time")                                                                      \
    X(SeenBlocked, "blocked")                                                                                      \
    X(SeenMatching, "%s matching, not %s")                                                                         \
    X(SeenMatchingInstead, "%s matching, not %s [%s]")                                                             \
    /* packet capture */                                                                                           \
    X(NoCaptureSocket, "no packet capture (%s): it needs CAP_NET_RAW (run as root or with --private-network); "    \
                       "segments are inferred")                                                                    \
    X(NoCaptureOnLo, "no packet capture on lo: %s")                                                                \
    X(CaptureOff, "packet capture is off")                                                                         \
    /* the probe (the kernel's own reasons, DescribeErrno, are arguments) */                                       \
    X(ProbeNoSocket, "cannot open a NETLINK_SOCK_DIAG socket: %s")                                                 \
    X(ProbeNoSockDiag, "cannot open a NETLINK_SOCK_DIAG socket: %s; this kernel has no sock_diag support")        \
    X(ProbeInterrupted, "the dump was interrupted %s times in a row")                                              \
    X(ProbeCannotSend, "cannot send the sock_diag request: %s")                                                    \
    X(ProbeNoReply, "no reply to the sock_diag request within 1 s")                                                \
    X(ProbeCannotRead, "cannot read the sock_diag reply: %s")                                                      \
    X(ProbeReplyTooLarge, "a sock_diag reply did not fit the receive buffer")

enum class PhraseId {
#define SOCKSCOPE_PHRASE_ENUM(id, key) id,
    SOCKSCOPE_PHRASES(SOCKSCOPE_PHRASE_ENUM)
#undef SOCKSCOPE_PHRASE_ENUM
};

// The English key of a phrase.
const char* PhraseKey(PhraseId id);
// Every key net/ may say, in catalog order (for tests and translators).
std::vector<std::string_view> PhraseKeys();

// `key` with each %s replaced by the next argument, in order; "%%" is a percent sign. A
// %s with no argument left stays "%s".
std::string FillIn(std::string_view key, const std::vector<std::string>& args);

struct Phrase {
    std::string Key;               // a catalog key (English, %s per argument); "" when nothing is said
    std::vector<std::string> Args; // shown as they are

    bool Empty() const { return Key.empty(); }
    std::string English() const { return FillIn(Key, Args); }
    bool operator==(const Phrase&) const = default;
};

// Streams English(): test messages and logs.
std::ostream& operator<<(std::ostream& out, const Phrase& phrase);

namespace phrase_detail {
inline std::string Arg(std::string s) { return s; }
inline std::string Arg(const char* s) { return s; }
inline std::string Arg(std::string_view s) { return std::string(s); }
template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
std::string Arg(T n)
{
    return std::to_string(n);
}
} // namespace phrase_detail

// Say(PhraseId::PartialSend, sent, total, "EPIPE"): numbers become decimal text.
template <class... A>
Phrase Say(PhraseId id, A&&... args)
{
    return Phrase{PhraseKey(id), {phrase_detail::Arg(std::forward<A>(args))...}};
}

} // namespace sockscope
