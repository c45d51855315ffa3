// libFuzzer harness for sockscope-helper's message parser (net/helper_proto.hpp): the
// helper's whole input, from a caller who may be hostile. The first byte is how many
// descriptors came with the message (0-3), the rest the message. The parser must never
// read past the input; a request it accepts must be exactly what EncodeHelperRequest
// makes of it (so no byte of a filter program, or of anything else, rides along), carry
// a known operation and gate, and come with the descriptors its operation takes. The
// same bytes also go through sockscope's parser of the helper's messages.
#include "fuzz_check.hpp"
#include "helper_proto.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sockscope;
    if (size < 1)
        return 0;
    std::size_t descriptors = data[0] % 4;
    // An exact-size copy: AddressSanitizer catches a read one byte past the end.
    std::vector<std::uint8_t> message(data + 1, data + size);
    ParsedRequest parsed = ParseHelperRequest(message, descriptors);
    if (parsed.Refusal == HelperRefusal::Ok) {
        const HelperRequest& r = parsed.Request;
        FuzzCheck(EncodeHelperRequest(r) == message, "an accepted request is exactly its own encoding");
        bool takes_fd = r.Op == HelperOp::Attach || r.Op == HelperOp::Detach;
        FuzzCheck(descriptors == (takes_fd ? 1u : 0u), "an accepted request has the descriptors its operation takes");
        FuzzCheck(r.Ports.size() <= HelperMaxPorts, "at most HelperMaxPorts ports");
        FuzzCheck(r.Op == HelperOp::CaptureStart || r.Ports.empty(), "only CaptureStart has ports");
        FuzzCheck(!GateKindName(r.Gate).empty() && GateKindName(r.Gate) != "?", "the gate is one of sockscope's");
        FuzzCheck(message.size() <= 16 + 2 * HelperMaxPorts, "an accepted request is small");
    } else {
        FuzzCheck(!HelperRefusalText(parsed.Refusal).empty(), "a refusal has a reason");
    }

    HelperReply reply;
    std::vector<HelperSegment> segments;
    auto kind = ParseHelperMessage(message, reply, segments);
    if (kind == HelperMessageKind::Reply)
        FuzzCheck(EncodeHelperReply(reply) == message, "a reply is exactly its own encoding");
    if (kind == HelperMessageKind::Segments)
        FuzzCheck(EncodeHelperSegments(segments) == message, "segments are exactly their own encoding");
    return 0;
}
