"""The arena: every method on the same content/style pairs, measured the same way in one run.

For each method it reports parameters, FLOPs at 256 and 512 px, CPU (or GPU) ms per image (median
after a warm-up; with the style encoding cached and uncached where a method has one), peak memory,
and the quality figures of ``stylelab.bench.quality`` averaged over the pairs.

Honesty rule: a trained method whose checkpoint does not ship is reported as "no checkpoint". Its
size, FLOPs and speed are still measured (they do not depend on the weights), on an untrained
network, but no picture or quality figure is made from random weights.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .. import assets, config, images, methods
from ..data import image_files
from ..errors import CheckpointError, StylelabError
from . import flops as count_flops, parameters, peak_memory_mb, quality, time_ms

#: The bundled pairs the arena and the demo use by default.
DEFAULT_PAIRS = (("chelsea", "starry_night"), ("neuschwanstein_castle", "great_wave"),
                 ("red_panda", "the_scream"), ("eiffel_tower", "durer_lion"))


@dataclass
class Entry:
    """How the arena runs one method: ``model`` is the shipped one (None: none ships, or Gatys)."""
    name: str
    model: object = None
    status: str = "checkpoint"  # "checkpoint", "no checkpoint", "optimisation"
    note: str = ""
    run: Callable | None = None            # (content, style) -> image, with the real model
    timing_run: Callable | None = None     # (content, style) -> image, for speed/FLOPs (any weights)
    cached_run: Callable | None = None     # (content, style_cache) -> image
    encode_style: Callable | None = None   # style -> cache
    #: single-style networks: (content, style name) -> image, or None where it was not trained on it
    run_named: Callable | None = None
    timing_model: object = None
    extra: dict = field(default_factory=dict)


def _with_grad(fn: Callable) -> Callable:
    """``fn`` run with autograd on, even inside the timers' inference mode (for optimisation methods)."""
    def run(*args):
        with torch.inference_mode(False), torch.enable_grad():
            return fn(*args)
    return run


#: Methods whose network holds one style (or a fixed set): they ignore the pair's style image.
SINGLE_STYLE = ("johnson", "cin", "adjustable")


def _trained_entry(name: str, mod, device, metastyle_steps: int, metastyle_size: int = 256) -> Entry:
    """Entry for a trained method: use ``pretrained()`` if it ships, else an untrained twin for timing."""
    e = Entry(name)
    try:
        e.model = mod.pretrained().to(device).eval()
    except CheckpointError as err:
        e.status, e.note = "no checkpoint", str(err)
    e.timing_model = e.model if e.model is not None else mod.build().to(device).eval()

    if name in SINGLE_STYLE:
        make = lambda m: (lambda c, s: mod.stylize(c, model=m))
        e.note = e.note or "single-style network: runs its own trained style"
        if e.model is not None:
            e.run_named = named_runner(name, mod, e.model, device)
    elif name == "metastyle":  # uncached = adapt K steps to the style, then one forward pass
        adapt = _with_grad(lambda s, m: mod.adapt(s, steps=metastyle_steps, model=m, size=metastyle_size,
                                                  progress=False))
        make = lambda m: (lambda c, s: adapt(s, m)(c).clamp(0, 1).detach())
        e.encode_style = lambda s, m=e.timing_model: adapt(s, m)
        e.cached_run = lambda c, fast: fast(c).clamp(0, 1)
        e.note = e.note or f"adapts {metastyle_steps} steps per style (uncached) or reuses the adapted net (cached)"
    else:
        make = lambda m: (lambda c, s: mod.stylize(c, s, model=m))
        if name == "adain":
            e.encode_style = lambda s, m=e.timing_model: mod.encode_style(s, model=m)
        elif name == "din":
            e.encode_style = lambda s, m=e.timing_model: m.encode_style(s)
        if e.encode_style is not None:
            e.cached_run = lambda c, code, m=e.timing_model: mod.stylize(c, code, model=m)
    if e.model is not None:
        e.run = make(e.model)
    e.timing_run = make(e.timing_model)
    return e


def named_runner(name: str, mod, model, device="cpu", nets: dict | None = None) -> Callable:
    """(content, style name) -> the picture of a single-style network trained on that style, or
    None. johnson: one network per style, ``nets`` ({style: network}) first, then the shipped ones
    (loaded once); cin: ``model``'s styles by name; adjustable: ``model``'s one style."""
    nets = dict(nets or {})

    def run(c, style_name):
        if name == "johnson":
            if style_name not in nets:
                if style_name not in mod.shipped_styles():
                    return None
                nets[style_name] = mod.pretrained(style_name).to(device).eval()
            return mod.stylize(c, model=nets[style_name])
        if name == "cin":
            return mod.stylize(c, style_name, model=model) if style_name in model.style_names else None
        return mod.stylize(c, model=model) if style_name == model.cfg.style_name else None
    return run


def trained_styles(name: str, mod, model) -> list[str]:
    """The styles a single-style method can paint: johnson's shipped networks, the styles of a
    cin ``model``, the one style of an adjustable ``model``."""
    if name == "johnson":
        return mod.shipped_styles()
    return list(model.style_names) if name == "cin" else [model.cfg.style_name]


def entries(names, device, gatys_steps: int, metastyle_steps: int = 20, metastyle_size: int = 256) -> list[Entry]:
    """Build the arena entry of each method in ``names`` that this version implements."""
    out = []
    for name in names:
        try:
            mod = methods.get(name)
        except StylelabError as err:
            out.append(Entry(name, status="missing", note=str(err)))
            continue
        if name == "gatys":
            e = Entry(name, status="optimisation", note=f"{gatys_steps} L-BFGS steps")
            e.run = e.timing_run = _with_grad(lambda c, s, m=mod: m.stylize(c, s, steps=gatys_steps, size=max(c.shape[-2:]),
                                                                       progress=False))
            out.append(e)
        else:
            out.append(_trained_entry(name, mod, device, metastyle_steps, metastyle_size))
    return out


def _size_pair(content, style, size):
    return images.resize(content, size), images.resize(style, size)


def _peak_child(name, size, gatys_steps, metastyle_steps, device, queue):
    """Child process body: build one entry, run it once at ``size``, report peak extra memory."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    e = entries([name], torch.device(device), gatys_steps, metastyle_steps)[0]
    c, s = _size_pair(assets.load(DEFAULT_PAIRS[0][0], size), assets.load(DEFAULT_PAIRS[0][1], size), size)
    c, s = c.to(device), s.to(device)
    queue.put(peak_memory_mb(lambda: e.timing_run(c, s), device=device))


def fresh_peak_memory_mb(name: str, size: int, gatys_steps: int, metastyle_steps: int, device) -> float:
    """Peak memory of one run of ``name`` at ``size`` px in a fresh process (a warm allocator in this
    one would hide it: freed blocks are reused without growing the resident set)."""
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_peak_child, args=(name, size, gatys_steps, metastyle_steps, str(device), q))
    p.start()
    p.join(timeout=900)
    if p.is_alive():
        p.kill()
    return q.get() if not q.empty() else float("nan")


def measure(e: Entry, pairs, sizes, runs: int, device, flop_sizes=(256, 512), memory: bool = True,
            gatys_steps: int = 50, metastyle_steps: int = 20, style_names=None) -> dict:
    """All figures of one entry as a flat dict (see the module docstring). ``style_names``: the
    bundled name of each pair's style, so that a single-style network is judged on the pairs whose
    style it was trained on (``quality_pairs`` says on how many)."""
    row = {"method": e.name, "status": e.status, "note": e.note.split(";")[0]}
    if e.status == "missing":
        return row
    row["params"] = parameters(e.timing_model) if e.timing_model is not None else 0
    c0, s0 = pairs[0]
    for size in flop_sizes:
        c, s = (t.to(device) for t in _size_pair(c0, s0, size))
        row[f"gflops_{size}"] = count_flops(lambda: e.timing_run(c, s)) / 1e9
    slow = e.name in ("gatys", "metastyle")  # minutes per run at 512 px: one timed run
    for size in sizes:
        c, s = (t.to(device) for t in _size_pair(c0, s0, size))
        row[f"ms_{size}"] = time_ms(lambda: e.timing_run(c, s), runs=1 if slow else runs,
                                    warmup=0 if slow else 1, device=device)["median_ms"]
        if e.cached_run is not None:
            cache = e.encode_style(s)
            row[f"ms_{size}_cached"] = time_ms(lambda: e.cached_run(c, cache), runs=runs, device=device)["median_ms"]
    if memory:
        big = max(sizes)
        row[f"peak_mb_{big}"] = fresh_peak_memory_mb(e.name, big, gatys_steps, metastyle_steps, device)
    q = []
    for i, (c, s) in enumerate(pairs):
        c, s = (t.to(device) for t in _size_pair(c, s, min(sizes)))
        if e.run is not None and e.name not in SINGLE_STYLE:
            q.append(quality(e.run(c, s), c, s))
        elif e.run_named is not None and style_names is not None:
            out = e.run_named(c, style_names[i])
            if out is not None:
                q.append(quality(out, c, s))
    if q:
        for k in q[0]:
            row[k] = statistics.mean(d[k] for d in q)
        if e.name in SINGLE_STYLE:
            row["quality_pairs"] = len(q)
    return row


def run(names=None, pairs=None, sizes=(256, 512), runs: int = 5, device=None, gatys_steps: int = 50,
        metastyle_steps: int = 20, flop_sizes=(256, 512), memory: bool = True,
        metastyle_size: int = 256, style_names=None) -> list[dict]:
    """Measure ``names`` (default: every implemented method) on ``pairs`` of (content, style) tensors
    (default: the first two bundled pairs; ``style_names`` the bundled names of their styles)."""
    dev = config.device(device)
    names = list(names or methods.available())
    if pairs is None:
        pairs = [(assets.load(c, 512), assets.load(s, 512)) for c, s in DEFAULT_PAIRS[:2]]
        style_names = [s for _, s in DEFAULT_PAIRS[:2]]
    return [measure(e, pairs, sizes, runs, dev, flop_sizes, memory, gatys_steps, metastyle_steps, style_names)
            for e in entries(names, dev, gatys_steps, metastyle_steps, metastyle_size)]


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stylelab bench",
                                description="Every method on the same pairs: size, FLOPs, speed, memory, quality.")
    p.add_argument("methods", nargs="*", help=f"methods to compare (default: all of {', '.join(methods.NAMES)})")
    p.add_argument("--pairs", help="a folder with content/ and style/ subfolders (default: bundled assets)")
    p.add_argument("--size", type=int, nargs="+", default=[256, 512], help="long sides to time (px)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per figure (median reported)")
    p.add_argument("--gatys-steps", type=int, default=50)
    p.add_argument("--metastyle-steps", type=int, default=20, help="adaptation steps K per new style")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs (fresh processes)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    a = p.parse_args(argv)
    pairs = load_pairs(a.pairs) if a.pairs else None
    rows = run(a.methods or None, pairs, tuple(a.size), a.runs, a.device, a.gatys_steps, a.metastyle_steps,
               memory=not a.no_memory)
    dev = config.device(a.device)
    print(f"device: {dev}{' (' + torch.cuda.get_device_name() + ')' if dev.type == 'cuda' else ''}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(markdown(rows))
    for r in rows:
        if r["status"] == "no checkpoint":
            print(f"{r['method']}: no trained checkpoint ships; speed and size measured on an untrained network, "
                  "no quality figures")
        elif r["method"] in SINGLE_STYLE and r["status"] == "checkpoint":
            print(f"{r['method']}: a single-style network; quality figures over the {r.get('quality_pairs', 0)} "
                  "pair(s) whose style it was trained on")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0
