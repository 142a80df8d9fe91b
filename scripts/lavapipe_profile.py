#!/usr/bin/env python3
"""Where the CPU time goes inside lavapipe's compiled shaders, instruction by instruction.

Usage: scripts/lavapipe_profile.py [--top N] -- target/release/infogan bench matmul --quick

Runs the command under `perf record` with Mesa's shader cache off and GALLIVM_DEBUG=asm, so
llvmpipe compiles every shader and prints its x86 listing. The JIT code has no symbols, so each
listing is placed in memory by the one base address at which the sampled instruction pointers
land on its instruction boundaries. Then prints, per compiled shader that got samples, the
share of samples per mnemonic and the hottest instructions. A sample points at the instruction
about to run; it is counted against the one before it, as perf annotate does.

Needs `perf` (linux-perf) and a Mesa whose llvmpipe honours GALLIVM_DEBUG (Mesa 25 does).
A developer tool for tuning kernels on lavapipe; ARCHITECTURE.md lists what it found on the matmul tiles.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile


def listings(text):
    """Each compiled compute shader's listing: [(offset, instruction text)]."""
    parts = re.split(r"^(\w+):\s*$", text, flags=re.M)
    out = []
    for name, body in zip(parts[1::2], parts[2::2]):
        if name != "cs_co_variant":
            continue
        ins = []
        for m in re.finditer(r"^\s+([0-9a-f]+):\t(.*)$", body, re.M):
            offset = int(m.group(1), 16)
            if ins and offset <= ins[-1][0]:
                break  # the listing ended; what follows is other output
            ins.append((offset, m.group(2).strip()))
        if ins:
            out.append(ins)
    return out


def place(ins, samples):
    """(hits, samples in range, base): the base address at which the most samples land on the
    listing's instruction boundaries. Every (sampled address, instruction offset) pair votes for
    base = address - offset; LLVM starts functions 16-byte aligned, which cuts the pairs 16-fold."""
    offsets = [o for o, _ in ins]
    by_residue = collections.defaultdict(list)
    for o in offsets:
        by_residue[o % 16].append(o)
    votes = collections.Counter()
    for ip, count in samples.items():
        for o in by_residue[ip % 16]:
            votes[ip - o] += count
    if not votes:
        return None
    base, hits = votes.most_common(1)[0]
    size = offsets[-1] + 16
    total = sum(count for ip, count in samples.items() if base <= ip < base + size)
    return hits, total, base


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top", type=int, default=15, help="mnemonics and instructions to list")
    parser.add_argument("--frequency", type=int, default=4000, help="perf samples per second")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to profile after --")
    with tempfile.TemporaryDirectory() as tmp:
        data, listing_path = os.path.join(tmp, "perf.data"), os.path.join(tmp, "listing.txt")
        env = dict(os.environ, MESA_SHADER_CACHE_DISABLE="true", GALLIVM_DEBUG="asm")
        with open(listing_path, "w") as listing_file:
            run = subprocess.run(["perf", "record", "-q", "-F", str(args.frequency), "-o", data, "--"] + command,
                                 env=env, stdout=subprocess.DEVNULL, stderr=listing_file)
        if run.returncode != 0:
            sys.exit(f"the profiled command failed (exit {run.returncode}); its stderr is the listing file")
        script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,dso"], capture_output=True, text=True, check=True).stdout
        text = open(listing_path).read()
    # JIT code lives in anonymous memory: perf names it after a /tmp/perf-PID.map it cannot find.
    samples = collections.Counter(int(line.split()[0], 16) for line in script.splitlines() if "/perf-" in line)
    print(f"{sum(samples.values())} samples in JIT code")
    for index, ins in enumerate(listings(text)):
        placed = place(ins, samples)
        if not placed or placed[1] == 0:
            continue
        hits, total, base = placed
        offsets = [o for o, _ in ins]
        text_at = dict(ins)
        before = {offsets[i + 1]: offsets[i] for i in range(len(offsets) - 1)}
        per_instruction = collections.Counter()
        for ip, count in samples.items():
            previous = before.get(ip - base)
            if previous is not None:
                per_instruction[previous] += count
        counted = sum(per_instruction.values())
        if counted == 0:
            continue
        print(f"\nshader {index}: {len(ins)} instructions, {counted} samples ({hits} of {total} in its range on boundaries)")
        mnemonics = collections.Counter()
        for offset, count in per_instruction.items():
            mnemonics[text_at[offset].split()[0]] += count
        for mnemonic, count in mnemonics.most_common(args.top):
            print(f"  {mnemonic:14s} {100 * count / counted:5.1f}%")
        print("  hottest instructions:")
        for offset, count in per_instruction.most_common(args.top):
            print(f"    {offset:6x}  {100 * count / counted:5.2f}%  {text_at[offset]}")


if __name__ == "__main__":
    main()
