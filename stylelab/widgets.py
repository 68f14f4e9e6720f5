"""ipywidgets panels: thin wrappers over library functions.

Each panel is built by a function that returns the widget box, and keeps the function its controls
call as an attribute (``panel.update``) so tests can drive exactly what a slider does. Each lesson
adds its panel in its own section below.
"""
from __future__ import annotations

import io

import ipywidgets as W
import torch


def image_widget(x: torch.Tensor | None = None, width: int = 256) -> W.Image:
    """An ipywidgets Image showing tensor ``x`` (updates with ``set_image``)."""
    w = W.Image(format="png", width=width)
    if x is not None:
        set_image(w, x)
    return w


def set_image(widget: W.Image, x: torch.Tensor) -> None:
    """Show tensor ``x`` (1,3,H,W) in [0,1] in an ipywidgets Image."""
    from .images import to_pil
    buf = io.BytesIO()
    to_pil(x).save(buf, format="PNG")
    widget.value = buf.getvalue()


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (closes it), for an ipywidgets Image."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
