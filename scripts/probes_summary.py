#!/usr/bin/env python3
"""The slack of InfoGAN's two bounds over one run, as markdown: for every probe (`--probe-every`),
the bounds the training D and Q reach on the probe's batches beside what a copy of them and a
freshly initialised pair reach against the frozen G (the mean of their last five steps, and in
brackets their best step, which favours lucky batches), the slack (the larger of the two means
minus the training networks'), and what training did around it: the spread of D's mean outputs
over the interval that follows (the standard deviation of D(x) and D(G(z)) over the logged steps)
and the held-out accuracy at the probe and at the next one. The last lines give the correlation of
each slack with the next interval's spread.

Usage: scripts/probes_summary.py RUN_DIR   (probes.jsonl, metrics.jsonl and eval.jsonl, as
training writes them). Standard library only."""

import json
import statistics
import sys
from pathlib import Path


def lines(path):
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def correlation(xs, ys):
    if len(xs) < 3:
        return float("nan")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / (sxx * syy) ** 0.5 if sxx > 0 and syy > 0 else float("nan")


def main(run):
    run = Path(run)
    probes = lines(run / "probes.jsonl")
    if not probes:
        sys.exit(f"no probes in {run}: train with --probe-every N")
    metrics = lines(run / "metrics.jsonl")
    accuracy = {e["step"]: e["eval"].get("accuracy_hungarian") for e in lines(run / "eval.jsonl") if "eval" in e}
    steps = [p["step"] for p in probes]
    print("| step | B_GAN: training D | copy | fresh | slack | L_I_cat: training Q | copy | fresh | slack "
          "| spread of D(x), D(G(z)) until the next probe | held-out accuracy then, next |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    gan_slack, cat_slack, spread = [], [], []
    for i, p in enumerate(probes):
        end = steps[i + 1] if i + 1 < len(steps) else float("inf")
        window = [m for m in metrics if p["step"] < m["step"] <= end]
        sd = (statistics.pstdev([m["D_real"]["mean"] for m in window]), statistics.pstdev([m["D_fake"]["mean"] for m in window])) if len(window) > 1 else None
        row = [str(p["step"])]
        slacks = []
        for key in ("B_GAN", "L_I_cat"):
            train = p["train"][key]
            copy, fresh = p["copy"]["last"][key], p["scratch"]["last"][key]
            slacks.append(max(copy, fresh) - train)
            row += [f"{train:+.3f}", f"{copy:+.3f} ({p['copy']['best'][key]:+.3f})",
                    f"{fresh:+.3f} ({p['scratch']['best'][key]:+.3f})", f"{slacks[-1]:.3f}"]
        row.append(f"{sd[0]:.3f}, {sd[1]:.3f}" if sd else "")
        now, nxt = accuracy.get(p["step"]), accuracy.get(steps[i + 1]) if i + 1 < len(steps) else None
        row.append(" / ".join(f"{100 * a:.1f}%" if a is not None else "-" for a in (now, nxt)))
        print("| " + " | ".join(row) + " |")
        if sd:
            gan_slack.append(slacks[0])
            cat_slack.append(slacks[1])
            spread.append(sd[0] + sd[1])
    print()
    print(f"Correlation over {len(spread)} intervals between a probe's slack and the spread of D's outputs "
          f"until the next: B_GAN {correlation(gan_slack, spread):+.2f}, L_I_cat {correlation(cat_slack, spread):+.2f}.")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
