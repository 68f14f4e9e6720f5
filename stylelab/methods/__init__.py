"""One module per method, all of the same shape (see DESIGN.md and ``Method`` below):

``Config`` (paper defaults), an ``nn.Module`` for trained methods whose config is ``model.cfg``,
``stylize(content, style=None, *, model=None, size=None, **controls)`` -> (1,3,H,W) in [0,1] at
the content's size, ``loss(model, batch)`` -> dict of named terms, ``pretrained()`` -> the shipped
checkpoint or a clear CheckpointError, ``STYLE_INPUT``: what ``style`` is, and ``TRAINED``:
whether a network does the work.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Protocol, runtime_checkable

import torch

from ..errors import ArgumentError

#: ``STYLE_INPUT`` values: the style is a picture (arbitrary-style methods), or one of the styles a
#: network was trained on, named (single- and multi-style networks).
STYLE_IMAGE, TRAINED_STYLE = "image", "trained"


@runtime_checkable
class Method(Protocol):
    """What every ``stylelab.methods.<name>`` module provides.

    - ``STYLE_INPUT``: ``"image"`` (``style`` is a picture: a tensor, a path or a bundled name) or
      ``"trained"`` (``style`` names one of the network's trained styles; ``trained_styles(model)``
      lists them);
    - ``Config``: a dataclass of the paper's defaults (the trained methods' networks keep theirs as
      ``model.cfg``);
    - ``stylize``: the picture, in [0, 1], at the content's size; ``model`` defaults to the shipped
      one; the caller's model keeps its device and train/eval mode;
    - ``pretrained``: the shipped model, offline and hash-checked, or a CheckpointError that says
      how to train one.

    - ``TRAINED``: True where a trained network does the work (``pretrained``, ``build(cfg)``,
      ``loss(model, batch)``), False where each picture is optimised from scratch (Gatys).

    Optional: ``encode_style(style, model=None, *, size=None)`` (arbitrary-style networks whose
    style encoding can be cached; ``stylize`` accepts its result as ``style``) and
    ``ARENA_CONTROLS``, the controls the arena and the gallery pass to ``stylize`` (a cost a
    comparison can bear, e.g. Gatys' steps).
    """
    STYLE_INPUT: str
    TRAINED: bool
    Config: type

    def stylize(self, content, style=None, *, model=None, size: int | None = None,
                **controls) -> torch.Tensor: ...

    def pretrained(self, name: str = "default"): ...

#: Every method name, in the order the lessons introduce them.
NAMES = ("gatys", "johnson", "adain", "cin", "adjustable", "metastyle", "din", "kernels")


def get(name: str) -> ModuleType:
    """The module of method ``name`` (e.g. ``get("adain")``)."""
    if name not in NAMES:
        raise ArgumentError(f"unknown method {name!r}; choose one of {', '.join(NAMES)}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name == f"{__name__}.{name}":
            raise ArgumentError(f"method {name!r} is not implemented in this version of stylelab") from None
        raise


def available() -> list[str]:
    """Methods implemented in this version."""
    return [n for n in NAMES if importlib.util.find_spec(f"{__name__}.{n}") is not None]
