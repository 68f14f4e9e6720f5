"""``python -m stylelab bench kernels``: size, FLOPs, CPU time and peak memory of dynamic style kernels.

Times and memory are of one full ``stylize`` pass (VGG-19 of content and style, SAE, CGM, kernel
generation, per-pixel kernels, decoder) with untrained weights: the cost does not depend on them.
The attention's own memory is reported separately, with and without query chunking, because it
is the part that grows with the square of the number of positions.
"""
from __future__ import annotations

import argparse
import math

import torch

from .. import arguments, encoders
from ..methods import kernels as K
from . import flops, fresh_peak_memory_mb, parameters, time_ms


def _pair(size: int):
    g = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)


def involution_flops(cfg, size: int) -> int:
    """The per-pixel kernels: 2 C k^2 FLOPs per relu4_1 position (the FLOP counter skips them)."""
    n = (size // 8) ** 2
    return 2 * cfg.channels * cfg.kernel_size ** 2 * n


def attention_bytes(cfg, size: int, chunked: bool = True) -> int:
    """Bytes of the attention matrix alive at once: chunk x keys floats, or N_c x N_s unchunked."""
    n = (size // 8) ** 2
    keys = n if n <= cfg.max_keys else (math.ceil(math.sqrt(n) / math.ceil(math.sqrt(n / cfg.max_keys)))) ** 2
    rows = min(cfg.chunk, n) if chunked else n
    return 4 * rows * (keys if chunked else n)


def stylize_pass(size: int, kernel_size: int, threads: int | None = None):
    """One ``stylize`` pass at ``size`` px, ready to run (for ``fresh_peak_memory_mb``): the model,
    the encoder and the pair are built here, so only the pass itself is measured."""
    if threads:
        torch.set_num_threads(threads)
    encoders.vgg19()
    model = K.build(K.Config(kernel_size=kernel_size)).eval()
    c, s = _pair(size)
    return lambda: model(c, s)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench kernels", description=__doc__.split("\n")[0])
    arguments.add_sizes(p, what="image sides to time")
    arguments.add_sizes(p, what="image sides to measure peak memory at", flags=("--memory-sizes",))
    arguments.add_runs(p, 3)
    p.add_argument("--kernel-size", type=int, default=3)
    arguments.add_threads(p)
    return p


def main(argv=None) -> int:
    a = arguments.parse(parser(), argv)
    torch.manual_seed(0)
    cfg = K.Config(kernel_size=a.kernel_size)
    model = K.build(cfg).eval()
    parts = {"SAE (q, k, v)": [model.q, model.k, model.v], "CGM (theta, tau)": [model.theta],
             "kernel generator": [model.gen], "decoder": [model.decoder]}
    print(f"dynamic style kernels: k={cfg.kernel_size}, groups={cfg.groups}, relu4_1, "
          f"chunk={cfg.chunk} queries, max_keys={cfg.max_keys}; CPU threads={torch.get_num_threads()}")
    print(f"parameters (trained): {parameters(model):,}  (+ frozen VGG-19 to relu4_1, not counted)")
    for name, mods in parts.items():
        print(f"  {name:<18} {sum(parameters(m) for m in mods) + (1 if name.startswith('CGM') else 0):>10,}")

    print("\nsize  GFLOPs(counted)  +involution  attention MiB (chunked / full)   CPU ms (median)")
    for s in a.sizes:
        c, st = _pair(s)
        fl = flops(lambda: model(c, st))
        inv = involution_flops(cfg, s)
        ms = time_ms(lambda: model(c, st), runs=a.runs, warmup=1)["median_ms"]
        print(f"{s:>4}  {fl / 1e9:>14.1f}  {inv / 1e9:>11.3f}  "
              f"{attention_bytes(cfg, s) / 2**20:>12.1f} / {attention_bytes(cfg, s, False) / 2**20:<10.1f}"
              f"   {ms:>10.0f}")

    print("\npeak extra memory of one stylize pass (CPU resident set in a fresh process, an upper bound):")
    for s in a.memory_sizes:
        mb = fresh_peak_memory_mb(stylize_pass, s, a.kernel_size, a.threads)
        print(f"  {s:>5} px: {mb:8.0f} MiB   (attention alone: {attention_bytes(cfg, s) / 2**20:.0f} MiB "
              f"chunked, {attention_bytes(cfg, s, False) / 2**20:.0f} MiB if unchunked)")
    print("\nThe attention matrix is N_c x N_s floats (N = (side/8)^2 relu4_1 positions): x16 per doubling "
          "of the side unchunked. Chunking queries and pooling keys to max_keys caps it at "
          "chunk x max_keys floats; the rest (VGG, decoder) grows x4 per doubling.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
