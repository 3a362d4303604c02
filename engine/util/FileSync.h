#pragma once
#include <string>

namespace moelab {

// fsync a file (its contents) or a folder (the names in it, e.g. after a rename), so that what was
// written survives a crash of the machine. Throws std::runtime_error naming the path.
void syncToDisk(const std::string& path, bool directory);

}  // namespace moelab
