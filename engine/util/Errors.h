#pragma once
#include <stdexcept>
#include <string>
#include <vector>

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

// A data set or tokenizer folder found under none of the data roots: names the folder, every path
// tried, where `data fetch` would put it and the fetch name, so a front end can offer to fetch it.
struct DataMissingError : DataError {
  DataMissingError(const std::string& message, std::string folderName, std::string fetch,
                   std::vector<std::string> triedPaths, std::string fetchInto)
      : DataError(message),
        folder(std::move(folderName)),
        fetchName(std::move(fetch)),
        tried(std::move(triedPaths)),
        fetchRoot(std::move(fetchInto)) {}
  std::string folder, fetchName;
  std::vector<std::string> tried;
  std::string fetchRoot;
};

// A download that failed after its retries (network, server, checksum): a runtime failure, not
// bad input; the CLI exits 1.
struct DownloadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The user cancelled a long computation (a profile, an evaluation) through its progress callback.
struct Cancelled : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace moelab
