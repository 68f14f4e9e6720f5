"""One trainer for every trained method.

A method module provides ``Config`` (with ``lr`` and ``batch_size``), ``build(config) -> nn.Module``
and ``loss(model, batch) -> {name: scalar}``; the trainer feeds batches, sums the named terms,
steps Adam and logs. ``batch`` is a dict:

    {"content": (B,3,S,S) in [0,1], "style": (B,3,S,S) in [0,1], "style_index": LongTensor (B,)}

``style_index`` says which of the training styles each row's style image is (multi-style methods
use it). A method may also define ``train_step(model, batch, optimizer, step) -> {name: float}``
to replace the default step (MetaStyle's bilevel update does; under ``torchrun`` it should call
``stylelab.train.sync_gradients(params)`` between backward and ``optimizer.step()``), and
``trainable_parameters(model)`` to choose what Adam updates.

What the loop does, step by step:

    batch  <- random resized crops of content images, random crops of style images
    terms  <- method.loss(model, batch)            (under autocast on a GPU)
    total  <- sum(terms)
    theta  <- Adam(theta, clip(grad total))        (GradScaler on a GPU; DDP averages grads)

With ``out=`` it also writes, into that folder:

- ``checkpoint.pt`` every ``ckpt_every`` steps (model, optimiser, scaler, RNG states, history),
  written to a temporary file and renamed, so a crash never leaves half a checkpoint;
- ``history.csv`` / ``history.json`` (one row of named losses per step; ``eval.*`` if evaluating);
- ``<method>.pth``: the final model as a small fp16 inference checkpoint, and its SHA-256.

``resume=True`` continues from ``checkpoint.pt`` exactly: the same steps give the same losses
as one uninterrupted run. Ctrl-C (or SIGTERM from the command line) saves a checkpoint of the
last finished step before stopping, so at most one step of work (and never more than one
interval, even on SIGKILL) is lost.

Command line::

    python -m stylelab train johnson --content-dir photos/ --style starry_night --size 256 \\
        --steps 2000 --out ckpt/        # later: the same command with --resume
    torchrun --nproc_per_node 2 -m stylelab train johnson ...   # DistributedDataParallel
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
import torch.nn as nn
from torchvision.transforms.v2 import functional as TF

from . import assets, checkpoints, config as _config, files, images, methods
from .errors import ArgumentError, CheckpointError, ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
CHECKPOINT = "checkpoint.pt"


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
        return _to_lists(self.rng.getstate())

    def set_state(self, state) -> None:
        self.rng.setstate(_to_tuples(state))


def eval_batch(content: Sequence[torch.Tensor], styles: Sequence[torch.Tensor], size: int) -> dict:
    """A fixed batch for evaluation: centre crops of every image, style ``i % n_styles`` for row i."""
    c = torch.cat([images.center_crop(x, size) for x in content])
    idx = [i % len(styles) for i in range(len(content))]
    s = torch.cat([images.center_crop(styles[i], size) for i in idx])
    return {"content": c, "style": s, "style_index": torch.tensor(idx)}


def _to_lists(x):
    return [_to_lists(v) for v in x] if isinstance(x, (tuple, list)) else x


def _to_tuples(x):
    return tuple(_to_tuples(v) for v in x) if isinstance(x, (tuple, list)) else x


# ---------------------------------------------------------------- distributed (torchrun)

def _dist():
    import torch.distributed as dist
    return dist if dist.is_available() and dist.is_initialized() else None


def _init_distributed(device) -> bool:
    """Join the process group torchrun describes (WORLD_SIZE > 1); True if this call created it."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        return False
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
    dist.init_process_group(backend)
    return True


def rank() -> int:
    d = _dist()
    return d.get_rank() if d else 0


def world_size() -> int:
    d = _dist()
    return d.get_world_size() if d else 1


def sync_gradients(params) -> None:
    """Average the gradients of ``params`` over all processes (no-op outside ``torchrun``).

    The default step gets this from DistributedDataParallel; a method's own ``train_step`` calls it
    between ``backward()`` and ``optimizer.step()``."""
    d = _dist()
    if not d:
        return
    n = d.get_world_size()
    for p in params:
        if p.grad is not None:
            d.all_reduce(p.grad)
            p.grad.div_(n)


class _LossModule(nn.Module):
    """Wraps ``method.loss(model, batch)`` as a module's forward, so DistributedDataParallel can
    see the call (and average gradients) whatever the method does inside its loss."""

    def __init__(self, method, model: nn.Module):
        super().__init__()
        self.model = model
        self._loss = method.loss

    def forward(self, batch: dict) -> dict:
        return self._loss(self.model, batch)


# ---------------------------------------------------------------- checkpoints and logs

def write_history(history: list[dict], out, name: str = "history") -> None:
    """Write ``history`` (one dict of named losses per step) as ``<name>.csv`` and ``<name>.json``."""
    out = Path(out)
    keys = []
    for h in history:
        keys += [k for k in h if k not in keys]
    rows = [{"step": h.get("step", i + 1), **{k: h[k] for k in keys if k != "step" and k in h}}
            for i, h in enumerate(history)]
    cols = ["step"] + [k for k in keys if k != "step"]
    import io
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
    files.write_text(out / f"{name}.csv", buf.getvalue())
    files.write_text(out / f"{name}.json", json.dumps(rows, indent=1))


def _rng_state(batches: Batches) -> dict:
    st = {"torch": torch.get_rng_state(), "python": _to_lists(random.getstate()), "batches": batches.state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: dict, batches: Batches) -> None:
    torch.set_rng_state(st["torch"])
    random.setstate(_to_tuples(st["python"]))
    batches.set_state(st["batches"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def load_checkpoint(path) -> dict:
    """Read a training checkpoint (``checkpoint.pt``) written by ``train(out=...)``."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"{path}: no training checkpoint to resume from; run without --resume "
                              "first (with the same --out)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable training checkpoint ({type(e).__name__}); "
                              "delete it and train again") from None


def method_and_name(method):
    """``(module, short name)`` of a method given by name ("adain") or as its module."""
    mod = methods.get(method) if isinstance(method, str) else method
    return mod, checkpoints.method_name(mod)


def model_from_checkpoint(method, ckpt: dict, source: str = "the checkpoint") -> nn.Module:
    """``checkpoints.model_from_checkpoint`` for a method given by name or module."""
    return checkpoints.model_from_checkpoint(method_and_name(method)[0], ckpt, source)


def load_model(method, path, sha: str | None = None, device=None) -> nn.Module:
    """Build ``method``'s model (a name or a module) from an exported inference checkpoint
    (``<method>.pth``) and load its weights, in eval mode (``checkpoints.load_model``)."""
    return checkpoints.load_model(method_and_name(method)[0], path, sha, device)


def pretrained(method, name: str = "default") -> nn.Module:
    """The checkpoint ``method/name`` shipped with stylelab (``checkpoints.pretrained``), for a
    method given by name or module."""
    return checkpoints.pretrained(method_and_name(method)[0], name)


# ---------------------------------------------------------------- training

@dataclass
class Result:
    model: nn.Module
    history: list = field(default_factory=list)  # one dict of named losses per step
    eval_history: list = field(default_factory=list)  # {"step": s, **terms} per evaluation
    export: Path | None = None  # the fp16 inference checkpoint, when out= was given
    sha256: str | None = None

    def curve(self, name: str = "total") -> list[float]:
        return [h[name] for h in self.history]


def _seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


class Stop(Exception):
    """Raised by the SIGTERM handler: stop like Ctrl-C (checkpoint, then exit)."""


def train(method, content, style, *, size: int = 256, steps: int = 1000, batch_size: int | None = None,
          lr: float | None = None, seed: int = 0, model: nn.Module | None = None, cfg=None,
          params=None, clip: float = 10.0, device=None, progress: bool = True,
          out=None, resume: bool = False, ckpt_every: int | None = None, eval_content=None,
          eval_every: int | None = None, amp: bool | None = None, command: str | None = None,
          export: bool = True, init=None, schedule: str = "constant", warmup: float = 0.0,
          minutes: float | None = None, callback=None) -> Result:
    """Train ``method`` (a name or module) on ``content`` (folder, list of files/asset names/tensors)
    and ``style`` (a file, folder, asset name, tensor or list); returns the model and loss history.

    ``params`` restricts training to these parameters (e.g. only a new style's gamma/beta).
    ``out``: folder for checkpoints, history and the exported model (nothing written without it);
    ``resume``: continue from ``out/checkpoint.pt`` up to ``steps`` in all; ``ckpt_every``: steps
    between checkpoints (default: a tenth of the run, at most 500); ``eval_content``: images to
    evaluate on every ``eval_every`` steps (default ``ckpt_every``); ``amp``: mixed precision
    (default: on for CUDA, never on CPU); ``command``: recorded in the export's metadata.
    ``init``: an exported inference checkpoint (``<method>.pth``) to start from, with a fresh
    optimiser (warm starts; continuing a run whose training folder is gone). Its config is used
    unless ``cfg`` is given, and tensors are copied by name where the shapes agree (so a decoder
    can start from another method's decoder). ``schedule``: ``"constant"`` or ``"cosine"`` (the
    learning rate falls from ``lr`` to ``lr / 100`` over the run: a schedule for short runs), after
    a linear warm-up over the first ``warmup`` fraction of the steps. ``init`` may also be the
    name of a shipped model (``"johnson/starry_night"``, ``"cin/default"``): another method's
    network is translated by this method's ``state_from`` where it has one. ``minutes``: a
    wall-clock budget; training stops after the step that uses it up (or at ``steps``).
    ``callback(step, model, seconds)``: called after every step with the training seconds so far
    (the callback's own time is not counted, so it may draw pictures without eating the budget).
    """
    mod = methods.get(method) if isinstance(method, str) else method
    name = getattr(mod, "__name__", "model").rsplit(".", 1)[-1]
    if steps < 1:
        raise ArgumentError(f"steps={steps} must be at least 1")
    if size < _config.MIN_SIDE:
        raise ArgumentError(f"size={size} is below the {_config.MIN_SIDE} px the encoder needs; use a larger --size")
    out = Path(out) if out is not None else None
    if resume and out is None:
        raise ArgumentError("resume=True needs out= (the folder holding checkpoint.pt)")
    ckpt = load_checkpoint(out) if resume else None
    if ckpt is not None and ckpt.get("method") not in (None, name):
        raise CheckpointError(f"{out / CHECKPOINT} was written while training {ckpt['method']!r}, not {name!r}; "
                              "use another --out or the same method")
    if schedule not in SCHEDULES:
        raise ArgumentError(f"schedule={schedule!r} is not one of {SCHEDULES}")
    if not 0.0 <= warmup < 1.0:
        raise ArgumentError(f"warmup={warmup} must be a fraction of the steps in [0, 1)")
    if minutes is not None and not minutes > 0:
        raise ArgumentError(f"minutes={minutes} must be a positive time budget")
    start_from = None
    if init is not None and ckpt is None:
        start_from = load_start(init)
        if start_from["meta"].get("method") not in (None, name) and cfg is None:
            cfg = start_config(mod, start_from["meta"])  # another method's model: see _translate
    if cfg is None:
        if ckpt is not None and ckpt.get("config"):
            cfg = checkpoints.make_config(mod, ckpt["config"])
        elif start_from is not None:
            cfg = checkpoints.make_config(mod, start_from["meta"].get("config", {}))
        else:
            cfg = mod.Config()
    batch_size = batch_size or getattr(cfg, "batch_size", 4)
    lr = lr or getattr(cfg, "lr", 1e-3)
    if batch_size < 1:
        raise ArgumentError(f"batch_size={batch_size} must be at least 1")

    dev = _config.device(device)
    created_group = _init_distributed(dev)
    if created_group and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(dev)
    r, world = rank(), world_size()
    main_proc = r == 0
    use_amp = (dev.type == "cuda") if amp is None else (bool(amp) and dev.type == "cuda")

    try:
        _seed(seed)
        model = (model if model is not None else mod.build(cfg)).to(dev)
        data = Batches(load_images(content, size, "content"), load_images(style, size, "style"), size,
                       batch_size, seed + 1009 * r)  # each process draws its own batches
        evals = None
        if eval_content is not None:
            evals = eval_batch(load_images(eval_content, size, "evaluation"), data.styles, size)
        if params is not None:
            params = list(params)
        elif hasattr(mod, "trainable_parameters"):
            params = list(mod.trainable_parameters(model))
        else:
            params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ArgumentError(f"{name}: nothing to train (no parameters require gradients)")
        if start_from is not None:
            _load_matching(model, _translate(mod, name, model, start_from), init)
        opt = torch.optim.Adam(params, lr=lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(schedule, steps, warmup))
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        ddp = None
        if world > 1:
            if hasattr(mod, "train_step"):
                warnings.warn(f"{name} defines its own train_step: it must call stylelab.train.sync_gradients "
                              "itself for the processes to stay in step")
            else:
                from torch.nn.parallel import DistributedDataParallel
                # a method whose config leaves some parameters out of the loss (kernels without its
                # gate) says so; the extra graph traversal is not paid by the others
                unused = getattr(mod, "has_unused_parameters", lambda m: False)(model)
                ddp = DistributedDataParallel(_LossModule(mod, model), device_ids=[dev] if dev.type == "cuda" else None,
                                              find_unused_parameters=bool(unused))

        history, eval_history, start = [], [], 0
        cpu0, cpu_before = time.process_time(), 0.0
        # the export this run started from (kept through --resume), so the chain of runs is recorded
        init_meta = dict(start_from["meta"]) if start_from is not None else dict((ckpt or {}).get("init_meta") or {})
        if ckpt is not None:
            cpu_before = float(ckpt.get("cpu_seconds", 0.0))
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            if ckpt.get("scheduler"):
                sched.load_state_dict(ckpt["scheduler"])
            if ckpt.get("scaler"):
                scaler.load_state_dict(ckpt["scaler"])
            history, eval_history, start = list(ckpt["history"]), list(ckpt.get("eval_history", [])), int(ckpt["step"])
            rngs = ckpt["rng"]
            if len(rngs) == world:
                _set_rng_state(rngs[r], data)
            else:
                warnings.warn(f"the checkpoint was written by {len(rngs)} process(es), this run has {world}: "
                              "the random batches will differ from an uninterrupted run")
        every = ckpt_every or max(1, min(500, steps // 10))
        eval_every = eval_every or every

        def save_checkpoint(step, rng=None):
            rng = rng or _rng_state(data)
            rngs = [rng]
            if world > 1:
                rngs = [None] * world
                _dist().all_gather_object(rngs, rng)
            if out is None or not main_proc:
                return
            files.torch_save({"method": name, "config": checkpoints.config_dict(cfg), "step": step,
                                "model": model.state_dict(), "optimizer": opt.state_dict(),
                                "scheduler": sched.state_dict(), "cpu_seconds": cpu_before + time.process_time() - cpu0,
                                "init_meta": init_meta,
                                "scaler": scaler.state_dict() if use_amp else None, "rng": rngs,
                                "history": history, "eval_history": eval_history,
                                "size": size, "batch_size": batch_size, "seed": seed}, out / CHECKPOINT)
            write_history(history, out)
            if eval_history:
                write_history(eval_history, out, "eval")

        def write_export(step):
            """The fp16 inference file ``<out>/<method>.pth`` of the model as it is now, and its SHA-256."""
            last = {k: v for k, v in history[-1].items()} if history else {}
            cmd = command or f"stylelab.train.train({name!r}, steps={steps}, size={size})"
            prev = init_meta
            cpu_h = (cpu_before + time.process_time() - cpu0) * world / 3600
            meta = {"method": name, "config": checkpoints.config_dict(cfg), "steps": step, "size": size,
                    "batch_size": batch_size, "world_size": world, "lr": lr, "seed": seed,
                    "schedule": schedule, "command": cmd, "final_losses": last, "cpu_hours": round(cpu_h, 3),
                    # the whole chain of runs that led here, for the registry
                    "commands": list(prev.get("commands", [prev["command"]] if "command" in prev else [])) + [cmd],
                    "steps_total": int(prev.get("steps_total", prev.get("steps", 0))) + step,
                    "cpu_hours_total": round(float(prev.get("cpu_hours_total", prev.get("cpu_hours", 0.0))) + cpu_h, 3)}
            path = out / f"{name}.pth"
            digest = checkpoints.save_inference(model.state_dict(), path, meta)
            files.write_text(out / f"{name}.pth.sha256", f"{digest}  {path.name}\n")
            return path, digest

        def evaluate(step):
            was = model.training
            model.eval()
            with torch.no_grad(), torch.autocast(dev.type, enabled=use_amp):
                terms = mod.loss(model, {k: v.to(dev) for k, v in evals.items()})
            model.train(was)
            row = {"step": step, **{k: float(v) for k, v in terms.items()}}
            row["total"] = float(sum(terms.values()))
            eval_history.append(row)

        def default_step(batch, step):
            with torch.autocast(dev.type, enabled=use_amp):
                terms = ddp(batch) if ddp is not None else mod.loss(model, batch)
                total = sum(terms.values())
            if not torch.isfinite(total):
                raise ArgumentError(f"the loss became {float(total)} at step {step}; lower the learning rate")
            opt.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            scaler.unscale_(opt)
            if clip:
                torch.nn.utils.clip_grad_norm_(params, clip)
            scaler.step(opt)
            scaler.update()
            logs = {k: float(v.detach()) for k, v in terms.items()}
            logs["total"] = float(total.detach())
            return logs

        from tqdm.auto import tqdm
        bar = tqdm(range(start, steps), desc=f"train {name}", initial=start, total=steps,
                   disable=not (progress and main_proc), leave=False)
        model.train()
        done, step_rng = start, None
        seconds = 0.0  # training time of this run, without the callback's
        try:
            for step in bar:
                if minutes is not None and done > start and seconds >= 60 * minutes:
                    break  # the time budget is spent: finish as if the steps were done
                t_step = time.perf_counter()
                if out is not None:
                    step_rng = _rng_state(data)  # an interrupted step is redone from here
                batch = {k: v.to(dev) for k, v in next(data).items()}
                if hasattr(mod, "train_step"):
                    logs = mod.train_step(model, batch, opt, step)
                    logs = {k: float(v) for k, v in logs.items()}
                else:
                    logs = default_step(batch, step)
                sched.step()
                history.append(logs)
                done = step + 1
                bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items()})
                if evals is not None and (done % eval_every == 0 or done == steps):
                    evaluate(done)
                if out is not None and done % every == 0 and done < steps:
                    save_checkpoint(done)
                seconds += time.perf_counter() - t_step
                if callback is not None:
                    callback(done, model, seconds)
        except (KeyboardInterrupt, Stop):
            if out is not None and done > start:
                save_checkpoint(done, step_rng if done == step else None)
                if export and main_proc:  # a paused run leaves an export to commit (and --init from)
                    model.eval()
                    write_export(done)
                if main_proc:
                    print(f"\nstopped at step {done}; checkpoint saved in {out}; continue with --resume",
                          file=sys.stderr)
            raise
        finally:
            bar.close()
        model.eval()
        result = Result(model, history, eval_history)
        if out is not None:
            if done > start or ckpt is None:
                save_checkpoint(done)
            if done < steps and main_proc and progress:
                print(f"{name}: the {minutes:g}-minute budget ended training at step {done} of {steps}",
                      file=sys.stderr)
            if export and main_proc:
                result.export, result.sha256 = write_export(done)
        if world > 1:
            _dist().barrier()
        return result
    finally:
        if created_group:
            import torch.distributed as dist
            dist.destroy_process_group()


SCHEDULES = ("constant", "cosine")


def lr_factor(schedule: str, steps: int, warmup: float = 0.0):
    """The learning-rate multiplier per step (``LambdaLR``): a linear warm-up over the first
    ``warmup * steps`` steps, then 1 (constant) or a cosine from 1 down to 0.01 at the last step."""
    n_warm = int(warmup * steps)

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / n_warm
        if schedule == "constant":
            return 1.0
        t = min(1.0, (step - n_warm) / max(1, steps - n_warm - 1))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t))
    return factor


def load_start(init) -> dict:
    """The inference checkpoint a run starts from: an exported file, or a shipped model's name
    ``"method/name"`` from the registry (hash-checked)."""
    if isinstance(init, str) and not Path(init).exists() and "/" in init and not init.endswith(".pth"):
        method, _, style = init.partition("/")
        got = checkpoints.shipped(method, style)
        return {**got, "meta": {**got["meta"], "shipped_as": init}}
    return checkpoints.load_inference(init)


def start_config(mod, meta: dict):
    """The Config of a network started from another method's export: ``mod.config_from(meta)``
    where the method defines one (e.g. the adjustable network takes a Johnson network's size),
    otherwise the method's defaults."""
    return mod.config_from(meta) if hasattr(mod, "config_from") else mod.Config()


def _translate(mod, name: str, model: nn.Module, start: dict) -> dict:
    """``start``'s weights in ``model``'s parameter names: another method's network goes through
    ``mod.state_from(model, meta, state)`` where the method defines one (e.g. conditional IN from
    a Johnson network); otherwise the tensors are matched by name as they are."""
    source = start["meta"].get("method")
    if source not in (None, name) and hasattr(mod, "state_from"):
        return mod.state_from(model, start["meta"], start["state"])
    return start["state"]


def _load_matching(model: nn.Module, state: dict, source) -> None:
    """Copy the tensors of ``state`` whose name and shape match ``model``'s; refuse if none do."""
    own = model.state_dict()
    hits = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not hits:
        raise CheckpointError(f"--init {source}: none of its tensors fit this network; "
                              "start from an export of the same (or a compatible) method")
    own.update(hits)
    model.load_state_dict(own)
    if len(hits) < len(own):
        warnings.warn(f"--init {source}: copied {len(hits)} of {len(own)} tensors; the rest start fresh")


def config_overrides(cfg, pairs: Sequence[str]):
    """``cfg`` with ``key=value`` pairs applied (the value parsed as the field's type)."""
    if not pairs:
        return cfg
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    kw = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in fields:
            raise ArgumentError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {sorted(fields)}")
        old = getattr(cfg, key)
        try:
            kw[key] = (raw.lower() in ("1", "true", "yes")) if isinstance(old, bool) else \
                tuple(json.loads(raw)) if isinstance(old, tuple) else type(old)(raw) if old is not None else json.loads(raw)
        except (ValueError, TypeError):
            raise ArgumentError(f"--set {pair!r}: {raw!r} is not a valid {type(old).__name__}") from None
    return dataclasses.replace(cfg, **kw)
