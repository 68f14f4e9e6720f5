"""What the training loop does besides stepping: checkpoints, evaluation, the progress bar, a time
budget, the caller's hook. Each is a ``Callback``; the loop calls every callback's hooks in order.

- ``on_step(run)``: after each optimisation step (``run.done`` steps finished, ``run.history[-1]``
  its losses);
- ``should_stop(run)``: before each step; True ends the run as if ``steps`` were reached;
- ``on_interrupt(run)``: Ctrl-C or SIGTERM arrived; the step in flight is not counted;
- ``on_end(run)``: the run finished (all steps, or the budget ran out).
"""
from __future__ import annotations

import sys
import time

import torch
from tqdm.auto import tqdm

from .. import checkpoints, files, ops
from . import distributed
from .state import CHECKPOINT, rng_state, write_history


class Callback:
    """A no-op for every hook; subclasses override the ones they need."""

    def on_step(self, run) -> None:
        pass

    def should_stop(self, run) -> bool:
        return False

    def on_interrupt(self, run) -> None:
        pass

    def on_end(self, run) -> None:
        pass


class Progress(Callback):
    """A tqdm bar over the steps (main process only), with the last step's losses."""

    def __init__(self, run, enabled: bool):
        self.bar = tqdm(total=run.steps, initial=run.start, desc=f"train {run.name}",
                        disable=not (enabled and run.main_proc), leave=False)

    def on_step(self, run):
        self.bar.update(1)
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in run.history[-1].items()})

    def on_interrupt(self, run):
        self.bar.close()

    def on_end(self, run):
        self.bar.close()


class Evaluate(Callback):
    """The loss on a fixed batch every ``every`` steps and at the last step (``run.eval_history``)."""

    def __init__(self, batch: dict, every: int):
        self.batch, self.every = batch, every

    def on_step(self, run):
        if run.done % self.every == 0 or run.done == run.steps:
            with torch.no_grad(), torch.autocast(run.device.type, enabled=run.use_amp), ops.eval_mode(run.model):
                terms = run.method.loss(run.model, {k: v.to(run.device) for k, v in self.batch.items()})
            row = {"step": run.done, **{k: float(v) for k, v in terms.items()}}
            row["total"] = float(sum(terms.values()))
            run.eval_history.append(row)


class TimeBudget(Callback):
    """Stop once this run has trained ``minutes`` (the caller's hook excluded), after at least one step."""

    def __init__(self, minutes: float):
        self.minutes = minutes

    def should_stop(self, run):
        return run.done > run.start and run.seconds >= 60 * self.minutes

    def on_end(self, run):
        if run.done < run.steps and run.main_proc and run.out is not None and run.progress:
            print(f"{run.name}: the {self.minutes:g}-minute budget ended training at step {run.done} of "
                  f"{run.steps}", file=sys.stderr)


class Checkpoint(Callback):
    """``checkpoint.pt`` every ``every`` steps, when stopped, and at the end; the fp16 export
    ``<method>.pth`` at the end and when stopped (so a paused run leaves a file to commit and
    to ``--init`` from)."""

    def __init__(self, every: int, export: bool = True):
        self.every, self.export = every, export

    def on_step(self, run):
        if run.done % self.every == 0 and run.done < run.steps:
            save(run)

    def on_interrupt(self, run):
        if run.done > run.start:
            save(run, run.step_rng if run.interrupted_in_step else None)
            if self.export and run.main_proc:
                run.model.eval()
                write_export(run)
            if run.main_proc:
                print(f"\nstopped at step {run.done}; checkpoint saved in {run.out}; continue with --resume",
                      file=sys.stderr)

    def on_end(self, run):
        if run.done > run.start or run.resumed_from is None:
            save(run)
        if self.export and run.main_proc:
            run.result.export, run.result.sha256 = write_export(run)


def save(run, rng=None) -> None:
    """Write ``checkpoint.pt`` (model, optimiser, scheduler, scaler, every process's RNG states,
    histories) and the history files, each atomically."""
    rng = rng or rng_state(run.data)
    rngs = [rng]
    if run.world > 1:
        rngs = [None] * run.world
        distributed.group().all_gather_object(rngs, rng)
    if not run.main_proc:
        return
    files.torch_save({"method": run.name, "config": checkpoints.config_dict(run.cfg), "step": run.done,
                      "model": run.model.state_dict(), "optimizer": run.opt.state_dict(),
                      "scheduler": run.sched.state_dict(), "cpu_seconds": run.cpu_seconds(),
                      "init_meta": run.init_meta,
                      "scaler": run.scaler.state_dict() if run.use_amp else None, "rng": rngs,
                      "history": run.history, "eval_history": run.eval_history,
                      "size": run.size, "batch_size": run.batch_size, "seed": run.seed}, run.out / CHECKPOINT)
    write_history(run.history, run.out)
    if run.eval_history:
        write_history(run.eval_history, run.out, "eval")


def write_export(run):
    """The fp16 inference file ``<out>/<method>.pth`` of the model as it is now, and its SHA-256;
    its meta records the whole chain of runs that led here (commands, steps, CPU-hours)."""
    last = dict(run.history[-1]) if run.history else {}
    cmd = run.command or f"stylelab.train.train({run.name!r}, steps={run.steps}, size={run.size})"
    prev = run.init_meta
    cpu_h = run.cpu_seconds() * run.world / 3600
    meta = {"method": run.name, "config": checkpoints.config_dict(run.cfg), "steps": run.done, "size": run.size,
            "batch_size": run.batch_size, "world_size": run.world, "lr": run.lr, "seed": run.seed,
            "schedule": run.schedule, "command": cmd, "final_losses": last, "cpu_hours": round(cpu_h, 3),
            "commands": list(prev.get("commands", [prev["command"]] if "command" in prev else [])) + [cmd],
            "steps_total": int(prev.get("steps_total", prev.get("steps", 0))) + run.done,
            "cpu_hours_total": round(float(prev.get("cpu_hours_total", prev.get("cpu_hours", 0.0))) + cpu_h, 3)}
    path = run.out / f"{run.name}.pth"
    digest = checkpoints.save_inference(run.model.state_dict(), path, meta)
    files.write_text(run.out / f"{run.name}.pth.sha256", f"{digest}  {path.name}\n")
    return path, digest


def cpu_clock() -> float:
    return time.process_time()
