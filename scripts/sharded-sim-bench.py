#!/usr/bin/env python3
"""Writes a 1,024-GPU simulator scenario with per-shard traffic (traffic.counts_by_source) for
`moelab-cli simulate OUT --bench`: like experiments/sim/bench-1024-gpus.json, but each of SHARDS
data-parallel shards has its own Zipf(0.8) expert popularity (a seeded permutation per shard).

usage: scripts/sharded-sim-bench.py SHARDS OUT.json"""
import json
import random
import sys

if len(sys.argv) != 3:
    sys.exit(__doc__)
shards, out = int(sys.argv[1]), sys.argv[2]
experts = 256
rng = random.Random(1)
by_shard = []
for _ in range(shards):
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(experts)]
    rng.shuffle(weights)
    by_shard.append([round(w * 10000) for w in weights])
summed = [sum(s[e] for s in by_shard) for e in range(experts)]
doc = {
    "cluster": {"preset": "dgx-h100", "nodes": 128, "gpus_per_node": 8},
    "model": {"num_experts": experts, "top_k": 8, "hidden": 7168, "tokens_per_gpu": 4096,
              "layers": 1, "backward": False},
    "traffic": {"kind": "counts", "variation": 0.1, "counts": [summed], "counts_by_source": [by_shard]},
    "sim": {"steps": 1000, "seed": 1},
}
with open(out, "w") as f:
    json.dump(doc, f)
