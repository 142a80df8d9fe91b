#!/usr/bin/env python3
"""Trains a model in PyTorch from the binary's own description (`infogan models --model M --json`)
with the same settings as `infogan train`, so that runs of ours can be compared over many steps
with an independent implementation: the same networks, initialisation (weights N(0, 0.02),
batch-norm gammas N(1, 0.02), biases 0), wiring, losses, Adam settings, latent priors and batch
size. Two data sets: the rendered shapes (`--model shapes` at 64x64 or `shapes32`; the renderer is
ported below) scored by the MIG of Q's codes as `infogan eval` scores it, and MNIST's IDX files
(`--model mnist --data DIR`, the 10,000 test digits held out) scored by held-out accuracy under
the best one-to-one mapping of categories to digits, NMI, and the label-free scores of
`infogan rank`.

What differs, and cannot be made equal: the random streams (PyTorch's generator, not ours), so
batches and latents differ draw by draw. For the shapes, the held-out images are a seeded sample
of this script's own (ours holds out a fixed 5,000 and never trains on them; here every image may
be drawn) and batches are drawn with replacement. f32 arithmetic in both (TF32 off); one step of
these networks matches PyTorch in tests/parity.rs, so the comparison is of training.

    python3 scripts/torch_train.py --model shapes --steps 3000 --out runs/torch-shapes
    python3 scripts/torch_train.py --model mnist --data ~/mnist --batch 128 --steps 5000 --out runs/torch-mnist
        [--binary target/release/infogan] [--device cuda] [--seed 0]

Writes OUT/config.json, OUT/metrics.jsonl (step, b_gan, l_i_cat, l_i_cont, d_real, d_fake,
loss_d, loss_g, samples_per_s), OUT/eval.jsonl (step and the scores) and
OUT/samples/step-N-cat0.png (rows: categories; columns: fixed noise; batch norm in eval mode).
"""
import argparse
import json
import math
import pathlib
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from parity_golden import Nets, mutual_information  # noqa: E402  the description's modules and losses

ROOT = pathlib.Path(__file__).resolve().parent.parent
FACTORS = [("shape", 3), ("scale", 6), ("orientation", 40), ("x", 32), ("y", 32)]
COUNT = 3 * 6 * 40 * 32 * 32
BINS = 20


def factors_of(index):
    """The five factor values of each image index (the first varies slowest), as src/data/shapes.rs."""
    out = np.zeros((len(index), 5), dtype=np.int64)
    rest = np.asarray(index, dtype=np.int64).copy()
    for i in range(4, -1, -1):
        n = FACTORS[i][1]
        out[:, i] = rest % n
        rest //= n
    return out


def render(index, side):
    """Images `index` as floats in {0, 1}, [n, 1, side, side]: src/data/shapes.rs's renderer."""
    f = factors_of(index).astype(np.float64)
    shape, scale, orientation, x, y = (f[:, i][:, None, None] for i in range(5))
    radius = (0.5 + 0.1 * scale) * 0.15 * side
    angle = orientation * 2 * math.pi / 40.0
    cx, cy = (0.2 + 0.6 * x / 31.0) * side, (0.2 + 0.6 * y / 31.0) * side
    sin, cos = np.sin(angle), np.cos(angle)
    grid = np.arange(side, dtype=np.float64) + 0.5
    dx, dy = grid[None, None, :] - cx, grid[None, :, None] - cy
    u, v = (cos * dx + sin * dy) / radius, (-sin * dx + cos * dy) / radius
    square = (np.abs(u) <= 0.8) & (np.abs(v) <= 0.8)
    ellipse = u * u + (v * v) / 0.25 <= 1.0
    hx, hy = u * 1.15, -v * 1.15 + 0.15
    a = hx * hx + hy * hy - 1.0
    heart = a * a * a - hx * hx * hy * hy * hy <= 0.0
    inside = np.where(shape == 0, square, np.where(shape == 1, ellipse, heart))
    return inside.astype(np.float32)[:, None, :, :]


def describe(binary, model):
    text = subprocess.run([str(binary), "models", "--model", model, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(text)


def initialise(nets):
    """Our official initialisation (src/nn/layers.rs)."""
    with torch.no_grad():
        for name, t in nets.our_names():
            if name.endswith(("running_mean", "running_var")):
                continue
            if name.endswith("gamma"):
                t.normal_(1.0, 0.02)
            elif name.endswith(("bias", "beta")):
                t.zero_()
            else:
                t.normal_(0.0, 0.02)


def latents(latent, batch, device, gen, fixed_cats=None, fixed_cont=None, noise=None):
    """[noise U(-1,1) | one-hot per categorical code | continuous U(-1,1)], the categories, the codes."""
    if noise is None:
        noise = torch.rand(batch, latent["noise"], generator=gen, device=device) * 2 - 1
    cats = fixed_cats if fixed_cats is not None else [torch.randint(0, k, (batch,), generator=gen, device=device) for k in latent["categorical"]]
    cont = fixed_cont if fixed_cont is not None else torch.rand(batch, latent["continuous"], generator=gen, device=device) * 2 - 1
    parts = [noise] + [F.one_hot(c, k).float() for c, k in zip(cats, latent["categorical"])] + [cont]
    return torch.cat(parts, dim=1), cats, cont


def plug_in_mi(a, na, b, nb):
    joint = np.zeros((na, nb))
    np.add.at(joint, (a, b), 1)
    joint /= len(a)
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return max(0.0, float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum()))


def binned(values):
    lo, hi = values.min(), values.max()
    if hi <= lo:
        return np.zeros(len(values), dtype=np.int64)
    return np.minimum(((values - lo) / ((hi - lo) / BINS)).astype(np.int64), BINS - 1)


def read_idx(path):
    import gzip

    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class Mnist:
    """The IDX files of DIR: 60,000 digits to train on in epochs, the 10,000 test digits held out."""

    def __init__(self, folder, device):
        folder = pathlib.Path(folder).expanduser()
        self.train = torch.from_numpy(read_idx(folder / "train-images-idx3-ubyte.gz").copy()).to(device)
        self.held_images = torch.from_numpy(read_idx(folder / "t10k-images-idx3-ubyte.gz").copy()).to(device).float().div(255).unsqueeze(1)
        self.held_labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
        self.order, self.at = None, 0

    def batch(self, rng, n):
        if self.order is None or self.at + n > len(self.order):
            self.order, self.at = torch.from_numpy(rng.permutation(len(self.train))).to(self.train.device), 0
        index = self.order[self.at : self.at + n]
        self.at += n
        return self.train[index].float().div(255).unsqueeze(1)

    def evaluate(self, nets, latent):
        """Held-out accuracy of the first categorical code (one-to-one and many-to-one) and NMI."""
        from scipy.optimize import linear_sum_assignment

        logits, _ = q_outputs(nets, self.held_images)
        predicted = logits[0].argmax(1)
        k = latent["categorical"][0]
        table = np.zeros((k, 10), dtype=np.int64)
        np.add.at(table, (predicted, self.held_labels), 1)
        rows, cols = linear_sum_assignment(-table)
        n = table.sum()
        joint = table / n
        pa, pb = joint.sum(1), joint.sum(0)
        nz = joint > 0
        mi = float((joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])).sum())
        h = lambda p: max(0.0, float(-(p[p > 0] * np.log(p[p > 0])).sum()))
        # The label-free scores `infogan rank` reads (src/eval/evaluate.rs): Q's information about
        # the images under its posterior, its mean confidence, the usage entropy of its argmax.
        p = np.exp(logits[0] - logits[0].max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        marginal = p.mean(0)
        conditional = float(-(p * np.log(np.where(p > 0, p, 1))).sum(1).mean())
        return {
            "posterior_mi_nats": h(marginal) - conditional,
            "confidence": float(p.max(1).mean()),
            "usage_nats": h(np.bincount(predicted, minlength=k) / len(predicted)),
            "accuracy_hungarian": float(table[rows, cols].sum() / n),
            "accuracy_majority": float(table.max(1).sum() / n),
            # As src/infogan/confusion.rs: over the arithmetic mean of the two entropies.
            "nmi": mi / max((h(pa) + h(pb)) / 2, 1e-12),
            "confusion": table.tolist(),
        }


class Shapes:
    """Rendered on demand; 5,000 seeded held-out renderings with their factors."""

    def __init__(self, side, device):
        self.side, self.device = side, device
        index = np.random.default_rng(0x5BA9E5).choice(COUNT, 5000, replace=False)
        self.held_images = torch.from_numpy(render(index, side)).to(device)
        self.held_factors = factors_of(index)

    def batch(self, rng, n):
        return torch.from_numpy(render(rng.integers(0, COUNT, n), self.side)).to(self.device)

    def evaluate(self, nets, latent):
        """MIG of Q's codes on the held-out images (src/infogan/factors.rs)."""
        logits, means = q_outputs(nets, self.held_images)
        held_factors = self.held_factors
        codes, names = [], []
        for i, k in enumerate(latent["categorical"]):
            codes.append((logits[i].argmax(1), k))
            names.append(f"c{i}")
        for j in range(latent["continuous"]):
            codes.append((binned(means[:, j]), BINS))
            names.append(f"z{j}")
        entropy = []
        for f, (_, n) in enumerate(FACTORS):
            p = np.bincount(held_factors[:, f], minlength=n) / len(held_factors)
            entropy.append(float(-(p[p > 0] * np.log(p[p > 0])).sum()))
        mi = [[plug_in_mi(code, k, held_factors[:, f], n) for f, (_, n) in enumerate(FACTORS)] for code, k in codes]
        gaps = []
        for f in range(len(FACTORS)):
            column = sorted((row[f] for row in mi), reverse=True) + [0.0, 0.0]
            gaps.append((column[0] - column[1]) / entropy[f])
        return {"mig": sum(gaps) / len(gaps), "codes": names, "factors": [n for n, _ in FACTORS], "mi": mi, "gap": gaps, "factor_entropy": entropy}


@torch.no_grad()
def q_outputs(nets, images):
    """Q's categorical logits (one array per code) and continuous means on `images`, batch norm in
    eval mode, in batches of 500."""
    nets.eval()
    logits, means = [], []
    for start in range(0, len(images), 500):
        cat_logits, mean, _ = nets.q(nets.body(images[start : start + 500]))
        logits.append([l.cpu().numpy() for l in cat_logits])
        means.append(mean.cpu().numpy() if mean is not None else np.zeros((len(cat_logits[0]), 0)))
    nets.train()
    return [np.concatenate([l[i] for l in logits]) for i in range(len(logits[0]))], np.concatenate(means)


@torch.no_grad()
def write_grid(nets, latent, noise, path):
    """Rows: the first categorical code's categories; columns: the fixed noise vectors."""
    from PIL import Image

    nets.eval()
    k, cols = latent["categorical"][0], noise.shape[0]
    device = noise.device
    rows = []
    for c in range(k):
        cats = [torch.full((cols,), c, dtype=torch.long, device=device)] + [torch.zeros(cols, dtype=torch.long, device=device) for _ in latent["categorical"][1:]]
        z, _, _ = latents(latent, cols, device, None, cats, torch.zeros(cols, latent["continuous"], device=device), noise)
        rows.append(nets.g(z).clamp(0, 1).cpu().numpy()[:, 0])
    nets.train()
    side = rows[0].shape[-1]
    canvas = np.ones((k * (side + 2) + 2, cols * (side + 2) + 2), dtype=np.float32)
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            canvas[2 + r * (side + 2) : 2 + r * (side + 2) + side, 2 + c * (side + 2) : 2 + c * (side + 2) + side] = image
    Image.fromarray((canvas * 255).round().astype(np.uint8)).save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="shapes", choices=["shapes", "shapes32", "mnist"])
    parser.add_argument("--data", help="for --model mnist: the folder of MNIST's four IDX files (gz)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--binary", default=str(ROOT / "target/release/infogan"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--sample-every", type=int, default=250)
    parser.add_argument("--max-seconds", type=float, default=float("inf"), help="stop (after an evaluation) once this much wall time has passed")
    args = parser.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    out = pathlib.Path(args.out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    config = describe(args.binary, args.model)
    config.update(batch=args.batch, seed=args.seed, implementation=f"PyTorch {torch.__version__}", device=args.device)
    (out / "config.json").write_text(json.dumps(config))
    latent, side = config["latent"], config["network"]["image"][-1]
    q_with_g = config["wiring"] == "q-with-g"
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    nets = Nets(config).to(device)
    initialise(nets)
    adam = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), eps=1e-8)
    opt_d = adam(nets.parameters_of("D") + ([] if q_with_g else nets.parameters_of("Q")), config["lr_d"])
    opt_g = adam(nets.parameters_of("G") + (nets.parameters_of("Q") if q_with_g else []), config["lr_g"])
    data = Mnist(args.data, device) if args.model == "mnist" else Shapes(side, device)
    grid_noise = torch.rand(10, latent["noise"], generator=gen, device=device) * 2 - 1
    ones = torch.ones(args.batch, 1, device=device)
    zeros = torch.zeros(args.batch, 1, device=device)
    ln_k = sum(math.log(k) for k in latent["categorical"])

    metrics = open(out / "metrics.jsonl", "w")
    evals = open(out / "eval.jsonl", "w")
    started = last_time = time.time()
    for step in range(1, args.steps + 1):
        real = data.batch(rng, args.batch)
        # D phase (with Q under the official wiring); G's output detached, G's batch norm in
        # training mode as ours (its running statistics move).
        opt_d.zero_grad(set_to_none=True)
        zd, cats_d, cont_d = latents(latent, args.batch, device, gen)
        fake = nets.g(zd).detach()
        logit_real = nets.head(nets.body(real))
        feats_fake = nets.body(fake)
        logit_fake = nets.head(feats_fake)
        bce_real = F.binary_cross_entropy_with_logits(logit_real, ones)
        bce_fake = F.binary_cross_entropy_with_logits(logit_fake, zeros)
        loss_d = bce_real + bce_fake
        if not q_with_g:
            loss_d = loss_d + mutual_information(nets, feats_fake, cats_d, cont_d, config)[0]
        loss_d.backward()
        opt_d.step()
        # G phase on fresh latents; D's parameters not stepped.
        opt_g.zero_grad(set_to_none=True)
        zg, cats_g, cont_g = latents(latent, args.batch, device, gen)
        feats = nets.body(nets.g(zg))
        bce_g = F.binary_cross_entropy_with_logits(nets.head(feats), ones)
        mi, ce_g, nll_g = mutual_information(nets, feats, cats_g, cont_g, config)
        loss_g = bce_g + mi
        loss_g.backward()
        opt_g.step()
        if step % args.log_every == 0 or step == 1:
            now = time.time()
            row = {
                "step": step,
                "b_gan": math.log(2) - (bce_real.item() + bce_fake.item()) / 2,
                "l_i_cat": ln_k - ce_g.item(),
                "l_i_cont": latent["continuous"] * math.log(2) - nll_g.item(),
                "d_real": torch.sigmoid(logit_real).mean().item(),
                "d_fake": torch.sigmoid(logit_fake).mean().item(),
                "loss_d": loss_d.item(),
                "loss_g": loss_g.item(),
                "samples_per_s": args.batch * (args.log_every if step > 1 else 1) / max(now - last_time, 1e-9),
            }
            last_time = now
            metrics.write(json.dumps(row) + "\n")
            metrics.flush()
            if not all(math.isfinite(v) for v in row.values()):
                print(f"step {step}: non-finite losses; stopping", file=sys.stderr)
                break
        if step % args.sample_every == 0 or step == args.steps:
            report = {"step": step, "seconds": round(time.time() - started, 1), **data.evaluate(nets, latent)}
            evals.write(json.dumps(report) + "\n")
            evals.flush()
            write_grid(nets, latent, grid_noise, out / "samples" / f"step-{step}-cat0.png")
            score = f"MIG {report['mig']:.3f}" if "mig" in report else f"accuracy {report['accuracy_hungarian']:.3f}"
            print(f"step {step}: {score}, {time.time() - started:.0f} s", flush=True)
            if time.time() - started > args.max_seconds:
                print(f"stopping after {time.time() - started:.0f} s (--max-seconds)", flush=True)
                break


if __name__ == "__main__":
    main()
