"""Trained models: the registry, fp16 inference files with their SHA-256, ``pretrained``, ``register``.

This folder holds the shipped models (``<method>_<name>.pth``) and ``registry.json``, which lists
each with its SHA-256, size and how it was trained. An inference file is
``{"state": state_dict (floats in fp16), "meta": {"method", "config", ...}}``; it loads with
``torch.load(weights_only=True)``. A missing or altered file is a CheckpointError, never a silently
random network.

Functions that build a network take the method's *module* (``stylelab.methods.adain``), so this
module needs nothing above the images layer; ``stylelab.train`` and the command line resolve a
method's name first.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from .. import config as _config
from ..errors import CheckpointError
from ..files import atomic_write, sha256, torch_save, write_text

CHECKPOINT_DIR = Path(__file__).resolve().parent
REGISTRY = CHECKPOINT_DIR / "registry.json"

__all__ = ["CHECKPOINT_DIR", "REGISTRY", "registry", "save_inference", "load_inference", "shipped",
           "config_dict", "make_config", "model_from_checkpoint", "export", "load_model", "pretrained", "register",
           "method_name"]


def registry() -> dict:
    """The shipped checkpoints: ``{"<method>/<name>": {"file", "sha256", "bytes", "command", ...}}``."""
    return json.loads(REGISTRY.read_text()) if REGISTRY.is_file() else {}


# ---------------------------------------------------------------- files

def save_inference(state: dict, path, meta: dict | None = None) -> str:
    """Write a small inference checkpoint (floating tensors as fp16) atomically; returns its SHA-256.

    The file holds ``{"state": state_dict, "meta": meta}`` (meta: method name, config, ...). A
    tensor with a value fp16 cannot hold (beyond +-65504, e.g. the adjustable network's moving
    averages of raw VGG losses) is kept in fp32 rather than turned into infinities.
    """
    half = {k: _small(v.detach().cpu()) for k, v in state.items()}
    torch_save({"state": half, "meta": dict(meta or {})}, path)
    return sha256(path)


def _small(t: torch.Tensor) -> torch.Tensor:
    """``t`` as fp16 where fp16 holds every value, else as fp32 (non-float tensors as they are)."""
    if not t.is_floating_point():
        return t
    if t.numel() and float(t.abs().max()) > torch.finfo(torch.float16).max:
        return t.float()
    return t.half()


def load_inference(path, sha: str | None = None) -> dict:
    """Load an inference checkpoint written by ``save_inference`` (fp16 -> fp32), checking ``sha``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint; train one with `python -m stylelab train ...`")
    if sha is not None:
        got = sha256(path)
        if got != sha:
            raise CheckpointError(f"{path}: SHA-256 {got[:12]}... does not match the registry "
                                  f"({sha[:12]}...); the file is altered or corrupt, restore it with git checkout")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: (v.float() if v.is_floating_point() else v) for k, v in ckpt["state"].items()}
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable stylelab checkpoint ({type(e).__name__}); "
                              "re-export it with the trainer") from None
    return {"state": state, "meta": ckpt.get("meta", {})}


def shipped(method: str, name: str = "default") -> dict:
    """The shipped checkpoint ``method/name`` from the registry, read and hash-checked, offline."""
    key = f"{method}/{name}"
    reg = registry()
    entry = reg.get(key)
    if entry is None:
        there = sorted(k for k in reg if k.startswith(method + "/"))
        hint = f" (shipped for {method}: {there})" if there else ""
        raise CheckpointError(f"no pretrained {key} checkpoint ships with stylelab{hint}; train one with "
                              f"`python -m stylelab train {method} --content-dir DIR --style S --out ckpt/` "
                              f"and pass the model you trained")
    return load_inference(CHECKPOINT_DIR / entry["file"], entry["sha256"])


# ---------------------------------------------------------------- configs and networks

def method_name(mod: ModuleType) -> str:
    """``"adain"`` for ``stylelab.methods.adain``."""
    return getattr(mod, "__name__", "method").rsplit(".", 1)[-1]


def config_dict(cfg) -> dict:
    """A dataclass config as a plain dict of JSON-able values (others are dropped)."""
    if cfg is None or not dataclasses.is_dataclass(cfg):
        return {}
    out = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        try:
            json.dumps(v)
        except TypeError:
            continue
        out[f.name] = v
    return out


def _to_tuples(x):
    return tuple(_to_tuples(v) for v in x) if isinstance(x, list) else x


def make_config(mod: ModuleType, d: dict):
    """``mod.Config(**d)`` keeping only the fields Config has (lists back to tuples where the
    default is a tuple); None for a method without a Config."""
    if not hasattr(mod, "Config"):
        return None
    fields = {f.name for f in dataclasses.fields(mod.Config)}
    default = mod.Config()
    kw = {}
    for k, v in (d or {}).items():
        if k in fields:
            if isinstance(v, list) and isinstance(getattr(default, k), tuple):
                v = _to_tuples(v)
            kw[k] = v
    return mod.Config(**kw)


def model_from_checkpoint(mod: ModuleType, ckpt: dict, source: str = "the checkpoint") -> nn.Module:
    """``mod.build(Config(**meta["config"]))`` + ``load_state_dict(ckpt["state"])``, in eval mode,
    for an inference checkpoint already read (``load_inference``). ``source`` names the checkpoint
    in the one-line CheckpointError raised when it is not ``mod``'s or does not fit."""
    name = method_name(mod)
    meta = ckpt.get("meta", {})
    if meta.get("method") not in (None, name):
        raise CheckpointError(f"{source}: holds a {meta['method']!r} model, not {name!r}; "
                              f"load it with load_model({meta['method']!r}, ...)")
    try:
        model = mod.build(make_config(mod, meta.get("config", {})))
        model.load_state_dict(ckpt["state"])
    except (TypeError, RuntimeError) as e:
        raise CheckpointError(f"{source}: its weights do not fit {name}'s network ({str(e).splitlines()[0]}); "
                              "was it exported by a different version or config?") from None
    return model.eval()


def export(mod: ModuleType, model: nn.Module, path, meta: dict | None = None) -> str:
    """Write ``model`` (of method ``mod``) as an fp16 inference file that ``load_model`` reads
    back: its weights and ``{"method", "config": model.cfg}`` plus ``meta``; returns its SHA-256."""
    return save_inference(model.state_dict(), path,
                          {"method": method_name(mod), "config": config_dict(getattr(model, "cfg", None)),
                           **(meta or {})})


def load_model(mod: ModuleType, path, sha: str | None = None, device=None) -> nn.Module:
    """``mod``'s network from an exported inference file (``<method>.pth``), in eval mode."""
    model = model_from_checkpoint(mod, load_inference(path, sha), str(path))
    return model.to(_config.device(device))


def pretrained(mod: ModuleType, name: str = "default") -> nn.Module:
    """The model ``<method>/name`` shipped in this folder (offline, hash-checked), or a
    CheckpointError that says how to train one."""
    mname = method_name(mod)
    return model_from_checkpoint(mod, shipped(mname, name), f"{mname}/{name}")


def register(mod: ModuleType, exported, name: str = "default", note: str = "", directory: Path | None = None,
             extra: dict | None = None) -> dict:
    """Ship an exported inference checkpoint (``<out>/<method>.pth`` from the trainer): copy it to
    ``<directory>/<method>_<name>.pth`` (default: this folder) and list it in ``registry.json``
    with its SHA-256, size, and the training facts its meta holds (steps, size, batch, final
    losses, the commands of the whole chain of runs, CPU-hours); ``extra`` adds facts the export
    cannot know (data, validation split and figures).
    The file must load into ``mod``'s network, as ``pretrained()`` will load it. Both files are
    written to a temporary name and renamed. Returns the registry entry."""
    directory = Path(directory) if directory is not None else CHECKPOINT_DIR
    ckpt = load_inference(exported)                 # refuses a file that is not a stylelab checkpoint
    model_from_checkpoint(mod, ckpt, str(exported))  # another method's, or a misfit: refused
    method, meta = method_name(mod), ckpt["meta"]
    target = atomic_write(directory / f"{method}_{name}.pth", lambda tmp: shutil.copyfile(exported, tmp))
    entry = {"file": target.name, "sha256": sha256(target), "bytes": target.stat().st_size,
             **{k: meta[k] for k in ("steps", "size", "batch_size", "final_losses", "command", "commands",
                                     "steps_total", "cpu_hours", "cpu_hours_total", "schedule", "lr") if k in meta},
             **(extra or {})}
    if note:
        entry["note"] = note
    reg_path = directory / REGISTRY.name
    reg = json.loads(reg_path.read_text()) if reg_path.is_file() else {}
    reg[f"{method}/{name}"] = entry
    write_text(reg_path, json.dumps(reg, indent=2, sort_keys=True) + "\n")
    return entry
