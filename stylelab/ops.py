"""Small operations the methods share."""
from __future__ import annotations

import contextlib

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
