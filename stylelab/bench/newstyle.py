"""``python -m stylelab bench newstyle``: a new style in minutes, from each start.

A user brings a painting and wants a fast single-style network for it on a laptop. A Johnson
network is trained on the painting for a wall-clock budget from each *start*:

- ``scratch``: random weights (what lesson 02 does);
- ``johnson/<style>``: a shipped Johnson network for another style, all weights trained;
- ``cin/default``: the shipped conditional-IN network's shared convolutions and its *average style*
  (the mean of its styles' gamma and beta), all weights trained;
- ``cin/default:norm``: the same start, but only the instance-norm scales and shifts train: a new
  style of the conditional-IN network (Dumoulin et al., Sec. 5), a few thousand numbers;
- ``metastyle/default``: the meta-trained start, where one ships.

Every start trains the same network with the same loss, batch and crops, so the curves compare.
At each mark (minutes of training, the picture-drawing not counted) the network stylises held-out
photos and ``stylelab.bench.quality`` scores them against the painting.

    python -m stylelab bench newstyle --style my_painting.jpg --content-dir photos/ \\
        --eval-dir held_out/ --minutes 10 --marks 1 3 10
"""
from __future__ import annotations

import argparse
import statistics

import torch

from .. import arguments, assets, images, train
from ..errors import ArgumentError
from ..methods import johnson
from . import quality

NORM_ONLY = ":norm"
#: The style weight of the shipped Johnson networks' recipe (content 10 : style 8; Johnson's Config
#: default of 1 keeps a blue-tinted photo after a few hundred CPU steps). Every start uses it.
STYLE_WEIGHT = 8.0


def norm_parameters(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The instance-norm scales and shifts of a Johnson network (all a conditional-IN style owns)."""
    return [p for m in model.modules() if isinstance(m, torch.nn.InstanceNorm2d) for p in m.parameters()]


def learn_style(style, start: str = "johnson/starry_night", *, minutes: float = 10.0, content=None,
                size: int = 128, batch_size: int = 4, lr: float | None = None, seed: int = 0,
                style_weight: float = STYLE_WEIGHT, callback=None, out=None, progress: bool = True,
                max_steps: int = 100_000):
    """Train a Johnson network on ``style`` (a file, tensor or bundled name) for ``minutes`` from
    ``start`` (see the module docstring); ``content``: photos (default: the bundled ones).
    Returns the trainer's Result. ``lr`` defaults to 1e-3, or 1e-2 when only the norms train."""
    norm_only = start.endswith(NORM_ONLY)
    base = start[: -len(NORM_ONLY)] if norm_only else start
    cfg = johnson.Config(style_weight=style_weight)
    model = johnson.build(cfg)
    if base != "scratch":
        got = train.load_start(base)
        if got["meta"].get("method") not in ("johnson", "cin", "metastyle"):
            raise ArgumentError(f"start {start!r} is a {got['meta'].get('method')!r} model; use scratch, "
                                "johnson/<style>, cin/default(:norm) or metastyle/default")
        train.load_matching(model, johnson.state_from(model, got["meta"], got["state"]), base)
    elif norm_only:
        raise ArgumentError("scratch:norm would train only the norms of random convolutions; use scratch")
    params = norm_parameters(model) if norm_only else None
    lr = lr or (1e-2 if norm_only else 1e-3)
    content = content if content is not None else [assets.path(n) for n in assets.names("content")]
    return train.train(johnson, content, style, size=size, steps=max_steps, batch_size=batch_size, lr=lr,
                       seed=seed, model=model, cfg=cfg, params=params, minutes=minutes, callback=callback, out=out,
                       progress=progress, command=f"bench.newstyle.learn_style(start={start!r}, minutes={minutes})")


def race(style, starts, *, minutes: float = 10.0, marks=(1, 3, 10), content=None, eval_content=None,
         size: int = 128, eval_size: int = 256, batch_size: int = 4, seed: int = 0, progress: bool = True,
         style_weight: float = STYLE_WEIGHT) -> dict:
    """Train from each start for ``minutes``; returns ``{start: {"curve": [(seconds, loss)],
    "marks": {minute: {"step": s, "pictures": [...], **mean quality figures}}, "steps": n,
    "model": the network}}``. Pictures and figures are of ``eval_content`` (default: three bundled
    photos) at ``eval_size`` px; ``curve`` is each step's training loss against training seconds."""
    marks = sorted(m for m in marks if m <= minutes) or [minutes]
    style_img = assets.resolve(style, eval_size)
    evals = eval_content if eval_content is not None else [assets.path(n) for n in assets.names("content")[:3]]
    if isinstance(evals, str) or hasattr(evals, "is_dir"):
        evals = train.image_files(evals)
    evals = [assets.resolve(e, eval_size) for e in evals]
    results = {}
    for start in starts:
        seconds_at, shots, pending = [], {}, list(marks)

        def snapshot(model, step):
            pics = [johnson.stylize(e, model=model) for e in evals]   # stylize leaves the model as it was
            qs = [quality(p, e, style_img) for p, e in zip(pics, evals)]
            return {"step": step, "pictures": pics, **{k: statistics.mean(q[k] for q in qs) for k in qs[0]}}

        def on_step(step, model, seconds):
            seconds_at.append(seconds)
            while pending and seconds >= 60 * pending[0]:
                shots[pending.pop(0)] = snapshot(model, step)

        res = learn_style(style, start, minutes=minutes, content=content, size=size, batch_size=batch_size,
                          seed=seed, progress=progress, style_weight=style_weight, callback=on_step)
        for m in pending:  # the budget ran out a fraction of a step before the last mark
            shots[m] = snapshot(res.model, len(res.history))
        curve = [(t, h["total"]) for t, h in zip(seconds_at, res.history)]
        results[start] = {"curve": curve, "marks": shots, "steps": len(res.history), "model": res.model}
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench newstyle", description=__doc__.splitlines()[0])
    p.add_argument("--style", required=True, help="the new painting: a file or a bundled name")
    p.add_argument("--starts", nargs="+", default=["scratch", "johnson/starry_night", "cin/default",
                                                   "cin/default" + NORM_ONLY])
    p.add_argument("--content-dir", default=None, help="training photos (default: the bundled ones)")
    p.add_argument("--eval-dir", default=None, help="held-out photos for the figures (default: 3 bundled)")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--marks", type=float, nargs="+", default=[1, 3, 10], help="minutes at which to judge")
    arguments.add_size(p, 128, "training crop size")
    p.add_argument("--style-weight", type=float, default=STYLE_WEIGHT,
                   help=f"Johnson style weight for every start (content 10; default {STYLE_WEIGHT:g})")
    p.add_argument("--grid", default=None, help="save the pictures at each mark (rows: starts) to this PNG")
    return p


def main(argv=None) -> int:
    a = parser().parse_args(argv)
    print(f"new style {a.style!r}: {a.minutes:g} minutes per start, style weight {a.style_weight:g}, "
          f"{torch.get_num_threads()} threads")
    content = train.image_files(a.content_dir) if a.content_dir else None
    res = race(a.style, a.starts, minutes=a.minutes, marks=a.marks, content=content, eval_content=a.eval_dir,
               size=a.size, progress=False, style_weight=a.style_weight)
    print(f"{'start':<24} {'minutes':>7} {'steps':>6} {'content':>9} {'gram':>9} {'meanstd':>9} {'ssim':>7}")
    for start, r in res.items():
        for m, f in r["marks"].items():
            print(f"{start:<24} {m:>7g} {f['step']:>6} {f['content_loss']:>9.4g} {f['style_gram']:>9.4g} "
                  f"{f['style_meanstd']:>9.4g} {f['ssim']:>7.3f}")
    if a.grid:
        tiles = [pic for r in res.values() for m in r["marks"].values() for pic in m["pictures"][:1]]
        images.save(images.grid(tiles, ncols=len(next(iter(res.values()))["marks"]), height=256), a.grid)
        print(f"pictures: {a.grid} (rows: {', '.join(res)}; columns: minutes {', '.join(map(str, a.marks))})")
    return 0
