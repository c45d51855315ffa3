#include "packet_model.hpp"

#include "events.hpp"
#include "format.hpp"

#include <map>
#include <tuple>

namespace sockscope {
namespace {

// A conversation: TCP or datagram, then its (client, server) ends in a stable order.
struct Conversation {
    bool Datagrams = false;
    Endpoint Client, Server;
    bool operator==(const Conversation&) const = default;
};

Conversation ConversationOf(const Segment& s, const std::set<std::uint16_t>& server_ports)
{
    bool src_server = server_ports.count(s.Src.Port) ? true
                      : server_ports.count(s.Dst.Port) ? false
                                                       : s.Src.Port < s.Dst.Port;
    Conversation c;
    c.Datagrams = IsDatagram(s) || IsIcmp(s);
    c.Client = src_server ? s.Dst : s.Src;
    c.Server = src_server ? s.Src : s.Dst;
    return c;
}

// ` "hello"`: the first bytes kept, with "..." when the datagram had more.
std::string QuotedPayload(const Segment& s)
{
    if (s.Payload.empty())
        return "";
    std::string text = EscapeBytes(s.Payload);
    if (s.Len > s.Payload.size())
        text += "...";
    return " \"" + text + "\"";
}

} // namespace

std::string PacketLabel(const Segment& s, std::uint32_t seq_base, std::uint32_t ack_base, Lang lang)
{
    std::string text;
    if (IsDatagram(s)) {
        text = Format(Tr(lang, "UDP datagram len=%u"), s.Len) + QuotedPayload(s);
    } else if (IsIcmp(s)) {
        text = IsPortUnreachable(s) ? Format(Tr(lang, "ICMP port unreachable, about a datagram of %u bytes"), s.Len)
                                    : Format(Tr(lang, "ICMP destination unreachable (code %u), about a datagram of %u bytes"),
                                             static_cast<unsigned>(s.IcmpCode), s.Len);
        text += QuotedPayload(s);
    } else {
        text = FlagsName(s.Flags);
        if (s.Inferred)
            return text + (s.Len ? Format(" len=%u", s.Len) : "") + Tr(lang, " (inferred)");
        text += Format(" seq=%u", s.Seq - seq_base);
        if (s.Flags & FlagAck)
            text += Format(" ack=%u", s.Ack - ack_base);
        text += Format(" len=%u", s.Len);
        return text;
    }
    return s.Inferred ? text + Tr(lang, " (inferred)") : text;
}

PacketLadder BuildPacketLadder(const std::deque<Segment>& segments, const std::set<std::uint16_t>& server_ports,
                               Lang lang)
{
    PacketLadder ladder;
    if (segments.empty())
        return ladder;
    const Conversation shown = ConversationOf(segments.back(), server_ports);
    ladder.Datagrams = shown.Datagrams;
    ladder.Client = shown.Client;
    ladder.Server = shown.Server;
    std::vector<const Segment*> mine;
    for (const auto& s : segments)
        if (ConversationOf(s, server_ports) == shown)
            mine.push_back(&s);
    // Relative numbers: each side's first sequence number (its SYN's, when captured).
    std::map<Endpoint, std::uint32_t> base;
    for (const Segment* s : mine)
        if (!s->Inferred && !shown.Datagrams)
            base.emplace(s->Src, s->Seq);
    for (const Segment* s : mine) {
        PacketRow row;
        row.S = s;
        row.ToServer = s->Src == shown.Client;
        row.Inferred = s->Inferred;
        auto seq = base.find(s->Src);
        auto ack = base.find(s->Dst);
        row.Label = PacketLabel(*s, seq == base.end() ? 0 : seq->second, ack == base.end() ? 0 : ack->second, lang);
        (s->Inferred ? ladder.AnyInferred : ladder.AnyCaptured) = true;
        ladder.Rows.push_back(std::move(row));
    }
    const std::string client = shown.Client.ToString(), server = shown.Server.ToString();
    const int count = static_cast<int>(ladder.Rows.size());
    ladder.Title = shown.Datagrams
                       ? Format(Tr(lang, "Datagrams between %s (client) and %s (server): %d packets, no connection"),
                                client.c_str(), server.c_str(), count)
                       : Format(Tr(lang, "Connection %s (client) - %s (server): %d segments"), client.c_str(),
                                server.c_str(), count);
    return ladder;
}

} // namespace sockscope
