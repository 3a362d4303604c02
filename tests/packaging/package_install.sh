#!/usr/bin/env bash
# Builds the Debian package, unpacks it into a temporary root (dpkg-deb -x, no root needed) and runs
# the installed moelab-cli there: version, presets from /usr/share/moelab/experiments, a config check
# and parameter count through the installed engine module, the generated bash completion. Then the
# validators: desktop-file-validate, appstreamcli, lintian (errors fail; warnings are printed).
# Usage: package_install.sh BUILD_DIR DATA_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
data=$(cd "$2" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --build "$build" --target package >/dev/null 2>&1 || fail "building the package failed (cmake --build $build --target package)"
deb=$(ls -t "$build"/moelab_*_amd64.deb | head -1)
[ -f "$deb" ] || fail "no .deb in $build"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
cli="$root/usr/bin/moelab-cli"
for f in usr/bin/moelab usr/bin/moelab-cli usr/share/applications/org.moelab.MoELab.desktop \
         usr/share/metainfo/org.moelab.MoELab.metainfo.xml usr/share/icons/hicolor/scalable/apps/org.moelab.MoELab.svg \
         usr/share/man/man1/moelab-cli.1.gz usr/share/bash-completion/completions/moelab-cli \
         usr/share/moelab/experiments/quickstart.json usr/share/doc/moelab/copyright; do
  [ -e "$root/$f" ] || fail "$f missing from the package"
done
ls "$root"/usr/lib/*/moelab/moelab-engine.so >/dev/null 2>&1 || fail "engine module missing from the package"

"$cli" --version | grep -q "^moelab-cli [0-9]" || fail "--version"
"$cli" presets | grep -q "$root/usr/share/moelab/experiments/quickstart.json" ||
  fail "presets are not found under the installed /usr/share/moelab/experiments"
work=$(mktemp -d)
trap 'rm -rf "$root" "$work"' EXIT
cd "$work"
out=$(MOELAB_DATA_DIR="$data" "$cli" params quickstart) || fail "installed moelab-cli params quickstart: $out"
echo "$out" | grep -q "total" || fail "params printed no total: $out"
set +e
bad=$("$cli" params quickstart --set model.num_experts=0 2>&1)
code=$?
set -e
[ $code -eq 2 ] || fail "a bad --set should exit 2 (got $code): $bad"
echo "$bad" | grep -q "model.num_experts" || fail "bad config message does not name the key: $bad"
zcat "$root/usr/share/man/man1/moelab-cli.1.gz" | grep -q "model.num_experts" || fail "man page lacks config keys"

# The completion completes commands and --set keys (sourced in a non-interactive bash).
completion="$root/usr/share/bash-completion/completions/moelab-cli"
got=$(bash -c "source '$completion'; COMP_WORDS=(moelab-cli tr); COMP_CWORD=1; _moelab_cli; echo \${COMPREPLY[*]}")
[ "$got" = "train" ] || fail "completion of 'tr' gave '$got'"
got=$(bash -c "source '$completion'; COMP_WORDS=(moelab-cli train x --set model.archi); COMP_CWORD=4; _moelab_cli; echo \${COMPREPLY[*]}")
[ "$got" = "model.architecture=" ] || fail "completion of --set model.archi gave '$got'"

cd "$root"
desktop-file-validate usr/share/applications/org.moelab.MoELab.desktop || fail "desktop-file-validate"
appstreamcli validate --no-net usr/share/metainfo/org.moelab.MoELab.metainfo.xml >/dev/null || fail "appstreamcli validate"
if command -v lintian >/dev/null; then
  lint=$(lintian "$deb" 2>&1 | grep -v "running with root privileges" || true)
  [ -z "$lint" ] || echo "$lint"
  echo "$lint" | grep -q "^E:" && fail "lintian errors"
fi
echo "package ok: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
