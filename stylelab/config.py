"""Sizes, steps and devices in one place.

``STYLELAB_QUICK=1`` (set by ``make test``) switches every notebook to tiny sizes and few steps;
nothing else in the project reads the environment for that. ``pick(full, quick)`` is how a
notebook or a library default asks for "the real value, or the quick one".
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .errors import ArgumentError

QUICK: bool = os.environ.get("STYLELAB_QUICK", "").strip().lower() not in ("", "0", "false", "no")

#: Where converted encoder weights are cached.
HOME: Path = Path(os.environ.get("STYLELAB_HOME", Path.home() / ".cache" / "stylelab")).expanduser()

#: Images with more pixels than this are refused before decoding (a decompression-bomb guard).
MAX_PIXELS: int = 64_000_000

#: Smallest side the VGG encoder can take through all of its five pooling stages.
MIN_SIDE: int = 32


def pick(full, quick):
    """``full`` normally, ``quick`` under STYLELAB_QUICK=1."""
    return quick if QUICK else full


#: Default working size (long side, pixels) of notebook experiments.
SIZE: int = pick(256, 64)
#: Default optimisation steps of a Gatys run in the notebooks.
STEPS: int = pick(300, 12)
#: Default training steps of a live training cell in the notebooks.
TRAIN_STEPS: int = pick(400, 6)


def device(name: str | None = None) -> torch.device:
    """The device to compute on: ``name`` if given, else CUDA when present, else CPU."""
    if name is not None:
        if str(name).startswith("cuda") and not torch.cuda.is_available():
            raise ArgumentError(f"device {name!r} asked for but no CUDA GPU is visible; use --device cpu")
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
