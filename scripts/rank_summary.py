#!/usr/bin/env python3
"""How well each label-free score predicts held-out accuracy over several runs of one schedule:
Spearman's rank correlation across the runs at every evaluated step they share (so training
progress, which raises every score and accuracy together, does not count), and across all their
evaluations pooled. Scores: Q's information about real images (`infogan rank`'s), Q's mean
confidence, the usage entropy of its argmax (from eval.jsonl, batch norm in eval mode), and the
categorical bound L_I_cat (metrics.jsonl, the mean of the 10 logged steps up to the evaluation).

Usage: scripts/rank_summary.py RUN_DIR...     (runs of ours or of scripts/torch_train.py)
Standard library only."""

import json
import sys
from pathlib import Path

SCORES = ["posterior_information", "confidence", "usage", "bound"]


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a, b):
    if len(a) < 3:
        return None
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va, vb = sum((x - ma) ** 2 for x in ra), sum((y - mb) ** 2 for y in rb)
    return cov / (va * vb) ** 0.5 if va > 0 and vb > 0 else None


def points(run):
    metrics = [json.loads(l) for l in (Path(run) / "metrics.jsonl").read_text().splitlines() if l.strip()]
    out = {}
    for line in (Path(run) / "eval.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        step = record["step"]
        # Ours nest both batch-norm modes and one entry per code; scripts/torch_train.py writes
        # its one code's scores flat.
        e = record.get("eval", record)
        codes = e.get("codes", [e])
        if not codes or "posterior_mi_nats" not in codes[0]:
            continue
        recent = [m.get("L_I_cat", m.get("l_i_cat")) for m in metrics if m["step"] <= step][-10:]
        out[step] = {
            "posterior_information": sum(c["posterior_mi_nats"] for c in codes),
            "confidence": sum(c["confidence"] for c in codes) / len(codes),
            "usage": sum(c["usage_nats"] for c in codes),
            "bound": sum(recent) / len(recent) if recent else None,
            "accuracy": e["accuracy_hungarian"],
        }
    return out


def main():
    runs = {Path(r).name: points(r) for r in sys.argv[1:]}
    shared = sorted(set.intersection(*(set(p) for p in runs.values())))
    print("| step | runs | " + " | ".join(SCORES) + " |")
    print("| ---: | ---: |" + " ---: |" * len(SCORES))
    for step in shared:
        cells = []
        for score in SCORES:
            rho = spearman([runs[r][step][score] for r in runs], [runs[r][step]["accuracy"] for r in runs])
            cells.append("-" if rho is None else f"{rho:+.2f}")
        print(f"| {step} | {len(runs)} | " + " | ".join(cells) + " |")
    pooled = [p for run in runs.values() for p in run.values()]
    cells = []
    for score in SCORES:
        pairs = [(p[score], p["accuracy"]) for p in pooled if p[score] is not None]
        rho = spearman([a for a, _ in pairs], [b for _, b in pairs])
        cells.append("-" if rho is None else f"{rho:+.2f}")
    print(f"| all evaluations pooled | {len(pooled)} points | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
