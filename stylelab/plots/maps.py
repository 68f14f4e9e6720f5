"""Where a dynamic method looks and what it applies: attention, the gate, per-pixel and per-style kernels."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch


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


def din_kernels(codes: dict, layer: int = 1, n: int = 16, ncols: int = 8, size: float = 0.9):
    """The dynamic kernels DIN predicted for each style: ``codes`` = ``{style name: StyleCode}``.

    Shows, per style, the first ``n`` output channels' k x k kernels of DIN layer ``layer`` (the first
    input channel of each group) minus the identity kernel, so 0 (white) means "plain IN", on one
    shared colour scale; a last row compares the predicted biases."""
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
