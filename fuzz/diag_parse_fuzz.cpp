// libFuzzer harness for the sock_diag reply parser (net/diag_parse.hpp).
//
// The input is one datagram as the probe's recvmsg() returns it: a stream of netlink
// messages, parsed as replies to the dump with sequence number kSeq (that of the
// recorded replies in fuzz/corpus/diag_parse/). The same bytes are then parsed a second
// time as the payload of one SOCK_DIAG_BY_FAMILY message, so that the inet_diag_msg and
// attribute reader sees arbitrary bytes too, not only those that got past the framing,
// and a third time as the replies to four lookups (ParseLookupReplies).
#include "diag_parse.hpp"
#include "fuzz_check.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace sockscope {
namespace {

constexpr std::uint32_t kSeq = 4242;

void CheckOutcome(ParseStatus status, const std::vector<KernelSocket>& rows,
                  const std::string& error, std::size_t size)
{
    const bool failed = status == ParseStatus::Error || status == ParseStatus::Interrupted;
    FuzzCheck(failed == !error.empty(), "an error or an interruption comes with a message, and only they do");
    FuzzCheck(ParseStatusName(status) != "?", "every status has a name");
    // Every row is a message of its own: a netlink header and an inet_diag_msg at least.
    FuzzCheck(rows.size() * (NLMSG_HDRLEN + sizeof(inet_diag_msg)) <= size,
              "no more rows than messages fit the bytes");
    for (const KernelSocket& row : rows) {
        FuzzCheck(row.Local.Family == AF_INET || row.Local.Family == AF_INET6,
                  "a row is IPv4 or IPv6");
        FuzzCheck(row.Remote.Family == row.Local.Family, "both ends of a row share a family");
        FuzzCheck(!row.Local.ToString().empty() && !row.Remote.ToString().empty(),
                  "a row's endpoints print");
        FuzzCheck(!TcpStateName(row.State).empty(), "every state value has a name");
        TimerKindName(row.Timer); // any value, even one the kernel does not have yet
    }
}

} // namespace
} // namespace sockscope

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sockscope;
    // A copy of exactly `size` bytes: ASan then sees any read past the end.
    const std::vector<std::uint8_t> stream(data, data + size);
    {
        std::vector<KernelSocket> rows;
        std::string error;
        const ParseStatus status = ParseDiagReply(stream, kSeq, rows, error);
        CheckOutcome(status, rows, error, stream.size());
    }
    {
        nlmsghdr header{};
        header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_HDRLEN + size);
        header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        header.nlmsg_flags = NLM_F_MULTI;
        header.nlmsg_seq = kSeq;
        std::vector<std::uint8_t> message(NLMSG_HDRLEN + size);
        std::memcpy(message.data(), &header, sizeof header);
        if (size > 0)
            std::memcpy(message.data() + NLMSG_HDRLEN, data, size);
        std::vector<KernelSocket> rows;
        std::string error;
        const ParseStatus status = ParseDiagReply(message, kSeq, rows, error);
        CheckOutcome(status, rows, error, message.size());
        FuzzCheck(status == ParseStatus::More || status == ParseStatus::Error,
                  "one row message either reads or fails");
        FuzzCheck(rows.size() == (status == ParseStatus::More ? 1u : 0u),
                  "one row message gives one row, or none when it fails");
    }
    {
        // The same bytes as replies to four lookups: an outcome each, a row per "found".
        std::vector<LookupOutcome> outcomes(4, LookupOutcome::Pending);
        std::vector<KernelSocket> rows;
        std::string error;
        const bool ok = ParseLookupReplies(stream, kSeq, outcomes, rows, error);
        FuzzCheck(ok || !error.empty(), "a refused reply says why");
        const auto found = std::count(outcomes.begin(), outcomes.end(), LookupOutcome::Found);
        FuzzCheck(!ok || static_cast<std::size_t>(found) <= rows.size(), "every lookup found has its row");
        CheckOutcome(ok ? ParseStatus::More : ParseStatus::Error, ok ? rows : std::vector<KernelSocket>{}, error,
                     stream.size());
    }
    return 0;
}
