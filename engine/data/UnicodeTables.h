#pragma once
#include <cstddef>
#include <cstdint>

namespace moelab::unicode {

struct CodepointRange {
  uint32_t first, last;
};
extern const CodepointRange kLetterRanges[];
extern const size_t kLetterRangesCount;
extern const CodepointRange kNumberRanges[];
extern const size_t kNumberRangesCount;

bool isLetter(uint32_t cp);      // \p{L}
bool isNumber(uint32_t cp);      // \p{N}
bool isWhitespace(uint32_t cp);  // \s (Unicode White_Space)

}  // namespace moelab::unicode
