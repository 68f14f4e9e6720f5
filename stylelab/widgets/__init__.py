"""ipywidgets panels, by topic: thin wrappers over library functions.

Each panel is built by a function that returns the widget box and keeps the function its controls
call as an attribute (``panel.update``), so tests drive exactly what a slider does.

- ``base``: image widgets, ``live_panel`` (recompute when a control moves), ``figure_png`` and
  ``Quiet``, the one re-entry guard;
- ``features``: what a VGG layer sees (lesson 00);
- ``optimisation``: Gatys et al.'s layer weights (lesson 01);
- ``arbitrary``: AdaIN, DIN and the style kernels' controls (lessons 03, 06, 07);
- ``trained_styles``: conditional IN, the adjustable network, MetaStyle (lessons 04, 05);
- ``compare``: every method on one pair (lesson 08).
"""
from __future__ import annotations

from .arbitrary import adain_mask, adain_panel, attention_pixel_panel, din_panel
from .base import Quiet, figure_png, image_widget, live_panel, set_image
from .compare import arena_panel
from .features import seeing_style_panel
from .optimisation import gatys_panel
from .trained_styles import adjustable_panel, cin_mixing_panel, metastyle_panel

__all__ = [
    "Quiet", "adain_mask", "adain_panel", "adjustable_panel", "arena_panel",
    "attention_pixel_panel", "cin_mixing_panel", "din_panel", "figure_png", "gatys_panel",
    "image_widget", "live_panel", "metastyle_panel", "seeing_style_panel", "set_image"
]
