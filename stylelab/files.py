"""Files written whole or not at all, and their SHA-256.

Every file stylelab writes (pictures, cached VGG weights, checkpoints, histories, the registry)
goes through :func:`atomic_write`: the content is written to a hidden temporary file next to the
target and renamed over it, so an interrupted write never leaves a half-written file where a
good one was.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import torch


def sha256(path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` to fill a temporary file beside ``path``, then rename it to ``path``.
    If ``write`` fails, ``path`` is left as it was and the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_text(path, text: str) -> Path:
    """``path.write_text(text)``, atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def torch_save(obj, path) -> Path:
    """``torch.save(obj, path)``, atomically."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))
