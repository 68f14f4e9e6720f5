"""``python -m stylelab bench metastyle``: how fast MetaStyle adapts to a new style, and how well.

Reports, at ``--size`` px (256 by default) on the chosen device:
- the time to adapt to a style never seen in meta-training (``--steps`` K updates);
- ms per image of the adapted feed-forward network;
- the style+content loss on held-out photos after K steps from each start: the meta-learned
  initialisation (adapted as it was meta-trained: the inner-loop step first, then Adam), a random
  initialisation and a Johnson network trained on another style (both adapted with Adam; the
  inner-loop step only helps a start that was meta-trained for it).

No meta-learned checkpoint ships yet, so unless one does the bench meta-trains a start first
(``--meta-steps`` outer steps at ``--train-size`` px) and says so; the Johnson start is trained
for ``--johnson-steps`` steps. Both are short, so read the loss figures as a small-budget comparison.
"""
from __future__ import annotations

import argparse
import time

import torch

from .. import arguments, assets, config
from ..errors import CheckpointError
from ..methods import metastyle as ms
from ..train import recipes
from . import parameters, time_ms


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab bench metastyle", description=__doc__.splitlines()[0])
    arguments.add_size(p, 256, "adaptation and inference size")
    p.add_argument("--steps", type=int, default=10, help="K, adaptation steps (10)")
    p.add_argument("--style", default="great_wave", help="the new style, never seen in meta-training")
    p.add_argument("--meta-steps", type=int, default=60, help="outer steps if no checkpoint ships (60)")
    p.add_argument("--johnson-steps", type=int, default=30, help="training steps of the Johnson start (30)")
    arguments.add_size(p, 128, "crop size of the meta/Johnson training", flag="--train-size")
    p.add_argument("--channels", default="32,64,128", help="TransformNet widths (Johnson: 32,64,128)")
    p.add_argument("--adapt", choices=ms.ADAPTS, default="all", help="parameters adapted (all)")
    arguments.add_device(p, "cpu")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> int:
    a = parser().parse_args(argv)

    cfg = ms.Config(channels=tuple(int(c) for c in a.channels.split(",")), adapt=a.adapt, size=a.size)
    torch.manual_seed(a.seed)
    dev = config.device(a.device)
    train_styles = [s for s in assets.names("style") if s != a.style]
    photos = assets.names("content")
    train_photos, held_out = photos[:-2], photos[-2:]
    eval_content = ms.content_batch(held_out, a.size).to(dev)

    print(f"MetaStyle bench: {a.size} px, K={a.steps} adaptation steps (meta-learned start: {cfg.inner_steps} "
          f"inner-loop step(s), then Adam lr {cfg.adapt_lr}; other starts: Adam), "
          f"adapting '{cfg.adapt}' parameters, device {dev}, {torch.get_num_threads()} threads")
    try:
        meta = ms.pretrained().to(dev)
        meta_note = "shipped checkpoint"
    except CheckpointError:
        t0 = time.perf_counter()
        meta = recipes.meta_train(train_photos, train_styles, cfg, steps=a.meta_steps, size=a.train_size,
                             seed=a.seed, device=a.device, progress=False).model
        meta_note = (f"no checkpoint ships yet: meta-trained here for {a.meta_steps} outer steps at "
                     f"{a.train_size} px ({time.perf_counter() - t0:.0f} s)")
    print(f"meta-learned start: {meta_note}")
    torch.manual_seed(a.seed)
    random_init = ms.build(cfg).to(dev)
    t0 = time.perf_counter()
    johnson = recipes.train_single_style(train_photos, train_styles[0], cfg, steps=a.johnson_steps,
                                    size=a.train_size, seed=a.seed, device=a.device, progress=False).model
    print(f"Johnson start: trained on '{train_styles[0]}' for {a.johnson_steps} steps at {a.train_size} px "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"network: {parameters(meta):,} parameters, {len(ms.adapted_names(meta, cfg.adapt)) } tensors adapted")

    style_t = ms._square(assets.resolve(a.style), a.size).to(dev)
    rows = []
    starts = (("meta-learned", meta, "meta"), ("random", random_init, "adam"),
              ("Johnson (other style)", johnson, "adam"))
    for name, start, rule in starts:
        l0 = ms.evaluate(start, eval_content, style_t, cfg)["total"]
        t0 = time.perf_counter()
        fast = ms.adapt(a.style, steps=a.steps, model=start, cfg=cfg, content=train_photos, seed=a.seed,
                        optimizer=rule, progress=False)
        seconds = time.perf_counter() - t0
        lk = ms.evaluate(fast, eval_content, style_t, cfg)["total"]
        rows.append((name, l0, lk, seconds, fast))

    x = eval_content[:1]
    fast = rows[0][4]
    infer = time_ms(lambda: fast(x), runs=5, warmup=1, device=dev)
    print()
    print(f"{'start':<24}{'loss at 0':>12}{'loss at K':>12}{'adapt s':>10}")
    for name, l0, lk, sec, _ in rows:
        print(f"{name:<24}{l0:>12.1f}{lk:>12.1f}{sec:>10.1f}")
    print(f"(loss: weighted content + Gram style + TV on {len(held_out)} held-out photos; lower is better)")
    per_step = rows[0][3] / max(1, a.steps)
    print(f"\nadaptation to '{a.style}': {rows[0][3]:.1f} s for K={a.steps} steps ({per_step:.2f} s/step, batch of 2 crops)")
    print(f"inference after adaptation: {infer['median_ms']:.1f} ms per {a.size} px image "
          f"(min {infer['min_ms']:.1f}, max {infer['max_ms']:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
