#!/usr/bin/env python3
"""Writes tests/data/parity/<model>.safetensors: one full InfoGAN D+G step computed by PyTorch
in float64, for each of the seven presets and both wirings.

The networks come from the binary's own description (`infogan models --model M --widths W
--json`), built here layer by layer with PyTorch's modules, so the golden checks our kernels,
tape and step against an independent implementation of the same description. Narrow widths,
5 noise dimensions, random weights (never zeros), random images in the network's pixel range and
random latents go in; the losses, every gradient, the parameters after one Adam step and the
batch-norm running statistics come out. tests/parity.rs runs our step on the same inputs.

Two cases per model: `official` (Q's std fixed at 1, Q stepped with D, MI term in both losses)
and `qwithg` (Q's std learned, Q stepped with G, D's loss the GAN loss alone). PyTorch is needed
only to regenerate the files:

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch safetensors
    cargo build --release && /tmp/torch/bin/python scripts/parity_golden.py [--model NAME]

tests/data/parity_golden.safetensors (the MNIST golden kept from when the networks were written
as code) is not rewritten by this script.
"""
import argparse
import json
import math
import pathlib
import subprocess

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
BATCH, NOISE = 6, 5
# Narrow widths per preset, one per width slot (`infogan models` lists the slots).
WIDTHS = {
    "mnist": "16,8,4,8",
    "svhn": "8,8,4,4,4,4,8,8",
    "celeba": "8,8,4,4,4,4,8,8",
    "faces": "16,8,4,8",
    "chairs": "16,8,4,4,4,4,8,8",
    "shapes": "16,8,4,8",
    "shapes32": "16,8,4,8",
}


def describe(model):
    """The binary's configuration of `model` at the narrow widths."""
    binary = ROOT / "target/release/infogan"
    text = subprocess.run([str(binary), "models", "--model", model, "--widths", WIDTHS[model], "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(text)


class Stack(nn.Module):
    """A layer list as the description gives it; parameters under our names."""

    def __init__(self, prefix, specs, shape, leak):
        super().__init__()
        self.steps = []
        self.named = []  # (our name, module) of layers with parameters or running statistics
        self.leak = leak
        for spec in specs:
            kind = spec["layer"]
            if kind == "linear":
                layer = nn.Linear(shape[0], spec["out"], bias=spec["bias"])
                self._add(prefix, spec["name"], layer, lambda h, l=layer: l(h))
                shape = [spec["out"]]
            elif kind in ("conv", "conv_transpose"):
                k, s, (p0, p1) = spec["kernel"], spec["stride"], spec["padding"]
                if kind == "conv":
                    layer = nn.Conv2d(shape[0], spec["out"], k, s, 0, bias=spec["bias"])
                    # Zeros before and after each spatial axis, then an unpadded convolution.
                    self._add(prefix, spec["name"], layer, lambda h, l=layer, p0=p0, p1=p1: l(F.pad(h, (p0, p1, p0, p1))))
                    side = lambda n: (n + p0 + p1 - k) // s + 1
                else:
                    layer = nn.ConvTranspose2d(shape[0], spec["out"], k, s, 0, bias=spec["bias"])
                    # The full transposed convolution with p0 cut at the start and p1 at the end.
                    def run(h, l=layer, p0=p0, p1=p1):
                        full = l(h)
                        return full[:, :, p0 : full.shape[2] - p1, p0 : full.shape[3] - p1]
                    self._add(prefix, spec["name"], layer, run)
                    side = lambda n: (n - 1) * s + k - p0 - p1
                shape = [spec["out"], side(shape[1]), side(shape[2])]
            elif kind == "batch_norm":
                layer = (nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0], eps=1e-5, momentum=0.1)
                self._add(prefix, spec["name"], layer, lambda h, l=layer: l(h))
            elif kind == "relu":
                self.steps.append(F.relu)
            elif kind == "leaky_relu":
                self.steps.append(lambda h: F.leaky_relu(h, self.leak))
            elif kind == "sigmoid":
                self.steps.append(torch.sigmoid)
            elif kind == "tanh":
                self.steps.append(torch.tanh)
            elif kind == "reshape":
                target = spec["shape"]
                self.steps.append(lambda h, t=target: h.reshape(h.shape[0], *t))
                shape = target
            else:
                raise ValueError(f"unknown layer {kind}")
        self.out_shape = shape

    def _add(self, prefix, name, layer, step):
        self.add_module(f"{prefix}_{name}", layer)
        self.named.append((f"{prefix}.{name}", layer))
        self.steps.append(step)

    def forward(self, h):
        for step in self.steps:
            h = step(h)
        return h


class Nets(nn.Module):
    def __init__(self, config):
        super().__init__()
        net, latent, leak = config["network"], config["latent"], config["leak"]
        width = latent["noise"] + sum(latent["categorical"]) + latent["continuous"]
        self.g = Stack("g", net["generator"], [width], leak)
        self.body = Stack("d", net["body"], net["image"], leak)
        self.head = Stack("d", net["d_head"], self.body.out_shape, leak)
        self.q_hidden = Stack("q", net["q_hidden"], self.body.out_shape, leak)
        hidden = self.q_hidden.out_shape[0]
        self.cats = nn.ModuleList(nn.Linear(hidden, k) for k in latent["categorical"])
        cont = latent["continuous"]
        self.mean = nn.Linear(hidden, cont) if cont else None
        self.logstd = nn.Linear(hidden, cont) if cont and config["learned_std"] else None
        self.arena_of = {}
        for name, _ in self.our_names():
            self.arena_of[name] = name[0].upper()

    def heads(self):
        out = [(f"q.cat{i}", l) for i, l in enumerate(self.cats)]
        out += [("q.mean", self.mean)] if self.mean is not None else []
        out += [("q.logstd", self.logstd)] if self.logstd is not None else []
        return out

    def q(self, features):
        h = self.q_hidden(features)
        logits = [l(h) for l in self.cats]
        mean = self.mean(h) if self.mean is not None else None
        logstd = self.logstd(h) if self.logstd is not None else None
        return logits, mean, logstd

    def our_names(self):
        """(our slot name, tensor) for every parameter and running statistic, in arena order."""
        out = []
        layers = self.g.named + self.body.named + self.head.named + self.q_hidden.named + self.heads()
        for name, module in layers:
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                out += [(f"{name}.gamma", module.weight), (f"{name}.beta", module.bias)]
                out += [(f"{name}.running_mean", module.running_mean), (f"{name}.running_var", module.running_var)]
            else:
                out.append((f"{name}.weight", module.weight))
                if module.bias is not None:
                    out.append((f"{name}.bias", module.bias))
        return out

    def parameters_of(self, arena):
        return [t for name, t in self.our_names() if name[0].upper() == arena and t.requires_grad]


def latents(gen, latent):
    noise = torch.rand(BATCH, latent["noise"], generator=gen, dtype=torch.float64) * 2 - 1
    cats = [torch.randint(0, k, (BATCH,), generator=gen) for k in latent["categorical"]]
    cont = torch.rand(BATCH, latent["continuous"], generator=gen, dtype=torch.float64) * 2 - 1
    parts = [noise] + [F.one_hot(c, k).double() for c, k in zip(cats, latent["categorical"])] + [cont]
    return torch.cat(parts, dim=1), cats, cont


def mutual_information(nets, features, cats, cont, config):
    logits, mean, logstd = nets.q(features)
    ce = [F.cross_entropy(l, c) for l, c in zip(logits, cats)]
    total = config["lambda_cat"] * sum(ce) if ce else features.new_zeros(())
    nll = features.new_zeros(())
    if mean is not None:
        if logstd is None:
            logstd = torch.zeros_like(mean)
        nll = (0.5 * math.log(2 * math.pi) + logstd + 0.5 * (cont - mean) ** 2 * torch.exp(-2 * logstd)).sum(1).mean()
        total = total + config["lambda_cont"] * nll
    return total, sum(ce) if ce else features.new_zeros(()), nll


def case(config, tag, seed):
    q_with_g = config["wiring"] == "q-with-g"
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    nets = Nets(config).double()
    with torch.no_grad():
        # Random everything (never zeros): weights, gammas near 1, nonzero biases and betas,
        # running statistics away from their defaults.
        for name, t in nets.our_names():
            if name.endswith("gamma"):
                t.copy_(1 + 0.1 * torch.randn(t.shape, generator=gen, dtype=torch.float64))
            elif name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen, dtype=torch.float64))
            elif name.endswith(("bias", "beta", "running_mean")):
                t.copy_(0.05 * torch.randn(t.shape, generator=gen, dtype=torch.float64))
            else:
                t.copy_(0.1 * torch.randn(t.shape, generator=gen, dtype=torch.float64))
    out = {f"{tag}/init/{name}": t.detach().clone() for name, t in nets.our_names()}
    image = config["network"]["image"]
    # Random bytes scaled as the gather kernel scales them for this generator's last activation.
    pixels = torch.randint(0, 256, (BATCH, *image), generator=gen).double() / 255.0
    real = pixels * 2 - 1 if config["network"]["generator"][-1]["layer"] == "tanh" else pixels
    latent = config["latent"]
    zd, cats_d, cont_d = latents(gen, latent)
    zg, cats_g, cont_g = latents(gen, latent)
    out[f"{tag}/real"] = real.reshape(BATCH, -1)
    for phase, (z, cats, cont) in (("d", (zd, cats_d, cont_d)), ("g", (zg, cats_g, cont_g))):
        out[f"{tag}/z_{phase}"] = z
        for i, c in enumerate(cats):
            out[f"{tag}/cat{i}_{phase}"] = c.double()
        out[f"{tag}/cont_{phase}"] = cont
    adam = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), eps=1e-8)
    opt_d = adam(nets.parameters_of("D") + ([] if q_with_g else nets.parameters_of("Q")), config["lr_d"])
    opt_g = adam(nets.parameters_of("G") + (nets.parameters_of("Q") if q_with_g else []), config["lr_g"])
    ones, zeros = torch.ones(BATCH, 1, dtype=torch.float64), torch.zeros(BATCH, 1, dtype=torch.float64)
    params = dict(nets.our_names())
    # For every bias, the sum over its gradient's terms of their magnitudes (per channel): a
    # bias gradient is a sum over the batch (and pixels) that may cancel to far below its terms,
    # and its f32 error scales with the terms. The test judges bias gradients against this.
    magnitude = {}
    layers = nets.g.named + nets.body.named + nets.head.named + nets.q_hidden.named + nets.heads()
    for name, module in layers:
        if getattr(module, "bias", None) is None or isinstance(module, nn.modules.batchnorm._BatchNorm):
            continue
        def keep(module, inputs, output, name=name):
            if output.requires_grad:
                dims = [d for d in range(output.dim()) if d != 1]
                output.register_hook(lambda grad: magnitude.__setitem__(name, magnitude.get(name, 0) + grad.abs().sum(dim=dims)))
        module.register_forward_hook(keep)

    # D phase (Q too with the official wiring); G's output detached.
    nets.zero_grad()
    fake = nets.g(zd).detach()
    logit_real = nets.head(nets.body(real))
    feats_fake = nets.body(fake)
    logit_fake = nets.head(feats_fake)
    bce_real = F.binary_cross_entropy_with_logits(logit_real, ones)
    bce_fake = F.binary_cross_entropy_with_logits(logit_fake, zeros)
    loss_d = bce_real + bce_fake
    if not q_with_g:
        mi, _, _ = mutual_information(nets, feats_fake, cats_d, cont_d, config)
        loss_d = loss_d + mi
    magnitude.clear()
    loss_d.backward()
    for name, t in params.items():
        if t.requires_grad and (name[0] == "d" or (name[0] == "q" and not q_with_g)):
            out[f"{tag}/grad/{name}"] = t.grad.detach().clone()
            if name.endswith(".bias") and name[: -len(".bias")] in magnitude:
                out[f"{tag}/grad_terms/{name}"] = magnitude[name[: -len(".bias")]].detach().clone()
    opt_d.step()

    # G phase (Q too with the q-with-g wiring); D's parameters are not stepped.
    nets.zero_grad()
    feats = nets.body(nets.g(zg))
    bce_g = F.binary_cross_entropy_with_logits(nets.head(feats), ones)
    mi, ce_g, nll_g = mutual_information(nets, feats, cats_g, cont_g, config)
    loss_g = bce_g + mi
    magnitude.clear()
    loss_g.backward()
    for name, t in params.items():
        if t.requires_grad and (name[0] == "g" or (name[0] == "q" and q_with_g)):
            out[f"{tag}/grad/{name}"] = t.grad.detach().clone()
            if name.endswith(".bias") and name[: -len(".bias")] in magnitude:
                out[f"{tag}/grad_terms/{name}"] = magnitude[name[: -len(".bias")]].detach().clone()
    opt_g.step()

    for key, value in (("loss_d", loss_d), ("loss_g", loss_g), ("bce_real", bce_real), ("bce_fake", bce_fake), ("ce_g", ce_g), ("nll_g", nll_g)):
        out[f"{tag}/scalar/{key}"] = value.detach().reshape(1)
    for name, t in nets.our_names():
        out[f"{tag}/after/{name}"] = t.detach().clone()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(WIDTHS), help="one preset (default: all seven)")
    args = parser.parse_args()
    for model in [args.model] if args.model else sorted(WIDTHS):
        tensors = {}
        for tag, wiring, learned_std, seed in (("official", "official", False, 1), ("qwithg", "q-with-g", True, 2)):
            config = describe(model)
            config["latent"]["noise"] = NOISE
            config.update(wiring=wiring, learned_std=learned_std)
            tensors.update(case(config, tag, seed))
        tensors = {k: v.float().contiguous() for k, v in tensors.items()}
        meta = {"model": model, "widths": WIDTHS[model], "noise": str(NOISE), "batch": str(BATCH), "torch": torch.__version__}
        path = ROOT / "tests/data/parity" / f"{model}.safetensors"
        path.parent.mkdir(exist_ok=True)
        save_file(tensors, str(path), metadata=meta)
        print(f"wrote {path} ({path.stat().st_size} bytes, {len(tensors)} tensors)")


if __name__ == "__main__":
    main()
