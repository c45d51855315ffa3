// Building sock_diag requests and parsing replies, as pure functions of bytes.
// Every read from a reply goes through memcpy into a local struct: the bytes may come
// from a file or a fuzzer, unaligned and hostile, and are never cast in place.
#include "diag_parse.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace sockscope {
namespace {

// The extensions a request asks for: tcp_info or nothing.
std::uint8_t DiagExtensions(bool tcp_info)
{
    return tcp_info ? 1u << (INET_DIAG_INFO - 1) : 0;
}

constexpr std::size_t kOpSize = sizeof(inet_diag_bc_op);
constexpr std::size_t kCondSize = 2 * kOpSize; // the comparison, then an op holding the port
constexpr std::size_t kStepSize = kCondSize + kOpSize; // a condition and its JMP

void PutOp(std::vector<std::uint8_t>& bc, std::size_t at, unsigned char code,
           unsigned char yes, unsigned short no)
{
    const inet_diag_bc_op op{code, yes, no};
    std::memcpy(bc.data() + at, &op, sizeof op);
}

template <typename T>
void Put(std::vector<std::uint8_t>& buf, std::size_t at, const T& value)
{
    std::memcpy(buf.data() + at, &value, sizeof value);
}

template <typename T>
T Get(std::span<const std::uint8_t> bytes, std::size_t at)
{
    T value;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;
}

bool ParseRow(std::span<const std::uint8_t> payload, KernelSocket& row, std::string& error)
{
    if (payload.size() < sizeof(inet_diag_msg)) {
        error = "inet_diag_msg truncated: " + std::to_string(payload.size()) + " of " +
                std::to_string(sizeof(inet_diag_msg)) + " bytes";
        return false;
    }
    const auto msg = Get<inet_diag_msg>(payload, 0);
    std::size_t addr_len = 0;
    if (msg.idiag_family == AF_INET)
        addr_len = 4;
    else if (msg.idiag_family == AF_INET6)
        addr_len = 16;
    else {
        error = "inet_diag_msg with unexpected family " + std::to_string(msg.idiag_family);
        return false;
    }

    row.State = static_cast<TcpState>(msg.idiag_state);
    row.Local.Family = row.Remote.Family = msg.idiag_family;
    row.Local.Port = ntohs(msg.id.idiag_sport);
    row.Remote.Port = ntohs(msg.id.idiag_dport);
    std::memcpy(row.Local.Addr.data(), msg.id.idiag_src, addr_len);
    std::memcpy(row.Remote.Addr.data(), msg.id.idiag_dst, addr_len);
    // The kernel splits its 64-bit cookie into two host-order halves, low half first.
    row.Cookie = static_cast<std::uint64_t>(msg.id.idiag_cookie[0]) |
                 static_cast<std::uint64_t>(msg.id.idiag_cookie[1]) << 32;
    row.Inode = msg.idiag_inode;
    row.Uid = msg.idiag_uid;
    row.RecvQ = msg.idiag_rqueue;
    row.SendQ = msg.idiag_wqueue;
    row.Timer = static_cast<TimerKind>(msg.idiag_timer);
    row.TimerExpiresMs = msg.idiag_expires;
    row.Retransmits = msg.idiag_retrans;

    std::size_t at = NLMSG_ALIGN(sizeof(inet_diag_msg));
    while (at < payload.size() && payload.size() - at >= sizeof(rtattr)) {
        const auto attr = Get<rtattr>(payload, at);
        if (attr.rta_len < sizeof(rtattr) || attr.rta_len > payload.size() - at) {
            error = "attribute " + std::to_string(attr.rta_type) + " of length " +
                    std::to_string(attr.rta_len) + " does not fit its message";
            return false;
        }
        const auto data = payload.subspan(at + RTA_LENGTH(0), attr.rta_len - RTA_LENGTH(0));
        if ((attr.rta_type & NLA_TYPE_MASK) == INET_DIAG_INFO) {
            // An older kernel sends a shorter tcp_info, a newer one a longer: take what
            // both know and leave the rest zero.
            tcp_info info{};
            std::memcpy(&info, data.data(), std::min(data.size(), sizeof info));
            row.HasInfo = true;
            row.SegsOut = info.tcpi_segs_out;
            row.SegsIn = info.tcpi_segs_in;
            row.TotalRetrans = info.tcpi_total_retrans;
            row.Rto = info.tcpi_rto;
        } else if ((attr.rta_type & NLA_TYPE_MASK) == INET_DIAG_SKMEMINFO &&
                   data.size() >= (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t)) {
            row.Drops = Get<std::uint32_t>(data, SK_MEMINFO_DROPS * sizeof(std::uint32_t));
        }
        at += RTA_ALIGN(attr.rta_len);
    }
    return true;
}

// The kernel's errno with what it most likely means for a sock_diag dump. Taken as the
// negation of the reply's int, in a wider type: -INT_MIN does not fit an int.
std::string ExplainDiagErrno(long long err)
{
    std::string text =
        err <= INT_MAX ? DescribeErrno(static_cast<int>(err)) : "errno " + std::to_string(err);
    if (err == ENOENT)
        text += "; the kernel has no TCP handler for sock_diag (is the tcp_diag module available?)";
    else if (err == EINVAL)
        text += "; the kernel rejected the request or its filter bytecode";
    return text;
}

} // namespace

std::vector<std::uint8_t> BuildPortFilter(std::span<const std::uint16_t> ports)
{
    if (ports.empty() || ports.size() > kMaxDiagPorts)
        return {};
    const std::size_t conds = 2 * ports.size();
    const std::size_t total = conds * kCondSize + (conds - 1) * kOpSize;
    std::vector<std::uint8_t> bc(total);
    for (std::size_t i = 0; i < conds; ++i) {
        const std::size_t at = i * kStepSize;
        const auto code = static_cast<unsigned char>(i % 2 == 0 ? INET_DIAG_BC_S_EQ
                                                                : INET_DIAG_BC_D_EQ);
        // yes: onto the JMP (or, for the last condition, exactly to the end: accept).
        // no: over the JMP to the next condition (or 4 bytes past the end: reject).
        PutOp(bc, at, code, kCondSize, kStepSize);
        PutOp(bc, at + kOpSize, 0, 0, ports[i / 2]);
        if (i + 1 < conds) {
            const std::size_t jmp = at + kCondSize;
            // A JMP always takes its "no" branch; its "yes" only matters to the audit,
            // which walks the "yes" chain and must find the next condition on it.
            PutOp(bc, jmp, INET_DIAG_BC_JMP, kOpSize, static_cast<unsigned short>(total - jmp));
        }
    }
    return bc;
}

std::vector<std::uint8_t> BuildDiagRequest(int family, std::span<const std::uint16_t> ports,
                                           std::uint32_t seq, bool tcp_info, int protocol)
{
    const bool udp = protocol == IPPROTO_UDP;
    const std::uint8_t ext = udp ? 1u << (INET_DIAG_SKMEMINFO - 1) : DiagExtensions(tcp_info);
    if (family != AF_INET && family != AF_INET6 && (family != AF_UNSPEC || udp))
        return {};
    if (protocol != IPPROTO_TCP && !udp)
        return {};
    const std::vector<std::uint8_t> bc = BuildPortFilter(ports);
    if (bc.empty())
        return {};

    // AF_UNSPEC: the legacy TCPDIAG_GETSOCK request, which the kernel answers with one
    // walk of its tables for both families (SOCK_DIAG_BY_FAMILY walks them once per family).
    const bool both = family == AF_UNSPEC;
    const std::size_t req_at = NLMSG_HDRLEN;
    const std::size_t attr_at = req_at + NLMSG_ALIGN(both ? sizeof(inet_diag_req) : sizeof(inet_diag_req_v2));
    const std::size_t total = attr_at + RTA_SPACE(bc.size());
    std::vector<std::uint8_t> buf(total);

    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(total);
    header.nlmsg_type = both ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY;
    header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.nlmsg_seq = seq;
    Put(buf, 0, header);

    if (both) {
        inet_diag_req req{};
        req.idiag_family = AF_UNSPEC;
        req.idiag_ext = ext;
        req.idiag_states = kDiagAllStates;
        Put(buf, req_at, req);
    } else {
        inet_diag_req_v2 req{};
        req.sdiag_family = static_cast<std::uint8_t>(family);
        req.sdiag_protocol = static_cast<std::uint8_t>(protocol);
        req.idiag_ext = ext;
        req.idiag_states = kDiagAllStates;
        Put(buf, req_at, req);
    }

    rtattr attr{};
    attr.rta_len = static_cast<unsigned short>(RTA_LENGTH(bc.size()));
    attr.rta_type = INET_DIAG_REQ_BYTECODE;
    Put(buf, attr_at, attr);
    std::memcpy(buf.data() + attr_at + RTA_LENGTH(0), bc.data(), bc.size());
    return buf;
}

std::string_view ParseStatusName(ParseStatus s)
{
    switch (s) {
    case ParseStatus::More: return "more";
    case ParseStatus::Done: return "done";
    case ParseStatus::Interrupted: return "interrupted";
    case ParseStatus::Error: return "error";
    }
    return "?";
}

ParseStatus ParseDiagReply(std::span<const std::uint8_t> bytes, std::uint32_t expected_seq,
                           std::vector<KernelSocket>& out, std::string& error)
{
    std::size_t at = 0;
    while (at < bytes.size()) {
        const std::size_t left = bytes.size() - at;
        if (left < sizeof(nlmsghdr)) {
            error = "netlink header truncated: " + std::to_string(left) + " bytes left";
            return ParseStatus::Error;
        }
        const auto header = Get<nlmsghdr>(bytes, at);
        if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > left) {
            error = "netlink message length " + std::to_string(header.nlmsg_len) +
                    " does not fit the " + std::to_string(left) + " bytes left";
            return ParseStatus::Error;
        }
        const auto payload = bytes.subspan(at + NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN);
        at += std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), left);

        if (header.nlmsg_seq != expected_seq)
            continue;
        if (header.nlmsg_flags & NLM_F_DUMP_INTR) {
            error = "dump interrupted (NLM_F_DUMP_INTR): the socket tables changed during it";
            return ParseStatus::Interrupted;
        }

        switch (header.nlmsg_type) {
        case NLMSG_DONE: {
            // A dump that failed part-way carries its (negative) errno here.
            const int status = payload.size() >= sizeof(int) ? Get<int>(payload, 0) : 0;
            if (status < 0) {
                error = "dump failed: " + ExplainDiagErrno(-static_cast<long long>(status));
                return ParseStatus::Error;
            }
            return ParseStatus::Done;
        }
        case NLMSG_ERROR: {
            if (payload.size() < sizeof(int)) {
                error = "NLMSG_ERROR truncated";
                return ParseStatus::Error;
            }
            const int err = Get<int>(payload, 0);
            if (err == 0)
                continue; // an acknowledgement, not an error
            error = "kernel refused the request: " +
                    ExplainDiagErrno(err < 0 ? -static_cast<long long>(err) : err);
            return ParseStatus::Error;
        }
        case NLMSG_OVERRUN:
            error = "netlink overrun: replies were lost";
            return ParseStatus::Error;
        case SOCK_DIAG_BY_FAMILY:
        case TCPDIAG_GETSOCK: { // the reply to the one-walk request
            KernelSocket row;
            if (!ParseRow(payload, row, error))
                return ParseStatus::Error;
            out.push_back(row);
            break;
        }
        default:
            break; // NLMSG_NOOP and anything newer: nothing for us
        }
    }
    return ParseStatus::More;
}

void AppendLookupRequest(std::vector<std::uint8_t>& out, const Endpoint& local,
                         const Endpoint& remote, std::uint64_t cookie, std::uint32_t seq, bool tcp_info)
{
    inet_diag_req_v2 req{};
    req.sdiag_family = static_cast<std::uint8_t>(local.Family);
    req.sdiag_protocol = IPPROTO_TCP;
    req.idiag_ext = DiagExtensions(tcp_info);
    req.idiag_states = kDiagAllStates;
    req.id.idiag_sport = htons(local.Port);
    req.id.idiag_dport = htons(remote.Port);
    const std::size_t addr_len = local.Family == AF_INET6 ? 16 : 4;
    std::memcpy(req.id.idiag_src, local.Addr.data(), addr_len);
    std::memcpy(req.id.idiag_dst, remote.Addr.data(), addr_len);
    if (cookie == 0) {
        req.id.idiag_cookie[0] = req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    } else {
        req.id.idiag_cookie[0] = static_cast<std::uint32_t>(cookie);
        req.id.idiag_cookie[1] = static_cast<std::uint32_t>(cookie >> 32);
    }

    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(sizeof req));
    header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    header.nlmsg_flags = NLM_F_REQUEST;
    header.nlmsg_seq = seq;
    const std::size_t at = out.size();
    out.resize(at + NLMSG_SPACE(sizeof req));
    std::memcpy(out.data() + at, &header, sizeof header);
    std::memcpy(out.data() + at + NLMSG_HDRLEN, &req, sizeof req);
}

bool ParseLookupReplies(std::span<const std::uint8_t> bytes, std::uint32_t first_seq,
                        std::span<LookupOutcome> outcomes, std::vector<KernelSocket>& out,
                        std::string& error)
{
    std::size_t at = 0;
    while (at < bytes.size()) {
        const std::size_t left = bytes.size() - at;
        if (left < sizeof(nlmsghdr)) {
            error = "netlink header truncated: " + std::to_string(left) + " bytes left";
            return false;
        }
        const auto header = Get<nlmsghdr>(bytes, at);
        if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > left) {
            error = "netlink message length " + std::to_string(header.nlmsg_len) +
                    " does not fit the " + std::to_string(left) + " bytes left";
            return false;
        }
        const auto payload = bytes.subspan(at + NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN);
        at += std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), left);

        // Unsigned arithmetic: a sequence number below first_seq wraps to a huge index.
        const std::uint32_t index = header.nlmsg_seq - first_seq;
        if (index >= outcomes.size())
            continue;
        LookupOutcome& outcome = outcomes[index];
        if (header.nlmsg_type == NLMSG_ERROR) {
            if (payload.size() < sizeof(int)) {
                error = "NLMSG_ERROR truncated";
                return false;
            }
            const int err = Get<int>(payload, 0);
            if (err == 0)
                continue; // an acknowledgement
            outcome = err == -ENOENT   ? LookupOutcome::Gone
                      : err == -ESTALE ? LookupOutcome::Replaced
                                       : LookupOutcome::Failed;
        } else if (header.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
            KernelSocket row;
            if (!ParseRow(payload, row, error))
                return false;
            out.push_back(row);
            outcome = LookupOutcome::Found;
        }
    }
    return true;
}

std::string DescribeErrno(int err)
{
    const char* name = strerrorname_np(err);
    const char* text = strerrordesc_np(err);
    std::string s = name != nullptr ? name : "errno " + std::to_string(err);
    if (text != nullptr)
        s += std::string(" (") + text + ")";
    return s;
}

} // namespace sockscope
