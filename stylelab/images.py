"""Load, save, resize, grid and show images; every bad input ends here as an ImageError.

Convention: an image is a float tensor of shape (1, 3, H, W) (or a batch (B, 3, H, W)) holding
RGB values in [0, 1].
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from . import config
from .errors import ImageError
from .files import atomic_write

ImageLike = "str | os.PathLike | Image.Image | np.ndarray | torch.Tensor"


# ---------------------------------------------------------------- loading

def load(src, size: int | None = None) -> torch.Tensor:
    """Return ``src`` as a (1,3,H,W) (or (B,3,H,W) for a batch tensor) RGB tensor in [0, 1].

    ``src`` may be a file path, a PIL image, a numpy array (H,W), (H,W,C) uint8/uint16/float,
    or a tensor (3,H,W), (1,3,H,W), (B,3,H,W) already in [0, 1]. ``size`` resizes so that the
    long side has that many pixels, keeping the aspect ratio.
    """
    if isinstance(src, torch.Tensor):
        x = _check_tensor(src)
    elif isinstance(src, np.ndarray):
        x = _from_array(src, "the array")
    elif isinstance(src, Image.Image):
        x = _from_pil(src, "the PIL image")
    elif isinstance(src, (str, os.PathLike)):
        x = _from_path(Path(src))
    else:
        raise ImageError(f"cannot load an image from a {type(src).__name__}; "
                         "pass a file path, a PIL image, a numpy array or a tensor")
    if size is not None:
        x = resize(x, size)
    check_size(x, getattr(src, "name", None) if not isinstance(src, (str, os.PathLike)) else str(src))
    return x


def _from_path(path: Path) -> torch.Tensor:
    if not path.exists():
        raise ImageError(f"{path}: no such file; check the path (assets are listed by stylelab.assets.names())")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image; pass one image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty (0 bytes); re-download or re-export the image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            w, h = img.size
            _check_pixels(w, h, str(path))
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{path}: too many pixels to decode safely; shrink it or raise "
                         "stylelab.config.MAX_PIXELS") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file PIL can read; use a JPEG or PNG") from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data
        raise ImageError(f"{path}: the image data is damaged ({e}); re-export or re-download it") from None
    return _from_pil(img, str(path))


def _check_pixels(w: int, h: int, name: str) -> None:
    if w * h > config.MAX_PIXELS:
        raise ImageError(f"{name}: {w}x{h} = {w * h:,} pixels is over the limit of "
                         f"{config.MAX_PIXELS:,}; shrink the image or raise stylelab.config.MAX_PIXELS")


def _from_pil(img: Image.Image, name: str) -> torch.Tensor:
    _check_pixels(*img.size, name)
    if img.size[0] == 0 or img.size[1] == 0:
        raise ImageError(f"{name}: the image has zero size {img.size}; use a real picture")
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if a.max(initial=0) > 255 or img.mode.startswith("I;16") else 255.0
        return _from_array((a / peak).astype(np.float32), name)
    if img.mode == "F":
        return _from_array(np.asarray(img, dtype=np.float32), name)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    img = img.convert("RGB")
    a = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(a.copy()).permute(2, 0, 1).float().div_(255.0).unsqueeze(0)


def _from_array(a: np.ndarray, name: str) -> torch.Tensor:
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ImageError(f"{name}: shape {a.shape} is not an image; use (H,W), (H,W,3) or (H,W,4)")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ImageError(f"{name}: the image has zero size {a.shape[:2]}; use a real picture")
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        f = a.astype(np.float32) / 65535.0
    elif a.dtype == np.bool_:
        f = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.floating):
        f = a.astype(np.float32)
    else:
        raise ImageError(f"{name}: dtype {a.dtype} is not supported; use uint8, uint16 or float in [0,1]")
    if f.shape[2] == 4:  # composite onto white
        rgb, alpha = f[:, :, :3], f[:, :, 3:]
        f = rgb * alpha + (1.0 - alpha)
    elif f.shape[2] == 1:
        f = np.repeat(f, 3, axis=2)
    x = torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1).unsqueeze(0)
    return _check_tensor(x, name)


def _check_tensor(x: torch.Tensor, name: str = "the tensor") -> torch.Tensor:
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] != 3:
        raise ImageError(f"{name}: shape {tuple(x.shape)} is not an RGB image; "
                         "use (3,H,W), (1,3,H,W) or (B,3,H,W)")
    if not x.is_floating_point():
        raise ImageError(f"{name}: dtype {x.dtype} is not floating point; divide uint8 images by 255")
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ImageError(f"{name}: the image has zero size {tuple(x.shape[2:])}; use a real picture")
    if not torch.isfinite(x).all():
        raise ImageError(f"{name}: contains NaN or infinite values; check what produced it")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise ImageError(f"{name}: values span [{lo:.3g}, {hi:.3g}] but images live in [0, 1]; "
                         "divide 0-255 data by 255 or clamp")
    return x.float().clamp(0.0, 1.0)


def check_size(x: torch.Tensor, name: str | None = None, min_side: int | None = None) -> None:
    """Raise if ``x`` is too small for the VGG encoder (``config.MIN_SIDE`` pixels a side)."""
    min_side = config.MIN_SIDE if min_side is None else min_side
    h, w = x.shape[-2:]
    if min(h, w) < min_side:
        raise ImageError(f"{name or 'the image'}: {w}x{h} px is smaller than the encoder can handle "
                         f"({min_side} px a side); use a larger image or a larger size=")


# ---------------------------------------------------------------- geometry

def resize(x: torch.Tensor, size: int | Sequence[int]) -> torch.Tensor:
    """Resize so that the long side is ``size`` (aspect kept), or to ``(H, W)`` exactly."""
    h, w = x.shape[-2:]
    if isinstance(size, (tuple, list)):
        new_h, new_w = int(size[0]), int(size[1])
    else:
        if int(size) <= 0:
            raise ImageError(f"size={size} must be a positive number of pixels")
        scale = int(size) / max(h, w)
        new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    if (new_h, new_w) == (h, w):
        return x
    antialias = new_h < h or new_w < w
    y = F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=antialias)
    return y.clamp(0.0, 1.0)


def center_crop(x: torch.Tensor, size: int | Sequence[int]) -> torch.Tensor:
    """Crop the centre ``(H, W)`` (or a square) out of ``x``."""
    th, tw = (size, size) if isinstance(size, int) else size
    h, w = x.shape[-2:]
    top, left = max(0, (h - th) // 2), max(0, (w - tw) // 2)
    return x[..., top:top + th, left:left + tw]


def pad_to_multiple(x: torch.Tensor, multiple: int, mode: str = "reflect") -> tuple[torch.Tensor, tuple[int, int]]:
    """``x`` padded on the bottom and right to sides that are multiples of ``multiple`` (a network's
    stride), and its own ``(H, W)`` for ``crop_to``. Reflection padding adds no hard edge."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        if mode == "reflect" and (ph >= h or pw >= w):
            mode = "replicate"   # reflection needs more pixels than it adds
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The top-left ``(H, W)`` of ``x``: undoes ``pad_to_multiple``."""
    return x[..., :size[0], :size[1]]


def match_size(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Resize ``x`` to the spatial size of ``like``."""
    return resize(x, tuple(like.shape[-2:]))


# ---------------------------------------------------------------- output

def to_pil(x: torch.Tensor) -> Image.Image:
    """The first image of ``x`` as an 8-bit PIL image."""
    x = _check_tensor(x.detach().cpu())
    a = (x[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
    return Image.fromarray(a)


def save(x: torch.Tensor, path) -> Path:
    """Save the first image of ``x`` (format from the suffix); writes atomically."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    picture = to_pil(x)
    return atomic_write(path, lambda tmp: picture.save(tmp, format=fmt))


def grid(images: Iterable[torch.Tensor], ncols: int | None = None, height: int = 256,
         pad: int = 4, fill: float = 1.0) -> torch.Tensor:
    """Tile images (each resized to ``height`` px tall) into one (1,3,H,W) picture."""
    tiles = [resize(load(im), (height, max(1, round(im.shape[-1] * height / im.shape[-2]))))
             for im in images]
    if not tiles:
        raise ImageError("grid() got no images; pass at least one")
    ncols = ncols or len(tiles)
    nrows = -(-len(tiles) // ncols)
    widths = [max(t.shape[-1] for t in tiles[c::ncols]) for c in range(ncols)]
    H = nrows * height + (nrows + 1) * pad
    W = sum(widths) + (ncols + 1) * pad
    canvas = torch.full((1, 3, H, W), fill)
    for i, t in enumerate(tiles):
        r, c = divmod(i, ncols)
        top = pad + r * (height + pad)
        left = pad + sum(widths[:c]) + c * pad
        canvas[..., top:top + height, left:left + t.shape[-1]] = t
    return canvas


def show(images, titles: Sequence[str] | None = None, ncols: int | None = None,
         size: float = 3.2, suptitle: str | None = None):
    """Show one image or a list side by side in a notebook; returns the matplotlib figure."""
    import matplotlib.pyplot as plt   # lazily: the bottom layer should not pull in matplotlib for everyone

    if isinstance(images, torch.Tensor) and images.dim() == 4 and images.shape[0] > 1:
        images = list(images.unsqueeze(1))
    if not isinstance(images, (list, tuple)):
        images = [images]
    images = [load(im) for im in images]
    n = len(images)
    ncols = ncols or n
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, im in enumerate(images):
        ax = axes.flat[i]
        ax.imshow(im[0].permute(1, 2, 0).detach().cpu().numpy())
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def luminance(x: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B, shape (B,1,H,W)."""
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)
