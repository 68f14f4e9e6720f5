"""Style as statistics: Gram matrices, channel means and standard deviations, distances between styles."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import PowerNorm
from matplotlib.patches import Rectangle

from ..encoders import vgg19
from ..stats import gram, mean_std
from .features import PAIR_COLORS, _clean_axes, _vmax, colorize


def gram_compare(images: dict, layer: str = "relu2_1", channels: int = 32, encoder=None, size: float = 3.0):
    """Gram matrices at ``layer`` of several images side by side (first ``channels`` channels, one
    shared colour scale), e.g. ``gram_compare({"result": out, "style": style}, "relu3_1")``."""
    enc = encoder or vgg19()
    with torch.no_grad():
        grams = {k: gram(enc.encode(v.to(next(enc.parameters()).device), [layer])[layer])[0, :channels, :channels].cpu()
                 for k, v in images.items()}
    vmax = max(float(g.abs().max()) for g in grams.values()) or 1.0
    fig, axes = plt.subplots(1, len(grams), figsize=(size * len(grams) + 0.6, size), squeeze=False)
    for ax, (k, g) in zip(axes[0], grams.items()):
        im = ax.imshow(g.numpy(), cmap="magma", vmin=0, vmax=vmax)
        ax.set_title(f"{k}: G at {layer}", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8)
    return fig


def gram_heatmaps(grams: dict, images: dict | None = None, layer: str | None = None,
                  max_channels: int | None = 64, cmap: str = "viridis", gamma: float = 0.5,
                  size: float = 3.4):
    """Gram matrices as heatmaps, side by side on one shared colour scale.

    ``grams``: ``{label: (C,C) or (1,C,C)}`` from ``stats.gram``; ``images``: ``{label: image}``
    shown above each heatmap. Channels are ordered by the first matrix's diagonal (its most active
    channels top-left), the same order for every panel, so the panels compare cell by cell;
    ``max_channels`` keeps only the first that many of that order. A power-law colour scale
    (``gamma``) keeps the many small entries visible next to the few large ones.
    """
    labels = list(grams)
    mats = [g.detach().float().cpu().reshape(g.shape[-2], g.shape[-1]) for g in grams.values()]
    order = mats[0].diagonal().argsort(descending=True)
    if max_channels is not None:
        order = order[:max_channels]
    mats = [m[order][:, order] for m in mats]
    vmax = max(_vmax(m) for m in mats)
    rows = 2 if images else 1
    fig = plt.figure(figsize=(size * len(labels) + 0.9, size * (1.55 if images else 1.0) + 0.5))
    gs = fig.add_gridspec(rows, len(labels) + 1, width_ratios=[1] * len(labels) + [0.05],
                          height_ratios=[0.55, 1] if images else [1])
    im = None
    for j, (label, m) in enumerate(zip(labels, mats)):
        if images:
            ax_i = fig.add_subplot(gs[0, j])
            if label in images:
                ax_i.imshow(images[label][0].permute(1, 2, 0).detach().cpu().clamp(0, 1).numpy())
            ax_i.set_title(label, fontsize=11, color=PAIR_COLORS[j % len(PAIR_COLORS)], fontweight="bold")
            ax_i.axis("off")
        ax = fig.add_subplot(gs[rows - 1, j])
        im = ax.imshow(m.numpy(), cmap=cmap, norm=PowerNorm(gamma, vmin=0, vmax=vmax), interpolation="nearest")
        shown, total = m.shape[0], grams[label].shape[-1]
        what = f"{shown}×{shown}" + (f" of {total}×{total}" if shown < total else "")
        ax.set_title(what if images else f"{label}: {what}", fontsize=9)
        ax.set_xlabel(f"channel j (most active in {labels[0]} first)", fontsize=8)
        if j == 0:
            ax.set_ylabel("channel i", fontsize=8)
        ax.tick_params(labelsize=7)
    cax = fig.add_subplot(gs[rows - 1, -1])
    fig.colorbar(im, cax=cax).ax.tick_params(labelsize=7)
    fig.suptitle(f"Gram matrices at {layer}" if layer else "Gram matrices", fontsize=12)
    fig.tight_layout()
    return fig


def gram_picture(g: torch.Tensor, max_channels: int | None = 64, cmap: str = "viridis", gamma: float = 0.5,
                 pixels: int = 256) -> torch.Tensor:
    """A Gram matrix as a (1,3,pixels,pixels) RGB picture (no figure; fast enough for a widget).

    Same conventions as ``gram_heatmaps``: channels ordered by the diagonal, power-law scale.
    """
    m = g.detach().float().cpu().reshape(g.shape[-2], g.shape[-1])
    order = m.diagonal().argsort(descending=True)
    if max_channels is not None:
        order = order[:max_channels]
    m = m[order][:, order].clamp_min(0)
    m = (m / max(_vmax(m), 1e-12)).clamp(0, 1) ** gamma
    return F.interpolate(colorize(m, cmap, vmax=1.0), size=(pixels, pixels), mode="nearest")


def mean_std_plot(stats: dict, layer: str | None = None, sort: bool = True, highlight: int | None = None,
                  size: float = 3.3, tight: bool = True):
    """Per-channel mean and std of feature maps, for one or more images on the same axes.

    ``stats``: ``{label: (mu, sigma)}`` as returned by ``stats.mean_std`` (each (1,C,1,1)).
    Three panels: mu_c per channel, sigma_c per channel (channels sorted by the first image's mu
    when ``sort``), and sigma_c against mu_c. ``highlight`` marks one channel (by its index).
    """
    labels = list(stats)
    mus = [s[0].detach().float().cpu().flatten() for s in stats.values()]
    sds = [s[1].detach().float().cpu().flatten() for s in stats.values()]
    order = mus[0].argsort(descending=True) if sort else torch.arange(mus[0].numel())
    fig, axes = plt.subplots(1, 3, figsize=(size * 3.3, size), gridspec_kw={"width_ratios": [1.4, 1.4, 1]})
    x = torch.arange(order.numel()).numpy()
    for k, (label, mu, sd) in enumerate(zip(labels, mus, sds)):
        col = PAIR_COLORS[k % len(PAIR_COLORS)]
        z = 3 if k == 0 else 2  # the image that sets the channel order is drawn on top
        axes[0].fill_between(x, mu[order].numpy(), color=col, alpha=0.25, step="mid", linewidth=0)
        axes[0].plot(x, mu[order].numpy(), color=col, lw=1.2, drawstyle="steps-mid", label=label, zorder=z)
        axes[1].fill_between(x, sd[order].numpy(), color=col, alpha=0.25, step="mid", linewidth=0)
        axes[1].plot(x, sd[order].numpy(), color=col, lw=1.2, drawstyle="steps-mid", label=label, zorder=z)
        axes[2].scatter(mu.numpy(), sd.numpy(), s=9, alpha=0.55, color=col, edgecolor="none", label=label,
                        zorder=z)
    if highlight is not None:
        pos = (order == highlight).nonzero().flatten().tolist()
        for ax in axes[:2]:
            for p in pos:
                ax.axvline(p, color="#c0392b", lw=1, ls="--")
        axes[2].scatter([m[highlight].item() for m in mus], [s[highlight].item() for s in sds],
                        s=60, facecolor="none", edgecolor="#c0392b", lw=1.5, label=f"ch {highlight}")
    where = f" at {layer}" if layer else ""
    axes[0].set_title(f"channel mean μ_c{where}", fontsize=10)
    axes[1].set_title(f"channel std σ_c{where}", fontsize=10)
    axes[2].set_title("σ_c against μ_c", fontsize=10)
    xl = "channel (sorted by μ of " + labels[0] + ")" if sort else "channel"
    axes[0].set_xlabel(xl, fontsize=8)
    axes[1].set_xlabel(xl, fontsize=8)
    axes[2].set_xlabel("μ_c", fontsize=8)
    axes[2].set_ylabel("σ_c", fontsize=8)
    for ax in axes:
        _clean_axes(ax)
        ax.tick_params(labelsize=7)
    axes[0].set_xlim(-0.5, len(x) - 0.5)
    axes[1].set_xlim(-0.5, len(x) - 0.5)
    axes[0].legend(fontsize=8, frameon=False)
    if tight:
        fig.tight_layout()
    else:  # fixed margins: much faster, for widgets that redraw often
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.17, top=0.88, wspace=0.28)
    return fig


def adain_channel_stats(content_f: torch.Tensor, style_f: torch.Tensor, other_f: dict | None = None,
                        ax=None, max_channels: int = 512):
    """Per-channel mean (x) and std (y) of feature maps: content, style and any others, as scatter
    points. AdaIN moves every channel's point from the content's to the style's."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 3.6))
    else:
        fig = ax.figure
    series = {"content": content_f, "style": style_f, **(other_f or {})}
    for label, f in series.items():
        mu, sd = mean_std(f.detach().cpu())
        ax.scatter(mu.flatten()[:max_channels], sd.flatten()[:max_channels], s=6, alpha=0.6, label=label)
    ax.set_xscale("symlog")
    ax.set_yscale("symlog")
    ax.set_xlabel("channel mean mu")
    ax.set_ylabel("channel std sigma")
    ax.legend(fontsize=8, markerscale=2)
    fig.tight_layout()
    return fig


def distance_matrix(d, rows, cols=None, title: str | None = None, cmap: str = "magma_r",
                    annotate: bool = True, size: float = 0.55, mark_row_min: bool = True):
    """A table of distances as an annotated heatmap; the smallest entry of each row is boxed.

    ``d``: (R, K) tensor/array; ``rows``/``cols``: their labels.
    """
    d = torch.as_tensor(d).float().cpu().numpy()
    cols = rows if cols is None else cols
    fig, ax = plt.subplots(figsize=(size * len(cols) + 2.6, size * len(rows) + 1.2))
    im = ax.imshow(d, cmap=cmap)
    ax.set_xticks(range(len(cols)), cols, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    if annotate:
        mid = (np.nanmax(d) + np.nanmin(d)) / 2
        for i in range(d.shape[0]):
            for j in range(d.shape[1]):
                ax.text(j, i, f"{d[i, j]:.2f}", ha="center", va="center", fontsize=6.5,
                        color="white" if d[i, j] > mid else "black")
    if mark_row_min:
        for i in range(d.shape[0]):
            j = int(np.nanargmin(d[i]))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#1f9e89", lw=2))
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02).ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
