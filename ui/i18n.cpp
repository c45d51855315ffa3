#include "i18n.hpp"

#include "asset_dirs.hpp"

#include "po_file.hpp"

#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>

namespace sockscope {
namespace {

using Table = std::unordered_map<std::string, std::string>;

// The tables Tr() reads, by Lang. Every table ever loaded is kept: Tr() hands out
// pointers into them that panels may hold for a frame.
struct Loaded {
    std::mutex Mutex;
    bool Done = false;
    std::vector<const Table*> ByLang;
    std::deque<Table> Kept;
};

Loaded& State()
{
    static Loaded state;
    return state;
}

std::size_t LangIndex(Lang lang)
{
    return static_cast<std::size_t>(lang);
}

std::vector<std::string> Install(const std::vector<std::string>& dirs, Loaded& state)
{
    std::vector<std::string> problems;
    state.ByLang.assign(Languages().size() + 1, nullptr);
    for (const auto& language : Languages()) {
        if (*language.File == '\0')
            continue;
        std::string path;
        for (const auto& dir : dirs) {
            std::error_code ec;
            auto candidate = std::filesystem::path(dir) / language.File;
            if (std::filesystem::is_regular_file(candidate, ec)) {
                path = candidate.string();
                break;
            }
        }
        std::string fallback = std::string("; ") + language.Name + " shows English";
        if (path.empty()) {
            std::string where;
            for (const auto& dir : dirs)
                where += (where.empty() ? "" : ", ") + dir;
            problems.push_back(std::string("no translation file ") + language.File + " in " + where + fallback);
            continue;
        }
        TranslationFile file;
        std::string error;
        if (!ReadTranslationFile(path, file, error)) {
            problems.push_back(error + fallback);
            continue;
        }
        if (!file.Missing.empty())
            problems.push_back(path + ": " + std::to_string(file.Missing.size()) +
                               " texts have no translation and are shown in English, the first: \"" +
                               file.Missing.front() + "\"");
        for (const auto& unknown : file.Unknown)
            problems.push_back(path + ": \"" + unknown + "\" is not a text sockscope shows; ignored");
        Table& table = state.Kept.emplace_back();
        for (auto& [english, translated] : file.Texts)
            table.emplace(std::move(english), std::move(translated));
        state.ByLang[LangIndex(language.Id)] = &table;
    }
    state.Done = true;
    return problems;
}

const Table* TableFor(Lang lang)
{
    Loaded& state = State();
    std::lock_guard lock(state.Mutex);
    if (!state.Done)
        Install(TranslationDirs(), state);
    std::size_t index = LangIndex(lang);
    return index < state.ByLang.size() ? state.ByLang[index] : nullptr;
}

} // namespace

const std::vector<LanguageInfo>& Languages()
{
    static const std::vector<LanguageInfo> languages = {
        {Lang::En, "en", "English", ""},
        {Lang::Zh, "zh", "\xe7\xae\x80\xe4\xbd\x93\xe4\xb8\xad\xe6\x96\x87", "zh_CN.po"}, // 简体中文
    };
    return languages;
}

const char* Tr(Lang lang, const char* english)
{
    const Table* table = TableFor(lang);
    if (!table)
        return english;
    auto it = table->find(english);
    return it == table->end() ? english : it->second.c_str();
}

std::string Tr(Lang lang, const Phrase& phrase)
{
    if (phrase.Empty())
        return {};
    return FillIn(Tr(lang, phrase.Key.c_str()), phrase.Args);
}

std::string AllTranslatedText()
{
    for (const auto& language : Languages())
        TableFor(language.Id); // loads them if nobody has yet
    Loaded& state = State();
    std::lock_guard lock(state.Mutex);
    std::string all;
    for (const Table* table : state.ByLang)
        if (table)
            for (const auto& [english, translated] : *table)
                all += translated;
    return all;
}

std::vector<std::string> TranslationKeys()
{
    std::vector<std::string> keys;
    std::set<std::string_view> seen;
    for (std::string_view key : UiTexts())
        if (seen.insert(key).second)
            keys.emplace_back(key);
    for (std::string_view key : PhraseKeys())
        if (seen.insert(key).second)
            keys.emplace_back(key);
    return keys;
}

std::vector<std::string> TranslationDirs(const std::string& first)
{
#ifndef SOCKSCOPE_SOURCE_I18N
#define SOCKSCOPE_SOURCE_I18N nullptr
#endif
#ifndef SOCKSCOPE_INSTALL_I18N
#define SOCKSCOPE_INSTALL_I18N nullptr
#endif
    return AssetDirs(first, "i18n", SOCKSCOPE_SOURCE_I18N, SOCKSCOPE_INSTALL_I18N);
}

std::vector<std::string> LoadTranslations(const std::vector<std::string>& dirs)
{
    Loaded& state = State();
    std::lock_guard lock(state.Mutex);
    return Install(dirs, state);
}

bool ReadTranslationFile(const std::string& path, TranslationFile& file, std::string& error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open the file";
        return false;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    auto entries = ParsePo(buffer.str(), path, error);
    if (!entries)
        return false;
    std::vector<std::string> keys = TranslationKeys();
    std::set<std::string_view> known(keys.begin(), keys.end());
    std::set<std::string> translated;
    for (auto& entry : *entries) {
        if (!known.count(entry.Id)) {
            file.Unknown.push_back(entry.Id);
            continue;
        }
        if (entry.Str.empty() || entry.Fuzzy)
            continue;
        translated.insert(entry.Id);
        file.Texts.emplace_back(std::move(entry.Id), std::move(entry.Str));
    }
    for (const auto& key : keys)
        if (!translated.count(key))
            file.Missing.push_back(key);
    return true;
}

} // namespace sockscope
