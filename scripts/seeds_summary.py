#!/usr/bin/env python3
"""Held-out accuracy of several runs of one schedule (seeds) as markdown: per evaluated step,
each run's one-to-one accuracy (batch norm in eval mode / batch statistics), the median and the
range over runs; then each run's final scores, their median and range, and the confusion table of the run whose final accuracy
is the median.

Usage: scripts/seeds_summary.py RUN_DIR...   (each holding the eval.jsonl that training writes,
or that scripts/torch_train.py writes)
Standard library only."""

import json
import statistics
import sys
from pathlib import Path


def evals(run):
    rows = {}
    for line in (Path(run) / "eval.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            if "eval" not in record:
                # scripts/torch_train.py writes one flat record per evaluation.
                record = {"step": record["step"], "eval": record}
            rows[record["step"]] = record
    return rows


def pct(value):
    return f"{100 * value:.1f}%"


def confusion_table(record):
    """Rows: Q's category and the label the one-to-one mapping gives it; columns: true labels."""
    ev = record["eval"]
    if "mapping_hungarian" not in ev:
        return "  (this record has no mapping of categories to labels)"
    confusion, mapping = ev["confusion"], ev["mapping_hungarian"]
    width = len(confusion[0])
    lines = ["  cat -> label | " + " ".join(f"{j:5d}" for j in range(width))]
    for i, row in enumerate(confusion):
        lines.append(f"  {i:3d} -> {mapping[i]:5d} | " + " ".join(f"{v:5d}" for v in row))
    return "\n".join(lines)


def main(runs):
    if not runs:
        sys.exit(__doc__)
    data = {Path(r).name: evals(r) for r in runs}
    steps = sorted(set().union(*(d.keys() for d in data.values())))
    names = list(data)
    print("| step | " + " | ".join(names) + " | median | range |")
    print("| ---: | " + " | ".join("---:" for _ in names) + " | ---: | ---: |")
    for step in steps:
        cells, values = [], []
        for name in names:
            record = data[name].get(step)
            if record is None:
                cells.append("")
                continue
            a, b = record["eval"]["accuracy_hungarian"], record.get("batch_stats", {}).get("accuracy_hungarian")
            values.append(a)
            cells.append(pct(a) + (f" / {pct(b)}" if b is not None else ""))
        spread = f"{pct(min(values))} to {pct(max(values))}" if len(values) > 1 else ""
        print(f"| {step} | " + " | ".join(cells) + f" | {pct(statistics.median(values))} | {spread} |")
    print()
    finals = {name: d[max(d)] for name, d in data.items()}
    for name, record in finals.items():
        ev = record["eval"]
        print(f"- {name}, step {record['step']}: accuracy {pct(ev['accuracy_hungarian'])} one-to-one, "
              f"{pct(ev['accuracy_majority'])} many-to-one, NMI {ev['nmi']:.3f}")
    def spread(key, show):
        values = [r["eval"][key] for r in finals.values()]
        return f"{show(statistics.median(values))} ({show(min(values))}-{show(max(values))})"
    print(f"- median (range) over {len(finals)} runs: one-to-one {spread('accuracy_hungarian', pct)}, "
          f"many-to-one {spread('accuracy_majority', pct)}, NMI {spread('nmi', lambda v: f'{v:.3f}')}")
    ordered = sorted(finals, key=lambda n: finals[n]["eval"]["accuracy_hungarian"])
    median_run = ordered[(len(ordered) - 1) // 2]
    print(f"\nConfusion table of {median_run} at step {finals[median_run]['step']} (the median run):\n")
    print("```")
    print(confusion_table(finals[median_run]))
    print("```")


if __name__ == "__main__":
    main(sys.argv[1:])
