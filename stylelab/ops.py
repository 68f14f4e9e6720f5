"""Small operations the methods share."""
from __future__ import annotations

import contextlib
import functools

import torch
from torch import nn


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Run ``model`` in eval mode inside the block and give it back in the mode it had, so a
    method's ``stylize`` never changes the caller's model."""
    was = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was)


def with_grad(fn):
    """``fn`` with autograd on, even when its caller runs under ``torch.no_grad()`` or
    ``torch.inference_mode()`` (a benchmark's timer, a notebook cell): for the methods that
    optimise a picture or adapt a network while they stylise. Tensor arguments made in inference
    mode are cloned into ordinary tensors first, so autograd may save them."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with torch.inference_mode(False), torch.enable_grad():
            plain = lambda v: v.clone() if isinstance(v, torch.Tensor) and v.is_inference() else v
            return fn(*map(plain, args), **{k: plain(v) for k, v in kwargs.items()})
    return run
