"""``python -m stylelab bench cin``: parameters (and per added style), CPU ms per image, widget update time."""
from __future__ import annotations

import argparse
import statistics

import torch

from .. import arguments, widgets
from ..methods import cin, johnson
from . import parameters, print_size_timings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench cin", description=__doc__)
    p.add_argument("--styles", type=int, default=32, help="styles in the network (Dumoulin et al.: 32)")
    arguments.add_sizes(p, what="square image sides")
    arguments.add_runs(p, 5)
    arguments.add_device(p, "cpu")
    arguments.add_threads(p)
    return p


def main(argv=None) -> int:
    args = arguments.parse(parser(), argv)

    model = cin.build(cin.Config(n_styles=args.styles)).to(args.device).eval()
    total = parameters(model)
    per_style = cin.parameters_per_style(model)
    shared = total - args.styles * per_style
    one_net = parameters(johnson.TransformNet())
    print(f"conditional IN network, {args.styles} styles (device {args.device}, {torch.get_num_threads()} threads)")
    print(f"  parameters, total:                {total:>12,}")
    print(f"  shared convolutions:              {shared:>12,}")
    print(f"  per added style (gamma, beta):    {per_style:>12,}  ({100 * per_style / one_net:.2f}% of a whole network)")
    print(f"  one Johnson network per style:    {one_net:>12,} each, {args.styles * one_net:,} for {args.styles} styles")
    print(f"  one CIN network for {args.styles} styles:    {total:>12,}  ({args.styles * one_net / total:.1f}x fewer)")
    w = torch.zeros(1, args.styles, device=args.device)
    w[0, :2] = 0.5
    print_size_timings(lambda x: model(x, w), args.sizes, args.runs, args.device)
    content = torch.rand(1, 3, 256, 256)
    panel = widgets.cin_mixing_panel(model.cpu(), content)
    for i in range(args.runs):
        panel.update((i + 1) / (args.runs + 1))
    print(f"  mixing slider update at 256 px: {statistics.median(panel.times_ms[1:]):8.1f} ms "
          f"(median of {args.runs}: stylise + PNG encode)")
    return 0
