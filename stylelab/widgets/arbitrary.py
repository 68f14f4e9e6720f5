"""Arbitrary-style networks: AdaIN's alpha, interpolation, colour and masks; DIN's strokes; where the
style kernels look."""
from __future__ import annotations

import ipywidgets as W
import torch

from ..errors import ArgumentError
from ..images import luminance
from ..methods import adain, din
from ..plots import attention_overlay
from .base import figure_png, live_panel


def adain_mask(kind: str, content: torch.Tensor, threshold: float = 0.5) -> torch.Tensor | None:
    """A spatial-control mask (H,W) for the first style: 'left/right' halves, 'luminance' above
    ``threshold``, or None for 'none'."""
    h, w = content.shape[-2:]
    if kind == "none":
        return None
    if kind == "left/right":
        m = torch.zeros(h, w)
        m[:, : w // 2] = 1.0
        return m
    if kind == "luminance":
        return (luminance(content)[0, 0] > threshold).float()
    raise ArgumentError(f"mask kind {kind!r} is unknown; use 'none', 'left/right' or 'luminance'")


def adain_panel(content: torch.Tensor, styles, model, width: int = 256) -> W.VBox:
    """AdaIN controls over ``stylelab.methods.adain.stylize``: an alpha slider, one weight slider
    per style (interpolation, 1-4 styles), the colour toggle and a spatial mask (first style inside
    the mask, second outside). The styles are encoded once.

    ``panel.update()`` recomputes with the current values and shows the result in ``panel.image``;
    ``panel.output`` is the last stylised tensor, ``panel.calls`` counts updates.
    """
    styles = list(styles) if isinstance(styles, (list, tuple)) else [styles]
    if not 1 <= len(styles) <= 4:
        raise ArgumentError(f"adain_panel takes 1 to 4 styles, got {len(styles)}")
    feats = [adain.encode_style(s, model=model) for s in styles]
    slider = lambda desc, v: W.FloatSlider(value=v, min=0.0, max=1.0, step=0.05, description=desc,
                                           continuous_update=False, readout_format=".2f")
    alpha = slider("alpha", 1.0)
    weights = [slider(f"style {i + 1}", 1.0) for i in range(len(styles))]
    color = W.Checkbox(value=False, description="preserve colour")
    kinds = ["none"] + (["left/right", "luminance"] if len(styles) >= 2 else [])
    mask_kind = W.Dropdown(options=kinds, value="none", description="mask")
    threshold = slider("threshold", 0.5)

    def compute() -> torch.Tensor:
        mask = adain_mask(mask_kind.value, content, threshold.value)
        if mask is not None:
            return adain.stylize(content, feats[:2], alpha=alpha.value, mask=mask,
                                 preserve_color="histogram" if color.value else False, model=model)
        w = [s.value for s in weights]
        if sum(w) <= 0:
            raise ValueError("all style weights are zero")
        return adain.stylize(content, feats, alpha=alpha.value, style_weights=w,
                             preserve_color="histogram" if color.value else False, model=model)

    controls = [alpha] + (weights if len(styles) > 1 else []) + [color]
    if len(styles) >= 2:
        controls += [mask_kind, threshold]
    panel = live_panel(controls, compute, width)
    panel.alpha, panel.weights, panel.color, panel.mask_kind, panel.threshold = alpha, weights, color, mask_kind, threshold
    return panel


def din_panel(model, content: torch.Tensor, style, width: int = 256) -> W.VBox:
    """DIN controls over ``stylelab.methods.din.stylize``: alpha, deformable on/off with the offset
    scale, the stroke-size mask ('none', 'auto' = large strokes where the content is flat, 'left
    half') and its dilation. The style is encoded once (a cached ``StyleCode``).

    ``panel.update()`` recomputes with the current values and shows the result in ``panel.image``;
    ``panel.output`` is the last stylised tensor, ``panel.calls`` counts updates.
    """
    code = style if isinstance(style, din.StyleCode) else model.encode_style(style)
    alpha = W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="alpha", continuous_update=False)
    deformable = W.Checkbox(value=bool(model.cfg.deformable), description="deformable")
    offset_scale = W.FloatSlider(value=1.0, min=0.0, max=5.0, step=0.25, description="offset x",
                                 continuous_update=False)
    stroke = W.Dropdown(options=["none", "auto", "left half"], value="none", description="big strokes")
    dilation = W.IntSlider(value=2, min=1, max=4, description="dilation", continuous_update=False)

    def mask():
        if stroke.value == "none":
            return None
        if stroke.value == "auto":
            return "auto"
        m = torch.zeros(content.shape[-2:])
        m[:, : content.shape[-1] // 2] = 1.0
        return m

    def compute() -> torch.Tensor:
        return din.stylize(content, code, model=model, alpha=alpha.value, deformable=deformable.value,
                           offset_scale=offset_scale.value, stroke_mask=mask(), stroke_dilation=dilation.value)

    controls = [alpha, deformable, offset_scale, stroke, dilation]
    panel = live_panel(controls, compute, width)
    panel.alpha, panel.deformable, panel.offset_scale, panel.stroke, panel.dilation = controls
    return panel


def attention_pixel_panel(model, content: torch.Tensor, style: torch.Tensor):
    """Pick a content position (relu4_1 grid) with two sliders; shows its SAE attention over the
    style image. ``panel.update(y, x)`` returns the attention map it drew (also ``panel.amap``)."""
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
