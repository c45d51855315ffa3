// The UI's own words and the lab's phrases in the user's language. The translations are
// data: one gettext file per language in assets/i18n/ (zh_CN.po: msgid English, msgstr
// Chinese), read at start. English is the keys themselves, so it needs no file and is
// what any missing or broken translation falls back to. Lesson texts carry their own
// translations (lesson.hpp); these are the labels around them.
#pragma once

#include "lesson.hpp"
#include "phrase.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sockscope {

// A language the picker offers. Adding one: a row here (and a Lang value), and its file.
struct LanguageInfo {
    Lang Id;
    const char* Code; // --lang and the settings file: "en", "zh"
    const char* Name; // in the language itself, for the picker
    const char* File; // in assets/i18n/; "" for English (the keys)
};
const std::vector<LanguageInfo>& Languages();

// The translation of an English UI string (which is also its key). Strings with printf
// specifiers keep the same specifiers in the same order. Falls back to English. The
// text lives as long as the program. UI thread (or one thread at a time).
const char* Tr(Lang lang, const char* english);

// What the lab said (net/phrase.hpp) in the UI's language: the key translated, then
// the arguments filled in as they are. "" for an empty phrase.
std::string Tr(Lang lang, const Phrase& phrase);

// Every translated text of every language loaded, concatenated: the font loader needs
// their glyphs.
std::string AllTranslatedText();

// The key list: every text the GUI translates (i18n_keys.cpp), then every phrase net/
// may say, each once. A translation file holds these and nothing else.
std::vector<std::string_view> UiTexts();
std::vector<std::string> TranslationKeys();

// Where translation files are looked for, first match wins: `first` (the app passes
// $SOCKSCOPE_I18N; "" for none), next to the executable (an installed copy's
// ../share/sockscope/i18n, the build tree's assets/i18n), the source tree, the install
// prefix.
std::vector<std::string> TranslationDirs(const std::string& first = "");

// Reads each language's file from the first of `dirs` that has one and makes it what
// Tr() shows. Returns one line per problem, for stderr: a file missing or broken (that
// language then shows English), texts not translated, texts the program does not know.
// Until it is called, the first Tr() loads from TranslationDirs() and says nothing.
std::vector<std::string> LoadTranslations(const std::vector<std::string>& dirs);

// One file read and checked against the key list: its translations (untranslated and
// unknown texts left out) and what is wrong with it. False when it cannot be read or
// parsed (`problems` says why).
struct TranslationFile {
    std::vector<std::pair<std::string, std::string>> Texts; // English, translation
    std::vector<std::string> Missing;                        // keys with no translation
    std::vector<std::string> Unknown;                        // msgids that are not keys
};
bool ReadTranslationFile(const std::string& path, TranslationFile& file, std::string& error);

} // namespace sockscope
