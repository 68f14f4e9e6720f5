"""Training: one loop for every trained method, with its pieces in their own modules.

- ``loop``: ``train()`` and its ``Result`` (the step, the optimiser, the method's loss);
- ``callbacks``: checkpoints, evaluation, the progress bar, the time budget (what the loop does
  around each step);
- ``data``: folders of images, random crops, the evaluation batch;
- ``state``: ``checkpoint.pt``, the loss history, RNG states (exact resume);
- ``start``: warm starts (``--init``), another method's weights, ``--set`` overrides, schedules;
- ``distributed``: ``torchrun`` process groups and gradient averaging;
- ``models``: trained models by method name (``load_model``, ``pretrained``).

Its command line is ``stylelab.cli.train`` (``python -m stylelab train ...``).
"""
from __future__ import annotations

from ..data import IMAGE_SUFFIXES, Batches, eval_batch, image_files, load_images
from .callbacks import Callback
from .distributed import rank, sync_gradients, world_size
from .loop import Result, Stop, train
from .models import load_model, method_and_name, model_from_checkpoint, pretrained
from .start import SCHEDULES, config_overrides, load_matching, load_start, lr_factor, start_config
from .state import CHECKPOINT, load_checkpoint, write_history

__all__ = ["CHECKPOINT", "IMAGE_SUFFIXES", "SCHEDULES", "Batches", "Callback", "Result", "Stop",
           "config_overrides", "eval_batch", "image_files", "load_checkpoint", "load_images", "load_matching",
           "load_model", "load_start", "lr_factor", "method_and_name", "model_from_checkpoint", "pretrained",
           "rank", "start_config", "sync_gradients", "train", "world_size", "write_history"]
