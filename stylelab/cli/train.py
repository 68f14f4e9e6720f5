"""``python -m stylelab train METHOD ...``: train a method's network from the command line.

Ctrl-C or SIGTERM stops after the current step with a checkpoint and an export in ``--out``, so a
paused run continues with ``--resume`` (or, on a fresh machine, ``--init <out>/<method>.pth``).
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

from .. import arguments, assets, checkpoints, methods, train
from ..errors import ImageError
from ..train import Stop


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab train",
                                description="Train a method's network; checkpoints, history and the exported "
                                            "model go to --out. Multi-GPU: torchrun --nproc_per_node N -m stylelab train ...")
    p.add_argument("method", help="method name (johnson, adain, cin, adjustable, metastyle, din, kernels)")
    p.add_argument("--content-dir", default=None,
                   help="folder of content photos (random resized crops; default: the bundled photos)")
    p.add_argument("--style", required=True, help="a style image file, a folder of them, or a bundled name")
    arguments.add_size(p, 256, "crop size")
    p.add_argument("--steps", type=int, default=1000, help="total optimisation steps (default 1000)")
    p.add_argument("--out", required=True, help="folder for checkpoint.pt, history.csv/json, <method>.pth")
    p.add_argument("--batch-size", type=int, default=None, help="images per step and process (method default)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (method default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    p.add_argument("--init", "--from", dest="init", default=None,
                   help="start from this exported model (<method>.pth) or a shipped one (e.g. johnson/starry_night, "
                        "cin/default) with a fresh optimiser")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget: stop after this many minutes (or at --steps), then export")
    p.add_argument("--schedule", choices=train.SCHEDULES, default="constant", help="learning-rate schedule (default constant)")
    p.add_argument("--warmup", type=float, default=0.0, help="fraction of the steps for a linear lr warm-up")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field of the method's Config (repeatable), e.g. --set style_weight=0")
    p.add_argument("--ckpt-every", type=int, default=None, help="steps between checkpoints (default steps/10, <= 500)")
    p.add_argument("--eval-dir", default=None, help="folder of evaluation images (loss logged to eval.csv)")
    p.add_argument("--eval-every", type=int, default=None)
    p.add_argument("--clip", type=float, default=10.0, help="gradient-norm clipping (0: off)")
    arguments.add_device(p)
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on a GPU")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    a = parser().parse_args(argv)
    methods.get(a.method)  # a clear error for a wrong name before any work
    if a.content_dir is None:
        content = assets.names("content")  # the bundled photos: enough for a quick single-style run
    else:
        content = Path(a.content_dir)
        if not content.is_dir():
            raise ImageError(f"--content-dir {content}: not a folder; pass a folder of photos")

    def on_term(signum, frame):
        raise Stop()

    cfg = None
    if a.set:
        mod = methods.get(a.method)
        base = mod.Config()
        if a.init and not a.resume:
            start = train.load_start(a.init)
            if start["meta"].get("method") in (None, a.method):
                base = checkpoints.make_config(mod, start["meta"].get("config", {})) or base
            else:
                base = train.start_config(mod, start["meta"])
        cfg = train.config_overrides(base, a.set)
    old = signal.signal(signal.SIGTERM, on_term) if _is_main_thread() else None
    t0 = time.perf_counter()
    try:
        res = train.train(a.method, content, a.style, size=a.size, steps=a.steps, batch_size=a.batch_size,
                          lr=a.lr, seed=a.seed, clip=a.clip, device=a.device, progress=not a.quiet, out=a.out,
                          resume=a.resume, ckpt_every=a.ckpt_every, eval_content=a.eval_dir,
                          eval_every=a.eval_every, amp=False if a.no_amp else None, init=a.init,
                          schedule=a.schedule, warmup=a.warmup, cfg=cfg, minutes=a.minutes,
                          command="python -m stylelab train " + " ".join(shlex.quote(x) for x in argv))
    except (KeyboardInterrupt, Stop):
        return 130
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
    if int(os.environ.get("RANK", "0")) == 0 and res.history:
        last = ", ".join(f"{k} {v:.4g}" for k, v in res.history[-1].items())
        print(f"trained {a.method} for {len(res.history)} steps in {time.perf_counter() - t0:.1f} s; last: {last}")
        if res.export is not None:
            print(f"exported {res.export} ({res.export.stat().st_size / 2 ** 20:.2f} MiB, sha256 {res.sha256})")
    return 0


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
