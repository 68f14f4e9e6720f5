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


# ---------------------------------------------------------------- lesson 01: Gatys optimisation

def gram_compare(images: dict, layer: str = "relu2_1", channels: int = 32, encoder=None, size: float = 3.0):
    """Gram matrices at ``layer`` of several images side by side (first ``channels`` channels, one
    shared colour scale), e.g. ``gram_compare({"result": out, "style": style}, "relu3_1")``."""
    from .encoders import vgg19
    from .stats import gram
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


# ---------------------------------------------------------------- 07 dynamic style kernels

def _rgb(x: torch.Tensor):
    return x[0].detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy()


def attention_overlay(content: torch.Tensor, style: torch.Tensor, amap: torch.Tensor, yx, grid_hw,
                      title: str | None = None):
    """Left: the content with the chosen relu4_1 position ``yx`` (on a ``grid_hw`` grid) marked.
    Right: that position's attention weights ``amap`` (Hs', Ws') over the style image."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 4))
    H, W = content.shape[-2:]
    gh, gw = grid_hw
    y, x = yx
    a.imshow(_rgb(content))
    a.add_patch(plt.Rectangle(((x) * W / gw, (y) * H / gh), W / gw, H / gh, fill=False, ec="red", lw=2))
    a.set_title("content: the query position", fontsize=9)
    Hs, Ws = style.shape[-2:]
    b.imshow(_rgb(style))
    b.imshow(amap.detach().cpu().numpy(), cmap="inferno", alpha=0.6, extent=(0, Ws, Hs, 0),
             interpolation="nearest")
    b.set_title(title or f"its attention over the style (max {float(amap.max()):.2f})", fontsize=9)
    for ax in (a, b):
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def gate_mask(content: torch.Tensor, gates: dict):
    """The content, then each CGM gate map in ``gates`` ({title: (1,1,h,w) in [0,1]}) over it."""
    fig, axes = plt.subplots(1, len(gates) + 1, figsize=(3.2 * (len(gates) + 1), 3.4), squeeze=False)
    H, W = content.shape[-2:]
    axes[0, 0].imshow(_rgb(content))
    axes[0, 0].set_title("content", fontsize=9)
    for ax, (name, g) in zip(axes[0, 1:], gates.items()):
        ax.imshow(_rgb(content), alpha=0.35)
        im = ax.imshow(g[0, 0].detach().cpu().numpy(), cmap="viridis", vmin=0, vmax=1, alpha=0.75,
                       extent=(0, W, H, 0), interpolation="nearest")
        ax.set_title(name, fontsize=9)
    for ax in axes[0]:
        ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8, label="gate g (1 = keep the local match)")
    return fig


def kernel_glyphs(content: torch.Tensor, kernels: torch.Tensor, group: int = 0, every: int = 2,
                  title: str | None = None):
    """The predicted k x k kernels of one channel ``group`` drawn as small images where they act:
    one glyph every ``every`` relu4_1 positions, over a faded content image. Shared colour scale."""
    K = kernels[0, group].detach().cpu()                        # (k*k, h, w)
    kk, gh, gw = K.shape
    k = int(round(kk ** 0.5))
    H, W = content.shape[-2:]
    lim = float(K.abs().max()) or 1.0
    fig, ax = plt.subplots(figsize=(6, 6 * H / W))
    ax.imshow(_rgb(content), alpha=0.3)
    cell_h, cell_w = H / gh, W / gw
    for i in range(0, gh, every):
        for j in range(0, gw, every):
            glyph = K[:, i, j].view(k, k).numpy()
            pad = 0.08 * every
            ax.imshow(glyph, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest",
                      extent=(j * cell_w + pad * cell_w, (j + every) * cell_w - pad * cell_w,
                              (i + every) * cell_h - pad * cell_h, i * cell_h + pad * cell_h))
    ax.set_xlim(0, W), ax.set_ylim(H, 0)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title or f"kernels of channel group {group} (red > 0, blue < 0, |max| {lim:.2f})", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- AdaIN (notebook 03)

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


def adain_channel_stats(content_f: torch.Tensor, style_f: torch.Tensor, other_f: dict | None = None,
                        ax=None, max_channels: int = 512):
    """Per-channel mean (x) and std (y) of feature maps: content, style and any others, as scatter
    points. AdaIN moves every channel's point from the content's to the style's."""
    from .stats import mean_std
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


# ================================================================ seeing style (notebook 00)
# Feature maps per layer, Gram matrices as heatmaps, per-channel mean/std, distance matrices.

#: The five layers the lessons look through (the first ReLU of each VGG-19 block).
SEEING_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
#: One colour per image in comparisons (first = content, second = style).
PAIR_COLORS = ("#2f6fad", "#e0752d", "#3a9a5b", "#b04a8f")


def _map2d(f: torch.Tensor) -> torch.Tensor:
    """A (H,W) float map from (H,W), (C=1,H,W) or (1,1,H,W)."""
    f = f.detach().float().cpu()
    while f.dim() > 2:
        f = f[0]
    return f


def _vmax(m: torch.Tensor) -> float:
    """Upper end of a colour scale: the 99.5th percentile (one hot pixel does not wash out the map)."""
    flat = m.flatten()
    v = torch.quantile(flat, 0.995).item() if flat.numel() > 1 else flat.max().item()
    return v if v > 1e-12 else max(flat.max().item(), 1e-12)


def colorize(f: torch.Tensor, cmap: str = "magma", vmax: float | None = None) -> torch.Tensor:
    """One feature map (H,W) as a (1,3,H,W) RGB picture in [0,1] through a matplotlib colormap.

    Values are scaled to [0, vmax] (ReLU features are >= 0); ``vmax`` defaults to the map's
    99.5th percentile. Fast (no figure), so widgets can call it on every slider move.
    """
    m = _map2d(f)
    lo = min(m.min().item(), 0.0)
    hi = _vmax(m) if vmax is None else float(vmax)
    rgba = matplotlib.colormaps[cmap](((m - lo) / max(hi - lo, 1e-12)).clamp(0, 1).numpy())
    return torch.from_numpy(rgba[..., :3]).float().permute(2, 0, 1).unsqueeze(0)


def strongest_channels(f: torch.Tensor, n: int) -> list[int]:
    """Indices of the ``n`` channels of ``f`` (1,C,H,W) with the largest mean activation."""
    energy = f.detach()[0].float().flatten(1).mean(1)
    return energy.argsort(descending=True)[:n].tolist()


def channel_mosaic(f: torch.Tensor, channels=None, n: int = 16, ncols: int = 4, tile: int = 64,
                   cmap: str = "magma") -> torch.Tensor:
    """Several channels of a feature map ``f`` (1,C,H,W) tiled into one RGB picture (1,3,H',W').

    ``channels`` defaults to the ``n`` strongest; each tile is scaled on its own and enlarged with
    nearest-neighbour so coarse layers show their true resolution.
    """
    import torch.nn.functional as F_
    channels = strongest_channels(f, n) if channels is None else list(channels)
    h, w = f.shape[-2:]
    th, tw = tile, max(1, round(w * tile / h))
    ncols = max(1, min(ncols, len(channels)))
    nrows = -(-len(channels) // ncols)
    pad = 2
    canvas = torch.ones(1, 3, nrows * th + (nrows + 1) * pad, ncols * tw + (ncols + 1) * pad)
    for i, c in enumerate(channels):
        r, k = divmod(i, ncols)
        top, left = pad + r * (th + pad), pad + k * (tw + pad)
        mode = "nearest" if th >= h else "area"  # enlarge blockily; shrink without aliasing
        canvas[..., top:top + th, left:left + tw] = F_.interpolate(colorize(f[0, c], cmap), size=(th, tw),
                                                                   mode=mode)
    return canvas


def _clean_axes(ax):
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    ax.grid(alpha=0.25, linewidth=0.6)


def feature_maps(features: dict, n: int = 6, image: torch.Tensor | None = None, channels=None,
                 cmap: str = "magma", title: str | None = None, size: float = 1.55):
    """Feature maps per layer as an image grid: one row per layer, its ``n`` strongest channels.

    ``features``: ``{layer: (1,C,H,W)}`` (e.g. ``vgg.encode(x, SEEING_LAYERS)``); ``image``, if
    given, is shown at the start of every row; ``channels``: ``{layer: [indices]}`` to pick them
    yourself. Each map has its own colour scale (dark = silent, bright = firing).
    """
    layers = list(features)
    extra = 1 if image is not None else 0
    h0, w0 = features[layers[0]].shape[-2:]
    aspect = min(max(h0 / w0, 0.4), 1.6)
    fig, axes = plt.subplots(len(layers), n + extra,
                             figsize=(size * (n + extra) + 1.0, (size * aspect + 0.3) * len(layers) + 0.4),
                             squeeze=False)
    for r, layer in enumerate(layers):
        f = features[layer].detach().float().cpu()
        chans = (channels or {}).get(layer) or strongest_channels(f, n)
        row = axes[r]
        if image is not None:
            row[0].imshow(image[0].permute(1, 2, 0).detach().cpu().clamp(0, 1).numpy())
            if r == 0:
                row[0].set_title("input", fontsize=9)
        for j, c in enumerate(chans[:n]):
            ax = row[j + extra]
            m = _map2d(f[0, c])
            ax.imshow(m.numpy(), cmap=cmap, vmin=0, vmax=_vmax(m), interpolation="nearest")
            ax.set_title(f"ch {c}", fontsize=8, color="#444")
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
        _, C, H, W = f.shape
        row[0].set_ylabel(f"{layer}\n{C} ch · {H}×{W}", fontsize=9, rotation=0, ha="right", va="center",
                          labelpad=8)
    fig.suptitle(title or "What VGG-19 sees: the strongest channels of each layer", fontsize=12, y=0.995)
    fig.tight_layout()
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
    from matplotlib.colors import PowerNorm
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


def gram_picture(g: torch.Tensor, max_channels: int | None = 64, cmap: str = "viridis", gamma: float = 0.5,
                 pixels: int = 256) -> torch.Tensor:
    """A Gram matrix as a (1,3,pixels,pixels) RGB picture (no figure; fast enough for a widget).

    Same conventions as ``gram_heatmaps``: channels ordered by the diagonal, power-law scale.
    """
    import torch.nn.functional as F_
    m = g.detach().float().cpu().reshape(g.shape[-2], g.shape[-1])
    order = m.diagonal().argsort(descending=True)
    if max_channels is not None:
        order = order[:max_channels]
    m = m[order][:, order].clamp_min(0)
    m = (m / max(_vmax(m), 1e-12)).clamp(0, 1) ** gamma
    return F_.interpolate(colorize(m, cmap, vmax=1.0), size=(pixels, pixels), mode="nearest")


def distance_matrix(d, rows, cols=None, title: str | None = None, cmap: str = "magma_r",
                    annotate: bool = True, size: float = 0.55, mark_row_min: bool = True):
    """A table of distances as an annotated heatmap; the smallest entry of each row is boxed.

    ``d``: (R, K) tensor/array; ``rows``/``cols``: their labels.
    """
    import numpy as np
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
        from matplotlib.patches import Rectangle
        for i in range(d.shape[0]):
            j = int(np.nanargmin(d[i]))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#1f9e89", lw=2))
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02).ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- lesson 04: conditional IN, adjustable weights

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


# ---------------------------------------------------------------- 05 MetaStyle

def metastyle_tradeoff(scores: dict, axes=("speed", "flexibility", "quality")):
    """Bars of qualitative scores ``{method: {axis: score}}`` on the speed/flexibility/quality axes."""
    import numpy as np
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


# ---------------------------------------------------------------- 06 DIN

def din_kernels(codes: dict, layer: int = 1, n: int = 16, ncols: int = 8, size: float = 0.9):
    """The dynamic kernels DIN predicted for each style: ``codes`` = ``{style name: StyleCode}``.

    Shows, per style, the first ``n`` output channels' k x k kernels of DIN layer ``layer`` (the first
    input channel of each group) minus the identity kernel, so 0 (white) means "plain IN", on one
    shared colour scale; a last row compares the predicted biases."""
    import numpy as np
    names = list(codes)
    ks = []
    for name in names:
        w = codes[name].weights[layer][0, :n, 0].detach().cpu().clone()  # (n, k, k)
        c = w.shape[-1] // 2
        w[:, c, c] -= 1.0
        ks.append(w)
    vmax = max(float(k.abs().max()) for k in ks) or 1.0
    nrows = -(-n // ncols)
    fig = plt.figure(figsize=(size * ncols * len(names) + 0.6, size * nrows + 2.2))
    outer = fig.add_gridspec(2, 1, height_ratios=[size * nrows, 1.6], hspace=0.45)
    top = outer[0].subgridspec(1, len(names), wspace=0.15)
    im = None
    for j, (name, k) in enumerate(zip(names, ks)):
        g = top[j].subgridspec(nrows, ncols, wspace=0.08, hspace=0.08)
        for i in range(nrows * ncols):
            ax = fig.add_subplot(g[i // ncols, i % ncols])
            ax.set_xticks([])
            ax.set_yticks([])
            if i < len(k):
                im = ax.imshow(k[i].numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            else:
                ax.axis("off")
            if i == ncols // 2 - 1:
                ax.set_title(f"{name}: kernel - identity (layer {layer})", fontsize=9, loc="left")
    ax = fig.add_subplot(outer[1])
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        b = codes[name].biases[layer][0, :n].detach().cpu().numpy()
        ax.bar(np.arange(len(b)) + j * width, b, width, label=name)
    ax.set_xlabel("output channel")
    ax.set_ylabel("predicted bias")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if im is not None:
        fig.colorbar(im, ax=fig.axes[:-1], shrink=0.6, pad=0.01)
    return fig


def din_cost_bars(table: dict, ax=None, log: bool = True):
    """GFLOPs of each part of AdaIN and DIN from ``stylelab.bench.din.cost_table``."""
    import numpy as np
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


# ---------------------------------------------------------------- 08 arena

def arena_scatter(rows: list[dict], curve: list[dict] | None = None, size: int | None = None, ax=None):
    """Speed vs style loss, coloured by content loss: the speed/flexibility/quality trade-off.

    ``rows`` from ``stylelab.bench.arena.run``; ``curve`` optional Gatys points at several step budgets
    (dicts with ms, style_gram, content_loss, steps). Methods without quality figures (no checkpoint)
    are drawn as ticks along the top: their speed is known, their quality is not.
    """
    import numpy as np
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
