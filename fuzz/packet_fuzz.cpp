// libFuzzer harness for the packet parser (net/packet.hpp): the input is one captured
// packet from its IP header on, as the capture socket (AF_PACKET, SOCK_DGRAM) delivers
// it. The parser must never read past the input, and what it accepts must be coherent.
#include "fuzz_check.hpp"
#include "packet.hpp"

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sockscope;
    // An exact-size copy: AddressSanitizer catches a read one byte past the end.
    std::vector<std::uint8_t> packet(data, data + size);
    auto s = ParsePacket(packet.data(), packet.size());
    if (!s)
        return 0;
    FuzzCheck(s->Src.Family == s->Dst.Family, "both ends of a segment have one family");
    FuzzCheck(s->Src.Family == AF_INET || s->Src.Family == AF_INET6, "a segment is IPv4 or IPv6");
    // Its IP header, then a TCP header (20 bytes) or a UDP or ICMP header (8).
    std::size_t transport = s->Proto == 6 ? 20u : 8u;
    FuzzCheck(s->Proto == 6 || s->Proto == 17 || s->Proto == 1 || s->Proto == 58, "TCP, UDP, ICMP or ICMPv6");
    FuzzCheck(size >= (s->Src.Family == AF_INET ? 20u : 40u) + transport, "a packet has an IP and a transport header");
    FuzzCheck((s->Flags & ~0x3f) == 0, "flags are the six classic bits");
    FuzzCheck(s->Len <= 65535, "a payload fits in an IP packet");
    FuzzCheck(!FlagsName(s->Flags).empty(), "flags have a name");
    FuzzCheck(!s->Inferred, "a parsed segment is captured, not inferred");
    return 0;
}
