"""Video in and out for frame-by-frame stylisation: animated GIF (imageio's pillow plugin) and MP4
(imageio-ffmpeg, which ships its own ffmpeg binary, so no system codecs are needed).

A video here is a list of frames, each a (1,3,H,W) tensor in [0,1].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import assets, images
from .errors import ImageError

GIF_SUFFIXES = {".gif"}
FFMPEG_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}


def _to_tensor(a: np.ndarray) -> torch.Tensor:
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    return images.load(a)


def read_frames(src, size: int | None = None, max_frames: int | None = None):
    """``(frames, fps)`` of ``src``: a GIF/MP4 path, a (T,3,H,W) tensor or a list of images.

    ``size`` resizes each frame (long side); ``fps`` is None when the source does not say.
    A video with no frames is an error.
    """
    fps = None
    if isinstance(src, (str, Path)):
        path = Path(src)
        if not path.is_file():
            raise ImageError(f"{path}: no such video file; pass an animated GIF or an MP4")
        suffix = path.suffix.lower()
        import imageio.v3 as iio
        try:
            if suffix in GIF_SUFFIXES:
                meta = iio.immeta(path, plugin="pillow")
                if meta.get("duration"):
                    fps = 1000.0 / float(meta["duration"])
                arrays = iio.imiter(path, plugin="pillow")
            elif suffix in FFMPEG_SUFFIXES:
                import imageio.v2 as iio2
                reader = iio2.get_reader(path, format="FFMPEG")
                fps = reader.get_meta_data().get("fps")
                arrays = iter(reader)
            else:
                raise ImageError(f"{path}: unknown video type {suffix!r}; use .gif or .mp4")
            frames = []
            for a in arrays:
                frames.append(_to_tensor(a))
                if max_frames is not None and len(frames) >= max_frames:
                    break
        except ImageError:
            raise
        except Exception as e:  # corrupt or unreadable data from the decoder
            raise ImageError(f"{path}: could not read the video ({type(e).__name__}: {e}); "
                             "re-export it as GIF or MP4") from None
    elif isinstance(src, torch.Tensor) and src.dim() == 4:
        frames = [images.load(f) for f in src.split(1)]
    elif isinstance(src, (list, tuple)):
        frames = [images.load(f) for f in src]
    else:
        raise ImageError(f"cannot read a video from a {type(src).__name__}; pass a GIF/MP4 path, "
                         "a (T,3,H,W) tensor or a list of frames")
    if max_frames is not None:
        frames = frames[:max_frames]
    if not frames:
        raise ImageError("the video has no frames; pass at least one frame")
    if size is not None:
        frames = [images.resize(f, size) for f in frames]
    shapes = {tuple(f.shape[-2:]) for f in frames}
    if len(shapes) > 1:
        raise ImageError(f"the frames differ in size ({sorted(shapes)}); resize them to one size (size=)")
    return frames, fps


def _uint8(x: torch.Tensor) -> np.ndarray:
    return np.asarray(images.to_pil(x))


def write_frames(frames, path, fps: float = 10) -> Path:
    """Write frames as an animated GIF (looping) or an MP4 (H.264), chosen by ``path``'s suffix."""
    path = Path(path)
    if not frames:
        raise ImageError("no frames to write; the video is empty")
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = [_uint8(f) for f in frames]
    if suffix in GIF_SUFFIXES:
        import imageio.v3 as iio
        iio.imwrite(path, np.stack(arrays), plugin="pillow", duration=1000.0 / fps, loop=0)
    elif suffix == ".mp4":
        import imageio.v2 as iio2
        h, w = arrays[0].shape[:2]
        arrays = [a[:h - h % 2, :w - w % 2] for a in arrays]  # H.264 in yuv420p wants even sides
        with iio2.get_writer(path, format="FFMPEG", fps=fps, codec="libx264", quality=8,
                             macro_block_size=1, pixelformat="yuv420p") as wr:
            for a in arrays:
                wr.append_data(a)
    else:
        raise ImageError(f"{path}: cannot write {suffix!r} videos; use .gif or .mp4")
    return path


def flicker(out_frames, in_frames) -> float:
    """Temporal instability of a stylisation: mean |o_{t+1} - o_t| / mean |i_{t+1} - i_t|.

    1 means the output changes from frame to frame as much as the input does; larger is more
    flicker. Needs at least two frames (NaN otherwise); frames are compared at the output size.
    """
    if len(out_frames) < 2:
        return float("nan")
    ins = [images.match_size(i, o) for i, o in zip(in_frames, out_frames)]
    d = lambda fs: float(torch.stack([(a - b).abs().mean() for a, b in zip(fs[1:], fs[:-1])]).mean())
    din = d(ins)
    return d(list(out_frames)) / max(din, 1e-8)


def pan_frames(image, n: int = 12, size: int = 128, zoom: float = 0.6) -> list:
    """A synthetic video: a square window of ``zoom`` times the short side panning across
    ``image`` (a tensor, path or bundled name) left to right, each frame ``size`` px."""
    x = assets.resolve(image)
    h, w = x.shape[-2:]
    side = int(min(h, w) * zoom)
    if n < 1:
        raise ImageError(f"n={n} frames: a video needs at least one frame")
    lefts = np.linspace(0, w - side, n).round().astype(int) if n > 1 else [0]
    top = (h - side) // 2
    return [images.resize(x[..., top:top + side, l:l + side], (size, size)) for l in lefts]
