// sockscope's side of sockscope-helper (helper/helper_main.cpp, messages in
// helper_proto.hpp): the small program with cap_net_admin and cap_net_raw that attaches
// sockscope's fixed gates to sockets sockscope passes it and forwards captured segments
// of the user's own sockets. Used only when sockscope is not root and the kernel refuses
// (EPERM); --private-network remains for machines without the helper.
#pragma once

#include "gate.hpp"
#include "helper_proto.hpp"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sockscope {

// One running helper process and the socketpair to it. Not thread-safe: one user at a
// time (HelperAttachGate serialises the process-wide one).
class HelperChannel {
public:
    // Starts the helper at `path` with its end of a SOCK_SEQPACKET socketpair as
    // descriptor 3. Nothing (and `err` set) if it cannot be started.
    static std::unique_ptr<HelperChannel> Start(const std::string& path, int& err);
    ~HelperChannel(); // hangs up, then reaps the helper (which exits on hang-up)
    HelperChannel(const HelperChannel&) = delete;
    HelperChannel& operator=(const HelperChannel&) = delete;

    int Fd() const { return Sock; }
    pid_t Pid() const { return Child; }

    // Sends `request` (with descriptor `fd` when fd >= 0) and waits up to `timeout_ms`
    // for its reply; segments that come first are appended to `segments` (or dropped).
    // False when the helper is gone or did not answer.
    bool Call(const HelperRequest& request, int fd, HelperReply& reply,
              std::vector<HelperSegment>* segments = nullptr, int timeout_ms = 5000);
    // The raw conversation, for tests: any bytes, any descriptors.
    bool Send(std::span<const std::uint8_t> bytes, std::span<const int> fds);
    // Waits up to `timeout_ms` for one message. Nothing when the helper hung up, timed
    // out, or sent something malformed.
    std::optional<HelperMessageKind> Receive(HelperReply& reply, std::vector<HelperSegment>& segments,
                                             int timeout_ms);

private:
    HelperChannel(int sock, pid_t child) : Sock(sock), Child(child) {}
    int Sock = -1;
    pid_t Child = -1;
    std::uint32_t NextId = 1;
};

// Where the helper is: the path set here (sockscope's main sets $SOCKSCOPE_HELPER), else
// sockscope-helper beside the running program (the build tree), else
// ../libexec/sockscope/sockscope-helper from it (an installed sockscope). Empty: none.
// Safe from any thread.
void SetHelperPath(std::string path);
std::string HelperPath();

// Through the process-wide helper (started on first use, restarted if it died): attach
// gate `kind` to `fd` / detach it. Return 0, or an errno value: the original `fallback`
// (EPERM) when there is no helper, else what the helper's refusal maps to
// (HelperRefusalErrno). `refusal`, if given, says why. Safe from any thread.
int HelperAttachGate(int fd, GateKind kind, std::uint16_t peer_port, int fallback,
                     HelperRefusal* refusal = nullptr);
int HelperDetachGate(int fd, int fallback, HelperRefusal* refusal = nullptr);
// Whether the helper runs and can attach gates here (0), or the errno value why not.
int HelperGateSupport();

} // namespace sockscope
