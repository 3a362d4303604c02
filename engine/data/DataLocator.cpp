#include "data/DataLocator.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "util/Errors.h"

namespace fs = std::filesystem;

namespace moelab {

DataLocator::DataLocator(const std::string& cliDataDir) {
  if (!cliDataDir.empty()) roots_.push_back({cliDataDir, "--data-dir"});
  if (const char* env = std::getenv("MOELAB_DATA_DIR"); env && *env)
    roots_.push_back({env, "$MOELAB_DATA_DIR"});
  std::string home;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    home = std::string(xdg) + "/moelab/data";
  else if (const char* h = std::getenv("HOME"); h && *h)
    home = std::string(h) + "/.local/share/moelab/data";
  else
    home = ".moelab-data";
  roots_.push_back({home, "default"});
}

// anyOfLayouts: alternatives separated by '|', each a '+'-joined file list ("a.json+b.bpe|c+d").
std::string DataLocator::find(const std::string& folder, const std::vector<std::string>& anyOfLayouts,
                              const std::string& fetchName) const {
  std::ostringstream tried;
  std::vector<std::string> triedPaths;
  for (const auto& root : roots_) {
    fs::path dir = fs::path(root.path) / folder;
    for (const auto& layout : anyOfLayouts) {
      bool all = true;
      std::string missing;
      std::stringstream files(layout);
      std::string f;
      while (std::getline(files, f, '+')) {
        if (!fs::is_regular_file(dir / f)) {
          all = false;
          missing += (missing.empty() ? "" : ", ") + (dir / f).string();
        }
      }
      if (all) return dir.string();
      tried << "\n  " << missing << "  (" << root.origin << ")";
      triedPaths.push_back(missing);
    }
  }
  throw DataMissingError("data set '" + folder + "' not found. Paths tried:" + tried.str() +
                             "\nFetch it with `moelab-cli data fetch " + fetchName +
                             "` (into the first folder above), or point --data-dir or MOELAB_DATA_DIR at a "
                             "folder holding " +
                             folder + "/",
                         folder, fetchName, triedPaths, fetchRoot());
}

std::string DataLocator::findFile(const std::string& path) const {
  std::ostringstream tried;
  std::vector<fs::path> candidates{fs::path(path)};
  if (fs::path(path).is_relative())
    for (const auto& root : roots_) candidates.push_back(fs::path(root.path) / path);
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c)) return c.string();
    tried << "\n  " << c.string();
  }
  throw DataError("data file '" + path + "' not found. Paths tried:" + tried.str());
}

}  // namespace moelab
