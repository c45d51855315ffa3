// The probe's conversation with the kernel (internal to net/): one NETLINK_SOCK_DIAG
// socket kept open between snapshots, and the two ways of asking over it. A dump walks
// the kernel's socket tables (every TCP socket of the machine, the port filter applied
// to each); a lookup finds one socket by its four-tuple in a hash table, at a cost that
// does not grow with the rest of the machine. The bytes are built and parsed by
// diag_parse.cpp.
#pragma once

#include "diag_parse.hpp"
#include "kernel_types.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace sockscope {

// One socket to look up: its endpoints as a dump reported them, and its cookie (0: any).
struct LookupTarget {
    Endpoint Local;
    Endpoint Remote;
    std::uint64_t Cookie = 0;
};

// Not thread-safe: one per thread.
class DiagSocket {
public:
    DiagSocket();
    ~DiagSocket();
    DiagSocket(const DiagSocket&) = delete;
    DiagSocket& operator=(const DiagSocket&) = delete;

    // Fills `rows` (sorted, duplicates removed) with the sockets of both families on
    // `ports`. On failure `rows` is empty and `error` says why.
    bool Dump(std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows, Phrase& error);
    // Appends the UDP sockets of both families on `ports` (Proto IPPROTO_UDP) to `rows`,
    // keeping them sorted. The UDP table holds few sockets: no follow is needed.
    bool DumpUdp(std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows, Phrase& error);

    // Looks up every target (many requests per send, many replies per receive), appending
    // the rows found to `rows` and setting outcomes[i] for targets[i]. False when the
    // conversation itself failed (the socket is then reopened on the next call); the
    // outcomes say which targets were answered.
    bool Lookup(std::span<const LookupTarget> targets, std::vector<KernelSocket>& rows,
                std::vector<LookupOutcome>& outcomes);

    // Also ask for tcp_info (KernelSocket::HasInfo and its counters). Off by default:
    // nothing on screen uses it, and the kernel would fill it for every socket reported.
    void AskTcpInfo(bool on) { TcpInfo = on; }

private:
    bool Open(Phrase& error);
    void Close();
    bool DumpFamily(int family, std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows,
                    Phrase& error, int protocol = 6);
    ParseStatus DumpOnce(int family, std::span<const std::uint16_t> ports, std::vector<KernelSocket>& rows,
                         Phrase& error, int protocol);
    bool LookupBatch(std::span<const LookupTarget> targets, std::vector<KernelSocket>& rows,
                     std::span<LookupOutcome> outcomes);

    int Fd = -1;
    std::uint32_t Seq = 0;
    bool OneWalk = true; // TCPDIAG_GETSOCK works here (until it fails once)
    bool TcpInfo = false;
    std::vector<std::uint8_t> Buffer;
    std::vector<std::uint8_t> Requests;
};

// Sorts rows by local endpoint, remote endpoint and cookie, and drops exact repeats (a
// socket found by two requests).
void SortRows(std::vector<KernelSocket>& rows);

} // namespace sockscope
