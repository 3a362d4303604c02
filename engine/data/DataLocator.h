#pragma once
#include <string>
#include <vector>

namespace moelab {

// Where data lives: --data-dir, then $MOELAB_DATA_DIR, then ~/.local/share/moelab/data.
class DataLocator {
 public:
  explicit DataLocator(const std::string& cliDataDir = "");

  struct Root {
    std::string path, origin;  // origin: "--data-dir", "$MOELAB_DATA_DIR", "default"
  };
  const std::vector<Root>& roots() const { return roots_; }
  // Where `data fetch` writes: the first root in search order.
  std::string fetchRoot() const { return roots_.front().path; }

  // The first `root/folder` holding every required file. Throws DataError naming every path tried
  // and the command that fetches the data.
  std::string find(const std::string& folder, const std::vector<std::string>& anyOfLayouts,
                   const std::string& fetchName) const;
  // Resolves a user file (absolute, or relative to the working directory or a root).
  std::string findFile(const std::string& path) const;

 private:
  std::vector<Root> roots_;
};

}  // namespace moelab
