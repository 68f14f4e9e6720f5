"""Matplotlib figures for the lessons: feature maps, Gram heatmaps, statistics, loss curves, grids.

Every function returns the figure (so tests can inspect it) and draws nothing on import.
Each lesson adds its figures in its own section below.
"""
from __future__ import annotations

import matplotlib

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402


def loss_curves(histories: dict, keys=None, log: bool = True, ax=None, title: str | None = None):
    """Plot loss histories: ``{label: [float, ...]}`` or ``{label: [{"total": ..}, ...]}``."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
    else:
        fig = ax.figure
    for label, h in histories.items():
        if h and isinstance(h[0], dict):
            for k in (keys or ["total"]):
                ax.plot([s[k] for s in h], label=f"{label} {k}" if len(keys or ["total"]) > 1 else label)
        else:
            ax.plot(list(h), label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
