// The UI's own words in English and Simplified Chinese. Lesson texts carry their own
// translations (lesson.hpp); these are the labels around them.
#pragma once

#include "lesson.hpp"
#include "phrase.hpp"

#include <string>
#include <vector>

namespace sockscope {

// The translation of an English UI string (which is also its key). Strings with printf
// specifiers keep the same specifiers in the same order. Falls back to English.
const char* Tr(Lang lang, const char* english);

// What the lab said (net/phrase.hpp) in the UI's language: the key translated, then
// the arguments filled in as they are. "" for an empty phrase.
std::string Tr(Lang lang, const Phrase& phrase);

// Every Chinese UI string, concatenated: the font loader needs their glyphs.
std::string AllTranslatedText();

// The whole table, for tests (specifiers must match in each pair): the UI's own words,
// then NetTranslations().
struct TranslationPair {
    const char* En;
    const char* Zh;
};
std::vector<TranslationPair> Translations();
// The Chinese of every phrase net/ may say (i18n_net.cpp).
std::vector<TranslationPair> NetTranslations();

} // namespace sockscope
