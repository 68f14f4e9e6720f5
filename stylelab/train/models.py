"""Trained models by method name: the trainer's and the command line's way into ``checkpoints``."""
from __future__ import annotations

from torch import nn

from .. import checkpoints, methods


def method_and_name(method):
    """``(module, short name)`` of a method given by name ("adain") or as its module."""
    mod = methods.get(method) if isinstance(method, str) else method
    return mod, checkpoints.method_name(mod)


def model_from_checkpoint(method, ckpt: dict, source: str = "the checkpoint") -> nn.Module:
    """``checkpoints.model_from_checkpoint`` for a method given by name or module."""
    return checkpoints.model_from_checkpoint(method_and_name(method)[0], ckpt, source)


def load_model(method, path, sha: str | None = None, device=None) -> nn.Module:
    """Build ``method``'s model (a name or a module) from an exported inference checkpoint
    (``<method>.pth``) and load its weights, in eval mode (``checkpoints.load_model``)."""
    return checkpoints.load_model(method_and_name(method)[0], path, sha, device)


def pretrained(method, name: str = "default") -> nn.Module:
    """The checkpoint ``method/name`` shipped with stylelab (``checkpoints.pretrained``), for a
    method given by name or module."""
    return checkpoints.pretrained(method_and_name(method)[0], name)
