#!/usr/bin/env bash
# Installs dependencies (idempotent), builds, then opens the desktop app with the quickstart
# experiment training (or, without a display, trains it with the CLI).
# Data comes from --data-dir / $MOELAB_DATA_DIR / ~/.local/share/moelab/data; if WikiText-2 or the
# GPT-2 vocabulary is missing there, the app offers to fetch it (the CLI names the fetch command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -x build/bin/moelab ]]; then
  exec build/bin/moelab --experiment experiments/quickstart.json --start "$@"
fi
echo "no display: training experiments/quickstart.json with moelab-cli (watch it in the app with: build/bin/moelab --db moelab.db)"
exec build/bin/moelab-cli train experiments/quickstart.json "$@"
