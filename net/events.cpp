#include "events.hpp"

#include <stdexcept>

#include <algorithm>
#include <cstring>

namespace sockscope {

std::string_view CallPhaseName(CallPhase p)
{
    switch (p) {
    case CallPhase::Queued: return "queued";
    case CallPhase::Started: return "started";
    case CallPhase::Blocked: return "blocked";
    case CallPhase::Finished: return "finished";
    }
    return "?";
}

std::string_view LaneEventName(LaneEventKind kind)
{
    switch (kind) {
    case LaneEventKind::Started: return "start";
    case LaneEventKind::Forked: return "fork";
    case LaneEventKind::Returned: return "return";
    case LaneEventKind::Exiting:
    case LaneEventKind::Exited: return "exit";
    case LaneEventKind::Zombie: return "zombie";
    case LaneEventKind::Reaped: return "reaped";
    }
    return "?";
}

std::string LaneEventArgs(const LaneEvent& e)
{
    switch (e.Kind) {
    case LaneEventKind::Returned: return "NULL";
    case LaneEventKind::Exiting:
    case LaneEventKind::Exited: return std::to_string(e.Signal ? 128 + e.Signal : e.Status);
    default: return "";
    }
}

std::string FormatLaneEvent(const LaneEvent& e)
{
    return std::string(LaneEventName(e.Kind)) + "(" + LaneEventArgs(e) + ")";
}

std::string EscapeBytes(std::string_view bytes, std::size_t max)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    std::size_t n = std::min(bytes.size(), max);
    for (std::size_t i = 0; i < n; ++i) {
        auto c = static_cast<unsigned char>(bytes[i]);
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                out += static_cast<char>(c);
            } else {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 15];
            }
        }
    }
    if (bytes.size() > max)
        out += "...";
    return out;
}

std::string ErrnoName(int err)
{
    if (err == 0)
        return {};
    if (const char* name = strerrorname_np(err))
        return name;
    // The kernel's own, seen only by a tracer: a call a signal interrupted (strace's names).
    switch (err) {
    case 512: return "ERESTARTSYS";
    case 513: return "ERESTARTNOINTR";
    case 514: return "ERESTARTNOHAND";
    case 516: return "ERESTART_RESTARTBLOCK";
    }
    return "E" + std::to_string(err);
}

int ErrnoFromName(std::string_view name)
{
    for (int err = 1; err < 256; ++err) {
        const char* candidate = strerrorname_np(err);
        if (candidate && name == candidate)
            return err;
    }
    return 0;
}

std::string BytesToHex(std::string_view bytes)
{
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::string HexToBytes(std::string_view text)
{
    auto digit = [](char c) {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        throw std::invalid_argument("not hexadecimal");
    };
    if (text.size() % 2)
        throw std::invalid_argument("an odd number of hexadecimal digits");
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i + 1 < text.size(); i += 2)
        out += static_cast<char>(digit(text[i]) * 16 + digit(text[i + 1]));
    return out;
}

} // namespace sockscope
