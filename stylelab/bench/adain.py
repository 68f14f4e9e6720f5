"""``python -m stylelab bench adain``: AdaIN's size, FLOPs and time per image.

Timing uses a freshly initialised (untrained) decoder: the time of a forward pass does not depend
on the weights' values, and no trained decoder ships yet. "cached style" means the style's relu4_1
statistics were encoded once beforehand (``adain.encode_style``), as when one style is applied to
many images; "uncached" encodes the style image (same size as the content) on every call.
The paper's 512 px figure (Huang & Belongie) was 65 ms per image on a Titan X GPU, excluding the
style encoding.
"""
from __future__ import annotations

import argparse

import torch

from .. import arguments, config
from ..encoders import truncated, vgg19
from ..methods import adain
from . import flops, parameters, time_ms


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench adain", description=__doc__.splitlines()[0])
    arguments.add_sizes(p, what="square image sides")
    arguments.add_runs(p, 3)
    arguments.add_device(p, "cpu")
    p.add_argument("--width", type=float, default=1.0, help="decoder width (1.0 = the paper's)")
    arguments.add_threads(p)
    return p


def main(argv=None) -> int:
    args = arguments.parse(parser(), argv)
    dev = config.device(args.device)
    torch.manual_seed(0)
    model = adain.build(adain.Config(width=args.width)).to(dev).eval()
    enc = vgg19(device=str(dev))
    enc_params = parameters(truncated(enc, "relu4_1"))
    print(f"AdaIN (decoder width {args.width}) on {dev} ({torch.get_num_threads()} CPU threads); "
          "untrained decoder for timing (speed does not depend on the weights)")
    print(f"parameters: decoder {parameters(model):,} (trained); VGG-19 encoder to relu4_1 {enc_params:,} (frozen)")
    print(f"{'size':>6} {'GFLOPs full':>12} {'GFLOPs cached':>14} {'ms full':>9} {'ms cached':>10}")
    for s in args.sizes:
        c = torch.rand(1, 3, s, s, device=dev)
        st = torch.rand(1, 3, s, s, device=dev)
        cached = adain.encode_style(st, model=model)
        full = lambda: adain.stylize(c, st, model=model)
        fast = lambda: adain.stylize(c, cached, model=model)
        g_full, g_fast = flops(full) / 1e9, flops(fast) / 1e9
        t_full = time_ms(full, runs=args.runs, device=dev)["median_ms"]
        t_fast = time_ms(fast, runs=args.runs, device=dev)["median_ms"]
        print(f"{s:>6} {g_full:>12.1f} {g_fast:>14.1f} {t_full:>9.0f} {t_fast:>10.0f}")
    print("FLOPs count convolutions (a multiply-add = 2). Paper: 65 ms at 512 px on a Titan X GPU.")
    return 0
