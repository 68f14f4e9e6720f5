"""Image style transfer by optimisation (Gatys, Ecker & Bethge, CVPR 2016).

There is no network to train: the output image ``p`` itself is optimised so that its VGG-19
features match the content image ``c`` and its Gram matrices match the style image ``s``:

    L(p) = a * sum_{l in C} w_c^l L_c^l(p) + b * sum_{l in S} w_s^l L_s^l(p) + t * TV(p)
    L_c^l(p) = mean (phi_l(p) - phi_l(c))^2
    L_s^l(p) = mean (G(phi_l(p)) - G(phi_l(s)))^2,   G(f) = F F^T / (C H W)

with ``a = content_weight``, ``b = style_weight``, ``t = tv_weight`` (``stylelab.losses``).

Extras: several styles blended by the weighted sum of their Gram matrices, colour preservation
both ways of Gatys et al. 2017 (luminance-only transfer, colour histogram matching), texture
synthesis (``content=None``: no content term) and coarse-to-fine optimisation (``scales=``).

Two entry points:

- ``stylize(content, style, **controls)`` -> the image, (1,3,H,W) in [0,1] (the common surface);
- ``run(content, style, **controls)`` -> ``Result(image, history)``, where ``history`` holds one
  dict per step (one step = one forward/backward pass of the encoder, for L-BFGS and Adam alike):
  ``total`` (the objective), ``content`` and ``style`` (sum_l w^l L^l before the content/style
  weight), ``tv``, one ``content/<layer>`` and ``style/<layer>`` entry per layer (L^l, unweighted),
  ``step`` and ``scale`` (the long side optimised at that step); ``Result.final`` is the row of
  the returned image (``returned: True``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from .. import assets, config, controls, images, ops, stats
from ..encoders import check_layers, vgg19
from ..errors import ArgumentError, CheckpointError
from ..losses import PerceptualLoss

#: ``stylize``'s ``style`` is a picture: a tensor, a path or a bundled name (``methods.Method``).
STYLE_INPUT = "image"
#: No trained network: each picture is optimised from scratch (``methods.Method``).
TRAINED = False
#: What the arena and the gallery run it with: a bearable number of steps (``bench.arena``).
ARENA_CONTROLS = {"steps": 50, "progress": False}

INITS = ("content", "noise", "style")
OPTIMIZERS = ("lbfgs", "adam")
PRESERVE = (None,) + controls.COLOR_MODES


@dataclass
class Config:
    # Gatys et al. 2016, Sec. 3: content from conv4_2 (we take its ReLU), style from the first
    # layer of every block.
    content_layers: tuple = ("relu4_2",)
    style_layers: tuple = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    # Our choice: with mean-squared losses and Grams divided by C*H*W on the Caffe VGG-19 (the
    # normalisation of Johnson's neural-style), a = 5, b = 100 are neural-style's defaults and give
    # a fully stylised picture in which the content is still plain.
    content_weight: float = 5.0
    style_weight: float = 100.0
    # Our choice: a little TV smooths the high-frequency noise L-BFGS leaves (images in [0,1]).
    tv_weight: float = 1.0
    # Our choice: starting from the content converges in far fewer steps on a CPU than the paper's
    # white noise (both are available).
    init: str = "content"
    optimizer: str = "lbfgs"          # the paper's optimiser
    steps: int = 300                  # our choice: enough for L-BFGS at 256-512 px
    size: int = 256                   # long side of the output, pixels
    # Our choice: the Caffe weights were trained with max pooling; Gatys et al. report average
    # pooling as slightly more pleasing ("avg" is available).
    pooling: str = "max"
    lr: float | None = None           # None: 1.0 for L-BFGS, 0.02 for Adam (pixels in [0,1])
    style_scale: float = 1.0          # style image long side relative to the output's
    seed: int = 0                     # for the noise init


@dataclass
class Result:
    image: torch.Tensor                          # (1,3,H,W) in [0,1]
    history: list = field(default_factory=list)  # one dict of losses per step

    @property
    def final(self) -> dict:
        """The history row of the returned image at the last scale (L-BFGS: the lowest total it
        evaluated; Adam: the last step, one update before the returned image)."""
        rows = [h for h in self.history if h.get("returned")]
        return rows[-1] if rows else self.history[-1]

    def curve(self, name: str = "total") -> list[float]:
        """One loss over the steps, e.g. ``curve("style")`` or ``curve("style/relu1_1")``."""
        if self.history and name not in self.history[0]:
            raise ArgumentError(f"no loss named {name!r} in the history; choose one of {sorted(self.history[0])}")
        return [h[name] for h in self.history]


# ---------------------------------------------------------------- the objective

class Objective(PerceptualLoss):
    """The Gatys loss for one output size, with its targets computed once (``losses.PerceptualLoss``).

    ``targets``: content features phi_l(c) (if there is a content image) and the blended style Grams
    sum_k beta_k G(phi_l(s_k)) / sum_k beta_k, all detached. ``__call__(x)`` returns
    ``(total, terms)``; ``terms`` is the history row for this step.
    """

    def __init__(self, encoder, content, styles, style_weights, content_layers, style_layers,
                 content_layer_weights, style_layer_weights, content_weight, style_weight, tv_weight):
        super().__init__(encoder, content_layers if content is not None else (), style_layers,
                         content_layer_weights=content_layer_weights, style_layer_weights=style_layer_weights,
                         content_weight=content_weight, style_weight=style_weight,
                         tv_weight=float(tv_weight) or None)
        if content is not None:
            self.set_content_image(content)
        self.set_style_image(list(styles), weights=style_weights)


# ---------------------------------------------------------------- the optimisation

class _Budget(Exception):
    pass


def _optimise(x: torch.Tensor, objective: Objective, steps: int, optimizer: str, lr: float | None,
              history: list, scale: int, callback, bar) -> torch.Tensor:
    """Run ``steps`` forward/backward passes of ``objective`` on the pixels of ``x``; returns x."""
    x = x.detach().clone().contiguous().requires_grad_(True)
    if optimizer == "lbfgs":
        # A strong-Wolfe line search keeps the first steps from overshooting (without one, the
        # loss can jump 100x on larger images); every evaluation it makes counts as a step.
        opt = torch.optim.LBFGS([x], lr=1.0 if lr is None else lr, max_iter=steps, max_eval=steps,
                                tolerance_grad=0.0, tolerance_change=0.0, history_size=100,
                                line_search_fn="strong_wolfe")
    else:
        opt = torch.optim.Adam([x], lr=0.02 if lr is None else lr)
    done = [0]
    best = [math.inf, None]  # the line search evaluates trial points; keep the best image seen
    final = [None]

    def closure():
        if done[0] >= steps:
            raise _Budget  # the line search wants more evaluations than the steps left
        with torch.no_grad():
            x.clamp_(0.0, 1.0)  # keep the pixels valid (L-BFGS copes with this in practice)
        opt.zero_grad(set_to_none=True)
        total, terms = objective(x)
        if not torch.isfinite(total):
            raise ArgumentError(f"the loss became {float(total.detach())} at step {len(history) + 1}; lower the "
                                f"weights or lr=, or start from init='content'")
        total.backward()
        if float(total.detach()) < best[0]:
            best[0], best[1] = float(total.detach()), x.detach().clone()
            final[0] = len(history)
        row = {k: float(v.detach()) for k, v in terms.items()}
        row["step"], row["scale"] = len(history) + 1, scale
        history.append(row)
        done[0] += 1
        bar.update(1)
        bar.set_postfix({k: f"{row[k]:.3g}" for k in ("total", "content", "style") if k in row}, refresh=False)
        if callback is not None:
            callback(row["step"], x.detach().clamp(0.0, 1.0), row)
        return total

    if optimizer == "lbfgs":
        while done[0] < steps:  # L-BFGS can stop early when a step makes no progress; go on
            before = done[0]
            opt.param_groups[0]["max_eval"] = steps - done[0]
            opt.param_groups[0]["max_iter"] = steps - done[0]
            try:
                opt.step(closure)
            except _Budget:
                break
            if done[0] == before:
                break
    else:
        for _ in range(steps):
            opt.step(closure)
    with torch.no_grad():
        x.clamp_(0.0, 1.0)
    if optimizer == "lbfgs" and best[1] is not None:
        history[final[0]]["returned"] = True
        return best[1].clamp(0.0, 1.0)
    history[-1]["returned"] = True
    return x.detach()


# ---------------------------------------------------------------- preparing the inputs

def _check_choice(name, value, choices):
    if value not in choices:
        raise ArgumentError(f"{name}={value!r} is unknown; choose one of {', '.join(map(repr, choices))}")


def _as_list(style):
    if isinstance(style, (list, tuple)):
        if not style:
            raise ArgumentError("style is an empty list; give at least one style image")
        return list(style)
    return [style]


def _steps_per_scale(steps, scales):
    if isinstance(steps, (list, tuple)):
        if len(steps) != len(scales):
            raise ArgumentError(f"steps has {len(steps)} entries for {len(scales)} scales; give one per scale or one int")
        out = [int(s) for s in steps]
    else:
        out = [int(steps)] * len(scales)
    if any(s < 1 for s in out):
        raise ArgumentError(f"steps={steps} must be at least 1 (per scale)")
    return out


def _grey(x: torch.Tensor) -> torch.Tensor:
    return images.luminance(x).expand(-1, 3, -1, -1).contiguous()


@ops.with_grad
def run(content, style, *, content_layers: Sequence[str] | None = None,
        style_layers: Sequence[str] | None = None, layer_weights: Mapping[str, float] | None = None,
        content_layer_weights: Mapping[str, float] | None = None, content_weight: float | None = None,
        style_weight: float | None = None, tv_weight: float | None = None, init: str | torch.Tensor | None = None,
        optimizer: str | None = None, steps: int | Sequence[int] | None = None, size: int | None = None,
        scales: Sequence[int] | None = None, pooling: str | None = None, lr: float | None = None,
        style_weights: Sequence[float] | None = None, preserve_color=None,
        style_scale: float | None = None, seed: int | None = None, callback: Callable | None = None,
        progress: bool = True, device=None, cfg: Config | None = None) -> Result:
    """Optimise an image; returns ``Result(image, history)``. Every control defaults to ``cfg``
    (``Config()`` if not given).

    - ``content``: image, path or asset name; ``None`` for texture synthesis (no content term).
    - ``style``: one image or a list of them, blended with ``style_weights`` (Gram matrices mixed).
    - ``content_layers`` / ``style_layers``: VGG-19 layer names.
    - ``layer_weights``: ``{style_layer: w_s^l}``; layers left out get 0. If ``style_layers`` is not
      given, the keys of ``layer_weights`` are the style layers. ``content_layer_weights`` likewise.
    - ``content_weight``, ``style_weight``, ``tv_weight``: a, b, t of the objective.
    - ``init``: "content", "noise" (uniform white noise), "style", or an image tensor.
    - ``optimizer``: "lbfgs" or "adam" (``lr`` its step size); ``steps``: forward/backward passes.
      L-BFGS (strong-Wolfe line search) returns the image with the lowest loss it evaluated.
    - ``size``: long side of the output; ``scales=(256, 512, 1024)`` optimises coarse to fine:
      ``steps`` (an int, or one per scale) at each size, the result upsampled to start the next.
    - ``pooling``: "max" or "avg" in the encoder.
    - ``preserve_color``: None / False, "luminance" or True (transfer on luminance only, then put
      back the content's colour; Gatys et al. 2017 Sec. 5.1) or "histogram" (match the style's
      colour mean and covariance to the content's first; Sec. 5.2); see ``stylelab.controls``.
    - ``callback(step, image, losses)``: called after every step with a copy of the image.
    """
    cfg = cfg if cfg is not None else Config()
    pick = lambda v, name: getattr(cfg, name) if v is None else v
    if style_layers is None:
        style_layers = tuple(layer_weights) if layer_weights else cfg.style_layers
    content_layers = pick(content_layers, "content_layers")
    a, b, t = pick(content_weight, "content_weight"), pick(style_weight, "style_weight"), pick(tv_weight, "tv_weight")
    init, optimizer = pick(init, "init"), pick(optimizer, "optimizer")
    steps, size, pooling = pick(steps, "steps"), pick(size, "size"), pick(pooling, "pooling")
    lr, style_scale, seed = pick(lr, "lr"), pick(style_scale, "style_scale"), pick(seed, "seed")

    # -- arguments that cannot work
    check_layers(style_layers)
    check_layers(content_layers)
    if not isinstance(init, torch.Tensor):
        _check_choice("init", init, INITS)
    _check_choice("optimizer", optimizer, OPTIMIZERS)
    _check_choice("pooling", pooling, ("max", "avg"))
    preserve_color = controls.color_mode(preserve_color)
    for name, v in (("content_weight", a), ("style_weight", b), ("tv_weight", t)):
        if not math.isfinite(float(v)) or v < 0:
            raise ArgumentError(f"{name}={v} must be a finite number >= 0")
    if (a if content is not None else 0) + b <= 0:
        raise ArgumentError(f"the total loss weight is zero (content_weight={a}, style_weight={b}"
                            f"{', no content image' if content is None else ''}); give the style "
                            f"(or content) term a positive weight")
    if lr is not None and not lr > 0:
        raise ArgumentError(f"lr={lr} must be > 0")
    if not style_scale > 0:
        raise ArgumentError(f"style_scale={style_scale} must be > 0")
    scales = [int(s) for s in (scales if scales else [size])]
    if any(s < config.MIN_SIDE for s in scales):
        raise ArgumentError(f"sizes {scales} must be at least {config.MIN_SIDE} px (the encoder's smallest input)")
    steps_at = _steps_per_scale(steps, scales)
    if content is None and preserve_color is not None:
        raise ArgumentError("preserve_color needs a content image to take the colours from; "
                            "drop preserve_color for texture synthesis")

    dev = config.device(device)
    styles = [assets.resolve(s).to(dev) for s in _as_list(style)]
    betas = controls.style_weights(style_weights, len(styles), normalise=False)
    content_full = assets.resolve(content).to(dev) if content is not None else None
    if isinstance(init, str) and init == "content" and content is None:
        init = "noise"  # texture synthesis has no content to start from
    if preserve_color == "histogram":
        styles = [stats.match_color(s, content_full) for s in styles]
    elif preserve_color == "luminance":
        styles = [stats.match_luminance(s, content_full) for s in styles]
    work_content = _grey(content_full) if preserve_color == "luminance" else content_full
    shape_src = content_full if content_full is not None else styles[0]

    encoder = vgg19(pooling=pooling, device=str(dev))
    history: list = []
    x = None
    bar = tqdm(total=sum(steps_at), disable=not progress, desc="gatys")
    try:
        for s, n in zip(scales, steps_at):
            ref = images.resize(shape_src, s)
            out_hw = tuple(ref.shape[-2:])
            images.check_size(ref, "the output")
            c_s = images.resize(work_content, out_hw) if work_content is not None else None
            st_s = [images.resize(st, max(config.MIN_SIDE, round(s * style_scale))) for st in styles]
            objective = Objective(encoder, c_s, st_s, betas, content_layers, style_layers,
                                  content_layer_weights, layer_weights, a, b, t)
            if x is None:
                x = _initial(init, c_s, st_s[0], out_hw, seed, dev)
            else:
                x = images.resize(x, out_hw)
            bar.set_description(f"gatys {out_hw[1]}x{out_hw[0]}")
            x = _optimise(x, objective, n, optimizer, lr, history, s, callback, bar)
    finally:
        bar.close()
    if preserve_color == "luminance":
        x = stats.luminance_transfer(x, content_full)
    return Result(x.clamp(0.0, 1.0), history)


def _initial(init, content, style, hw, seed, dev) -> torch.Tensor:
    if isinstance(init, torch.Tensor):
        return images.resize(images.load(init), hw).to(dev)
    if init == "content":
        return content.clone()
    if init == "style":
        return images.resize(style, hw).clone()
    g = torch.Generator().manual_seed(int(seed))
    return torch.rand((1, 3) + tuple(hw), generator=g).to(dev)


def stylize(content, style=None, *, model=None, size: int | None = None, **controls) -> torch.Tensor:
    """The stylised image, (1,3,H,W) in [0,1], the content's size (``size``: resize the content's
    long side first; the optimisation itself runs at ``size``, default ``Config.size``, and the
    result is resized to the content). The controls are those of ``run``. Gatys et al.'s method has
    no network to pass as ``model``: it optimises the picture itself."""
    if model is not None:
        raise ArgumentError("gatys has no trained network: it optimises the image itself; drop model=")
    if style is None:
        raise ArgumentError("no style given; pass a style image (or a list of them)")
    c = assets.resolve(content, size)
    out = run(c, style, size=size, **controls).image
    return images.match_size(out, c) if out.shape[-2:] != c.shape[-2:] else out


def synthesize(style, size: int | None = None, **controls) -> torch.Tensor:
    """Texture synthesis (Gatys et al. 2015): match only the style's Gram matrices from noise."""
    return run(None, style, size=size, **controls).image


# ---------------------------------------------------------------- the common method surface

class Pastiche(nn.Module):
    """The image being optimised, as the module's only parameter (Gatys has no network)."""

    def __init__(self, image: torch.Tensor):
        super().__init__()
        self.image = nn.Parameter(image.detach().clone())

    def forward(self) -> torch.Tensor:
        return self.image.clamp(0.0, 1.0)


def build(cfg: Config | None = None, image: torch.Tensor | None = None) -> Pastiche:
    """A ``Pastiche`` holding ``image`` (default: white noise of ``cfg.size`` px square)."""
    cfg = cfg or Config()
    if image is None:
        g = torch.Generator().manual_seed(cfg.seed)
        image = torch.rand(1, 3, cfg.size, cfg.size, generator=g)
    return Pastiche(images.load(image))


def loss(model: Pastiche, batch: dict, cfg: Config | None = None) -> dict:
    """Named, weighted loss terms of ``model.image`` against the first content and style of ``batch``
    (targets computed on every call; ``run`` precomputes them instead)."""
    cfg = cfg or Config()
    x = model.image
    enc = vgg19(pooling=cfg.pooling, device=str(x.device))
    content = batch.get("content")
    content = images.match_size(content[:1], x) if content is not None else None
    obj = Objective(enc, content, [batch["style"][:1]], [1.0], cfg.content_layers, cfg.style_layers,
                    None, None, cfg.content_weight, cfg.style_weight, cfg.tv_weight)
    return obj.weighted(x)


def pretrained():
    """Gatys' method has no trained network to ship: ``stylize`` optimises each image from scratch."""
    raise CheckpointError("gatys has no trained network and so no checkpoint; call "
                          "stylelab.methods.gatys.stylize(content, style) to optimise an image directly")
