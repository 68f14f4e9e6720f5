"""``python -m stylelab bench adjustable``: parameters (network and Lambda), CPU ms per image, slider update time."""
from __future__ import annotations

import argparse
import statistics

import torch

from .. import arguments, widgets
from ..methods import adjustable
from . import parameters, print_size_timings, time_ms


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench adjustable", description=__doc__)
    arguments.add_sizes(p, what="square image sides")
    arguments.add_runs(p, 5)
    arguments.add_device(p, "cpu")
    arguments.add_threads(p)
    p.add_argument("--johnson-size", action="store_true", help="use Johnson's full widths (32-64-128, 5 blocks)")
    return p


def main(argv=None) -> int:
    args = arguments.parse(parser(), argv)

    cfg = adjustable.Config(channels=(32, 64, 128), n_residual=5) if args.johnson_size else adjustable.Config()
    model = adjustable.build(cfg).to(args.device).eval()
    lam = parameters(model.lam) + parameters(model.lam_linear)
    print(f"adjustable network {tuple(cfg.channels)}, {cfg.n_residual} residual blocks "
          f"(device {args.device}, {torch.get_num_threads()} threads)")
    print(f"  parameters, total:                 {parameters(model):>10,}")
    print(f"  transformation network T:          {parameters(model.net):>10,}")
    print(f"  Lambda (alpha -> gamma, beta)     : {lam:>10,}  ({sum(model.sizes)} IN channels x 2 outputs)")
    print(f"  a CIN style slot of the same net:  {2 * sum(model.sizes):>10,}  (for comparison)")
    a = adjustable.make_alpha(model, [0.3, 0.6, 0.9]).to(args.device)
    t = time_ms(lambda: model.conditioning(a), runs=args.runs * 4, device=args.device)
    print(f"  Lambda alone:      {t['median_ms']:8.2f} ms")
    print_size_timings(lambda x: model(x, a), args.sizes, args.runs, args.device)
    content = torch.rand(1, 3, 256, 256)
    panel = widgets.adjustable_panel(model.cpu(), content)
    for i in range(args.runs):
        panel.randomize()
    med = statistics.median(panel.times_ms[1:])
    print(f"  slider update at 256 px:  {med:8.1f} ms (median of {args.runs}: Lambda + stylise + PNG encode; "
          f"target < 500 ms: {'met' if med < 500 else 'NOT met on this machine now'})")
    return 0
