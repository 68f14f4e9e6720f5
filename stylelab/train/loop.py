"""The training loop: one trainer for every trained method.

A method module provides ``Config`` (with ``lr`` and ``batch_size``), ``build(config) -> nn.Module``
and ``loss(model, batch) -> {name: scalar}``; the loop feeds batches, sums the named terms, steps
Adam and hands every step to its callbacks (``stylelab.train.callbacks``: checkpoints, evaluation,
the progress bar, a time budget). ``batch`` is a dict:

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
"""
from __future__ import annotations

import os
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .. import checkpoints, config as _config, methods
from ..data import Batches, eval_batch, load_images
from ..errors import ArgumentError, CheckpointError
from . import distributed
from .callbacks import Checkpoint, Evaluate, Progress, TimeBudget
from .start import SCHEDULES, load_matching, load_start, lr_factor, start_config, translate
from .state import CHECKPOINT, load_checkpoint, rng_state, set_rng_state


@dataclass
class Result:
    model: nn.Module
    history: list = field(default_factory=list)  # one dict of named losses per step
    eval_history: list = field(default_factory=list)  # {"step": s, **terms} per evaluation
    export: Path | None = None  # the fp16 inference checkpoint, when out= was given
    sha256: str | None = None

    def curve(self, name: str = "total") -> list[float]:
        return [h[name] for h in self.history]


class Stop(Exception):
    """Raised by the SIGTERM handler: stop like Ctrl-C (checkpoint, then exit)."""


@dataclass
class Run:
    """Everything a callback may read or write about the run in progress."""
    method: object
    name: str
    model: nn.Module
    cfg: object
    opt: torch.optim.Optimizer
    sched: object
    scaler: object
    data: Batches
    device: torch.device
    use_amp: bool
    steps: int
    start: int
    size: int
    batch_size: int
    lr: float
    seed: int
    schedule: str
    out: Path | None
    command: str | None
    progress: bool
    world: int = 1
    main_proc: bool = True
    history: list = field(default_factory=list)
    eval_history: list = field(default_factory=list)
    init_meta: dict = field(default_factory=dict)
    resumed_from: dict | None = None
    done: int = 0               # steps finished
    seconds: float = 0.0        # training time of this run, without the caller's callback
    step_rng: dict | None = None
    interrupted_in_step: bool = False
    cpu_before: float = 0.0
    cpu0: float = field(default_factory=time.process_time)
    result: Result | None = None

    def cpu_seconds(self) -> float:
        """CPU seconds of this process over the whole run, resumes included."""
        return self.cpu_before + time.process_time() - self.cpu0


def _seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _check(steps, size, out, resume, schedule, warmup, minutes):
    if steps < 1:
        raise ArgumentError(f"steps={steps} must be at least 1")
    if size < _config.MIN_SIDE:
        raise ArgumentError(f"size={size} is below the {_config.MIN_SIDE} px the encoder needs; use a larger --size")
    if resume and out is None:
        raise ArgumentError("resume=True needs out= (the folder holding checkpoint.pt)")
    if schedule not in SCHEDULES:
        raise ArgumentError(f"schedule={schedule!r} is not one of {SCHEDULES}")
    if not 0.0 <= warmup < 1.0:
        raise ArgumentError(f"warmup={warmup} must be a fraction of the steps in [0, 1)")
    if minutes is not None and not minutes > 0:
        raise ArgumentError(f"minutes={minutes} must be a positive time budget")


def _config_for(mod, name, cfg, ckpt, start_from):
    """The run's Config: the one given, else the resumed run's, else the start's, else the defaults."""
    if start_from is not None and start_from["meta"].get("method") not in (None, name) and cfg is None:
        return start_config(mod, start_from["meta"])  # another method's model: see start.translate
    if cfg is not None:
        return cfg
    if ckpt is not None and ckpt.get("config"):
        return checkpoints.make_config(mod, ckpt["config"])
    if start_from is not None:
        return checkpoints.make_config(mod, start_from["meta"].get("config", {}))
    return mod.Config()


def _ddp(mod, name, model, dev):
    if hasattr(mod, "train_step"):
        warnings.warn(f"{name} defines its own train_step: it must call stylelab.train.sync_gradients "
                      "itself for the processes to stay in step")
        return None
    # a method whose config leaves some parameters out of the loss (kernels without its gate) says
    # so; the extra graph traversal is not paid by the others
    unused = getattr(mod, "has_unused_parameters", lambda m: False)(model)
    return DistributedDataParallel(distributed.LossModule(mod, model),
                                   device_ids=[dev] if dev.type == "cuda" else None,
                                   find_unused_parameters=bool(unused))


def _resume(run: Run, ckpt: dict, r: int) -> None:
    run.cpu_before = float(ckpt.get("cpu_seconds", 0.0))
    run.model.load_state_dict(ckpt["model"])
    run.opt.load_state_dict(ckpt["optimizer"])
    if ckpt.get("scheduler"):
        run.sched.load_state_dict(ckpt["scheduler"])
    if ckpt.get("scaler"):
        run.scaler.load_state_dict(ckpt["scaler"])
    run.history, run.eval_history = list(ckpt["history"]), list(ckpt.get("eval_history", []))
    run.start = run.done = int(ckpt["step"])
    rngs = ckpt["rng"]
    if len(rngs) == run.world:
        set_rng_state(rngs[r], run.data)
    else:
        warnings.warn(f"the checkpoint was written by {len(rngs)} process(es), this run has {run.world}: "
                      "the random batches will differ from an uninterrupted run")


def _default_step(run: Run, ddp, params, clip, batch, step) -> dict:
    with torch.autocast(run.device.type, enabled=run.use_amp):
        terms = ddp(batch) if ddp is not None else run.method.loss(run.model, batch)
        total = sum(terms.values())
    if not torch.isfinite(total):
        raise ArgumentError(f"the loss became {float(total)} at step {step}; lower the learning rate")
    run.opt.zero_grad(set_to_none=True)
    run.scaler.scale(total).backward()
    run.scaler.unscale_(run.opt)
    if clip:
        torch.nn.utils.clip_grad_norm_(params, clip)
    run.scaler.step(run.opt)
    run.scaler.update()
    logs = {k: float(v.detach()) for k, v in terms.items()}
    logs["total"] = float(total.detach())
    return logs


def train(method, content, style, *, size: int = 256, steps: int = 1000, batch_size: int | None = None,
          lr: float | None = None, seed: int = 0, model: nn.Module | None = None, cfg=None,
          params=None, clip: float = 10.0, device=None, progress: bool = True,
          out=None, resume: bool = False, ckpt_every: int | None = None, eval_content=None,
          eval_every: int | None = None, amp: bool | None = None, command: str | None = None,
          export: bool = True, init=None, schedule: str = "constant", warmup: float = 0.0,
          minutes: float | None = None, callback=None, callbacks=()) -> Result:
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
    ``callbacks``: more ``stylelab.train.callbacks.Callback`` objects, called after the built-in ones.
    """
    mod = methods.get(method) if isinstance(method, str) else method
    name = checkpoints.method_name(mod)
    _check(steps, size, out, resume, schedule, warmup, minutes)
    out = Path(out) if out is not None else None
    ckpt = load_checkpoint(out) if resume else None
    if ckpt is not None and ckpt.get("method") not in (None, name):
        raise CheckpointError(f"{out / CHECKPOINT} was written while training {ckpt['method']!r}, not {name!r}; "
                              "use another --out or the same method")
    start_from = load_start(init) if init is not None and ckpt is None else None
    cfg = _config_for(mod, name, cfg, ckpt, start_from)
    batch_size = batch_size or getattr(cfg, "batch_size", 4)
    lr = lr or getattr(cfg, "lr", 1e-3)
    if batch_size < 1:
        raise ArgumentError(f"batch_size={batch_size} must be at least 1")

    dev = _config.device(device)
    created_group = distributed.init(dev)
    if created_group and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(dev)
    r, world = distributed.rank(), distributed.world_size()
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
            load_matching(model, translate(mod, name, model, start_from), init)
        opt = torch.optim.Adam(params, lr=lr)
        run = Run(method=mod, name=name, model=model, cfg=cfg, opt=opt,
                  sched=torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(schedule, steps, warmup)),
                  scaler=torch.amp.GradScaler("cuda", enabled=use_amp), data=data, device=dev,
                  use_amp=use_amp, steps=steps, start=0, size=size, batch_size=batch_size, lr=lr, seed=seed,
                  schedule=schedule, out=out, command=command, progress=progress, world=world,
                  main_proc=r == 0, resumed_from=ckpt,
                  # the export this run started from (kept through --resume): the chain of runs
                  init_meta=dict(start_from["meta"]) if start_from is not None
                  else dict((ckpt or {}).get("init_meta") or {}))
        ddp = _ddp(mod, name, model, dev) if world > 1 else None
        if ckpt is not None:
            _resume(run, ckpt, r)
        every = ckpt_every or max(1, min(500, steps // 10))
        hooks = [Progress(run, progress)]
        if evals is not None:
            hooks.append(Evaluate(evals, eval_every or every))
        if minutes is not None:
            hooks.append(TimeBudget(minutes))
        if out is not None:
            hooks.append(Checkpoint(every, export))
        hooks += list(callbacks)

        model.train()
        step = run.start
        try:
            for step in range(run.start, steps):
                if any(h.should_stop(run) for h in hooks):
                    break  # e.g. the time budget is spent: finish as if the steps were done
                t_step = time.perf_counter()
                if out is not None:
                    run.step_rng = rng_state(data)  # an interrupted step is redone from here
                batch = {k: v.to(dev) for k, v in next(data).items()}
                if hasattr(mod, "train_step"):
                    logs = {k: float(v) for k, v in mod.train_step(model, batch, opt, step).items()}
                else:
                    logs = _default_step(run, ddp, params, clip, batch, step)
                run.sched.step()
                run.history.append(logs)
                run.done = step + 1
                for h in hooks:
                    h.on_step(run)
                run.seconds += time.perf_counter() - t_step
                if callback is not None:
                    callback(run.done, model, run.seconds)
        except (KeyboardInterrupt, Stop):
            run.interrupted_in_step = run.done == step
            for h in hooks:
                h.on_interrupt(run)
            raise
        model.eval()
        run.result = Result(model, run.history, run.eval_history)
        for h in hooks:
            h.on_end(run)
        if world > 1:
            distributed.group().barrier()
        return run.result
    finally:
        if created_group:
            torch.distributed.destroy_process_group()
