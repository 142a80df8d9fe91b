#!/usr/bin/env python3
"""Turns the JSON that scripts/benchmarks.sh saved into the markdown tables of BENCHMARKS.md.

Usage: python3 scripts/benchmarks_summary.py OUT_DIR > summary.md (standard library only).
"""
import json
import pathlib
import sys



def cell(value, spec):
    """A table cell: the value formatted, or "-" where the run did not measure it."""
    return "-" if value is None else format(value, spec)

def load(path):
    return json.loads(path.read_text()) if path.exists() else None


def lines(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


def main():
    out = pathlib.Path(sys.argv[1])
    machine = dict(l.split(": ", 1) for l in (out / "machine.txt").read_text().splitlines() if ": " in l)
    step = load(out / "step.json")
    adapter, variant = step["adapter"], step["variant"]
    print(f"### {machine['date']}, commit {machine['commit']}: {machine['cpu']}")
    print()
    print(f"Adapter `{adapter}`, kernel variant `{variant}`. Step and phases: {step['timing']}.")
    print()

    torch = {r["batch"]: r for r in lines(out / "torch.jsonl")}
    print("**The MNIST step** (`bench step`, median of the repeats; CPU ms: this process's CPU time per step, all threads)")
    if torch:
        any_t = next(iter(torch.values()))
        print(f"against PyTorch {any_t['torch']} on {any_t['device']} (`scripts/torch_reference.py`), in the same run:")
    print()
    head = "| batch | ms/step | samples/s | CPU ms | GFLOP/s |"
    rule = "| ---: | ---: | ---: | ---: | ---: |"
    if torch:
        head += " PyTorch ms/step | PyTorch CPU ms | ratio, wall | ratio, CPU |"
        rule += " ---: | ---: | ---: | ---: |"
    print(head)
    print(rule)
    for r in step["results"]:
        s = r["step"]
        row = f"| {r['batch']} | {s['median_ms']:,.0f} | {r['samples_per_s']:.1f} | {(s['cpu_ms'] or 0):,.0f} | {s['gflops']:.2f} |"
        t = torch.get(r["batch"])
        if t:
            cpu_ratio = f"{s['cpu_ms'] / t['cpu_ms']:.1f}x" if s["cpu_ms"] and t.get("cpu_ms") else "-"
            t_cpu = f"{t['cpu_ms']:,.0f}" if t.get("cpu_ms") else "-"
            row += f" {t['ms']:,.0f} | {t_cpu} | {s['median_ms'] / t['ms']:.1f}x | {cpu_ratio} |"
        print(row)
    print()
    first = step["results"][0]
    kernels = first["kernels_gpu_ms"]
    total = sum(k["ms"] for k in kernels) or 1
    top = ", ".join(f"`{k['kernel']}` {100 * k['ms'] / total:.1f}%" for k in kernels[:8])
    print(f"GPU time per kernel at batch {first['batch']} (timestamp queries, one step): {top}.")
    print()

    models = lines(out / "models.jsonl")
    if models:
        print("**Every preset's step at batch 64** (random images of its input; napkin GFLOP per step from `infogan models`):")
        print()
        print("| model | ms/step | samples/s | GFLOP per step | GFLOP/s | CPU ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        rows = [("mnist", first)] + [(m["results"][0]["step"]["name"].split()[0], m["results"][0]) for m in models]
        for name, r in rows:
            s = r["step"]
            gflop = s["gflops"] * s["median_ms"] * 1e-3
            print(f"| {name} | {s['median_ms']:,.0f} | {r['samples_per_s']:.1f} | {gflop:.1f} | {s['gflops']:.2f} | {(s['cpu_ms'] or 0):,.0f} |")
        print()

    kern = load(out / "kernels.json")
    if kern:
        print(f"**Kernels at the MNIST model's shapes** (`bench kernels`, {kern['timing']}, median):")
        print()
        print("| case | ms | GFLOP/s | GB/s | CPU ms |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for c in kern["results"]:
            g = f"{c['gflops']:.2f}" if c["gflops"] > 0 else "-"
            cpu = cell(c.get("cpu_ms"), ".1f")
            print(f"| {c['name']} | {c['median_ms']:.2f} | {g} | {c['gbytes_per_s']:.2f} | {cpu} |")
        print()

    mm, wg = load(out / "matmul.json"), load(out / "matmul-workgroup-tile.json")
    if mm:
        other = {r["name"]: r for r in (wg["results"] if wg else [])}
        print(f"**Plain products** (`bench matmul`, wall clock, median of 5), the adapter's variant `{mm['variant']}` beside `workgroup-tile` (the variant real GPUs get) on the same adapter:")
        print()
        print("| case | GFLOP/s | CPU ms | workgroup-tile GFLOP/s | CPU ms |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for r in mm["results"]:
            o = other.get(r["name"])
            cpu, ocpu, ogflops = cell(r.get("cpu_ms"), ".0f"), cell((o or {}).get("cpu_ms"), ".0f"), cell((o or {}).get("gflops"), ".2f")
            print(f"| {r['name']} | {r['gflops']:.2f} | {cpu} | {ogflops} | {ocpu} |")
        print()

    conv = load(out / "conv.json")
    if conv:
        print(f"**Convolutions against the plain product of the same shape** (`bench conv`, {conv['timing']}; vs product: the product's time over the pass's, medians of per-round ratios):")
        print()
        print("| pass | GFLOP/s | vs same-shape product | vs 1024^3 |")
        print("| --- | ---: | ---: | ---: |")
        for r in conv["results"][1:]:
            print(f"| {r['name']} | {r['gflops']:.2f} | {r['vs_product']:.2f} | {r['vs_square']:.2f} |")
        print()


if __name__ == "__main__":
    main()
