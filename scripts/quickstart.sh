#!/usr/bin/env bash
# Installs dependencies (idempotent), builds, then opens the desktop app with the quickstart
# experiment training (or, without a display, trains it with the CLI).
# The quickstart's data (WikiText-2, the GPT-2 vocabulary) is fetched first into $MOELAB_DATA_DIR, or
# ~/.local/share/moelab/data when unset: SHA-256 verified, skipped when already present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
if ! build/bin/moelab-cli data fetch wikitext-2 gpt2-bpe; then
  echo "quickstart: the data could not be fetched (offline?). Put it under ${MOELAB_DATA_DIR:-$HOME/.local/share/moelab/data}," >&2
  echo "or fetch from a mirror: build/bin/moelab-cli data fetch wikitext-2 gpt2-bpe --mirror URL" >&2
  exit 1
fi
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -x build/bin/moelab ]]; then
  exec build/bin/moelab --experiment experiments/quickstart.json --start "$@"
fi
echo "no display: training experiments/quickstart.json with moelab-cli (watch it in the app with: build/bin/moelab --db moelab.db)"
exec build/bin/moelab-cli train experiments/quickstart.json "$@"
