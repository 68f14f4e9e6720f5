"""A run's state on disk: ``checkpoint.pt`` (to resume exactly), the loss history, the RNG states."""
from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import torch

from .. import files
from ..data import Batches, to_lists, to_tuples
from ..errors import CheckpointError

CHECKPOINT = "checkpoint.pt"


def write_history(history: list[dict], out, name: str = "history") -> None:
    """Write ``history`` (one dict of named losses per step) as ``<name>.csv`` and ``<name>.json``."""
    out = Path(out)
    keys = []
    for h in history:
        keys += [k for k in h if k not in keys]
    rows = [{"step": h.get("step", i + 1), **{k: h[k] for k in keys if k != "step" and k in h}}
            for i, h in enumerate(history)]
    cols = ["step"] + [k for k in keys if k != "step"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
    files.write_text(out / f"{name}.csv", buf.getvalue())
    files.write_text(out / f"{name}.json", json.dumps(rows, indent=1))


def rng_state(batches: Batches) -> dict:
    st = {"torch": torch.get_rng_state(), "python": to_lists(random.getstate()), "batches": batches.state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: dict, batches: Batches) -> None:
    torch.set_rng_state(st["torch"])
    random.setstate(to_tuples(st["python"]))
    batches.set_state(st["batches"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def load_checkpoint(path) -> dict:
    """Read a training checkpoint (``checkpoint.pt``) written by ``train(out=...)``."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"{path}: no training checkpoint to resume from; run without --resume "
                              "first (with the same --out)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable training checkpoint ({type(e).__name__}); "
                              "delete it and train again") from None
