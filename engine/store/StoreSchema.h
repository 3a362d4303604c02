#pragma once

namespace moelab {

// The experiment database's schema history: entry i migrates version i to i + 1
// (ExperimentStore::kSchemaVersion entries). Never edit a released entry; append.
extern const char* const kStoreMigrations[];

}  // namespace moelab
