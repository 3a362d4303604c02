#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/CliDocs.h"
#include "cli/Commands.h"
#include "cli/EngineModule.h"
#include "cli/Presets.h"
#include "config/ConfigSchema.h"
#include "util/BuildInfo.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

const char* kUsage = R"(moelab-cli: MoE Lab headless command line

Usage:
  moelab-cli train CONFIG [--db F] [--data-dir D] [--set k=v]... [--max-steps N] [--threads N]
                          [--checkpoint-dir D] [--name NAME]
  moelab-cli train CONFIG --init-from RUN_ID [--init-which best|last] [--set k=v]...
                          (fine-tune: a new run from that run's weights, e.g. with model.gini_loss_coef)
  moelab-cli train --resume RUN_ID [CONFIG] [--set k=v]... [--max-steps N] [--extend] [--force]
                          (only threads/log_every/eval_every/checkpoint_* may change; a longer
                           horizon needs --extend: the learning rate then decays smoothly from its
                           current value; changes are recorded in the run; --force resumes a run
                           still marked running whose process you know is gone)
  moelab-cli train ... --nproc N [--nnodes M --node-rank R --master ADDR:PORT] [--backend gloo|auto]
                          [--dist-timeout SECONDS]
                          (data parallel on c10d: N ranks on this machine share --threads and each
                           global batch; rank 0 records the run; a rank that dies ends the job within
                           the timeout; resume with the same --nproc. torchrun's RANK/WORLD_SIZE/
                           MASTER_ADDR/MASTER_PORT environment is honoured)
  moelab-cli runs list [--db F] [--json]
  moelab-cli runs show ID [--db F] [--json]
  moelab-cli runs compare ID ID... [--csv OUT|-] [--db F]      (configs and final/best metrics side by side)
  moelab-cli metrics export --run ID --csv OUT|- [--key KEY] [--wide] [--db F]
                          (long: run,key,step,value,wall_time; --wide: one row per step, a column per key)
  moelab-cli report (--run ID | --runs ID,ID...) --out DIR [--db F]
                          (DIR/index.html with config, provenance and metric tables, plus the CSVs;
                           the desktop app's Export report adds the charts)
  moelab-cli params CONFIG [--set k=v]... [--data-dir D] [--json]
  moelab-cli tokenize --tokenizer gpt2 [--data-dir D]          (stdin text -> JSON ids)
  moelab-cli eval (--run ID [--which best|last] [--db F] | --checkpoint F) [--split valid|test|train | --file F]
                          [--mode lines|strided] [--context N] [--stride N] [--max-samples N]
                          [--batch-size N] [--threads N] [--data-dir D] [--json] [--no-store]
                          (lines: each line a sample, as the seed scored; strided: the text as one
                           stream, windows of --context tokens every --stride; stored with the run)
  moelab-cli eval (--run ID | --checkpoint F) --lambada [--lambada-file F] [--max-samples N] [--json]
                          (LAMBADA last-word accuracy and word perplexity)
  moelab-cli profile (--run ID [--which best|last] | --checkpoint F) [--split valid|test|train | --file F]
                          [--strategy S] [--positions N] [--shards G] [--max-samples N] [--batch-size N]
                          [--perplexity] [--json] [--csv OUT] [--no-store] [--db F] [--data-dir D]
                          [--threads N]
                          (every routing decision per layer and expert: counts, Gini, CV, entropy,
                           max/mean, dead experts; by position bucket and data-parallel shard; gnn_moe:
                           effective coupling; a fine-tuned run is compared with its parent;
                           --perplexity also scores the text, which adds the LM head's cost)
  moelab-cli reassign (--run ID | --checkpoint F) [--strategies S,S...] [--cluster PRESET | --scenario F]
                          [--set path=value]... [--split ...] [--max-samples N] [--json] [--csv OUT]
                          (S: balanced round_robin random[:SEED] topk_filtered[:M] temperature[:T];
                           perplexity, imbalance and simulated all-to-all time of each vs top-k)
  moelab-cli export-weights (--run ID [--which best|last] [--db F] | --checkpoint F) --out F.safetensors
                                                                 (layout: docs/WEIGHTS.md)
  moelab-cli data fetch NAME... [--data-dir D] [--mirror URL]   (wikitext-2 gpt2-bpe tinyshakespeare lambada)
  moelab-cli data list [--data-dir D] [--quick]                (SHA-256 checked; --quick: presence only;
                                                                 exit 1 when a file is damaged)
  moelab-cli bench CONFIG [--steps N] [--warmup N] [--set k=v]... [--threads N] [--data-dir D] [--op-shapes] [--json]
  moelab-cli bench CONFIG --nproc N [--threads N] ...         (one process, then N data-parallel ranks on
                                                                 the same global batch: step split into
                                                                 compute / all-reduce / idle, scaling efficiency)
  moelab-cli simulate SCENARIO.json [--set path=value]... [--json] [--csv OUT] [--bench]
                   [--traffic-from-run ID [--step N] | --traffic-from-profile ID] [--db F]
                          (expert-parallel all-to-all simulator; a sparse_moe run's logged expert
                           counts, or a stored routing profile's, as the traffic)
  moelab-cli sweep preview SPEC.json [--json]                   (the points a sweep expands to; invalid
                                                                 combinations with the engine's message)
  moelab-cli sweep run SPEC.json [--db F] [--concurrency N] [--threads N] [--data-dir D] [--name NAME]
                          (runs every point, N at a time, the --threads cores divided among them;
                           Ctrl-C or kill leaves it resumable; presets in experiments/sweeps/)
  moelab-cli sweep resume ID [--db F] [--concurrency N] [--threads N] [--data-dir D]
                          (finished, failed and pruned points are skipped; interrupted runs resume
                           from their checkpoints; points that never ran start)
  moelab-cli sweep list [--db F] [--json]
  moelab-cli sweep show ID [--db F] [--json]
  moelab-cli sweep export ID --csv OUT|- [--db F]              (the seed's sweep columns, then every
                                                                 swept key, status and metrics)
  moelab-cli config-help                                         (every config key)
  moelab-cli presets                                             (the shipped experiment, scenario and
                                                                 sweep presets; CONFIG, SCENARIO and SPEC
                                                                 may name one: `train quickstart`)
  moelab-cli --version                                           (version, commit, LibTorch, BLAS)

Every command takes --help.
)";

const char* kFooter = R"(
Data is looked up in --data-dir, then $MOELAB_DATA_DIR, then ~/.local/share/moelab/data.
Exit codes: 0 ok, 1 runtime failure, 2 bad input, 130 stopped by Ctrl-C/SIGTERM (train: `last`
saved, resume with --resume).
)";

// The usage lines of one command (its "moelab-cli CMD" lines and their continuation lines).
std::string commandUsage(const std::string& cmd) {
  std::istringstream in(kUsage);
  std::string line, out;
  bool inside = false;
  const std::string head = "  moelab-cli " + cmd;
  while (std::getline(in, line)) {
    if (line.rfind("  moelab-cli ", 0) == 0)
      inside =
          line.compare(0, head.size(), head) == 0 && (line.size() == head.size() || line[head.size()] == ' ');
    else if (line.rfind("    ", 0) != 0)
      inside = false;
    if (inside) out += line + "\n";
  }
  return out;
}

}  // namespace

const char* usageText() {
  return kUsage;
}
const char* usageFooter() {
  return kFooter;
}

int runCli(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    std::cout << kUsage << kFooter;
    return words.empty() ? 2 : 0;
  }
  if (words[0] == "--version" || words[0] == "-V") {
    std::cout << buildinfo::versionText("moelab-cli");
    return 0;
  }
  if (words[0] == "--man") {  // packaging: the man page and completion come from this program
    std::cout << manPage();
    return 0;
  }
  if (words[0] == "--bash-completion") {
    std::cout << bashCompletion();
    return 0;
  }
  const std::map<std::string, int (*)(const Words&)> commands = {
      {"runs", runsCommand},   {"metrics", metricsCommand},   {"tokenize", tokenizeCommand},
      {"data", dataCommand},   {"simulate", simulateCommand}, {"report", reportCommand},
      {"sweep", sweepCommand}, {"presets", presetsCommand}};
  resolvePresetArgument(words);
  const std::string cmd = words[0];
  Words rest(words.begin() + 1, words.end());
  try {
    if (cmd == "config-help") {
      std::cout << "Experiment config keys (JSON sections; override with --set section.key=value):\n"
                << ConfigSchema::experiment().helpText();
      return 0;
    }
    auto it = commands.find(cmd);
    const bool inModule = runsInEngineModule(cmd, rest);
    if (it == commands.end() && !inModule)
      throw UserError("unknown command '" + cmd + "' (see moelab-cli --help)");
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end() ||
        std::find(rest.begin(), rest.end(), "-h") != rest.end()) {
      std::cout << "Usage:\n" << commandUsage(cmd) << kFooter;
      return 0;
    }
    return inModule ? runInEngineModule(cmd, rest) : it->second(rest);
  } catch (const UserError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace moelab::cli
