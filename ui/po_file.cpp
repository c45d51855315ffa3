#include "po_file.hpp"

#include <set>

namespace sockscope {
namespace {

std::string_view Trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// `"..."` with C escapes to its bytes; false (and `why`) when it is not one.
bool Unquote(std::string_view s, std::string& out, std::string& why)
{
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') {
        why = "expected a string in double quotes";
        return false;
    }
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        char c = s[i];
        if (c == '"') {
            why = "a double quote inside a string must be written \\\"";
            return false;
        }
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i + 2 >= s.size()) {
            why = "the string ends in a lone backslash";
            return false;
        }
        switch (s[++i]) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        default:
            why = std::string("unknown escape \\") + s[i];
            return false;
        }
    }
    return true;
}

} // namespace

std::optional<std::vector<PoEntry>> ParsePo(std::string_view text, const std::string& path, std::string& error)
{
    std::vector<PoEntry> entries;
    std::set<std::string> ids;
    enum class Field { None, Id, Str } field = Field::None;
    PoEntry current;
    bool has_id = false, has_str = false, fuzzy = false;
    int line_number = 0;

    auto fail = [&](int line, const std::string& what) {
        error = path + ":" + std::to_string(line) + ": " + what;
        return std::nullopt;
    };
    // The entry read so far is complete: keep it (the header, msgid "", is dropped).
    auto finish = [&]() -> bool {
        if (!has_id)
            return true;
        if (!has_str) {
            error = path + ":" + std::to_string(current.Line) + ": msgid without a msgstr";
            return false;
        }
        if (!current.Id.empty()) {
            if (!ids.insert(current.Id).second) {
                error = path + ":" + std::to_string(current.Line) + ": msgid \"" + current.Id + "\" is given twice";
                return false;
            }
            entries.push_back(current);
        }
        current = PoEntry{};
        has_id = has_str = false;
        field = Field::None;
        return true;
    };

    if (text.starts_with("\xEF\xBB\xBF")) // a UTF-8 byte order mark
        text.remove_prefix(3);
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = Trim(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++line_number;

        if (line.empty())
            continue;
        if (line.front() == '#') {
            // A comment belongs to the entry that follows: the one before is complete.
            if (has_str && !finish())
                return std::nullopt;
            if (line.starts_with("#,") && line.find("fuzzy") != std::string_view::npos)
                fuzzy = true;
            continue;
        }
        std::string why;
        if (line.front() == '"') {
            std::string* target = field == Field::Id ? &current.Id : field == Field::Str ? &current.Str : nullptr;
            if (!target)
                return fail(line_number, "a string with no msgid or msgstr before it");
            if (!Unquote(line, *target, why))
                return fail(line_number, why);
            continue;
        }
        auto space = line.find_first_of(" \t");
        std::string_view keyword = line.substr(0, space);
        std::string_view rest = space == std::string_view::npos ? "" : Trim(line.substr(space));
        if (keyword == "msgid") {
            if (has_id && !finish())
                return std::nullopt;
            has_id = true;
            current.Line = line_number;
            current.Fuzzy = fuzzy;
            fuzzy = false;
            field = Field::Id;
            if (!Unquote(rest, current.Id, why))
                return fail(line_number, why);
        } else if (keyword == "msgstr") {
            if (!has_id)
                return fail(line_number, "msgstr without a msgid before it");
            if (has_str)
                return fail(line_number, "a second msgstr for the same msgid");
            has_str = true;
            field = Field::Str;
            if (!Unquote(rest, current.Str, why))
                return fail(line_number, why);
        } else if (keyword == "msgctxt" || keyword == "msgid_plural" || keyword.starts_with("msgstr[")) {
            return fail(line_number, std::string(keyword) + " is not used by sockscope's translations");
        } else {
            return fail(line_number, "expected msgid, msgstr, a string or a # comment, found '" +
                                         std::string(line.substr(0, 40)) + "'");
        }
    }
    if (has_id && !finish())
        return std::nullopt;
    return entries;
}

} // namespace sockscope
