"""Measuring methods: time, parameters, FLOPs, peak memory and quality figures.

Benchmarks are scripts that print figures (``python -m stylelab bench ...``), not timed tests.
Method-specific reports live in ``stylelab/bench/<method>.py`` and use the helpers here.
"""
from __future__ import annotations

import multiprocessing
import os
import statistics
import threading
import time
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ..encoders import vgg19
from ..images import luminance, match_size
from ..stats import gram, mean_std


def parameters(model: nn.Module | None, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (0 for None)."""
    if model is None:
        return 0
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_ms(fn: Callable[[], object], runs: int = 5, warmup: int = 1, device="cpu") -> dict:
    """Median (and min/max) wall time of ``fn()`` in milliseconds over ``runs`` runs after ``warmup``."""
    with torch.inference_mode():
        for _ in range(warmup):
            fn()
        _sync(device)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times.append((time.perf_counter() - t0) * 1000.0)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times), "runs": runs}


def print_size_timings(stylize: Callable[[torch.Tensor], object], sizes, runs: int = 5, device="cpu",
                       label: str = "stylise") -> dict:
    """Time ``stylize(x)`` on a random square image of each size in ``sizes`` and print one line per
    size (median and minimum of ``runs``). Returns {size: time_ms(...) result}."""
    out = {}
    for s in sizes:
        x = torch.rand(1, 3, s, s, device=device)
        t = out[s] = time_ms(lambda: stylize(x), runs=runs, device=device)
        print(f"  {label} {s} px:  {t['median_ms']:8.1f} ms per image (median of {runs}; min {t['min_ms']:.1f})")
    return out


def flops(fn: Callable[[], object]) -> int:
    """Floating-point operations of one call of ``fn`` (torch.utils.flop_counter; a multiply-add
    counts as 2 FLOPs; convolutions and matrix products only)."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_memory_mb(fn: Callable[[], object], device="cpu") -> float:
    """Peak extra memory while ``fn()`` runs, in MiB.

    On CUDA: ``torch.cuda.max_memory_allocated`` above the start. On CPU: the peak of the
    process's resident set size (sampled every millisecond) above its value at the start, which
    includes the allocator's caching, so read it as an upper bound.
    """
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        with torch.inference_mode():
            fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2 ** 20
    try:
        base = _rss_bytes()
    except OSError:
        return float("nan")
    peak, done = [base], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.001)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        with torch.inference_mode():
            fn()
    finally:
        done.set()
        t.join()
    peak[0] = max(peak[0], _rss_bytes())
    return (peak[0] - base) / 2 ** 20


def _fresh_child(setup, args, device, conn) -> None:
    """The spawned process of ``fresh_peak_memory_mb``: build, measure, send the figure back."""
    fn = setup(*args)
    conn.send(peak_memory_mb(fn, device=device))
    conn.close()


def fresh_peak_memory_mb(setup: Callable[..., Callable[[], object]], *args, device="cpu",
                         timeout: float = 900) -> float:
    """Peak extra memory (``peak_memory_mb``) of a first run in a fresh process, in MiB.

    In this process a warm allocator would hide it: freed blocks are reused without growing the
    resident set (or CUDA's peak). A spawned process calls ``fn = setup(*args)``, which builds
    what the run needs (models, inputs: not counted) and returns the zero-argument run, then
    measures ``fn()``. ``setup`` must be a module-level function and ``args`` picklable. NaN if
    the process fails or is still running after ``timeout`` seconds (it is then killed).
    """
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_fresh_child, args=(setup, args, str(device), send), daemon=True)
    child.start()
    send.close()  # the child holds its own end
    try:
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            return float("nan")
        return float(receive.recv()) if child.exitcode == 0 and receive.poll() else float("nan")
    finally:
        receive.close()


# ---------------------------------------------------------------- quality figures, the same for all

QUALITY_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> float:
    """Structural similarity (Wang et al. 2004) of the luminance of ``x`` and ``y`` (both (1,3,H,W)
    in [0,1], resized to ``y``'s size), Gaussian window 11, sigma 1.5, C1=(0.01)^2, C2=(0.03)^2."""
    a, b = luminance(match_size(x, y)).double(), luminance(y).double()
    g = torch.arange(window, dtype=torch.float64) - window // 2
    g = torch.exp(-g ** 2 / (2 * sigma ** 2))
    g = (g / g.sum())
    k = (g[:, None] * g[None, :]).view(1, 1, window, window)
    blur = lambda t: F.conv2d(t, k)
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


@torch.no_grad()
def quality(output: torch.Tensor, content: torch.Tensor, style: torch.Tensor, encoder=None) -> dict:
    """Quality figures computed the same way for every method.

    - content: ||phi(o) - phi(c)||^2 / ||phi(c)||^2 at relu4_1 (relative to the content);
    - style_gram: sum over relu1_1..relu4_1 of ||G(o) - G(s)||^2 / ||G(s)||^2;
    - style_meanstd: sum over the same layers of (||mu(o)-mu(s)||^2 + ||sigma(o)-sigma(s)||^2)
      / (||mu(s)||^2 + ||sigma(s)||^2);
    - ssim: SSIM of the luminance of the output to the content's.
    """
    enc = encoder or vgg19(device=str(output.device))
    output = output.to(next(enc.parameters()).device)
    content = match_size(content.to(output.device), output)
    style = style.to(output.device)
    layers = list(QUALITY_STYLE_LAYERS)
    fo, fc, fs = (enc.encode(t, layers) for t in (output, content, style))
    rel = lambda d, r: float((d ** 2).sum() / (r ** 2).sum().clamp_min(1e-12))
    c = rel(fo["relu4_1"] - fc["relu4_1"], fc["relu4_1"])
    sg = sum(rel(gram(fo[l]) - gram(fs[l]), gram(fs[l])) for l in layers)
    sm = 0.0
    for l in layers:
        (mo, so), (ms, ss) = mean_std(fo[l]), mean_std(fs[l])
        sm += float(((mo - ms) ** 2).sum() + ((so - ss) ** 2).sum()) / float((ms ** 2).sum() + (ss ** 2).sum())
    return {"content_loss": c, "style_gram": sg, "style_meanstd": sm, "ssim": ssim(output.cpu(), content.cpu())}
