#!/usr/bin/env bash
# Runs the desktop app under Xvfb (offscreen when xvfb-run is missing) with a tiny real run and
# saves every view as docs/screenshots/<view>.png. Two tiny runs are trained first with the CLI into
# the same database (a gnn_moe to compare with, a sparse_moe for the usage, routing and network views),
# then two small sweeps (the Sweeps pane).
# Usage: scripts/screenshots.sh [OUTDIR]   (data: $MOELAB_DATA_DIR, default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
export MOELAB_DATA_DIR="${MOELAB_DATA_DIR:-$(cd .. && pwd)/shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/tiny.json" <<'JSON'
{
  "model": {"architecture": "gnn_moe", "embed_dim": 64, "num_layers": 2, "num_heads": 4,
            "num_experts": 4, "gnn_layers": 1, "max_seq_length": 64},
  "data": {"dataset": "wikitext-2", "tokenizer": "gpt2", "num_train_samples": 2000, "num_eval_samples": 64},
  "train": {"batch_size": 8, "max_steps": 60, "eval_every": 15, "eval_batches": 4, "log_every": 1,
            "warmup_steps": 10, "seed": 7}
}
JSON
build/bin/moelab-cli train "$work/tiny.json" --db "$work/shots.db" --name "two experts" \
  --set model.num_experts=2 --set train.learning_rate=0.002 > "$work/cli.log" 2>&1
# A sparse top-2 MoE of 8 experts for the usage and routing views and the network pane.
build/bin/moelab-cli train "$work/tiny.json" --db "$work/shots.db" --name "sparse top-2 of 8" \
  --set model.architecture=sparse_moe --set model.num_experts=8 --set model.top_k=2 \
  --set model.position=rope --set model.norm=rmsnorm --set train.learning_rate=0.002 >> "$work/cli.log" 2>&1
# Two small sweeps for the Sweeps pane: width x learning rate of the gnn_moe, width of a dense
# baseline (the scaling view compares the two architectures).
sed -e 's/"max_steps": 60, "eval_every": 15/"max_steps": 30, "eval_every": 10/' "$work/tiny.json" > "$work/sweep-base.json"
cat > "$work/width-lr.json" <<'JSON'
{"name": "width x lr (gnn_moe)", "base": "sweep-base.json", "method": "grid", "max_concurrent": 2,
 "parameters": [{"key": "model.embed_dim", "values": [32, 64, 96]},
                {"key": "train.learning_rate", "values": [0.001, 0.003]}]}
JSON
cat > "$work/width-dense.json" <<'JSON'
{"name": "width (dense)", "base": "sweep-base.json", "method": "grid", "max_concurrent": 2,
 "parameters": [{"key": "model.architecture", "values": ["dense"]},
                {"key": "model.embed_dim", "values": [32, 64, 96, 128]}]}
JSON
build/bin/moelab-cli sweep run "$work/width-dense.json" --db "$work/shots.db" >> "$work/cli.log" 2>&1
build/bin/moelab-cli sweep run "$work/width-lr.json" --db "$work/shots.db" >> "$work/cli.log" 2>&1
# A data-parallel run (2 ranks): its page adds the per-rank step-time chart (run-ranks.png).
build/bin/moelab-cli train "$work/tiny.json" --db "$work/shots.db" --name "two ranks" --nproc 2 \
  --set train.learning_rate=0.002 >> "$work/cli.log" 2>&1
run_app=(build/bin/moelab --db "$work/shots.db" --experiment "$work/tiny.json" --start --screenshots "$out")
export XDG_CONFIG_HOME="$work/config"  # the user's recent databases stay as they are
if command -v xvfb-run > /dev/null; then
  xvfb-run -a -s "-screen 0 1600x1000x24" "${run_app[@]}"
else
  QT_QPA_PLATFORM=offscreen "${run_app[@]}"
fi
ls -1 "$out"/*.png
