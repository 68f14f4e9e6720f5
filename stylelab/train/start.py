"""Where a run starts and with which settings: an exported or shipped model (``--init``), another
method's network translated, ``--set KEY=VALUE`` overrides, the learning-rate schedule."""
from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path
from typing import Sequence

from torch import nn

from .. import checkpoints
from ..errors import ArgumentError, CheckpointError

SCHEDULES = ("constant", "cosine")


def lr_factor(schedule: str, steps: int, warmup: float = 0.0):
    """The learning-rate multiplier per step (``LambdaLR``): a linear warm-up over the first
    ``warmup * steps`` steps, then 1 (constant) or a cosine from 1 down to 0.01 at the last step."""
    n_warm = int(warmup * steps)

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / n_warm
        if schedule == "constant":
            return 1.0
        t = min(1.0, (step - n_warm) / max(1, steps - n_warm - 1))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t))
    return factor


def load_start(init) -> dict:
    """The inference checkpoint a run starts from: an exported file, or a shipped model's name
    ``"method/name"`` from the registry (hash-checked)."""
    if isinstance(init, str) and not Path(init).exists() and "/" in init and not init.endswith(".pth"):
        method, _, style = init.partition("/")
        got = checkpoints.shipped(method, style)
        return {**got, "meta": {**got["meta"], "shipped_as": init}}
    return checkpoints.load_inference(init)


def start_config(mod, meta: dict):
    """The Config of a network started from another method's export: ``mod.config_from(meta)``
    where the method defines one (e.g. the adjustable network takes a Johnson network's size),
    otherwise the method's defaults."""
    return mod.config_from(meta) if hasattr(mod, "config_from") else mod.Config()


def translate(mod, name: str, model: nn.Module, start: dict) -> dict:
    """``start``'s weights in ``model``'s parameter names: another method's network goes through
    ``mod.state_from(model, meta, state)`` where the method defines one (e.g. conditional IN from
    a Johnson network); otherwise the tensors are matched by name as they are."""
    source = start["meta"].get("method")
    if source not in (None, name) and hasattr(mod, "state_from"):
        return mod.state_from(model, start["meta"], start["state"])
    return start["state"]


def load_matching(model: nn.Module, state: dict, source) -> None:
    """Copy the tensors of ``state`` whose name and shape match ``model``'s; refuse if none do."""
    own = model.state_dict()
    hits = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not hits:
        raise CheckpointError(f"--init {source}: none of its tensors fit this network; "
                              "start from an export of the same (or a compatible) method")
    own.update(hits)
    model.load_state_dict(own)
    if len(hits) < len(own):
        warnings.warn(f"--init {source}: copied {len(hits)} of {len(own)} tensors; the rest start fresh")


def config_overrides(cfg, pairs: Sequence[str]):
    """``cfg`` with ``key=value`` pairs applied (the value parsed as the field's type)."""
    if not pairs:
        return cfg
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    kw = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in fields:
            raise ArgumentError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {sorted(fields)}")
        old = getattr(cfg, key)
        try:
            kw[key] = (raw.lower() in ("1", "true", "yes")) if isinstance(old, bool) else \
                tuple(json.loads(raw)) if isinstance(old, tuple) else type(old)(raw) if old is not None else json.loads(raw)
        except (ValueError, TypeError):
            raise ArgumentError(f"--set {pair!r}: {raw!r} is not a valid {type(old).__name__}") from None
    return dataclasses.replace(cfg, **kw)
