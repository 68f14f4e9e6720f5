"""The gallery: every method on the same content/style pairs, one column per method.

A method whose checkpoint does not ship gets a grey tile saying so, never a picture from random
weights (``stylelab.bench.arena.entries`` decides what each column can show).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from tqdm.auto import tqdm

from .. import assets
from ..bench import arena


def gallery(pairs, names, size: int, device, controls: dict | None = None):
    """A matplotlib figure: one row per (content, style) pair, one column per method; ``controls``:
    per-method overrides of the methods' ``ARENA_CONTROLS`` (e.g. ``{"gatys": {"steps": 150}}``)."""
    entries = arena.entries(names, device, controls)
    cols = ["content", "style"] + [e.name for e in entries]
    fig, axes = plt.subplots(len(pairs), len(cols), figsize=(2.3 * len(cols), 2.3 * len(pairs)), squeeze=False)
    bar = tqdm(total=len(pairs) * len(entries), desc="gallery", leave=False)
    for r, (c_name, s_name) in enumerate(pairs):
        c, s = assets.load(c_name, size).to(device), assets.load(s_name, size).to(device)
        tiles = [c, s]
        for e in entries:
            if e.run_named is not None:   # a network of trained styles: a picture only for its own styles
                out = e.run_named(c, s_name)
                tiles.append(out.detach().cpu() if out is not None else f"not trained on {s_name}")
            elif e.run is not None and not e.trained_styles:
                tiles.append(e.run(c, s).detach().cpu())
            else:                         # no checkpoint ships: say so, never random weights
                tiles.append(e.status)
            bar.update()
        for k, (ax, tile) in enumerate(zip(axes[r], tiles)):
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if isinstance(tile, torch.Tensor):
                ax.imshow(tile[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
            else:
                ax.set_facecolor("#f1f1f1")
                ax.text(0.5, 0.5, tile.replace(" ", "\n"), ha="center", va="center", fontsize=10, color="#777",
                        transform=ax.transAxes)
            if r == 0:
                ax.set_title(cols[k], fontsize=11)
    bar.close()
    fig.tight_layout()
    return fig
