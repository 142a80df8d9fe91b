#!/usr/bin/env python3
"""How well a run's codes capture known factors (`--data shapes`), as markdown: per evaluated
step, the MIG (codes: c0 the categorical code, z0... the continuous ones) with batch norm in eval mode / batch statistics, the categorical code's accuracy
and NMI against shape, and for each factor the code that knows most about it; then, at the last
evaluated step, the code x factor mutual information table (nats), each factor's entropy, and
the gap MIG averages.

Usage: scripts/factors_summary.py RUN_DIR   (the eval.jsonl that training or `eval` writes).
Standard library only."""

import json
import sys
from pathlib import Path


def evals(run):
    path = Path(run) / "eval.jsonl"
    if not path.exists():
        sys.exit(f"no eval.jsonl in {run}")
    records = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    records = [r for r in records if r.get("eval", {}).get("factors")]
    if not records:
        sys.exit(f"{run}: no factor scores in eval.jsonl (train on --data shapes or shapes32)")
    return records


def shape_score(ev):
    """The first categorical code's one-to-one accuracy and NMI against the shape factor."""
    for code in ev.get("codes", []):
        for score in code["scores"]:
            if score["labels"] == "shape":
                return score["accuracy_hungarian"], score["nmi"]
    return None, None


def best_codes(factors):
    """Per factor, the code with the most information about it."""
    mi, codes = factors["mi"], factors["codes"]
    return [codes[max(range(len(codes)), key=lambda i: mi[i][f])] for f in range(len(factors["factors"]))]


def main(args):
    if len(args) != 1:
        sys.exit(__doc__)
    records = evals(args[0])
    names = records[0]["eval"]["factors"]["factors"]
    print("| step | MIG | shape: accuracy, NMI | " + " | ".join(f"best code for {n}" for n in names) + " |")
    print("| ---: | ---: | ---: | " + " | ".join("---" for _ in names) + " |")
    for record in records:
        ev, bs = record["eval"], record.get("batch_stats")
        mig = f"{ev['factors']['mig']:.3f}" + (f" / {bs['factors']['mig']:.3f}" if bs else "")
        acc, nmi = shape_score(ev)
        shape = f"{100 * acc:.1f}%, {nmi:.3f}" if acc is not None else ""
        print(f"| {record['step']} | {mig} | {shape} | " + " | ".join(best_codes(ev["factors"])) + " |")
    last = records[-1]
    factors = last["eval"]["factors"]
    print(f"\nInformation between codes and factors at step {last['step']} (nats, batch norm in eval mode):\n")
    print("| code | " + " | ".join(names) + " |")
    print("| --- | " + " | ".join("---:" for _ in names) + " |")
    for code, row in zip(factors["codes"], factors["mi"]):
        print(f"| {code} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    print("| H(factor) | " + " | ".join(f"{v:.3f}" for v in factors["factor_entropy"]) + " |")
    print("| gap / H(factor) | " + " | ".join(f"{g:.3f}" for g in factors["gap"]) + " |")
    print(f"\nMIG {factors['mig']:.3f} (the mean of the last row).")


if __name__ == "__main__":
    main(sys.argv[1:])
