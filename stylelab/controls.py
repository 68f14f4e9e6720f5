"""The controls every method shares, checked in one place: alpha, style weights, masks, colour.

A control means the same thing in every method that takes it:

- ``alpha`` in [0, 1]: how much style; 0 keeps the content, 1 is full style;
- ``style_weights``: one weight >= 0 per style image, with a positive sum (interpolation);
- ``mask``: where each style goes, one (H, W) map in [0, 1] per style (spatial control);
- ``preserve_color``: keep the content photo's colours, in one of Gatys et al.'s two ways
  ("Preserving Color in Neural Artistic Style Transfer", 2016): ``"luminance"`` stylises only the
  luminance and keeps the content's chrominance (``True`` means this one, which works for every
  method); ``"histogram"`` first recolours the style image to the content's colour statistics
  (for the methods that take a style image). ``False`` / ``None``: off.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import stats
from .errors import ArgumentError

COLOR_MODES = ("luminance", "histogram")


def check_alpha(alpha, name: str = "alpha") -> float:
    """``alpha`` as a float in [0, 1], or an ArgumentError that says what it means."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name}={alpha!r} must be a number in [0, 1]") from None
    if not (0.0 <= a <= 1.0):
        raise ArgumentError(f"{name}={a} is outside [0, 1]; 0 keeps the content, 1 is full style")
    return a


def style_weights(weights, k: int, normalise: bool = True) -> list[float]:
    """One weight per style: >= 0, finite, with a positive sum; equal weights when None.
    ``normalise``: divide them by their sum (interpolation weights)."""
    if weights is None:
        w = [1.0] * k
    else:
        if isinstance(weights, torch.Tensor):
            weights = weights.tolist()
        w = [float(v) for v in (weights if isinstance(weights, (list, tuple)) else [weights])]
    if len(w) != k:
        raise ArgumentError(f"style_weights has {len(w)} entries for {k} styles; give one weight per style")
    if any(v < 0 or not math.isfinite(v) for v in w) or not sum(w) > 0:
        raise ArgumentError(f"style_weights={w} must be >= 0 with a positive sum"
                            + ("; they are normalised to sum to 1" if normalise else ""))
    return [v / sum(w) for v in w] if normalise else w


def color_mode(preserve_color, style_image: bool = True) -> str | None:
    """``preserve_color`` as None, "luminance" or "histogram" (``True`` is "luminance").
    ``style_image=False``: the method takes no style image (a network of trained styles), so only
    "luminance" applies."""
    if preserve_color is None or preserve_color is False:
        return None
    if preserve_color is True:
        return "luminance"
    if preserve_color == "histogram" and not style_image:
        raise ArgumentError("preserve_color='histogram' recolours a style image, and this method takes "
                            "none; use preserve_color=True (luminance)")
    if preserve_color in COLOR_MODES:
        return preserve_color
    raise ArgumentError(f"preserve_color={preserve_color!r}: use False, True (= 'luminance'), "
                        f"'luminance' or 'histogram'")


def recolor_style(style: torch.Tensor, content: torch.Tensor, mode: str | None) -> torch.Tensor:
    """The style image recoloured to the content's colour statistics when ``mode`` is "histogram"."""
    return stats.match_color(style, content[:1]) if mode == "histogram" else style


def keep_luminance(out: torch.Tensor, content: torch.Tensor, mode: str | None) -> torch.Tensor:
    """The output's luminance with the content's colours when ``mode`` is "luminance"."""
    return stats.luminance_transfer(out, content.to(out.device)) if mode == "luminance" else out


def to_mask(m, name: str = "mask") -> torch.Tensor:
    """One mask (tensor, numpy array or PIL image) as a float (1,1,H,W) tensor in [0,1]."""
    if isinstance(m, Image.Image):
        m = np.asarray(m.convert("L"), dtype=np.float32) / 255.0
    if isinstance(m, np.ndarray):
        m = torch.from_numpy(np.ascontiguousarray(m))
    if not isinstance(m, torch.Tensor):
        raise ArgumentError(f"{name} is a {type(m).__name__}; pass a tensor, numpy array or PIL image")
    m = m.float()
    while m.dim() > 2 and m.shape[0] == 1:
        m = m[0]
    if m.dim() != 2:
        raise ArgumentError(f"{name} has shape {tuple(m.shape)}; a mask is (H,W) with values in [0,1]")
    if not torch.isfinite(m).all() or m.min() < 0 or m.max() > 1:
        raise ArgumentError(f"{name} has values outside [0,1]; use 1 where the style goes and 0 elsewhere")
    return m[None, None]


def masks_for(mask, k: int, size: tuple[int, int]) -> torch.Tensor:
    """The masks of ``k`` styles as (k,1,H,W) at the content's ``size``.

    ``mask`` is one mask per style (a list, or a (k,H,W) tensor); with two styles a single mask
    means [mask, 1 - mask]; with one style, the style goes where the mask is 1 and the content stays
    elsewhere. A mask of the content's size is used as is; one of the same aspect ratio (within 2%)
    is resized to it; any other size is an error.
    """
    if isinstance(mask, torch.Tensor) and mask.dim() == 3 and mask.shape[0] == k and k > 1:
        mask = list(mask)
    if not isinstance(mask, (list, tuple)):
        mask = [mask]
    ms = [to_mask(m, f"mask {i}") for i, m in enumerate(mask)]
    if len(ms) == 1 and k == 2:
        ms = [ms[0], 1 - ms[0]]
    if len(ms) != k:
        raise ArgumentError(f"got {len(ms)} masks for {k} styles; give one mask per style")
    h, w = size
    out = []
    for i, m in enumerate(ms):
        mh, mw = m.shape[-2:]
        if (mh, mw) != (h, w):
            if abs(mh / mw - h / w) > 0.02 * (h / w):
                raise ArgumentError(f"mask {i} is {mw}x{mh} px but the content is {w}x{h} px; make a mask "
                                    "of the content's size (or at least its aspect ratio)")
            m = F.interpolate(m, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)
        out.append(m)
    return torch.cat(out, 0)
