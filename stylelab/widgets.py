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


# ---------------------------------------------------------------- 07 dynamic style kernels

def attention_pixel_panel(model, content: torch.Tensor, style: torch.Tensor):
    """Pick a content position (relu4_1 grid) with two sliders; shows its SAE attention over the
    style image. ``panel.update(y, x)`` returns the attention map it drew (also ``panel.amap``)."""
    from .plots import attention_overlay
    with torch.no_grad():
        fc, fs = model.encode(content), model.encode(style)
    gh, gw = fc.shape[-2:]
    ys = W.IntSlider(value=gh // 2, min=0, max=gh - 1, description="row", continuous_update=False)
    xs = W.IntSlider(value=gw // 2, min=0, max=gw - 1, description="column", continuous_update=False)
    img = W.Image(format="png")

    def update(y=None, x=None):
        y = ys.value if y is None else int(y)
        x = xs.value if x is None else int(x)
        with torch.no_grad():
            amap = model.attention_map(fc, fs, y, x)
        img.value = figure_png(attention_overlay(content, style, amap, (y, x), (gh, gw)))
        box.amap = amap
        return amap

    for s in (ys, xs):
        s.observe(lambda change: update(), names="value")
    box = W.VBox([W.HBox([ys, xs]), img])
    box.update, box.rows, box.cols, box.image = update, ys, xs, img
    update()
    return box
