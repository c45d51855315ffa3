// libFuzzer harness for the JSON position scanner (net/json_positions.hpp).
//
// The input is any text. JsonValueOffsets must return (tolerant of anything) with
// offsets that point at a value's first character, and LineColumn and OffsetOf must
// agree with them. When the text is valid JSON the scanner must also find exactly the
// values nlohmann::json's parser finds, at the paths lesson errors name them by, each
// starting with the right character: a differential check, nlohmann's SAX events being
// turned into the scanner's paths.
#include "fuzz_check.hpp"
#include "json_positions.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sockscope {
namespace {

using nlohmann::json;

// The scanner gives up on values nested deeper than this.
constexpr std::size_t kMaxDepth = 256;

// Every value's path, spelled as JsonValueOffsets spells it, and the character the value
// starts with ('0' for any number), from nlohmann's SAX events. The first occurrence of a
// path wins, as in the scanner.
class PathCollector {
public:
    std::map<std::string, char> Values;
    std::size_t MaxDepth = 0;

    bool null() { return Scalar('n'); }
    bool boolean(bool value) { return Scalar(value ? 't' : 'f'); }
    bool number_integer(json::number_integer_t) { return Scalar('0'); }
    bool number_unsigned(json::number_unsigned_t) { return Scalar('0'); }
    bool number_float(json::number_float_t, const json::string_t&) { return Scalar('0'); }
    bool string(json::string_t&) { return Scalar('"'); }
    bool binary(json::binary_t&) { return Scalar('?'); }
    bool start_object(std::size_t) { return Open('{', false); }
    bool start_array(std::size_t) { return Open('[', true); }
    bool end_object() { return Close(); }
    bool end_array() { return Close(); }
    bool key(json::string_t& key)
    {
        Frames.back().Key = key;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    struct Frame {
        std::string Path;
        bool IsArray = false;
        std::size_t Next = 0;
        std::string Key;
    };

    // Records the value about to be reported and returns its path.
    std::string Value(char first)
    {
        std::string path;
        if (!Frames.empty()) {
            Frame& frame = Frames.back();
            if (frame.IsArray)
                path = frame.Path + "[" + std::to_string(frame.Next++) + "]";
            else
                path = frame.Path.empty() ? frame.Key : frame.Path + "." + frame.Key;
        }
        MaxDepth = std::max(MaxDepth, Frames.size());
        Values.emplace(path, first);
        return path;
    }

    bool Scalar(char first)
    {
        Value(first);
        return true;
    }

    bool Open(char first, bool is_array)
    {
        Frame frame;
        frame.Path = Value(first);
        frame.IsArray = is_array;
        Frames.push_back(std::move(frame));
        return true;
    }

    bool Close()
    {
        Frames.pop_back();
        return true;
    }

    std::vector<Frame> Frames;
};

bool IsJsonSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The scanner reads keys with \b, \f, \r and \uXXXX escapes loosely (lesson keys are
// plain); texts that hold one are left out of the comparison.
bool HasLooseEscape(std::string_view text)
{
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        if (text[i] == '\\') {
            const char e = text[i + 1];
            if (e == 'u' || e == 'b' || e == 'f' || e == 'r')
                return true;
            ++i;
        }
    }
    return false;
}

// LineColumn's "L:C", both from 1.
void CheckLineColumn(std::string_view text, std::size_t offset)
{
    const std::string at = LineColumn(text, offset);
    const std::size_t colon = at.find(':');
    FuzzCheck(colon != std::string::npos && colon > 0 && colon + 1 < at.size(), "LineColumn gives L:C");
    FuzzCheck(at[0] != '0' && at[colon + 1] != '0', "lines and columns count from 1");
    FuzzCheck(at.find_first_not_of("0123456789:") == std::string::npos, "L:C holds digits only");
}

} // namespace
} // namespace sockscope

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sockscope;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::map<std::string, std::size_t> offsets = JsonValueOffsets(text);

    std::size_t checked = 0;
    for (const auto& [path, offset] : offsets) {
        FuzzCheck(offset < text.size(), "an offset lies in the text");
        FuzzCheck(!IsJsonSpace(text[offset]), "a value starts after the white space");
        FuzzCheck(OffsetOf(offsets, path) == offset, "OffsetOf finds a recorded path");
        if (checked++ < 16) // LineColumn walks the text: a few per input
            CheckLineColumn(text, offset);
    }
    if (!offsets.empty()) {
        const std::size_t first = text.find_first_not_of(" \t\n\r");
        FuzzCheck(offsets.count("") == 1 && offsets.at("") == first, "the root is the first value");
    }
    CheckLineColumn(text, 0);
    FuzzCheck(LineColumn(text, text.size() + 7) == LineColumn(text, text.size()),
              "LineColumn stops at the end of the text");

    // Paths that are not in the map fall back to an enclosing value, or to 0.
    const std::string unknown = std::string(text.substr(0, 64)) + ".x[3].y";
    const std::size_t fallback = OffsetOf(offsets, unknown);
    FuzzCheck(fallback == 0 || std::any_of(offsets.begin(), offsets.end(),
                                           [&](const auto& entry) { return entry.second == fallback; }),
              "OffsetOf falls back to a recorded offset or 0");

    if (HasLooseEscape(text))
        return 0;
    PathCollector collector;
    if (!json::sax_parse(text.begin(), text.end(), &collector) || collector.MaxDepth > kMaxDepth)
        return 0;
    FuzzCheck(collector.Values.size() == offsets.size(), "valid JSON: the scanner finds every value");
    for (const auto& [path, first] : collector.Values) {
        const auto it = offsets.find(path);
        FuzzCheck(it != offsets.end(), "valid JSON: every value's path is found");
        const char c = text[it->second];
        const bool starts_right = first == '0' ? (c == '-' || (c >= '0' && c <= '9')) : c == first;
        FuzzCheck(starts_right, "valid JSON: each path points at its own value");
    }
    return 0;
}
