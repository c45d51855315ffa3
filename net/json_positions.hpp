// Where each value of a JSON text starts, by path, so that an error about a value (a
// lesson file's "steps[2].calls[0].port") can name its line and column. The JSON
// library we use does not keep positions; this is a small scanner over the same text.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace sockscope {

// Byte offset of every value, keyed "key", "key.sub", "list[3].key" ("" for the root).
// Pure and tolerant: on malformed text it returns what it found before the fault.
std::map<std::string, std::size_t> JsonValueOffsets(std::string_view text);

// "line:column" (both from 1) of a byte offset.
std::string LineColumn(std::string_view text, std::size_t offset);

// The offset of `path`, or of its nearest enclosing value that has one ("a.b[2].c" ->
// "a.b[2]" -> "a.b" -> "a" -> root), or 0.
std::size_t OffsetOf(const std::map<std::string, std::size_t>& offsets, std::string path);

} // namespace sockscope
