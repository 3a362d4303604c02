#pragma once
#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace moelab {

struct FetchFile {
  std::string url;      // public source
  std::string relPath;  // where it lands under the data folder, e.g. "wikitext-2/wiki.train.tokens"
  std::string sha256;
};

struct FetchDataset {
  std::string name, description;
  std::vector<FetchFile> files;
};

// The data sets `moelab-cli data fetch` knows, with their public sources and SHA-256.
const std::vector<FetchDataset>& knownDatasets();
const FetchDataset& findDataset(const std::string& name);  // throws UserError listing known names

// The user cancelled a download (DataFetcher::setCancelFlag); the partial file was removed.
struct FetchCancelled : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FetchProgress {
  std::string relPath;
  int64_t bytes = 0, total = 0;  // total 0 = unknown
};

struct FetchOutcome {
  std::string relPath;
  bool skipped = false;  // present with the right SHA-256
  int64_t bytes = 0;
};

// Downloads into a data folder with SHA-256 verification. A file only appears under its final
// name once verified (download to .part, check, rename); files already present and correct are
// skipped. A dropped connection is retried; a checksum mismatch is an error that leaves nothing.
class DataFetcher {
 public:
  DataFetcher(std::string root, std::function<void(const FetchProgress&)> progress = {});
  // Fetch from `mirror + "/" + relPath` instead of each file's url (a local or internal mirror).
  void setMirror(std::string mirrorBaseUrl) { mirror_ = std::move(mirrorBaseUrl); }
  void setMaxAttempts(int n) { maxAttempts_ = n; }
  // While *flag is true the current transfer aborts and fetch() throws FetchCancelled.
  void setCancelFlag(const std::atomic<bool>* flag) { cancel_ = flag; }
  // Wait before retry r (1-based) is backoff * 2^(r-1) seconds.
  void setBackoffSeconds(double s) { backoffSeconds_ = s; }
  // Throws DownloadError naming the file and what went wrong after the retries (connection drops,
  // HTTP 5xx, bodies cut short, checksum mismatches are retried; other HTTP errors are not).
  std::vector<FetchOutcome> fetch(const FetchDataset& ds);

 private:
  FetchOutcome fetchFile(const FetchFile& f);
  std::string root_, mirror_;
  std::function<void(const FetchProgress&)> progress_;
  const std::atomic<bool>* cancel_ = nullptr;
  int maxAttempts_ = 4;
  double backoffSeconds_ = 1.0;
};

}  // namespace moelab
