#!/usr/bin/env python3
"""Held-out accuracy of several runs of one schedule (seeds) as markdown: per evaluated step,
each run's one-to-one accuracy (batch norm in eval mode / batch statistics), the median and the
range over runs; then each run's final scores, their median and range, the confusion table of the
run whose final accuracy is the median, and for each run the digits that share a category and from
which step (with the categorical code's usage and Q's information about real digits, in nats).

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


SHARE = 0.25  # a category holds a digit when over a quarter of its held-out images are that digit


def shared_digits(record):
    """The digit sets, as "a/b", of the categories that hold more than one digit."""
    shared = []
    for row in record["eval"].get("confusion", []):
        total = sum(row) or 1
        held = [str(digit) for digit, count in enumerate(row) if count > SHARE * total]
        if len(held) > 1:
            shared.append("/".join(held))
    return sorted(shared)


def code_scores(record):
    """Usage and Q's information about real images of the first categorical code, if recorded."""
    ev = record["eval"]
    code = ev["codes"][0] if ev.get("codes") else ev
    return code.get("usage_nats"), code.get("posterior_mi_nats")


def merge_timeline(name, rows):
    """One line per evaluation at which the set of shared digits changes, and the last one."""
    lines, previous = [f"{name}:"], None
    steps = sorted(rows)
    for step in steps:
        shared = shared_digits(rows[step])
        if shared == previous and step != steps[-1]:
            continue
        previous = shared
        usage, information = code_scores(rows[step])
        scores = f", usage {usage:.3f}" if usage is not None else ""
        scores += f", information {information:.3f}" if information is not None else ""
        lines.append(f"  step {step}: {pct(rows[step]['eval']['accuracy_hungarian'])}, shared "
                     f"{', '.join(shared) or 'none'}{scores}")
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
    print(f"\nDigits that share a category (over {SHARE:.0%} of its held-out images each), from when:\n")
    print("```")
    for name, rows in data.items():
        print(merge_timeline(name, rows))
    print("```")


if __name__ == "__main__":
    main(sys.argv[1:])
