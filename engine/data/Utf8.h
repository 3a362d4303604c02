#pragma once
#include <cstdint>
#include <string>

namespace moelab::utf8 {

// Decodes the code point at s[i] and advances i. Invalid bytes decode as themselves (U+0080..FF
// range is never produced for them; they come back as 0xFFFD) so that no input can throw.
uint32_t next(const std::string& s, size_t& i);
void append(std::string& out, uint32_t cp);

}  // namespace moelab::utf8
