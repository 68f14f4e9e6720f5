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
