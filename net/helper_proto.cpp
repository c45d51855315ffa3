#include "helper_proto.hpp"

#include <cerrno>
#include <cstring>

namespace sockscope {

namespace {

// Request: magic u32, version u16, op u8, gate u8, peer port u16, port count u16, id u32,
// then the ports (u16 each). Host byte order: both ends run on the same machine.
constexpr std::size_t RequestHeader = 16;
// Reply: magic u32, kind u8, 0 u8, refusal u16, id u32, errno i32.
constexpr std::size_t ReplySize = 16;
// Segments: magic u32, kind u8, 0 u8, count u16, then count records of SegmentSize.
constexpr std::size_t SegmentsHeader = 8;
constexpr std::size_t SegmentSize = 60;

template <typename T>
void Put(std::vector<std::uint8_t>& out, T value)
{
    std::uint8_t bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.insert(out.end(), bytes, bytes + sizeof(T));
}

template <typename T>
T Get(std::span<const std::uint8_t> bytes, std::size_t offset)
{
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

bool KnownOp(std::uint8_t op)
{
    return op >= static_cast<std::uint8_t>(HelperOp::Hello) && op <= static_cast<std::uint8_t>(HelperOp::CaptureStop);
}

} // namespace

std::string_view HelperRefusalText(HelperRefusal refusal)
{
    switch (refusal) {
    case HelperRefusal::Ok: return "ok";
    case HelperRefusal::Malformed: return "malformed message";
    case HelperRefusal::UnknownGate: return "unknown gate";
    case HelperRefusal::WrongDescriptors: return "wrong number of descriptors for the request";
    case HelperRefusal::NotASocket: return "not a socket";
    case HelperRefusal::NotTcp: return "not a TCP socket (UDP, Unix and raw sockets are refused)";
    case HelperRefusal::NotFound: return "sock_diag does not know the socket (not bound, or another namespace)";
    case HelperRefusal::OtherUsersSocket: return "another user's socket";
    case HelperRefusal::OtherUsersListener: return "the port's listener belongs to another user";
    case HelperRefusal::Flood: return "too many requests";
    case HelperRefusal::KernelError: return "the kernel refused";
    case HelperRefusal::WrongCaller: return "the caller is not the user who started the helper";
    case HelperRefusal::NoCapture: return "no packet capture";
    }
    return "unknown refusal";
}

int HelperRefusalErrno(HelperRefusal refusal, int kernel_errno)
{
    switch (refusal) {
    case HelperRefusal::Ok: return 0;
    case HelperRefusal::KernelError:
    case HelperRefusal::NoCapture: return kernel_errno != 0 ? kernel_errno : EIO;
    case HelperRefusal::NotASocket: return ENOTSOCK;
    case HelperRefusal::NotTcp: return EOPNOTSUPP;
    case HelperRefusal::Flood: return EBUSY;
    case HelperRefusal::Malformed:
    case HelperRefusal::UnknownGate:
    case HelperRefusal::WrongDescriptors: return EINVAL;
    case HelperRefusal::NotFound:
    case HelperRefusal::OtherUsersSocket:
    case HelperRefusal::OtherUsersListener:
    case HelperRefusal::WrongCaller: return EPERM;
    }
    return EPERM;
}

std::vector<std::uint8_t> EncodeHelperRequest(const HelperRequest& request)
{
    std::vector<std::uint8_t> out;
    out.reserve(RequestHeader + 2 * request.Ports.size());
    Put<std::uint32_t>(out, HelperMagic);
    Put<std::uint16_t>(out, HelperVersion);
    Put<std::uint8_t>(out, static_cast<std::uint8_t>(request.Op));
    Put<std::uint8_t>(out, request.Op == HelperOp::Attach ? static_cast<std::uint8_t>(request.Gate) : 0);
    Put<std::uint16_t>(out, request.Op == HelperOp::Attach ? request.PeerPort : 0);
    Put<std::uint16_t>(out, static_cast<std::uint16_t>(request.Ports.size()));
    Put<std::uint32_t>(out, request.Id);
    for (std::uint16_t port : request.Ports)
        Put<std::uint16_t>(out, port);
    return out;
}

ParsedRequest ParseHelperRequest(std::span<const std::uint8_t> bytes, std::size_t descriptors)
{
    ParsedRequest parsed;
    auto refuse = [&](HelperRefusal why) {
        parsed.Refusal = why;
        return parsed;
    };
    if (bytes.size() < RequestHeader)
        return refuse(HelperRefusal::Malformed);
    parsed.Request.Id = Get<std::uint32_t>(bytes, 12);
    if (Get<std::uint32_t>(bytes, 0) != HelperMagic || Get<std::uint16_t>(bytes, 4) != HelperVersion)
        return refuse(HelperRefusal::Malformed);
    std::uint8_t op = bytes[6];
    if (!KnownOp(op))
        return refuse(HelperRefusal::Malformed);
    parsed.Request.Op = static_cast<HelperOp>(op);
    std::uint8_t gate = bytes[7];
    std::uint16_t peer_port = Get<std::uint16_t>(bytes, 8);
    std::size_t ports = Get<std::uint16_t>(bytes, 10);
    if (bytes.size() != RequestHeader + 2 * ports)
        return refuse(HelperRefusal::Malformed);
    bool with_ports = parsed.Request.Op == HelperOp::CaptureStart;
    if ((!with_ports && ports != 0) || ports > HelperMaxPorts)
        return refuse(HelperRefusal::Malformed);
    for (std::size_t i = 0; i < ports; ++i) {
        std::uint16_t port = Get<std::uint16_t>(bytes, RequestHeader + 2 * i);
        if (port == 0)
            return refuse(HelperRefusal::Malformed);
        parsed.Request.Ports.push_back(port);
    }
    if (parsed.Request.Op == HelperOp::Attach) {
        bool known = false;
        for (GateKind kind : AllGateKinds)
            known = known || static_cast<std::uint8_t>(kind) == gate;
        if (!known)
            return refuse(HelperRefusal::UnknownGate);
        parsed.Request.Gate = static_cast<GateKind>(gate);
        parsed.Request.PeerPort = peer_port;
    } else if (gate != 0 || peer_port != 0) {
        return refuse(HelperRefusal::Malformed);
    }
    bool takes_fd = parsed.Request.Op == HelperOp::Attach || parsed.Request.Op == HelperOp::Detach;
    if (descriptors != (takes_fd ? 1u : 0u))
        return refuse(HelperRefusal::WrongDescriptors);
    return parsed;
}

std::vector<std::uint8_t> EncodeHelperReply(const HelperReply& reply)
{
    std::vector<std::uint8_t> out;
    out.reserve(ReplySize);
    Put<std::uint32_t>(out, HelperMagic);
    Put<std::uint8_t>(out, static_cast<std::uint8_t>(HelperMessageKind::Reply));
    Put<std::uint8_t>(out, 0);
    Put<std::uint16_t>(out, static_cast<std::uint16_t>(reply.Refusal));
    Put<std::uint32_t>(out, reply.Id);
    Put<std::int32_t>(out, reply.Errno);
    return out;
}

std::vector<std::uint8_t> EncodeHelperSegments(std::span<const HelperSegment> segments)
{
    std::vector<std::uint8_t> out;
    if (segments.size() > HelperMaxSegmentsPerMessage)
        segments = segments.first(HelperMaxSegmentsPerMessage);
    out.reserve(SegmentsHeader + SegmentSize * segments.size());
    Put<std::uint32_t>(out, HelperMagic);
    Put<std::uint8_t>(out, static_cast<std::uint8_t>(HelperMessageKind::Segments));
    Put<std::uint8_t>(out, 0);
    Put<std::uint16_t>(out, static_cast<std::uint16_t>(segments.size()));
    for (const HelperSegment& s : segments) {
        Put(out, s.Family);
        Put(out, s.Flags);
        Put(out, s.Window);
        out.insert(out.end(), s.Src, s.Src + 16);
        out.insert(out.end(), s.Dst, s.Dst + 16);
        Put(out, s.SrcPort);
        Put(out, s.DstPort);
        Put(out, s.Seq);
        Put(out, s.Ack);
        Put(out, s.Len);
        Put(out, s.MonotonicNs);
    }
    return out;
}

std::optional<HelperMessageKind> ParseHelperMessage(std::span<const std::uint8_t> bytes, HelperReply& reply,
                                                    std::vector<HelperSegment>& segments)
{
    if (bytes.size() < SegmentsHeader || Get<std::uint32_t>(bytes, 0) != HelperMagic || bytes[5] != 0)
        return std::nullopt;
    if (bytes[4] == static_cast<std::uint8_t>(HelperMessageKind::Reply)) {
        if (bytes.size() != ReplySize)
            return std::nullopt;
        std::uint16_t refusal = Get<std::uint16_t>(bytes, 6);
        if (refusal > static_cast<std::uint16_t>(HelperRefusal::NoCapture))
            return std::nullopt;
        reply.Refusal = static_cast<HelperRefusal>(refusal);
        reply.Id = Get<std::uint32_t>(bytes, 8);
        reply.Errno = Get<std::int32_t>(bytes, 12);
        return HelperMessageKind::Reply;
    }
    if (bytes[4] != static_cast<std::uint8_t>(HelperMessageKind::Segments))
        return std::nullopt;
    std::size_t count = Get<std::uint16_t>(bytes, 6);
    if (count > HelperMaxSegmentsPerMessage || bytes.size() != SegmentsHeader + SegmentSize * count)
        return std::nullopt;
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t at = SegmentsHeader + SegmentSize * i;
        HelperSegment s;
        s.Family = bytes[at];
        s.Flags = bytes[at + 1];
        s.Window = Get<std::uint16_t>(bytes, at + 2);
        std::memcpy(s.Src, bytes.data() + at + 4, 16);
        std::memcpy(s.Dst, bytes.data() + at + 20, 16);
        s.SrcPort = Get<std::uint16_t>(bytes, at + 36);
        s.DstPort = Get<std::uint16_t>(bytes, at + 38);
        s.Seq = Get<std::uint32_t>(bytes, at + 40);
        s.Ack = Get<std::uint32_t>(bytes, at + 44);
        s.Len = Get<std::uint32_t>(bytes, at + 48);
        s.MonotonicNs = Get<std::int64_t>(bytes, at + 52);
        segments.push_back(s);
    }
    return HelperMessageKind::Segments;
}

} // namespace sockscope
