#!/usr/bin/env python3
"""The same InfoGAN D+G training step as `infogan bench step`, in PyTorch, for side-by-side figures.

Optional and never run in CI. Same model (the paper's MNIST networks), wiring (official: MI term in
both losses, Q stepped with D), Adam settings and batch sizes; random images stand in for digits
(the step's cost does not depend on pixel values).

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch
    /tmp/torch/bin/python scripts/torch_reference.py --threads 2 --batch 64,128
    /tmp/torch/bin/python scripts/torch_reference.py --device cuda     # on a machine with a GPU

On CUDA the step runs in full f32 unless --tf32 lets matmuls and convolutions use TF32 tensor cores.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NOISE, CATS, CONT, LEAK = 62, 10, 2, 0.1


class Nets(nn.Module):
    def __init__(self):
        super().__init__()
        width = NOISE + CATS + CONT
        self.g = nn.Sequential(
            nn.Linear(width, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(),
            nn.Linear(1024, 128 * 49, bias=False), nn.BatchNorm1d(128 * 49), nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Sigmoid(),
        )
        self.body = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(LEAK),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(LEAK),
            nn.Flatten(), nn.Linear(128 * 49, 1024, bias=False), nn.BatchNorm1d(1024), nn.LeakyReLU(LEAK),
        )
        self.d_head = nn.Linear(1024, 1)
        self.q = nn.Sequential(nn.Linear(1024, 128, bias=False), nn.BatchNorm1d(128), nn.LeakyReLU(LEAK), nn.Linear(128, CATS + CONT))


def latents(batch, device):
    cat = torch.randint(0, CATS, (batch,), device=device)
    cont = torch.rand(batch, CONT, device=device) * 2 - 1
    z = torch.cat([torch.rand(batch, NOISE, device=device) * 2 - 1, F.one_hot(cat, CATS).float(), cont], 1)
    return z, cat, cont


def mi_loss(nets, feats, cat, cont):
    out = nets.q(feats)
    nll = (0.5 * math.log(2 * math.pi) + 0.5 * (cont - out[:, CATS:]) ** 2).sum(1).mean()
    return F.cross_entropy(out[:, :CATS], cat) + nll


def make_step(nets, batch, device):
    opt_d = torch.optim.Adam(list(nets.body.parameters()) + list(nets.d_head.parameters()) + list(nets.q.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(nets.g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    ones = torch.ones(batch, 1, device=device)
    zeros = torch.zeros(batch, 1, device=device)
    real = torch.rand(batch, 1, 28, 28, device=device)

    def d_phase():
        opt_d.zero_grad(set_to_none=False)
        z, cat, cont = latents(batch, device)
        fake = nets.g(z).detach()
        feats_fake = nets.body(fake)
        loss = F.binary_cross_entropy_with_logits(nets.d_head(nets.body(real)), ones)
        loss = loss + F.binary_cross_entropy_with_logits(nets.d_head(feats_fake), zeros) + mi_loss(nets, feats_fake, cat, cont)
        loss.backward()
        opt_d.step()

    def g_phase():
        opt_g.zero_grad(set_to_none=False)
        z, cat, cont = latents(batch, device)
        feats = nets.body(nets.g(z))
        loss = F.binary_cross_entropy_with_logits(nets.d_head(feats), ones) + mi_loss(nets, feats, cat, cont)
        loss.backward()
        opt_g.step()

    return d_phase, g_phase


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", default="64,128")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tf32", action="store_true",
                        help="let CUDA's matmuls and convolutions round their inputs to TF32 (off: full f32, as infogan computes)")
    parser.add_argument("--json", action="store_true", help="one JSON line per batch size")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    if device.type == "cuda":
        # cuDNN's convolutions default to TF32 on Ampere and later; pin both settings so the
        # comparison says which arithmetic it timed.
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32
        name += ", TF32" if args.tf32 else ", full f32 (no TF32)"
    if not args.json:
        print(f"PyTorch {torch.__version__} on {name}")
    for batch in [int(b) for b in args.batch.split(",")]:
        torch.manual_seed(0)
        nets = Nets().to(device).train()
        d_phase, g_phase = make_step(nets, batch, device)
        for _ in range(3):
            d_phase(); g_phase()
        sync()
        steps, d_times, g_times = [], [], []
        cpu0 = time.process_time()
        for _ in range(args.repeats):
            t0 = time.perf_counter(); d_phase(); sync()
            t1 = time.perf_counter(); g_phase(); sync()
            t2 = time.perf_counter()
            steps.append((t2 - t0) * 1e3); d_times.append((t1 - t0) * 1e3); g_times.append((t2 - t1) * 1e3)
        cpu_ms = (time.process_time() - cpu0) * 1e3 / args.repeats
        ms = statistics.median(steps)
        if args.json:
            print(json.dumps({"torch": torch.__version__, "device": name, "batch": batch, "ms": ms, "min_ms": min(steps), "max_ms": max(steps),
                              "samples_per_s": batch / ms * 1e3, "cpu_ms": cpu_ms if device.type == "cpu" else None}))
            continue
        print(f"batch {batch:>4}: {ms:9.1f} ms/step (min {min(steps):.1f}, max {max(steps):.1f}), {batch / ms * 1e3:.1f} samples/s; "
              f"D/Q phase {statistics.median(d_times):.1f} ms, G phase {statistics.median(g_times):.1f} ms")
        if device.type == "cpu":
            # As `infogan bench step` reports on lavapipe; OpenMP's spin-waits between parallel
            # regions count here too, so this overstates PyTorch's work a little.
            print(f"  process CPU time: {cpu_ms:.0f} ms per step (all threads)")


if __name__ == "__main__":
    main()
