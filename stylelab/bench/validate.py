"""``python -m stylelab bench validate METHOD``: a model's quality figures on held-out pairs.

Pairs content photo ``i`` with style ``i % n_styles`` (both folders sorted by name), stylises each
pair at every ``--sizes`` (long side) and prints the mean of ``stylelab.bench.quality``'s figures:
relative content loss, Gram and mean/std style losses (lower is better) and SSIM to the content
(higher keeps more structure). Rows: the model under test (``--model FILE``, or the shipped one),
the same network untrained (``--untrained``), and Gatys at ``--gatys-steps`` (0: skip), so that a
trained model's figures always sit next to what it has to beat. ``--grid PNG`` saves the pictures.

Single-style networks (johnson, cin, adjustable) run their own trained styles: ``--style NAME``
picks them (johnson: shipped styles; cin: its styles by name; default: all of them), each is
judged against its bundled painting, and ``--style-dir`` is not needed.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch

from .. import assets, images, train
from ..encoders import vgg19
from ..errors import ArgumentError
from ..methods import get as get_method
from . import quality
from .arena import SINGLE_STYLE, named_runner, trained_styles

FIGURES = ("content_loss", "style_gram", "style_meanstd", "ssim")


def pairs(content_dir, style_dir, limit: int | None = None) -> list[tuple[Path, Path]]:
    """(content, style) files: content ``i`` with style ``i % n_styles``, at most ``limit`` pairs."""
    cs, ss = train.image_files(content_dir), train.image_files(style_dir)
    out = [(c, ss[i % len(ss)]) for i, c in enumerate(cs)]
    return out[:limit] if limit else out


def run_rows(rows: dict, pair_list, sizes, encoder=None) -> tuple[dict, dict]:
    """Mean figures per (row, size) for ``rows = {label: (content, style, style_ref) -> image}``
    (``style_ref``: the pair's style file or bundled name), and the pictures per (row, size) in
    pair order."""
    enc = encoder or vgg19()
    figures, pictures = {}, {}
    for size in sizes:
        loaded = [(images.load(c, size), assets.resolve(s, size), s) for c, s in pair_list]
        for label, fn in rows.items():
            per, pics = [], []
            for c, s, ref in loaded:
                with torch.no_grad():
                    out = fn(c, s, ref).clamp(0, 1)
                per.append(quality(out, c, s, encoder=enc))
                pics.append(out)
            figures[label, size] = {k: statistics.mean(p[k] for p in per) for k in FIGURES}
            pictures[label, size] = pics
    return figures, pictures


def print_table(figures: dict) -> None:
    print(f"{'model':<28} {'size':>5} " + " ".join(f"{k:>14}" for k in FIGURES))
    for (label, size), f in figures.items():
        print(f"{label:<28} {size:>5} " + " ".join(f"{f[k]:>14.4g}" for k in FIGURES))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stylelab bench validate", description=__doc__.splitlines()[0])
    p.add_argument("method", help="adain, din, kernels, ... (an arbitrary-style method)")
    p.add_argument("--model", default=None, help="an exported model (<method>.pth); default: the shipped one")
    p.add_argument("--content-dir", required=True, help="held-out photos")
    p.add_argument("--style-dir", default=None, help="held-out paintings and textures (arbitrary-style methods)")
    p.add_argument("--style", nargs="+", default=None,
                   help="single-style networks: the trained styles to judge (default: all it has)")
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="long sides in px")
    p.add_argument("--pairs", type=int, default=None, help="use at most this many pairs")
    p.add_argument("--untrained", action="store_true", help="add the same network with random weights")
    p.add_argument("--gatys-steps", type=int, default=0, help="add Gatys at this many L-BFGS steps (0: skip)")
    p.add_argument("--grid", default=None, help="save the pictures (rows: pairs, columns: models) to this PNG")
    p.add_argument("--json", default=None, help="also write the figures to this JSON file ({row: {size: figures}})")
    a = p.parse_args(argv)
    mod = get_method(a.method)
    single = a.method in SINGLE_STYLE
    if not single and a.style_dir is None:
        raise ArgumentError(f"{a.method} takes a style image: pass --style-dir with held-out paintings")
    torch.manual_seed(0)
    label = f"{a.method} ({Path(a.model).name if a.model else 'shipped'})"
    if single:
        rows, styles = single_style_rows(mod, a.method, label, a.model, a.style, a.untrained)
        pl = [(c, styles[i % len(styles)]) for i, c in enumerate(train.image_files(a.content_dir))][:a.pairs or None]
    else:
        model = train.load_model(mod, a.model) if a.model else mod.pretrained()
        rows = {label: lambda c, s, ref: mod.stylize(c, s, model=model)}
        if a.untrained:
            rnd = mod.build(model.cfg).eval()
            rows[f"{a.method} (untrained)"] = lambda c, s, ref: mod.stylize(c, s, model=rnd)
        pl = pairs(a.content_dir, a.style_dir, a.pairs)
    if a.gatys_steps:
        gatys = get_method("gatys")

        def run_gatys(c, s, ref):
            with torch.enable_grad():
                return gatys.stylize(c, s, steps=a.gatys_steps, size=max(c.shape[-2:]), progress=False)
        rows[f"gatys ({a.gatys_steps} steps)"] = run_gatys
    print(f"{len(pl)} held-out pairs; figures are means over the pairs")
    figures, pictures = run_rows(rows, pl, a.sizes)
    print_table(figures)
    if a.json:
        table = {}
        for (label, size), f in figures.items():
            table.setdefault(label, {})[f"{size}px"] = {k: round(v, 4) for k, v in f.items()}
        Path(a.json).write_text(json.dumps({"pairs": [[Path(c).name, Path(str(s)).name] for c, s in pl],
                                            "figures": table}, indent=2))
    if a.grid:
        size = a.sizes[0]
        tiles = []
        for i, (c, s) in enumerate(pl):
            tiles += [images.load(c, size), assets.resolve(s, size)] + [pictures[r, size][i] for r in rows]
        images.save(images.grid(tiles, ncols=2 + len(rows), height=size), a.grid)
        print(f"pictures: {a.grid} (columns: content, style, {', '.join(rows)})")
    return 0


def single_style_rows(mod, method: str, label: str, model_file, names, untrained: bool):
    """Rows for a network that runs its own trained styles, and the style names to pair with.

    johnson: one shipped network per style (``--model FILE`` with one ``--style``); cin: one
    network, a style by name; adjustable: its one style. A style it cannot paint is an error."""
    if method == "johnson":
        if model_file and (not names or len(names) != 1):
            raise ArgumentError("--model FILE holds one Johnson network: name its style with one --style NAME")
        model, names = None, list(names or mod.shipped_styles())
        nets = {names[0]: train.load_model(mod, model_file)} if model_file else {n: mod.pretrained(n) for n in names}
        cfg = next(iter(nets.values())).cfg
    else:
        model, nets = train.load_model(mod, model_file) if model_file else mod.pretrained(), None
        known = trained_styles(method, mod, model)
        names = list(names or known)
        if set(names) - set(known):
            raise ArgumentError(f"{method} has no style {sorted(set(names) - set(known))}; it paints {known}")
        cfg = model.cfg
    run = named_runner(method, mod, model, nets=nets)
    rows = {label: lambda c, s, ref: run(c, ref)}
    if untrained:
        rnd = mod.build(cfg).eval()
        run_rnd = named_runner(method, mod, rnd, nets=dict.fromkeys(names, rnd))
        rows[f"{method} (untrained)"] = lambda c, s, ref: run_rnd(c, ref)
    return rows, names
