"""What a VGG layer sees: feature maps, channel mosaics and the colour maps they share."""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

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
        canvas[..., top:top + th, left:left + tw] = F.interpolate(colorize(f[0, c], cmap), size=(th, tw),
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
