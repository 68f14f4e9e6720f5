"""One trainer for every trained method.

A method module provides ``Config`` (with ``lr`` and ``batch_size``), ``build(config) -> nn.Module``
and ``loss(model, batch) -> {name: scalar}``; the trainer feeds batches, sums the named terms,
steps Adam and logs. ``batch`` is a dict:

    {"content": (B,3,S,S) in [0,1], "style": (B,3,S,S) in [0,1], "style_index": LongTensor (B,)}

``style_index`` says which of the training styles each row's style image is (multi-style methods
use it). A method may also define ``train_step(model, batch, optimizer, step) -> {name: float}``
to replace the default step (MetaStyle's bilevel update does).
"""
from __future__ import annotations

import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
import torch.nn as nn
from torchvision.transforms import v2 as T

from . import assets, config as _config, images
from .errors import ArgumentError, ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


# ---------------------------------------------------------------- data

def image_files(folder) -> list[Path]:
    """Image files in ``folder`` (recursively), sorted; raises if none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder; pass a folder of images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ImageError(f"{folder}: holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); add some")
    return files


def load_images(srcs, size: int, what: str) -> list[torch.Tensor]:
    """Load many images (paths, folders, asset names or tensors) with short side >= ``size``.

    Unreadable files are skipped with one warning that counts them; none readable is an error.
    """
    if isinstance(srcs, (str, Path)) and Path(srcs).is_dir():
        srcs = image_files(srcs)
    elif isinstance(srcs, (str, Path, torch.Tensor)):
        srcs = [srcs]
    out, bad = [], []
    for s in srcs:
        try:
            x = assets.resolve(s)
        except ImageError as e:
            bad.append(str(e))
            continue
        for im in x.split(1):
            h, w = im.shape[-2:]
            if min(h, w) != size:  # short side to `size`, so random crops of `size` fit
                im = images.resize(im, (max(size, round(h * size / min(h, w))), max(size, round(w * size / min(h, w)))))
            out.append(im)
    if bad:
        warnings.warn(f"skipped {len(bad)} unreadable {what} image(s); first: {bad[0]}")
    if not out:
        raise ImageError(f"no readable {what} images among {len(bad)} given; check the folder")
    return out


class Batches:
    """Endless random batches of content crops and style images."""

    def __init__(self, content: Sequence[torch.Tensor], styles: Sequence[torch.Tensor], size: int,
                 batch_size: int, seed: int = 0):
        self.content, self.styles, self.size, self.batch_size = list(content), list(styles), size, batch_size
        self.crop = T.RandomResizedCrop(size, scale=(0.5, 1.0), ratio=(0.8, 1.25), antialias=True)
        self.style_crop = T.RandomCrop(size)
        self.rng = random.Random(seed)

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        c = [self.crop(self.content[self.rng.randrange(len(self.content))][0]) for _ in range(self.batch_size)]
        idx = [self.rng.randrange(len(self.styles)) for _ in range(self.batch_size)]
        s = [self.style_crop(self.styles[i][0]) for i in idx]
        return {"content": torch.stack(c), "style": torch.stack(s), "style_index": torch.tensor(idx)}


# ---------------------------------------------------------------- training

@dataclass
class Result:
    model: nn.Module
    history: list = field(default_factory=list)  # one dict of named losses per step

    def curve(self, name: str = "total") -> list[float]:
        return [h[name] for h in self.history]


def _seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def train(method, content, style, *, size: int = 256, steps: int = 1000, batch_size: int | None = None,
          lr: float | None = None, seed: int = 0, model: nn.Module | None = None, cfg=None,
          params=None, clip: float = 10.0, device=None, progress: bool = True) -> Result:
    """Train ``method`` (a name or module) on ``content`` (folder, list of files/asset names/tensors)
    and ``style`` (a file, folder, asset name, tensor or list); returns the model and loss history.

    ``params`` restricts training to these parameters (e.g. only a new style's gamma/beta)."""
    from . import methods
    mod = methods.get(method) if isinstance(method, str) else method
    cfg = cfg if cfg is not None else mod.Config()
    batch_size = batch_size or getattr(cfg, "batch_size", 4)
    if steps < 1:
        raise ArgumentError(f"steps={steps} must be at least 1")
    dev = _config.device(device)
    _seed(seed)
    model = (model if model is not None else mod.build(cfg)).to(dev)
    data = Batches(load_images(content, size, "content"), load_images(style, size, "style"), size,
                   batch_size, seed)
    if params is not None:
        params = list(params)
    elif hasattr(mod, "trainable_parameters"):
        params = list(mod.trainable_parameters(model))
    else:
        params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr or getattr(cfg, "lr", 1e-3))
    from tqdm.auto import tqdm
    bar = tqdm(range(steps), desc=f"train {getattr(mod, '__name__', 'model').rsplit('.', 1)[-1]}",
               disable=not progress, leave=False)
    history = []
    model.train()
    for step in bar:
        batch = {k: v.to(dev) for k, v in next(data).items()}
        if hasattr(mod, "train_step"):
            logs = mod.train_step(model, batch, opt, step)
        else:
            terms = mod.loss(model, batch)
            total = sum(terms.values())
            if not torch.isfinite(total):
                raise ArgumentError(f"the loss became {float(total)} at step {step}; lower the learning rate")
            opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            logs = {k: float(v) for k, v in terms.items()}
            logs["total"] = float(total)
        history.append(logs)
        bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items()})
    model.eval()
    return Result(model, history)
