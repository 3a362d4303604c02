#!/usr/bin/env bash
# Fault injection against moelab-cli: kill -9 at random moments with resumes, several processes
# creating and writing one new database at once, damaged checkpoints and databases, oversize
# configs. Prints one line per check and a summary; exits 1 if any check failed.
#
#   tests/reliability/reliability.sh [--short] [--kills N] [--writers N] [--cli PATH] [--data DIR] [--work DIR]
#
# The full form (20 kills of a quickstart run, 4 writers) takes a few minutes on 2 cores; --short
# (3 kills of a tiny run, 3 writers) is what ctest runs. docs/RELIABILITY.md has the results.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cli="$root/build/bin/moelab-cli"
data="$root/../shared/data"
work=""
kills=20
writers=4
short=0
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1; kills=3; writers=3 ;;
    --kills) kills="$2"; shift ;;
    --writers) writers="$2"; shift ;;
    --cli) cli="$2"; shift ;;
    --data) data="$2"; shift ;;
    --work) work="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$cli" ] || { echo "no moelab-cli at $cli (build first or pass --cli)" >&2; exit 2; }
[ -d "$data" ] || { echo "no data folder at $data (pass --data)" >&2; exit 2; }
if [ -z "$work" ]; then work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
export MOELAB_DATA_DIR="$data"

failures=0
pass() { printf 'ok    %s\n' "$1"; }
fail() { printf 'FAIL  %s\n' "$1"; failures=$((failures + 1)); }
# check NAME EXPECTED_EXIT COMMAND...: runs it, keeps stderr in $work/last.err
check_exit() {
  local name="$1" want="$2"; shift 2
  "$@" >"$work/last.out" 2>"$work/last.err"
  local got=$?
  if [ "$got" -eq "$want" ]; then pass "$name (exit $got)"; else fail "$name: exit $got, expected $want: $(head -c 300 "$work/last.err")"; fi
}
integrity() {  # the SQLite file exists and passes PRAGMA integrity_check
  [ -s "$1" ] && python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0]; sys.exit(0 if r=="ok" else 1)' "$1"
}
curve() {  # run's train/loss and val/loss as "key,step,value" lines (wall times differ between runs)
  "$cli" metrics export --db "$1" --run "$2" --csv - | awk -F, 'NR>1 && ($2=="train/loss" || $2=="val/loss") {print $2","$3","$4}'
}

if [ "$short" -eq 1 ]; then
  cfg=(--set model.embed_dim=32 --set model.num_heads=2 --set model.num_experts=2 --set data.tokenizer=char
       --set data.num_train_samples=800 --set data.num_eval_samples=32 --set train.batch_size=8
       --set train.max_batches_per_epoch=1000 --set train.max_steps=120 --set train.eval_every=30
       --set train.log_every=1 --set train.checkpoint_every=7)
else
  cfg=(--set train.checkpoint_every=5 --set train.log_every=1)
fi
config="$root/experiments/quickstart.json"

echo "== kill -9 at random moments, then --resume (${kills} kills)"
start=$(date +%s.%N)
"$cli" train "$config" "${cfg[@]}" --threads 1 --db "$work/ref.db" >/dev/null 2>"$work/ref.err" || { fail "reference run: $(tail -2 "$work/ref.err")"; }
duration=$(python3 -c "import time; print(max(1.0, time.time() - $start))")
run_status() { "$cli" runs show 1 --db "$work/kill.db" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null; }
# A kill before the run's row exists (while loading data) leaves nothing to resume: start again.
# exec: in `launch &` the background pid is moelab-cli itself, which is what kill -9 must hit.
launch() {
  if [ -n "$(run_status)" ]; then
    exec "$cli" train --resume 1 --threads 1 --db "$work/kill.db" >/dev/null 2>>"$work/kill.err"
  else
    exec "$cli" train "$config" "${cfg[@]}" --threads 1 --db "$work/kill.db" >/dev/null 2>>"$work/kill.err"
  fi
}
launch &
pid=$!
done_kills=0
status=""
while [ "$done_kills" -lt "$kills" ]; do
  # A random moment within the run's length: loading data, mid-step, mid-checkpoint, mid-evaluation.
  # Bounded so that about `kills` kills fit in the run (each launch spends ~1 s loading first).
  sleep "$(python3 -c "import random; print(round(random.uniform(0.2, 1.0 + 2.0 * $duration / $kills), 2))")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    done_kills=$((done_kills + 1))
  else
    wait "$pid" 2>/dev/null
    status=$(run_status)
    [ "$status" = "finished" ] && break
  fi
  launch &
  pid=$!
done
wait "$pid" 2>/dev/null
# Finish whatever the last kill left.
for _ in 1 2 3; do
  status=$(run_status)
  [ "$status" = "finished" ] && break
  (launch)
done
echo "   uninterrupted run: ${duration%.*} s"
[ "$status" = "finished" ] && pass "killed $done_kills times (of $kills planned), resumed to finished" || fail "run ended $status after $done_kills kills: $(tail -3 "$work/kill.err")"
integrity "$work/kill.db" && pass "database integrity after kills" || fail "database integrity after kills"
if diff <(curve "$work/ref.db" 1) <(curve "$work/kill.db" 1) >"$work/curve.diff"; then
  pass "loss curve identical to the uninterrupted run ($(curve "$work/ref.db" 1 | wc -l) points)"
else
  fail "loss curve differs from the uninterrupted run: $(head -4 "$work/curve.diff" | tr '\n' ' ')"
fi

echo "== ${writers} processes create and write one new database at once"
pids=()
for i in $(seq 1 "$writers"); do
  "$cli" train "$config" "${cfg[@]}" --max-steps 10 --threads 1 --db "$work/shared.db" --name "writer$i" >/dev/null 2>"$work/writer$i.err" &
  pids+=($!)
done
ok=0
for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
[ "$ok" -eq "$writers" ] && pass "$writers concurrent trainings on a new database all finished" || fail "$ok of $writers concurrent trainings finished: $(cat "$work"/writer*.err | grep error | head -2)"
finished=$("$cli" runs list --db "$work/shared.db" --json | python3 -c 'import json,sys; print(sum(r["status"]=="finished" for r in json.load(sys.stdin)))')
[ "$finished" -eq "$writers" ] && pass "runs list shows $finished finished runs" || fail "runs list shows $finished finished runs, expected $writers"
integrity "$work/shared.db" && pass "database integrity after concurrent writers" || fail "database integrity after concurrent writers"

echo "== damaged files"
ck="$work/ref-runs/1/last.pt"
cp "$ck" "$work/damaged.pt"; cp "$ck.sha256" "$work/damaged.pt.sha256"
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(f.seek(0,2)//2); f.write(b"\xff"*4096)' "$work/damaged.pt"
check_exit "eval refuses a checkpoint with 4 KB of 0xFF" 2 "$cli" eval --checkpoint "$work/damaged.pt"
grep -q "damaged" "$work/last.err" && pass "  ...and says it is damaged" || fail "  eval message: $(cat "$work/last.err")"
head -c 1000 "$ck" >"$work/truncated.pt"
check_exit "eval refuses a truncated checkpoint" 2 "$cli" eval --checkpoint "$work/truncated.pt"
head -c 100 /dev/urandom >"$work/garbage.db"
cp "$work/garbage.db" "$work/garbage.before"
check_exit "runs list refuses a file that is not a database" 2 "$cli" runs list --db "$work/garbage.db"
cmp -s "$work/garbage.db" "$work/garbage.before" && pass "  ...and leaves it unchanged" || fail "  the file was changed"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table t(x)"); c.commit()' "$work/other.db"
check_exit "train refuses another application's SQLite database" 2 "$cli" train "$config" "${cfg[@]}" --db "$work/other.db"
cp "$work/ref.db" "$work/ro.db"; chmod a-w "$work/ro.db"
if [ "$(id -u)" -ne 0 ]; then check_exit "runs list reads a read-only database" 0 "$cli" runs list --db "$work/ro.db"; fi

echo "== oversize configs"
check_exit "100,000 experts refused before allocating" 2 "$cli" train "$config" --set model.num_experts=100000 --db "$work/big.db"
grep -q "GB of memory" "$work/last.err" && pass "  ...with the memory numbers" || fail "  message: $(cat "$work/last.err")"
[ ! -e "$work/big.db" ] && pass "  ...and no database created" || fail "  a database was created"
check_exit "params counts a 100,000-expert model without building it" 0 "$cli" params "$config" --set model.num_experts=100000
check_exit "simulator refuses 65,536 nodes x 64 GPUs" 2 "$cli" simulate "$root/experiments/sim/$(ls "$root/experiments/sim" | head -1)" --set cluster.nodes=65536 --set cluster.gpus_per_node=64
check_exit "--set model.dropout=nan refused" 2 "$cli" params "$config" --set model.dropout=nan
grep -q "finite" "$work/last.err" && pass "  ...saying it must be finite" || fail "  message: $(cat "$work/last.err")"

echo
if [ "$failures" -eq 0 ]; then echo "reliability: all checks passed"; else echo "reliability: $failures checks failed"; fi
[ "$failures" -eq 0 ]
