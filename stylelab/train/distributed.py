"""Training on several processes with ``torchrun``: the process group, ranks, gradient averaging."""
from __future__ import annotations

import os

import torch
import torch.distributed
from torch import nn


def group():
    """``torch.distributed`` when this process is in a group, else None."""
    dist = torch.distributed
    return dist if dist.is_available() and dist.is_initialized() else None


def init(device) -> bool:
    """Join the process group torchrun describes (WORLD_SIZE > 1); True if this call created it."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return False
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
    dist.init_process_group(backend)
    return True


def rank() -> int:
    d = group()
    return d.get_rank() if d else 0


def world_size() -> int:
    d = group()
    return d.get_world_size() if d else 1


def sync_gradients(params) -> None:
    """Average the gradients of ``params`` over all processes (no-op outside ``torchrun``).

    The default step gets this from DistributedDataParallel; a method's own ``train_step`` calls it
    between ``backward()`` and ``optimizer.step()``."""
    d = group()
    if not d:
        return
    n = d.get_world_size()
    for p in params:
        if p.grad is not None:
            d.all_reduce(p.grad)
            p.grad.div_(n)


class LossModule(nn.Module):
    """Wraps ``method.loss(model, batch)`` as a module's forward, so DistributedDataParallel can
    see the call (and average gradients) whatever the method does inside its loss."""

    def __init__(self, method, model: nn.Module):
        super().__init__()
        self.model = model
        self._loss = method.loss

    def forward(self, batch: dict) -> dict:
        return self._loss(self.model, batch)
