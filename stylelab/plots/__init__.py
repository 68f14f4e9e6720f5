"""Matplotlib figures for the lessons, by topic; every function returns its figure (so tests can
inspect it) and nothing is drawn on import.

- ``features``: what a VGG layer sees (feature maps, channel mosaics, colour maps);
- ``statistics``: Gram matrices, channel means and standard deviations, distances between styles;
- ``curves``: losses over steps, figures against a control (alpha, a layer's weight);
- ``maps``: attention, the gate, per-pixel and per-style kernels of the dynamic methods;
- ``costs``: parameters, cost, speed against quality;
- ``gallery``: every method on the same pairs.

Every figure is also importable from here: ``from stylelab.plots import feature_maps``.
"""
from __future__ import annotations

from .costs import arena_scatter, din_cost_bars, metastyle_tradeoff, parameter_bars
from .curves import adain_alpha_curve, alpha_sweep, gatys_history, loss_curves, metastyle_adaptation
from .features import PAIR_COLORS, SEEING_LAYERS, channel_mosaic, colorize, feature_maps, strongest_channels
from .gallery import gallery
from .maps import attention_overlay, din_kernels, gate_mask, kernel_glyphs
from .statistics import (adain_channel_stats, distance_matrix, gram_compare, gram_heatmaps, gram_picture,
                         mean_std_plot)

__all__ = [
    "PAIR_COLORS", "SEEING_LAYERS", "adain_alpha_curve", "adain_channel_stats", "alpha_sweep",
    "arena_scatter", "attention_overlay", "channel_mosaic", "colorize", "din_cost_bars",
    "din_kernels", "distance_matrix", "feature_maps", "gallery", "gate_mask", "gatys_history",
    "gram_compare", "gram_heatmaps", "gram_picture", "kernel_glyphs", "loss_curves",
    "mean_std_plot", "metastyle_adaptation", "metastyle_tradeoff", "parameter_bars",
    "strongest_channels"
]
