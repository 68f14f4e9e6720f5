"""Curves: losses over training steps and figures against a control (alpha, a layer's weight)."""
from __future__ import annotations

import matplotlib.pyplot as plt


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


def gatys_history(history: list, per_layer: bool = True, ax=None, title: str | None = None):
    """The loss history of ``gatys.run``: content and style (and each style layer), log scale."""
    keys = ["content", "style"] if "content" in history[0] else ["style"]
    if per_layer:
        keys += [k for k in history[0] if k.startswith("style/")]
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
    else:
        fig = ax.figure
    for k in keys:
        ax.plot([h["step"] for h in history], [h[k] for h in history], label=k,
                lw=2 if "/" not in k else 1, ls="-" if "/" not in k else "--")
    ax.set_yscale("log")
    ax.set_xlabel("step (forward/backward passes)")
    ax.set_ylabel("loss (before content/style weight)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def adain_alpha_curve(alphas, distances: dict, ax=None, title: str | None = None):
    """Distance of relu4_1 channel statistics to the style's against alpha:
    ``distances = {label: [d(alpha) for alpha in alphas]}`` (e.g. the target t and the output)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.0, 3.2))
    else:
        fig = ax.figure
    for label, d in distances.items():
        ax.plot(list(alphas), list(d), marker="o", label=label)
    ax.set_xlabel("alpha")
    ax.set_ylabel("distance to style's (mu, sigma)")
    ax.set_title(title or "relu4_1 statistics move toward the style")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def alpha_sweep(xs, curves: dict, ax=None, xlabel: str = "alpha_s of the layer",
                ylabel: str = "style loss at that layer", title: str | None = None, log: bool = True):
    """Curves ``{label: [y for x in xs]}`` against the slider value ``xs``."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
    else:
        fig = ax.figure
    for label, ys in curves.items():
        ax.plot(list(xs), list(ys), marker="o", label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def metastyle_adaptation(curves: dict, new_style: str | None = None, log: bool = True):
    """Held-out loss vs adaptation step for each start: ``{start: [loss at step 0, 1, ..., K]}``."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for label, c in curves.items():
        ax.plot(range(len(c)), c, marker="o", ms=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("adaptation steps")
    ax.set_ylabel("style + content loss (held-out photos)")
    ax.set_title(f"adapting to a new style{': ' + new_style if new_style else ''}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
