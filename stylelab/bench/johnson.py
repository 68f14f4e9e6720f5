"""``python -m stylelab bench johnson``: size, FLOPs, inference time and training time of the
Johnson transformation network (instance norm, upsample + conv, the paper's widths)."""
from __future__ import annotations

import argparse
import time

import torch

from .. import arguments, assets, train
from ..methods import johnson
from . import flops, parameters, time_ms


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench johnson", description=__doc__)
    arguments.add_sizes(p, what="square image sides of the FLOPs figures")
    arguments.add_size(p, 256, "square image side of the inference timing", flag="--time-size")
    arguments.add_runs(p, 5)
    p.add_argument("--train-steps", type=int, default=3, help="timed training steps (after one warm-up)")
    arguments.add_size(p, 256, "training crop size", flag="--train-size")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--norm", default="instance", choices=["instance", "batch"])
    p.add_argument("--upsample", default="nearest", choices=["nearest", "transpose"])
    arguments.add_device(p, "cpu")
    return p


def main(argv=None) -> int:
    a = parser().parse_args(argv)

    cfg = johnson.Config(norm=a.norm, upsample=a.upsample)
    net = johnson.build(cfg).to(a.device).eval()
    print(f"johnson TransformNet (norm={a.norm}, upsample={a.upsample}) on {a.device}, "
          f"{torch.get_num_threads()} threads")
    print(f"parameters: {parameters(net):,} ({parameters(net) * 2 / 2 ** 20:.2f} MiB as fp16)")
    for s in a.sizes:
        x = torch.rand(1, 3, s, s, device=a.device)
        print(f"FLOPs at {s}x{s}: {flops(lambda: net(x)) / 1e9:.1f} GFLOP per image")
    x = torch.rand(1, 3, a.time_size, a.time_size, device=a.device)
    t = time_ms(lambda: net(x), runs=a.runs, device=a.device)
    print(f"inference at {a.time_size}x{a.time_size}: {t['median_ms']:.1f} ms per image "
          f"(median of {a.runs}; min {t['min_ms']:.1f}, max {t['max_ms']:.1f})")

    content = [assets.load(n, a.train_size * 3 // 2) for n in assets.names("content")[:2]]
    style = assets.load("starry_night", a.train_size * 3 // 2)
    times = []

    class Timed:  # wrap the loss to time whole steps through the real trainer
        __name__ = "johnson"
        Config, build = johnson.Config, johnson.build

        @staticmethod
        def loss(model, batch):
            times.append(time.perf_counter())
            return johnson.loss(model, batch)

    train.train(Timed, content, style, size=a.train_size, steps=a.train_steps + 1, batch_size=a.batch_size,
                cfg=cfg, device=a.device, progress=False)
    end = time.perf_counter()
    per_step = (end - times[1]) / a.train_steps
    print(f"training at {a.train_size} px, batch {a.batch_size}: {per_step:.2f} s per step "
          f"(mean of {a.train_steps} after a warm-up; VGG-19 loss network included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
