"""Training images and batches: folders of photos and styles, random crops, a fixed evaluation batch."""
from __future__ import annotations

import math
import random
import warnings
from pathlib import Path
from typing import Sequence

import torch
from torchvision.transforms.v2 import functional as TF

from . import assets, images
from .errors import ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


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
    """Endless random batches of content crops and style images.

    Content: a random resized crop (area 50-100 %, aspect 4:5 to 5:4) resized to ``size``;
    style: a random ``size`` crop. All randomness comes from ``self.rng`` (seeded, and saved in
    checkpoints through ``state()`` / ``set_state()``), none from torch's global generator.
    """

    def __init__(self, content: Sequence[torch.Tensor], styles: Sequence[torch.Tensor], size: int,
                 batch_size: int, seed: int = 0, scale=(0.5, 1.0), ratio=(0.8, 1.25)):
        self.content, self.styles, self.size, self.batch_size = list(content), list(styles), size, batch_size
        self.scale, self.ratio = scale, ratio
        self.rng = random.Random(seed)

    def __iter__(self):
        return self

    def _resized_crop(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        for _ in range(10):
            area = h * w * self.rng.uniform(*self.scale)
            aspect = math.exp(self.rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
            cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if 0 < cw <= w and 0 < ch <= h:
                top, left = self.rng.randint(0, h - ch), self.rng.randint(0, w - cw)
                break
        else:
            ch = cw = min(h, w)
            top, left = (h - ch) // 2, (w - cw) // 2
        return TF.resized_crop(x, top, left, ch, cw, [self.size, self.size], antialias=True).clamp(0, 1)

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        top, left = self.rng.randint(0, h - self.size), self.rng.randint(0, w - self.size)
        return x[..., top:top + self.size, left:left + self.size]

    def __next__(self) -> dict:
        c = [self._resized_crop(self.content[self.rng.randrange(len(self.content))][0])
             for _ in range(self.batch_size)]
        idx = [self.rng.randrange(len(self.styles)) for _ in range(self.batch_size)]
        s = [self._crop(self.styles[i][0]) for i in idx]
        return {"content": torch.stack(c), "style": torch.stack(s), "style_index": torch.tensor(idx)}

    def state(self):
        return to_lists(self.rng.getstate())

    def set_state(self, state) -> None:
        self.rng.setstate(to_tuples(state))


def eval_batch(content: Sequence[torch.Tensor], styles: Sequence[torch.Tensor], size: int) -> dict:
    """A fixed batch for evaluation: centre crops of every image, style ``i % n_styles`` for row i."""
    c = torch.cat([images.center_crop(x, size) for x in content])
    idx = [i % len(styles) for i in range(len(content))]
    s = torch.cat([images.center_crop(styles[i], size) for i in idx])
    return {"content": c, "style": s, "style_index": torch.tensor(idx)}


def to_lists(x):
    return [to_lists(v) for v in x] if isinstance(x, (tuple, list)) else x


def to_tuples(x):
    return tuple(to_tuples(v) for v in x) if isinstance(x, (tuple, list)) else x
