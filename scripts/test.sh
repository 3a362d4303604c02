#!/usr/bin/env bash
# Installs dependencies (idempotent), builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
build_start=$(date +%s)
cmake --build build
echo "build: $(( $(date +%s) - build_start )) s (ccache: $(ccache -s 2>/dev/null | grep -m1 -i 'hits:' | xargs))"
cd build
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2
