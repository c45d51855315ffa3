#include "phrase.hpp"

#include <iterator>
#include <ostream>

namespace sockscope {
namespace {

constexpr const char* kKeys[] = {
#define SOCKSCOPE_PHRASE_KEY(id, key) key,
    SOCKSCOPE_PHRASES(SOCKSCOPE_PHRASE_KEY)
#undef SOCKSCOPE_PHRASE_KEY
};

} // namespace

const char* PhraseKey(PhraseId id)
{
    auto index = static_cast<std::size_t>(id);
    return index < std::size(kKeys) ? kKeys[index] : "";
}

std::vector<std::string_view> PhraseKeys()
{
    return std::vector<std::string_view>(std::begin(kKeys), std::end(kKeys));
}

std::string FillIn(std::string_view key, const std::vector<std::string>& args)
{
    std::string out;
    out.reserve(key.size());
    std::size_t next = 0;
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (key[i] == '%' && i + 1 < key.size()) {
            if (key[i + 1] == '%') {
                out += '%';
                ++i;
                continue;
            }
            if (key[i + 1] == 's' && next < args.size()) {
                out += args[next++];
                ++i;
                continue;
            }
        }
        out += key[i];
    }
    return out;
}

std::ostream& operator<<(std::ostream& out, const Phrase& phrase)
{
    return out << phrase.English();
}

} // namespace sockscope
