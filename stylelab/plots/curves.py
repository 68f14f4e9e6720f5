"""Curves: losses over training steps and figures against a control (alpha, a layer's weight)."""
from __future__ import annotations

import matplotlib.pyplot as plt


def _axes(ax, figsize=(5.5, 3.5)):
    """``(fig, ax)``: a new figure, or the figure of the ``ax`` given."""
    return plt.subplots(figsize=figsize) if ax is None else (ax.figure, ax)


def _finish(fig, ax, xlabel: str, ylabel: str, title: str | None = None, log: bool = False,
            legend_size: int = 8, title_size: int | None = None):
    """The labels, title, legend and grid every curve figure has."""
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=title_size)
    ax.legend(fontsize=legend_size)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def loss_curves(histories: dict, keys=None, log: bool = True, ax=None, title: str | None = None):
    """Plot loss histories: ``{label: [float, ...]}`` or ``{label: [{"total": ..}, ...]}``."""
    fig, ax = _axes(ax)
    keys = keys or ["total"]
    for label, h in histories.items():
        if h and isinstance(h[0], dict):
            for k in keys:
                ax.plot([s[k] for s in h], label=f"{label} {k}" if len(keys) > 1 else label)
        else:
            ax.plot(list(h), label=label)
    return _finish(fig, ax, "step", "loss", title, log)


def gatys_history(history: list, per_layer: bool = True, ax=None, title: str | None = None):
    """The loss history of ``gatys.run``: content and style (and each style layer), log scale."""
    keys = ["content", "style"] if "content" in history[0] else ["style"]
    if per_layer:
        keys += [k for k in history[0] if k.startswith("style/")]
    fig, ax = _axes(ax)
    for k in keys:
        ax.plot([h["step"] for h in history], [h[k] for h in history], label=k,
                lw=2 if "/" not in k else 1, ls="-" if "/" not in k else "--")
    return _finish(fig, ax, "step (forward/backward passes)", "loss (before content/style weight)", title,
                   log=True, legend_size=7)


def adain_alpha_curve(alphas, distances: dict, ax=None, title: str | None = None):
    """Distance of relu4_1 channel statistics to the style's against alpha:
    ``distances = {label: [d(alpha) for alpha in alphas]}`` (e.g. the target t and the output)."""
    fig, ax = _axes(ax, (5.0, 3.2))
    for label, d in distances.items():
        ax.plot(list(alphas), list(d), marker="o", label=label)
    return _finish(fig, ax, "alpha", "distance to style's (mu, sigma)",
                   title or "relu4_1 statistics move toward the style")


def alpha_sweep(xs, curves: dict, ax=None, xlabel: str = "alpha_s of the layer",
                ylabel: str = "style loss at that layer", title: str | None = None, log: bool = True):
    """Curves ``{label: [y for x in xs]}`` against the slider value ``xs``."""
    fig, ax = _axes(ax)
    for label, ys in curves.items():
        ax.plot(list(xs), list(ys), marker="o", label=label)
    return _finish(fig, ax, xlabel, ylabel, title, log, title_size=11)


def metastyle_adaptation(curves: dict, new_style: str | None = None, log: bool = True):
    """Held-out loss vs adaptation step for each start: ``{start: [loss at step 0, 1, ..., K]}``."""
    fig, ax = _axes(None)
    for label, c in curves.items():
        ax.plot(range(len(c)), c, marker="o", ms=3, label=label)
    return _finish(fig, ax, "adaptation steps", "style + content loss (held-out photos)",
                   f"adapting to a new style{': ' + new_style if new_style else ''}", log)
