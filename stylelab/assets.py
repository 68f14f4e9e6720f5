"""The bundled content and style images, by name (see assets/ATTRIBUTION.md for their sources).

>>> assets.names("style")          # ['brick_texture', 'bruegel_harvesters', ...]
>>> x = assets.load("chelsea", size=256)
"""
from __future__ import annotations

from pathlib import Path

import torch

from . import images
from .errors import ImageError

ROOT = Path(__file__).resolve().parent.parent / "assets"
#: content photos, style paintings, and paintings no shipped network was trained on (``held_out``:
#: the "bring your own painting" examples of the lessons)
KINDS = ("content", "style", "held_out")


def names(kind: str | None = None) -> list[str]:
    """Names of the bundled images of ``kind`` ('content', 'style' or 'held_out'), or of all."""
    kinds = KINDS if kind is None else (kind,)
    for k in kinds:
        if k not in KINDS:
            raise ImageError(f"asset kind {k!r} is unknown; use one of {', '.join(KINDS)}")
    return sorted(p.stem for k in kinds for p in (ROOT / k).glob("*.jpg"))


def path(name: str) -> Path:
    """File path of the bundled image ``name`` (with or without '.jpg', optionally 'style/...')."""
    stem = Path(name).stem
    for k in KINDS:
        p = ROOT / k / f"{stem}.jpg"
        if p.is_file() and (Path(name).parent.name in ("", k)):
            return p
    raise ImageError(f"no bundled image named {name!r}; choose one of {names()}")


def load(name: str, size: int | None = None) -> torch.Tensor:
    """Load the bundled image ``name`` as a (1,3,H,W) tensor in [0,1]."""
    return images.load(path(name), size=size)


def resolve(src, size: int | None = None) -> torch.Tensor:
    """``images.load`` that also accepts a bundled asset name such as ``"starry_night"``."""
    if isinstance(src, str) and not Path(src).exists() and "/" not in src and "\\" not in src:
        try:
            return load(src, size)
        except ImageError:
            pass
    return images.load(src, size)
