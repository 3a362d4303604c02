#!/usr/bin/env bash
# Installs dependencies (idempotent), builds, and trains the quickstart experiment.
# Data comes from --data-dir / $MOELAB_DATA_DIR / ~/.local/share/moelab/data; if WikiText-2 or the
# GPT-2 vocabulary is missing there, the run stops and names the `moelab-cli data fetch` command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
build/bin/moelab-cli train experiments/quickstart.json "$@"
