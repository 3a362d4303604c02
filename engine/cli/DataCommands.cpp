// data fetch/list and tokenize.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>

#include "cli/CliArgs.h"
#include "cli/Commands.h"
#include "data/DataFetcher.h"
#include "data/DataLocator.h"
#include "data/Gpt2Tokenizer.h"
#include "util/Errors.h"
#include "util/Sha256.h"

namespace moelab::cli {
namespace {

void drawBar(const FetchProgress& p) {
  static bool tty = isatty(STDERR_FILENO);
  if (!tty) return;
  const int width = 30;
  double frac = p.total > 0 ? double(p.bytes) / double(p.total) : 0;
  int fill = int(frac * width);
  std::fprintf(stderr, "\r  %-32s [%s%s] %5.1f%% %7.2f MB", p.relPath.c_str(),
               std::string(size_t(fill), '#').c_str(), std::string(size_t(width - fill), ' ').c_str(),
               100 * frac, double(p.bytes) / 1e6);
  std::fflush(stderr);
}

// Each known file: where it was found (first folder in search order) and whether its SHA-256
// matches. Returns 1 when a file is damaged, so scripts can tell.
int listData(const DataLocator& locator, bool verify) {
  std::printf("data folders, in search order:\n");
  for (const auto& r : locator.roots()) std::printf("  %s  (%s)\n", r.path.c_str(), r.origin.c_str());
  bool damaged = false;
  for (const auto& d : knownDatasets()) {
    std::printf("%-16s %s\n", d.name.c_str(), d.description.c_str());
    for (const auto& f : d.files) {
      std::string where;
      for (const auto& r : locator.roots())
        if (where.empty() && std::filesystem::is_regular_file(r.path + "/" + f.relPath)) where = r.path;
      std::string state;
      if (where.empty())
        state = "missing (moelab-cli data fetch " + d.name + ")";
      else if (!verify)
        state = "present, unverified, in " + where;
      else if (Sha256::ofFile(where + "/" + f.relPath) == f.sha256)
        state = "ok (SHA-256 verified) in " + where;
      else {
        state =
            "DAMAGED: SHA-256 mismatch in " + where + " (moelab-cli data fetch " + d.name + " replaces it)";
        damaged = true;
      }
      std::printf("    %-36s %s\n", f.relPath.c_str(), state.c_str());
    }
  }
  return damaged ? 1 : 0;
}

}  // namespace

int dataCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"quick"}, {"data-dir", "mirror"});
  if (a.positional.empty()) throw UserError("data needs a subcommand: fetch NAME... or list");
  DataLocator locator(a.get("data-dir"));
  if (a.positional[0] == "list") return listData(locator, !a.has("quick"));
  if (a.positional[0] != "fetch")
    throw UserError("unknown data subcommand '" + a.positional[0] + "' (fetch, list)");
  if (a.positional.size() < 2)
    throw UserError("data fetch needs at least one NAME (wikitext-2 gpt2-bpe tinyshakespeare lambada)");
  std::vector<const FetchDataset*> sets;
  for (size_t i = 1; i < a.positional.size(); ++i) sets.push_back(&findDataset(a.positional[i]));
  DataFetcher fetcher(locator.fetchRoot(), drawBar);
  if (a.has("mirror")) fetcher.setMirror(a.get("mirror"));
  std::fprintf(stderr, "fetching into %s\n", locator.fetchRoot().c_str());
  for (const auto* ds : sets) {
    for (const auto& o : fetcher.fetch(*ds)) {
      if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r%80s\r", "");
      std::fprintf(stderr, "  %-32s %s (%.2f MB)\n", o.relPath.c_str(),
                   o.skipped ? "already present, SHA-256 ok" : "downloaded, SHA-256 ok",
                   double(o.bytes) / 1e6);
    }
  }
  return 0;
}

int tokenizeCommand(const Words& words) {
  auto a = CliArgs::parse(words, {}, {"tokenizer", "data-dir"});
  std::string name = a.get("tokenizer", "gpt2");
  if (name != "gpt2")
    throw UserError(
        "--tokenizer: only gpt2 can tokenize standalone (word/char vocabularies are built from a training "
        "split)");
  const Gpt2Tokenizer tok(Gpt2Tokenizer::locate(DataLocator(a.get("data-dir"))));
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::cout << nlohmann::json(tok.encode(text)).dump() << "\n";
  return 0;
}

}  // namespace moelab::cli
