"""One module per method, all of the same shape (see DESIGN.md):

``Config`` (paper defaults), an ``nn.Module`` for trained methods, ``stylize(content, style,
**controls)`` -> (1,3,H,W) in [0,1], ``loss(model, batch)`` -> dict of named terms, and
``pretrained()`` -> the shipped checkpoint or a clear CheckpointError.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import ArgumentError

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
    import importlib.util
    return [n for n in NAMES if importlib.util.find_spec(f"{__name__}.{n}") is not None]
