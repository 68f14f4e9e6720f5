"""The arena: every method on the same content/style pairs, measured the same way in one run.

For each method it reports parameters, FLOPs at 256 and 512 px, CPU (or GPU) ms per image (median
after a warm-up; with the style encoding cached and uncached where a method has one), peak memory,
and the quality figures of ``stylelab.bench.quality`` averaged over the pairs.

Honesty rule: a trained method whose checkpoint does not ship is reported as "no checkpoint". Its
size, FLOPs and speed are still measured (they do not depend on the weights), on an untrained
network, but no picture or quality figure is made from random weights.

The arena knows no method by name: it reads each module's surface (``stylelab.methods.Method``):
``TRAINED`` (a network to load, or pictures optimised from scratch), ``STYLE_INPUT`` (a style
image, or the network's own trained styles, judged only on pairs of those styles), an optional
``encode_style`` (a cached style, timed separately) and ``ARENA_CONTROLS`` (the settings it runs
with, e.g. Gatys' steps; ``controls`` overrides them per method).
"""
from __future__ import annotations

import argparse
import ast
import inspect
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .. import arguments, assets, config, images, methods
from ..data import image_files
from ..errors import ArgumentError, CheckpointError, StylelabError
from . import flops as count_flops, fresh_peak_memory_mb, parameters, quality, time_ms

#: The bundled pairs the arena and the demo use by default.
DEFAULT_PAIRS = (("chelsea", "starry_night"), ("neuschwanstein_castle", "great_wave"),
                 ("red_panda", "the_scream"), ("eiffel_tower", "durer_lion"))

#: A run slower than this (seconds) is timed once: its first run is the figure (an optimisation
#: method's minutes per picture need no median, and would not fit one).
SLOW_S = 5.0


@dataclass
class Entry:
    """How the arena runs one method: ``model`` is the shipped one (None: none ships, or the method
    optimises each picture)."""
    name: str
    model: object = None
    status: str = "checkpoint"  # "checkpoint", "no checkpoint", "optimisation", "missing"
    note: str = ""
    run: Callable | None = None            # (content, style) -> image, with the real model
    timing_run: Callable | None = None     # (content, style) -> image, for speed/FLOPs (any weights)
    cached_run: Callable | None = None     # (content, style_cache) -> image
    encode_style: Callable | None = None   # style -> cache
    #: networks of trained styles: (content, style name) -> image, or None where none paints that style
    run_named: Callable | None = None
    timing_model: object = None
    trained_styles: bool = False           # judged only on pairs whose style it was trained on
    controls: dict = field(default_factory=dict)


def controls_for(name: str, mod, overrides: dict | None = None) -> dict:
    """The controls the arena runs method ``name`` with: its ``ARENA_CONTROLS``, updated with
    ``overrides[name]`` (e.g. ``{"gatys": {"steps": 20}}``)."""
    return {**getattr(mod, "ARENA_CONTROLS", {}), **((overrides or {}).get(name) or {})}


def _accepted(fn: Callable, controls: dict) -> dict:
    """The items of ``controls`` that ``fn`` takes as keywords."""
    params = inspect.signature(fn).parameters
    return {k: v for k, v in controls.items() if k in params}


def named_runner(mod, model=None, shipped: bool = True) -> Callable:
    """(content, style name) -> the picture of a network trained on that style, or None where no
    network paints it: ``model`` for its own styles (``mod.trained_styles(model)``), and with
    ``shipped`` a shipped network for the others (``mod.stylize(content, name)`` loads it: Johnson's
    networks hold one style each)."""
    own = set(mod.trained_styles(model)) if model is not None else set()
    others = set()
    if shipped:
        try:
            others = set(mod.trained_styles())
        except CheckpointError:
            pass

    def run(c, style_name):
        if style_name in own:
            return mod.stylize(c, style_name, model=model)
        if style_name in others:
            return mod.stylize(c, style_name)
        return None
    return run


def _entry(name: str, mod, device, ctl: dict) -> Entry:
    """The arena entry of one method module, read from its surface."""
    note = ", ".join(f"{k}={v}" for k, v in ctl.items() if k not in ("progress", "cache"))
    if not mod.TRAINED:
        e = Entry(name, status="optimisation", note=note or "optimises each picture", controls=ctl)
        e.run = e.timing_run = lambda c, s: mod.stylize(c, s, size=max(c.shape[-2:]), **ctl)
        return e
    e = Entry(name, controls=ctl, trained_styles=mod.STYLE_INPUT == methods.TRAINED_STYLE)
    try:
        e.model = mod.pretrained().to(device).eval()
    except CheckpointError as err:
        e.status, e.note = "no checkpoint", str(err)
    e.timing_model = e.model if e.model is not None else mod.build().to(device).eval()
    if e.trained_styles:   # the pair's style image is not an input: the network's first style is timed
        make = lambda m: (lambda c, s: mod.stylize(c, model=m, size=max(c.shape[-2:]), **ctl))
        e.note = e.note or "runs its own trained styles"
        if e.model is not None:
            e.run_named = named_runner(mod, e.model)
    else:
        make = lambda m: (lambda c, s: mod.stylize(c, s, model=m, size=max(c.shape[-2:]), **ctl))
        if hasattr(mod, "encode_style"):
            enc = _accepted(mod.encode_style, ctl)
            e.encode_style = lambda s, m=e.timing_model: mod.encode_style(s, m, **enc)
            e.cached_run = lambda c, code, m=e.timing_model: mod.stylize(c, code, model=m, size=max(c.shape[-2:]),
                                                                       **ctl)
        e.note = e.note or note
    if e.model is not None:
        e.run = make(e.model)
    e.timing_run = make(e.timing_model)
    return e


def entries(names, device, controls: dict | None = None) -> list[Entry]:
    """The arena entry of each method in ``names`` (a "missing" one where this version lacks it);
    ``controls``: per-method overrides of ``ARENA_CONTROLS``, ``{name: {control: value}}``."""
    out = []
    for name in names:
        try:
            mod = methods.get(name)
        except StylelabError as err:
            out.append(Entry(name, status="missing", note=str(err)))
            continue
        out.append(_entry(name, mod, device, controls_for(name, mod, controls)))
    return out


def _size_pair(content, style, size):
    return images.resize(content, size), images.resize(style, size)


def _timed_run(name, size, controls, device):
    """``fresh_peak_memory_mb``'s set-up in the fresh process: the entry and its inputs, then the run."""
    e = entries([name], torch.device(device), controls)[0]
    c, s = _size_pair(assets.load(DEFAULT_PAIRS[0][0], size), assets.load(DEFAULT_PAIRS[0][1], size), size)
    c, s = c.to(device), s.to(device)
    return lambda: e.timing_run(c, s)


def peak_memory_of(name: str, size: int, controls: dict | None = None, device="cpu") -> float:
    """Peak memory (MiB) of one run of method ``name`` at ``size`` px in a fresh process."""
    return fresh_peak_memory_mb(_timed_run, name, size, controls, str(device), device=str(device))


def _ms(fn: Callable, runs: int, device) -> float:
    """Median ms of ``fn()`` over ``runs`` runs after the first, or the first alone where it took
    longer than ``SLOW_S``."""
    with torch.inference_mode():
        t0 = time.perf_counter()
        fn()
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        first = time.perf_counter() - t0
    if first > SLOW_S:
        return first * 1000.0
    return time_ms(fn, runs=runs, warmup=0, device=device)["median_ms"]


def measure(e: Entry, pairs, sizes, runs: int, device, flop_sizes=(256, 512), memory: bool = True,
            style_names=None) -> dict:
    """All figures of one entry as a flat dict (see the module docstring). ``style_names``: the
    bundled name of each pair's style, so that a network of trained styles is judged on the pairs
    whose style it was trained on (``quality_pairs`` says on how many)."""
    row = {"method": e.name, "status": e.status, "note": e.note.split(";")[0]}
    if e.status == "missing":
        return row
    row["params"] = parameters(e.timing_model) if e.timing_model is not None else 0
    c0, s0 = pairs[0]
    for size in flop_sizes:
        c, s = (t.to(device) for t in _size_pair(c0, s0, size))
        row[f"gflops_{size}"] = count_flops(lambda: e.timing_run(c, s)) / 1e9
    for size in sizes:
        c, s = (t.to(device) for t in _size_pair(c0, s0, size))
        row[f"ms_{size}"] = _ms(lambda: e.timing_run(c, s), runs, device)
        if e.cached_run is not None:
            with torch.inference_mode():
                cache = e.encode_style(s)
            row[f"ms_{size}_cached"] = _ms(lambda: e.cached_run(c, cache), runs, device)
    if memory:
        big = max(sizes)
        row[f"peak_mb_{big}"] = peak_memory_of(e.name, big, {e.name: e.controls}, device)
    q = []
    for i, (c, s) in enumerate(pairs):
        c, s = (t.to(device) for t in _size_pair(c, s, min(sizes)))
        if e.trained_styles:
            out = e.run_named(c, style_names[i]) if e.run_named is not None and style_names is not None else None
        else:
            out = e.run(c, s) if e.run is not None else None
        if out is not None:
            q.append(quality(out, c, s))
    if q:
        for k in q[0]:
            row[k] = statistics.mean(d[k] for d in q)
        if e.trained_styles:
            row["quality_pairs"] = len(q)
    return row


def run(names=None, pairs=None, sizes=(256, 512), runs: int = 5, device=None, controls: dict | None = None,
        flop_sizes=(256, 512), memory: bool = True, style_names=None) -> list[dict]:
    """Measure ``names`` (default: every implemented method) on ``pairs`` of (content, style) tensors
    (default: the first two bundled pairs; ``style_names`` the bundled names of their styles);
    ``controls``: per-method overrides of ``ARENA_CONTROLS``."""
    dev = config.device(device)
    names = list(names or methods.available())
    if pairs is None:
        pairs = [(assets.load(c, 512), assets.load(s, 512)) for c, s in DEFAULT_PAIRS[:2]]
        style_names = [s for _, s in DEFAULT_PAIRS[:2]]
    return [measure(e, pairs, sizes, runs, dev, flop_sizes, memory, style_names)
            for e in entries(names, dev, controls)]


def load_pairs(folder) -> list:
    """``folder/content/*`` x ``folder/style/*``, paired in order (the shorter list repeats)."""
    folder = Path(folder)
    cs, ss = image_files(folder / "content"), image_files(folder / "style")
    n = max(len(cs), len(ss))
    return [(images.load(cs[i % len(cs)], 512), images.load(ss[i % len(ss)], 512)) for i in range(n)]


def _fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def markdown(rows: list[dict]) -> str:
    """The rows as a markdown table (a dash where a figure does not apply)."""
    cols = ["method", "status", "params"]
    extra = sorted({k for r in rows for k in r if k.startswith(("gflops", "ms_", "peak"))},
                   key=lambda k: (k.split("_")[0], k))
    cols += extra + ["content_loss", "style_gram", "style_meanstd", "ssim"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def parse_controls(items) -> dict:
    """``["gatys.steps=20", "metastyle.adapt_size=128"]`` -> ``{"gatys": {"steps": 20}, ...}``
    (values read as Python literals where they are one: numbers, True/False, None)."""
    out: dict = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        name, dot, control = key.partition(".")
        if not (eq and dot and name and control):
            raise ArgumentError(f"--set {item!r}: write METHOD.CONTROL=VALUE, e.g. gatys.steps=20")
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
        out.setdefault(name, {})[control] = value
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stylelab bench",
                                description="Every method on the same pairs: size, FLOPs, speed, memory, quality.")
    p.add_argument("methods", nargs="*", help=f"methods to compare (default: all of {', '.join(methods.NAMES)})")
    p.add_argument("--pairs", help="a folder with content/ and style/ subfolders (default: bundled assets)")
    arguments.add_sizes(p, what="long sides to time")
    arguments.add_runs(p)
    p.add_argument("--set", dest="controls", action="append", default=[], metavar="METHOD.CONTROL=VALUE",
                   help="a control for one method, e.g. gatys.steps=50 or metastyle.steps=20 (repeatable; "
                        "defaults: each method's ARENA_CONTROLS)")
    p.add_argument("--gatys-steps", type=int, default=None, help="the same as --set gatys.steps=N")
    p.add_argument("--metastyle-steps", type=int, default=None, help="the same as --set metastyle.steps=N")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs (fresh processes)")
    arguments.add_device(p)
    arguments.add_json(p, "the rows")
    a = p.parse_args(argv)
    unknown = [n for n in a.methods if n not in methods.NAMES]
    if unknown:
        p.error(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(methods.NAMES)}")
    controls = parse_controls(a.controls)
    for name, steps in (("gatys", a.gatys_steps), ("metastyle", a.metastyle_steps)):
        if steps is not None:
            controls.setdefault(name, {})["steps"] = steps
    pairs = load_pairs(a.pairs) if a.pairs else None
    rows = run(a.methods or None, pairs, tuple(a.sizes), a.runs, a.device, controls, memory=not a.no_memory)
    dev = config.device(a.device)
    print(f"device: {dev}{' (' + torch.cuda.get_device_name() + ')' if dev.type == 'cuda' else ''}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(markdown(rows))
    for r in rows:
        if r["status"] == "no checkpoint":
            print(f"{r['method']}: no trained checkpoint ships; speed and size measured on an untrained network, "
                  "no quality figures")
        elif "quality_pairs" in r or (r["status"] == "checkpoint" and "ssim" not in r):
            print(f"{r['method']}: runs its own trained styles; quality figures over the "
                  f"{r.get('quality_pairs', 0)} pair(s) whose style it was trained on")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0
