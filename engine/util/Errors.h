#pragma once
#include <stdexcept>
#include <string>

namespace moelab {

// Bad input from the user (config, paths, ids, data): the CLI exits 2 and prints the message.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ConfigError : UserError {
  using UserError::UserError;
};

struct DataError : UserError {
  using UserError::UserError;
};

// A download that failed after its retries (network, server, checksum): a runtime failure, not
// bad input; the CLI exits 1.
struct DownloadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace moelab
