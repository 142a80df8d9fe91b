#!/usr/bin/env python3
"""Regenerates tests/data/parity_golden.safetensors: one full InfoGAN D+G step computed by PyTorch.

A narrow copy of the paper's networks (the same layer types and order as src/infogan/model.rs,
fewer channels), random weights, eight real digits from the embedded data and random latents go
in; the losses, every gradient, the updated parameters and batch-norm running statistics after
one D step and one G step come out. tests/parity.rs runs our step on the same inputs and must
match within f32 tolerance. PyTorch is needed only to regenerate the file:

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch safetensors
    /tmp/torch/bin/python scripts/parity_golden.py

Two cases: `official` (fixed std, Q stepped with D, MI term in both losses) and `qwithg`
(learned std, Q stepped with G, D's loss the GAN loss alone).
"""
import gzip
import math
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOISE, CATS, CONT = 5, [4], 2
FC, WIDE, NARROW, QFC = 16, 8, 4, 8
BATCH, LEAK, LR_D, LR_G, LAMBDA_CAT, LAMBDA_CONT = 6, 0.1, 2e-4, 1e-3, 1.0, 1.0
WIDTH = NOISE + sum(CATS) + CONT


def digits(n):
    raw = gzip.decompress((ROOT / "data/images-idx3-ubyte.gz").read_bytes())
    assert int.from_bytes(raw[:4], "big") == 2051
    pixels = torch.tensor(list(raw[16 : 16 + n * 784]), dtype=torch.float64) / 255.0
    return pixels.reshape(n, 1, 28, 28)


def bn(channels, two_d):
    layer = (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(channels, eps=1e-5, momentum=0.1)
    return layer


class Nets(nn.Module):
    def __init__(self, learned_std):
        super().__init__()
        self.g_fc1 = nn.Linear(WIDTH, FC, bias=False)
        self.g_bn1 = bn(FC, False)
        self.g_fc2 = nn.Linear(FC, WIDE * 49, bias=False)
        self.g_bn2 = bn(WIDE * 49, False)
        self.g_up1 = nn.ConvTranspose2d(WIDE, NARROW, 4, 2, 1, bias=False)
        self.g_bn3 = bn(NARROW, True)
        self.g_up2 = nn.ConvTranspose2d(NARROW, 1, 4, 2, 1, bias=True)
        self.d_conv1 = nn.Conv2d(1, NARROW, 4, 2, 1, bias=True)
        self.d_conv2 = nn.Conv2d(NARROW, WIDE, 4, 2, 1, bias=False)
        self.d_bn2 = bn(WIDE, True)
        self.d_fc = nn.Linear(WIDE * 49, FC, bias=False)
        self.d_bn3 = bn(FC, False)
        self.d_head = nn.Linear(FC, 1)
        self.q_fc = nn.Linear(FC, QFC, bias=False)
        self.q_bn = bn(QFC, False)
        self.q_cat0 = nn.Linear(QFC, CATS[0])
        self.q_mean = nn.Linear(QFC, CONT)
        self.q_logstd = nn.Linear(QFC, CONT) if learned_std else None

    def generate(self, z):
        h = F.relu(self.g_bn1(self.g_fc1(z)))
        h = F.relu(self.g_bn2(self.g_fc2(h))).view(-1, WIDE, 7, 7)
        h = F.relu(self.g_bn3(self.g_up1(h)))
        return torch.sigmoid(self.g_up2(h))

    def body(self, x):
        h = F.leaky_relu(self.d_conv1(x), LEAK)
        h = F.leaky_relu(self.d_bn2(self.d_conv2(h)), LEAK).view(-1, WIDE * 49)
        return F.leaky_relu(self.d_bn3(self.d_fc(h)), LEAK)

    def q(self, features):
        h = F.leaky_relu(self.q_bn(self.q_fc(features)), LEAK)
        logstd = self.q_logstd(h) if self.q_logstd is not None else None
        return self.q_cat0(h), self.q_mean(h), logstd

    def groups(self):
        by = {"G": [], "D": [], "Q": []}
        for name, p in self.named_parameters():
            by[name[0].upper()].append(p)
        return by

    def our_names(self):
        """(our slot name, tensor) for every parameter and running statistic."""
        out = []
        for name, module in self.named_children():
            if module is None:
                continue
            ours = name.replace("_", ".", 1)
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                out += [(f"{ours}.gamma", module.weight), (f"{ours}.beta", module.bias)]
                out += [(f"{ours}.running_mean", module.running_mean), (f"{ours}.running_var", module.running_var)]
            else:
                out.append((f"{ours}.weight", module.weight))
                if module.bias is not None:
                    out.append((f"{ours}.bias", module.bias))
        return out


def latents(gen):
    noise = torch.rand(BATCH, NOISE, generator=gen, dtype=torch.float64) * 2 - 1
    cat = torch.randint(0, CATS[0], (BATCH,), generator=gen)
    cont = torch.rand(BATCH, CONT, generator=gen, dtype=torch.float64) * 2 - 1
    z = torch.cat([noise, F.one_hot(cat, CATS[0]).double(), cont], dim=1)
    return z, cat, cont


def mutual_information(nets, features, cat, cont):
    logits, mean, logstd = nets.q(features)
    ce = F.cross_entropy(logits, cat)
    if logstd is None:
        logstd = torch.zeros_like(mean)
    nll = (0.5 * math.log(2 * math.pi) + logstd + 0.5 * (cont - mean) ** 2 * torch.exp(-2 * logstd)).sum(1).mean()
    return LAMBDA_CAT * ce + LAMBDA_CONT * nll, ce, nll


def case(tag, learned_std, q_with_g, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    nets = Nets(learned_std).double()
    with torch.no_grad():
        # Random everything (never zeros): weights N(0, 0.02)-ish, gammas near 1, nonzero
        # biases and betas, running statistics away from their defaults.
        for name, t in nets.our_names():
            if name.endswith("gamma"):
                t.copy_(1 + 0.1 * torch.randn(t.shape, generator=gen, dtype=torch.float64))
            elif name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen, dtype=torch.float64))
            elif name.endswith(("bias", "beta", "running_mean")):
                t.copy_(0.05 * torch.randn(t.shape, generator=gen, dtype=torch.float64))
            else:
                t.copy_(0.1 * torch.randn(t.shape, generator=gen, dtype=torch.float64))
    out = {}
    for name, t in nets.our_names():
        out[f"{tag}/init/{name}"] = t.detach().clone()
    real = digits(BATCH)
    zd, cat_d, cont_d = latents(gen)
    zg, cat_g, cont_g = latents(gen)
    out[f"{tag}/real"] = real.reshape(BATCH, 784)
    for phase, (z, cat, cont) in (("d", (zd, cat_d, cont_d)), ("g", (zg, cat_g, cont_g))):
        out[f"{tag}/z_{phase}"] = z
        out[f"{tag}/cat_{phase}"] = cat.double()
        out[f"{tag}/cont_{phase}"] = cont
    groups = nets.groups()
    adam = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), eps=1e-8)
    opt_d = adam(groups["D"] + ([] if q_with_g else groups["Q"]), LR_D)
    opt_g = adam(groups["G"] + (groups["Q"] if q_with_g else []), LR_G)
    ones, zeros = torch.ones(BATCH, 1, dtype=torch.float64), torch.zeros(BATCH, 1, dtype=torch.float64)

    # D phase (Q too with the official wiring); G's output detached.
    nets.zero_grad()
    fake = nets.generate(zd).detach()
    logit_real = nets.d_head(nets.body(real))
    feats_fake = nets.body(fake)
    logit_fake = nets.d_head(feats_fake)
    bce_real = F.binary_cross_entropy_with_logits(logit_real, ones)
    bce_fake = F.binary_cross_entropy_with_logits(logit_fake, zeros)
    loss_d = bce_real + bce_fake
    if not q_with_g:
        mi, _, _ = mutual_information(nets, feats_fake, cat_d, cont_d)
        loss_d = loss_d + mi
    loss_d.backward()
    for name, p in nets.named_parameters():
        if name[0] == "d" or (name[0] == "q" and not q_with_g):
            out[f"{tag}/grad/{ours(name)}"] = p.grad.detach().clone()
    opt_d.step()

    # G phase (Q too with the q-with-g wiring); D's parameters are not stepped.
    nets.zero_grad()
    feats = nets.body(nets.generate(zg))
    bce_g = F.binary_cross_entropy_with_logits(nets.d_head(feats), ones)
    mi, ce_g, nll_g = mutual_information(nets, feats, cat_g, cont_g)
    loss_g = bce_g + mi
    loss_g.backward()
    for name, p in nets.named_parameters():
        if name[0] == "g" or (name[0] == "q" and q_with_g):
            out[f"{tag}/grad/{ours(name)}"] = p.grad.detach().clone()
    opt_g.step()

    for key, value in (("loss_d", loss_d), ("loss_g", loss_g), ("bce_real", bce_real), ("bce_fake", bce_fake), ("ce_g", ce_g), ("nll_g", nll_g)):
        out[f"{tag}/scalar/{key}"] = value.detach().reshape(1)
    for name, t in nets.our_names():
        out[f"{tag}/after/{name}"] = t.detach().clone()
    return out


def ours(torch_name):
    """d_bn2.weight -> d.bn2.gamma, g_fc1.weight -> g.fc1.weight."""
    module, field = torch_name.rsplit(".", 1)
    ours_module = module.replace("_", ".", 1)
    if "bn" in module:
        field = {"weight": "gamma", "bias": "beta"}[field]
    return f"{ours_module}.{field}"


def main():
    tensors = {}
    tensors.update(case("official", learned_std=False, q_with_g=False, seed=1))
    tensors.update(case("qwithg", learned_std=True, q_with_g=True, seed=2))
    tensors = {k: v.float().contiguous() for k, v in tensors.items()}
    meta = {
        "noise": str(NOISE), "categorical": str(CATS[0]), "continuous": str(CONT), "widths": f"{FC},{WIDE},{NARROW},{QFC}",
        "batch": str(BATCH), "leak": str(LEAK), "lr_d": str(LR_D), "lr_g": str(LR_G), "torch": torch.__version__,
    }
    path = ROOT / "tests/data/parity_golden.safetensors"
    path.parent.mkdir(exist_ok=True)
    save_file(tensors, str(path), metadata=meta)
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(tensors)} tensors)")


if __name__ == "__main__":
    main()
