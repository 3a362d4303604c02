#!/usr/bin/env python3
"""Loads a moelab-weights-v1 safetensors file with numpy alone and scores token ids with it.

Usage: numpy_forward.py WEIGHTS.safetensors TOKENS.json  ->  prints the mean cross-entropy.
TOKENS.json: {"inputs": [[ids]], "targets": [[ids or -100]]}. Supports gnn_moe and dense models
with the default block options (LayerNorm, learned positions, biases, plain attention). The loader
at the top is the one the README shows; the rest follows docs/WEIGHTS.md.
"""
import json
import math
import struct
import sys

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    tensors = {
        name: np.frombuffer(data[s:e], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
        for name, t in header.items()
        for s, e in [t["data_offsets"]]
    }
    return tensors, meta


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def linear(x, w, b=None):  # w: [out, in]
    y = x @ w.T
    return y if b is None else y + b


def attention(x, W, prefix, e, heads):
    """Causal multi-head attention of expert e (or the single block when e is None)."""
    pick = (lambda t: t) if e is None else (lambda t: t[e])
    T, D = x.shape
    hd = D // heads
    qkv = linear(x, pick(W[prefix + "qkv.weight"]), pick(W[prefix + "qkv.bias"]))
    q, k, v = (qkv[:, i * D:(i + 1) * D].reshape(T, heads, hd).transpose(1, 0, 2) for i in range(3))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
    scores = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, scores)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ctx = (p @ v).transpose(1, 0, 2).reshape(T, D)
    return linear(ctx, pick(W[prefix + "out.weight"]), pick(W[prefix + "out.bias"]))


def block(x, W, prefix, e, heads):
    pick = (lambda t: t) if e is None else (lambda t: t[e])
    h = x + attention(layer_norm(x, pick(W[prefix + "ln1.weight"]), pick(W[prefix + "ln1.bias"])), W,
                      prefix + "attention.", e, heads)
    f = gelu(linear(layer_norm(h, pick(W[prefix + "ln2.weight"]), pick(W[prefix + "ln2.bias"])),
                    pick(W[prefix + "fc1.weight"]), pick(W[prefix + "fc1.bias"])))
    return h + linear(f, pick(W[prefix + "fc2.weight"]), pick(W[prefix + "fc2.bias"]))


def coupler(H, W, prefix, gnn_layers):  # H: [T, E, D] expert outputs
    E, D = H.shape[1], H.shape[2]
    for g in range(gnn_layers):
        p = f"{prefix}gnn.{g}."
        A = sigmoid(W[p + "adjacency_logits"]) * (1.0 - np.eye(E))
        w = W[p + "edge.weight"][0]
        c = sigmoid((H @ w[:D])[:, :, None] + (H @ w[D:])[:, None, :] + W[p + "edge.bias"][0])
        messages = (c * A[None]) @ H
        H = gelu(linear(messages, W[p + "neighbour.weight"], W[p + "neighbour.bias"]) +
                 linear(H, W[p + "self.weight"], W[p + "self.bias"])) + H
    y = gelu(linear(H.mean(1), W[prefix + "combine.weight"], W[prefix + "combine.bias"]))
    return layer_norm(y, W[prefix + "norm.weight"], W[prefix + "norm.bias"])


def logits(W, meta, ids):
    cfg = json.loads(meta["moelab_config"])["model"]
    heads, arch = cfg["num_heads"], meta["architecture"]
    x = W["token_embedding.weight"][ids] + W["position_embedding.weight"][: len(ids)]
    for l in range(cfg["num_layers"]):
        p = f"layers.{l}."
        if arch == "dense":
            x = block(x, W, p + "blocks.", None, heads)
        else:
            E = W[p + "blocks.ln1.weight"].shape[0]
            H = np.stack([block(x, W, p + "blocks.", e, heads) for e in range(E)], axis=1)
            x = x + coupler(H, W, p + "coupler.", cfg["gnn_layers"])
    x = layer_norm(x, W["final_norm.weight"], W["final_norm.bias"])
    out = linear(x, W["head.weight"], W["head.bias"])
    return out[:, : int(meta["vocab_size"])]  # padded vocabulary rows are not tokens


def main():
    W, meta = load_safetensors(sys.argv[1])
    W = {k: v.astype(np.float64) for k, v in W.items()}
    batch = json.load(open(sys.argv[2]))
    total, count = 0.0, 0
    for ids, targets in zip(batch["inputs"], batch["targets"]):
        z = logits(W, meta, np.array(ids))
        z = z - z.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        for t, y in enumerate(targets):
            if y != -100:
                total -= logp[t, y]
                count += 1
    print(f"{total / count:.8f}")


if __name__ == "__main__":
    main()
