"""``python -m stylelab bench din``: DIN's light content path against AdaIN's VGG one.

Reports parameters, FLOPs (``torch.utils.flop_counter``: convolutions and matrix products, a
multiply-add = 2 FLOPs) and CPU milliseconds per image at 256 and 512 px, with the style encoded
every call (uncached) or once beforehand (cached), and the ratio AdaIN / DIN of each, all measured
in the same run. AdaIN here is VGG-19 to relu4_1 + ``stats.adain`` + AdaIN's ``Decoder``; both
networks carry untrained weights, which changes nothing about their cost.

Counting rule for the table: the *content path* is what runs for every content image (encoder,
the DIN / AdaIN layers, decoder); the *style encoding* (VGG to relu4_1, plus DIN's weight and bias
nets) runs once per style and is cached, so it is listed separately.
"""
from __future__ import annotations

import argparse

import torch

from .. import arguments, encoders, stats
from ..methods import din
from ..methods.adain import Decoder
from . import flops, parameters, time_ms


class AdaINNet(torch.nn.Module):
    """AdaIN's inference network for measuring: VGG-19 to relu4_1 (shared, frozen), AdaIN, decoder."""

    def __init__(self):
        super().__init__()
        self.decoder = Decoder()

    @staticmethod
    def vgg(x):
        return encoders.vgg19(device=str(x.device))

    def encode_style(self, s):
        return stats.mean_std(self.vgg(s).encode(s, ["relu4_1"])["relu4_1"])

    def forward(self, c, style):
        f = self.vgg(c).encode(c, ["relu4_1"])["relu4_1"]
        mu, sigma = style if isinstance(style, tuple) else self.encode_style(style)
        return self.decoder(sigma * stats.normalize(f) + mu)


def _vgg_params() -> int:
    vgg = encoders.vgg19()
    return parameters(encoders.truncated(vgg, "relu4_1"))


def cost_table(size: int = 512, model: din.DIN | None = None) -> dict:
    """FLOPs and parameters of each part of DIN and AdaIN for a ``size`` x ``size`` content and style.

    Returns ``{"din": {part: (flops, params)}, "adain": {...}, "ratio": {part: adain / din}}`` with
    parts encoder, transform (DIN / AdaIN layers), decoder, content_total, style_encoding."""
    model = (model or din.build()).eval()
    vgg = encoders.vgg19()
    x = torch.rand(1, 3, size, size)
    s = torch.rand(1, 3, size, size)
    code = model.encode_style(s)
    with torch.inference_mode():
        h = model.encoder(x)
        h1 = model.din[0](h, code.weights[0], code.biases[0])
        h2 = model.decoder1(h1)
        h3 = model.din[1](h2, code.weights[1], code.biases[1])
    d = {
        "encoder": (flops(lambda: model.encoder(x)), parameters(model.encoder)),
        "transform": (flops(lambda: model.din[0](h, code.weights[0], code.biases[0]))
                      + flops(lambda: model.din[1](h2, code.weights[1], code.biases[1])),
                      sum(parameters(l.offset_net) for l in model.din if l.offset_net is not None)),
        "decoder": (flops(lambda: model.decoder1(h1)) + flops(lambda: model.decoder2(h3)),
                    parameters(model.decoder1) + parameters(model.decoder2)),
        "style_encoding": (flops(lambda: model.encode_style(s)),
                           _vgg_params() + sum(parameters(l.weight_net) + parameters(l.bias_net) for l in model.din)),
    }
    ada = AdaINNet().eval()
    f = vgg.encode(x, ["relu4_1"])["relu4_1"]
    a = {
        "encoder": (flops(lambda: vgg.encode(x, ["relu4_1"])), _vgg_params()),
        "transform": (flops(lambda: stats.adain(f, f)), 0),
        "decoder": (flops(lambda: ada.decoder(f)), parameters(ada.decoder)),
        "style_encoding": (flops(lambda: ada.encode_style(s)), _vgg_params()),
    }
    for t in (d, a):
        t["content_total"] = tuple(sum(t[p][i] for p in ("encoder", "transform", "decoder")) for i in (0, 1))
    ratio = {p: (a[p][0] / d[p][0] if a[p][0] and d[p][0] else float("nan")) for p in d}
    return {"din": d, "adain": a, "ratio": ratio, "size": size}


PARTS = ("encoder", "transform", "decoder", "content_total", "style_encoding")


def format_table(t: dict) -> str:
    rows = [f"FLOPs and parameters at {t['size']} x {t['size']} px (GFLOPs = 1e9 FLOPs; params in millions)",
            f"{'part':<16}{'AdaIN GFLOPs':>14}{'DIN GFLOPs':>12}{'ratio':>9}{'AdaIN Mparam':>14}{'DIN Mparam':>12}"]
    for p in PARTS:
        (fa, pa), (fd, pd) = t["adain"][p], t["din"][p]
        r = t["ratio"][p]
        rows.append(f"{p:<16}{fa / 1e9:>14.2f}{fd / 1e9:>12.3f}{(f'{r:.1f}x' if r == r else '-'):>9}"
                    f"{pa / 1e6:>14.2f}{pd / 1e6:>12.3f}")
    return "\n".join(rows)


def timings(sizes=(256, 512), runs: int = 5, model: din.DIN | None = None) -> list[dict]:
    """CPU ms per image for DIN and AdaIN at each size, style uncached and cached, same run."""
    model = (model or din.build()).eval()
    ada = AdaINNet().eval()
    out = []
    for size in sizes:
        x = torch.rand(1, 3, size, size)
        s = torch.rand(1, 3, size, size)
        with torch.inference_mode():
            dcode, acode = model.encode_style(s), ada.encode_style(s)
        row = {"size": size}
        row["din_uncached"] = time_ms(lambda: model(x, s), runs=runs)["median_ms"]
        row["din_cached"] = time_ms(lambda: model(x, dcode), runs=runs)["median_ms"]
        row["adain_uncached"] = time_ms(lambda: ada(x, s), runs=runs)["median_ms"]
        row["adain_cached"] = time_ms(lambda: ada(x, acode), runs=runs)["median_ms"]
        out.append(row)
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench din", description=__doc__.splitlines()[0])
    arguments.add_sizes(p, what="image sides to time")
    arguments.add_runs(p, 5)
    arguments.add_size(p, 512, "image side of the FLOPs table", flag="--flops-size")
    return p


def main(argv=None) -> int:
    a = parser().parse_args(argv)
    torch.manual_seed(0)
    model = din.build().eval()
    ada = AdaINNet()
    print("DIN vs AdaIN (untrained weights in both: cost does not depend on the weights)")
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"parameters  DIN total {parameters(model) / 1e6:.3f} M (content path "
          f"{(parameters(model.encoder) + parameters(model.decoder1) + parameters(model.decoder2)) / 1e6:.3f} M, "
          f"weight/bias nets {sum(parameters(l.weight_net) + parameters(l.bias_net) for l in model.din) / 1e6:.3f} M)"
          f" + VGG-19 to relu4_1 {_vgg_params() / 1e6:.2f} M for styles")
    print(f"            AdaIN decoder {parameters(ada.decoder) / 1e6:.3f} M + VGG-19 to relu4_1 {_vgg_params() / 1e6:.2f} M")
    print()
    print(format_table(cost_table(a.flops_size, model)))
    print()
    print(f"CPU ms per image (median of {a.runs}); ratio = AdaIN / DIN")
    print(f"{'size':>6}{'style':>10}{'DIN ms':>10}{'AdaIN ms':>11}{'ratio':>8}")
    for r in timings(a.sizes, a.runs, model):
        for kind in ("uncached", "cached"):
            dm, am = r[f"din_{kind}"], r[f"adain_{kind}"]
            print(f"{r['size']:>6}{kind:>10}{dm:>10.1f}{am:>11.1f}{am / dm:>7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
