"""``python -m stylelab bench validate METHOD``: a model's quality figures on held-out pairs.

Pairs content photo ``i`` with style ``i % n_styles`` (both folders sorted by name), stylises each
pair at every ``--sizes`` (long side) and prints the mean of ``stylelab.bench.quality``'s figures:
relative content loss, Gram and mean/std style losses (lower is better) and SSIM to the content
(higher keeps more structure). Rows: the model under test (``--model FILE``, or the shipped one),
the same network untrained (``--untrained``), and Gatys at ``--gatys-steps`` (0: skip), so that a
trained model's figures always sit next to what it has to beat. ``--grid PNG`` saves the pictures.

Networks of trained styles (``STYLE_INPUT == "trained"``: johnson, cin, adjustable) run their own
styles: ``--style NAME`` picks them (default: all the model knows, or every shipped style), each is
judged against its bundled painting, and ``--style-dir`` is not needed.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch

from .. import arguments, assets, images, methods, train
from ..encoders import vgg19
from ..errors import ArgumentError
from ..methods import get as get_method
from . import quality
from .arena import named_runner

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
    arguments.add_sizes(p)
    p.add_argument("--pairs", type=int, default=None, help="use at most this many pairs")
    p.add_argument("--untrained", action="store_true", help="add the same network with random weights")
    p.add_argument("--gatys-steps", type=int, default=0, help="add Gatys at this many L-BFGS steps (0: skip)")
    p.add_argument("--grid", default=None, help="save the pictures (rows: pairs, columns: models) to this PNG")
    arguments.add_json(p, "the figures ({row: {size: figures}})")
    a = p.parse_args(argv)
    mod = get_method(a.method)
    if not mod.TRAINED:
        raise ArgumentError(f"{a.method} has no trained model to validate; it is the reference row "
                            "(--gatys-steps N adds it next to a trained method)")
    named = mod.STYLE_INPUT == methods.TRAINED_STYLE
    if not named and a.style_dir is None:
        raise ArgumentError(f"{a.method} takes a style image: pass --style-dir with held-out paintings")
    torch.manual_seed(0)
    label = f"{a.method} ({Path(a.model).name if a.model else 'shipped'})"
    if named:
        rows, styles = trained_style_rows(mod, a.method, label, a.model, a.style, a.untrained)
        pl = [(c, styles[i % len(styles)]) for i, c in enumerate(train.image_files(a.content_dir))][:a.pairs or None]
    else:
        model = train.load_model(mod, a.model) if a.model else mod.pretrained()
        rows = {label: lambda c, s, ref: mod.stylize(c, s, model=model)}
        if a.untrained:
            rnd = mod.build(model.cfg).eval()
            rows[f"{a.method} (untrained)"] = lambda c, s, ref: mod.stylize(c, s, model=rnd)
        pl = pairs(a.content_dir, a.style_dir, a.pairs)
    if a.gatys_steps:   # the reference every trained model has to be weighed against
        gatys = get_method("gatys")
        rows[f"gatys ({a.gatys_steps} steps)"] = lambda c, s, ref: gatys.stylize(
            c, s, steps=a.gatys_steps, size=max(c.shape[-2:]), progress=False)
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


def trained_style_rows(mod, method: str, label: str, model_file, names, untrained: bool):
    """Rows for a network that runs its own trained styles, and the style names to pair with.

    ``--model FILE``: that network, on the styles it knows (``mod.trained_styles(model)``) or the
    ``--style`` names given (a Johnson network does not record its style: name it). Without: the
    shipped networks on their styles. A style no network paints is an error."""
    model = train.load_model(mod, model_file) if model_file else None
    known = mod.trained_styles(model) if model is not None else mod.trained_styles()
    if model is not None and not known and len(names or ()) != 1:
        raise ArgumentError(f"{model_file} does not record which style it was trained on (one network, one "
                            "style); name it with one --style NAME")
    names = list(names or known)
    if known and set(names) - set(known):
        raise ArgumentError(f"{method} has no style {sorted(set(names) - set(known))}; it paints {known}")
    if model is not None:
        rows = {label: lambda c, s, ref: mod.stylize(c, ref, model=model)}
    else:
        run = named_runner(mod, mod.pretrained())
        rows = {label: lambda c, s, ref: run(c, ref)}
    if untrained:
        rnd = mod.build((model if model is not None else mod.pretrained()).cfg).eval()
        rows[f"{method} (untrained)"] = lambda c, s, ref: mod.stylize(c, ref, model=rnd)
    return rows, names
