"""Every method on the same pair, side by side."""
from __future__ import annotations

import ipywidgets as W

from .. import config
from ..plots import gallery
from .base import figure_png


def arena_panel(pairs, names, size: int, controls: dict | None = None, width: int = 900) -> W.VBox:
    """Pick a content/style pair and the methods to compare; shows their pictures side by side.

    ``pairs``: list of (content_name, style_name) asset names; ``controls``: per-method overrides
    of the methods' ``ARENA_CONTROLS`` (``plots.gallery``). ``panel.update(pair=i, methods=[...])``
    sets the controls and redraws, exactly what the dropdown, the list and the button do.
    """
    pair_box = W.Dropdown(options=[(f"{c} + {s}", i) for i, (c, s) in enumerate(pairs)], value=0,
                          description="pair")
    method_box = W.SelectMultiple(options=list(names), value=tuple(names[:3]), description="methods",
                                  rows=min(8, len(names)))
    button = W.Button(description="Compare", button_style="primary")
    view = W.Image(format="png", width=width)
    device = config.device()

    def redraw(*_):
        fig = gallery([pairs[pair_box.value]], list(method_box.value), size, device, controls)
        view.value = figure_png(fig)

    def update(pair=None, methods=None):
        if pair is not None:
            pair_box.value = pair
        if methods is not None:
            method_box.value = tuple(methods)
        redraw()
        return view.value

    button.on_click(redraw)
    panel = W.VBox([W.HBox([pair_box, method_box, button]), view])
    panel.update, panel.view = update, view
    redraw()
    return panel
