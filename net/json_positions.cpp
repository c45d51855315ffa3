#include "json_positions.hpp"

#include <algorithm>

namespace sockscope {

namespace {

class Scanner {
public:
    Scanner(std::string_view text, std::map<std::string, std::size_t>& out) : Text(text), Out(out) {}

    // Returns false at the first fault; everything recorded so far stays.
    bool Value(const std::string& path, int depth = 0)
    {
        SkipSpace();
        if (At >= Text.size() || depth > 256)
            return false;
        Out.emplace(path, At);
        char c = Text[At];
        if (c == '{')
            return Object(path, depth);
        if (c == '[')
            return Array(path, depth);
        if (c == '"') {
            std::string ignored;
            return String(ignored);
        }
        // A number or a literal: up to the next delimiter.
        std::size_t start = At;
        while (At < Text.size() && Text[At] != ',' && Text[At] != '}' && Text[At] != ']' && !IsSpace(Text[At]))
            ++At;
        return At > start;
    }

private:
    static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

    void SkipSpace()
    {
        while (At < Text.size() && IsSpace(Text[At]))
            ++At;
    }

    bool Expect(char c)
    {
        SkipSpace();
        if (At >= Text.size() || Text[At] != c)
            return false;
        ++At;
        return true;
    }

    bool String(std::string& out)
    {
        if (!Expect('"'))
            return false;
        while (At < Text.size()) {
            char c = Text[At++];
            if (c == '"')
                return true;
            if (c == '\\') {
                if (At >= Text.size())
                    return false;
                char e = Text[At++];
                out += e == 'n' ? '\n' : e == 't' ? '\t' : e; // keys are plain in practice
                if (e == 'u')
                    At += 4;
                continue;
            }
            out += c;
        }
        return false;
    }

    bool Object(const std::string& path, int depth)
    {
        ++At; // '{'
        SkipSpace();
        if (At < Text.size() && Text[At] == '}') {
            ++At;
            return true;
        }
        for (;;) {
            std::string key;
            if (!String(key) || !Expect(':'))
                return false;
            if (!Value(path.empty() ? key : path + "." + key, depth + 1))
                return false;
            SkipSpace();
            if (At < Text.size() && Text[At] == ',') {
                ++At;
                continue;
            }
            return Expect('}');
        }
    }

    bool Array(const std::string& path, int depth)
    {
        ++At; // '['
        SkipSpace();
        if (At < Text.size() && Text[At] == ']') {
            ++At;
            return true;
        }
        for (std::size_t i = 0;; ++i) {
            if (!Value(path + "[" + std::to_string(i) + "]", depth + 1))
                return false;
            SkipSpace();
            if (At < Text.size() && Text[At] == ',') {
                ++At;
                continue;
            }
            return Expect(']');
        }
    }

    std::string_view Text;
    std::map<std::string, std::size_t>& Out;
    std::size_t At = 0;
};

} // namespace

std::map<std::string, std::size_t> JsonValueOffsets(std::string_view text)
{
    std::map<std::string, std::size_t> out;
    Scanner(text, out).Value("");
    return out;
}

std::string LineColumn(std::string_view text, std::size_t offset)
{
    offset = std::min(offset, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
            ++column; // count characters, not the continuation bytes of UTF-8
        }
    }
    return std::to_string(line) + ":" + std::to_string(column);
}

std::size_t OffsetOf(const std::map<std::string, std::size_t>& offsets, std::string path)
{
    for (;;) {
        if (auto it = offsets.find(path); it != offsets.end())
            return it->second;
        if (path.empty())
            return 0;
        std::size_t cut = path.find_last_of(".[");
        path.resize(cut == std::string::npos ? 0 : cut);
    }
}

} // namespace sockscope
