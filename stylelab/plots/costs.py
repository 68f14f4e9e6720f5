"""Comparing methods: parameters, cost, speed against quality, and the trade-offs between them."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def parameter_bars(counts: dict, ax=None, title: str | None = None, log: bool = True):
    """Horizontal bars of parameter counts ``{label: int}``, each labelled with its number."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 0.55 * len(counts) + 1.0))
    else:
        fig = ax.figure
    labels, values = list(counts), [float(v) for v in counts.values()]
    ax.barh(range(len(values)), values, color="tab:blue")
    ax.set_yticks(range(len(values)), labels, fontsize=9)
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
    for i, v in enumerate(values):
        ax.text(v, i, f" {int(v):,}", va="center", fontsize=8)
    ax.set_xlabel("parameters")
    ax.set_xlim(right=max(values) * (8 if log else 1.3))
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


def din_cost_bars(table: dict, ax=None, log: bool = True):
    """GFLOPs of each part of AdaIN and DIN from ``stylelab.bench.din.cost_table``."""
    parts = ["encoder", "transform", "decoder", "content_total", "style_encoding"]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.4))
    else:
        fig = ax.figure
    x = np.arange(len(parts))
    for j, (m, label) in enumerate((("adain", "AdaIN"), ("din", "DIN"))):
        ax.bar(x + (j - 0.5) * 0.38, [max(table[m][p][0], 1) / 1e9 for p in parts], 0.38, label=label)
    ax.set_xticks(x, [p.replace("_", "\n") for p in parts], fontsize=8)
    ax.set_ylabel("GFLOPs")
    if log:
        ax.set_yscale("log")
    ax.set_title(f"cost at {table['size']} x {table['size']} px (style encoding runs once per style)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def metastyle_tradeoff(scores: dict, axes=("speed", "flexibility", "quality")):
    """Bars of qualitative scores ``{method: {axis: score}}`` on the speed/flexibility/quality axes."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    names = list(scores)
    width = 0.8 / len(axes)
    x = np.arange(len(names))
    for i, a in enumerate(axes):
        ax.bar(x + (i - (len(axes) - 1) / 2) * width, [scores[n].get(a, 0) for n in names], width, label=a)
    ax.set_xticks(x, names)
    ax.set_yticks([1, 2, 3], ["low", "mid", "high"])
    ax.set_title("the three-way trade-off (qualitative)")
    ax.legend(fontsize=8, ncols=len(axes), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


def arena_scatter(rows: list[dict], curve: list[dict] | None = None, size: int | None = None, ax=None):
    """Speed vs style loss, coloured by content loss: the speed/flexibility/quality trade-off.

    ``rows`` from ``stylelab.bench.arena.run``; ``curve`` optional Gatys points at several step budgets
    (dicts with ms, style_gram, content_loss, steps). Methods without quality figures (no checkpoint)
    are drawn as ticks along the top: their speed is known, their quality is not.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.6))
    else:
        fig = ax.figure
    key = f"ms_{size}" if size else next((k for k in rows[0] if k.startswith("ms_") and "cached" not in k), None)
    known = [r for r in rows if "style_gram" in r and key in r]
    pts = known + list(curve or [])
    if pts:
        xs = [p.get(key, p.get("ms")) for p in pts]
        ys = [p["style_gram"] for p in pts]
        cs = [p["content_loss"] for p in pts]
        sc = ax.scatter(xs, ys, c=cs, cmap="viridis", s=70, edgecolor="k", zorder=3)
        fig.colorbar(sc, ax=ax, label="content loss (relu4_1, relative)")
        for p, x, y in zip(pts, xs, ys):
            label = p.get("method", "gatys") + (f" {p['steps']} steps" if "steps" in p else "")
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=8)
        if curve:
            ax.plot([c["ms"] for c in curve], [c["style_gram"] for c in curve], "--", color="grey", zorder=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    unknown = [r for r in rows if "style_gram" not in r and key in r]
    for r in unknown:
        ax.axvline(r[key], ymin=0.93, ymax=1.0, color="tab:red", lw=2)
        ax.annotate(r["method"], (r[key], 1.0), xycoords=("data", "axes fraction"), rotation=60, fontsize=7,
                    xytext=(0, 3), textcoords="offset points", color="tab:red")
    ax.set_xlabel(f"ms per image ({key.split('_')[1]} px, this machine)")
    ax.set_ylabel("style loss (Gram, relative)")
    ax.set_title("faster <- -> slower;  red ticks: speed known, no checkpoint so no quality", fontsize=9, pad=28)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig
