"""``python -m stylelab bench gatys --sizes 256 512 --steps 20``: the cost of Gatys optimisation.

For each output size (long side; ``--size`` is the same option) it runs ``gatys.run`` on
chelsea x starry_night and prints seconds per optimisation step (median over the steps after the
first), the peak extra memory (of a separate 2-step run in a fresh process, so that the memory
sampler does not slow the timed run and no earlier run's freed memory hides it), the content and
style losses reached after N steps (as ``run`` logs them, and the relative figures of
``stylelab.bench.quality`` that every method reports), and the seconds per step of a
straightforward PyTorch implementation of the same objective for comparison.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from .. import arguments, assets, config
from ..encoders import LAYERS, vgg19
from ..methods import gatys
from . import fresh_peak_memory_mb, quality


def _plain_pytorch_steps(content, style, steps, cfg, device) -> list[float]:
    """A straightforward implementation (the PyTorch tutorial's recipe): copy VGG-19 into a
    Sequential with loss modules hooked in after the content/style layers, L-BFGS on the pixels.
    Returns the wall time of each step."""
    enc = vgg19(pooling=cfg.pooling, device=str(device))

    def gram(f):
        b, c, h, w = f.shape
        m = f.view(c, h * w)
        return m @ m.t() / (c * h * w)

    wanted = list(cfg.content_layers) + list(cfg.style_layers)
    deepest = max(LAYERS.index(l) for l in wanted)
    layers = [(n, m) for n, m in list(enc.layers.named_children())[:deepest + 1]]
    pre = enc.preprocess

    def features(x):
        out, h = {}, pre(x)
        for n, m in layers:
            h = m(h)
            if n in wanted:
                out[n] = h
        return out

    with torch.no_grad():
        fc = {l: f for l, f in features(content).items() if l in cfg.content_layers}
        gs = {l: gram(f) for l, f in features(style).items() if l in cfg.style_layers}
    x = content.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=1)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()

        def closure():
            opt.zero_grad()
            f = features(x)
            loss = sum(cfg.content_weight * F.mse_loss(f[l], fc[l]) for l in fc)
            loss = loss + sum(cfg.style_weight * F.mse_loss(gram(f[l]), gs[l]) for l in gs)
            loss.backward()
            return loss
        opt.step(closure)
        times.append(time.perf_counter() - t0)
    return times


def short_run(content: str, style: str, size: int, optimizer: str, device: str):
    """A 2-step ``gatys.run`` at ``size`` px, ready to run (for ``fresh_peak_memory_mb``): the
    images and the encoder are loaded here, so only the optimisation is measured."""
    cfg = gatys.Config()
    vgg19(pooling=cfg.pooling, device=device)
    c, s = assets.resolve(content, size).to(device), assets.resolve(style, size).to(device)

    def run():
        with torch.inference_mode(False):
            gatys.run(c, s, size=size, steps=2, optimizer=optimizer, progress=False, device=device, cfg=cfg)
    return run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench gatys", description=__doc__.splitlines()[0])
    arguments.add_sizes(p, what="output long sides")
    p.add_argument("--steps", type=int, default=20, help="optimisation steps per size (default 20)")
    p.add_argument("--optimizer", choices=gatys.OPTIMIZERS, default="lbfgs")
    p.add_argument("--baseline-steps", type=int, default=4, help="steps of the plain PyTorch baseline (0: skip)")
    p.add_argument("--content", default="chelsea")
    p.add_argument("--style", default="starry_night")
    arguments.add_device(p)
    return p


def main(argv=None) -> int:
    p = parser()
    a = p.parse_args(argv)
    if a.steps < 2:
        p.error("--steps must be at least 2 (the first step is warm-up)")
    dev = config.device(a.device)
    cfg = gatys.Config()
    print(f"gatys bench: {a.content} x {a.style}, {a.optimizer}, {a.steps} steps, device {dev}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'size':>9} {'s/step':>8} {'plain s/step':>13} {'peak MiB':>9} {'content':>10} {'style':>10} "
          f"{'rel content':>12} {'rel style':>10}")
    for size in a.sizes:
        content = assets.resolve(a.content, size).to(dev)
        style = assets.resolve(a.style, size).to(dev)
        peak = fresh_peak_memory_mb(short_run, a.content, a.style, size, a.optimizer, str(dev), device=dev)
        stamps = []
        t0 = time.perf_counter()
        stamps.append(t0)
        r = gatys.run(content, style, size=size, steps=a.steps, optimizer=a.optimizer, progress=False,
                      device=str(dev), callback=lambda k, x, row: stamps.append(time.perf_counter()))
        per_step = [b - a_ for a_, b in zip(stamps[1:], stamps[2:])] or [stamps[-1] - t0]
        last = r.final  # the losses of the image run() returns
        q = quality(r.image, content, style)
        plain = float("nan")
        if a.baseline_steps > 0:
            with torch.inference_mode(False):
                ts = _plain_pytorch_steps(content, style, a.baseline_steps + 1, cfg, dev)
            plain = statistics.median(ts[1:])
        hw = "x".join(map(str, reversed(r.image.shape[-2:])))
        print(f"{hw:>9} {statistics.median(per_step):8.3f} {plain:13.3f} {peak:9.0f} {last['content']:10.4g} "
              f"{last['style']:10.4g} {q['content_loss']:12.3f} {q['style_gram']:10.3f}", flush=True)
    print("content/style: the logged losses of the returned image (lowest total over the N steps) (before the content/style weights); "
          "rel content/style: stylelab.bench.quality's figures (content ||dphi||^2/||phi||^2 at relu4_1, "
          "style sum of relative Gram errors relu1_1..relu4_1). s/step: median over steps 2..N.")
    return 0
