// A gettext catalogue (.po file) as sockscope reads it: msgid (the English text) and
// msgstr (its translation) pairs, the way translators and their tools (Poedit, Lokalize,
// msgfmt --check) write them. Only what sockscope's files use is read: comments and
// flags, msgid, msgstr, strings continued on the next lines, and the escapes \n \t \" \\.
// Plural forms and contexts (msgid_plural, msgctxt) are refused with a clear error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockscope {

struct PoEntry {
    std::string Id;     // msgid: the English text
    std::string Str;    // msgstr: "" when not translated yet
    bool Fuzzy = false; // "#, fuzzy": a guess a translator has not checked (not used, as gettext)
    int Line = 0;       // where its msgid is, from 1
};

// The entries of a .po file in file order, without the header (the entry whose msgid is
// ""). On a syntax error returns nullopt and sets `error` to "path:line: what".
// A pure function of the text, for tests.
std::optional<std::vector<PoEntry>> ParsePo(std::string_view text, const std::string& path, std::string& error);

} // namespace sockscope
