"""MetaStyle: a meta-learned network that adapts to any new style in a few steps
(Zhang, Zhu and Zhu, AAAI 2019).

Style transfer as bilevel optimisation. For a style s, let L_s(theta; C) be the perceptual loss
of the feed-forward network T_theta on content images C:

    L_s(theta; C) = lambda_c L_content(T_theta(C), C) + lambda_s L_style(T_theta(C), s) + lambda_tv TV(T_theta(C))

Inner loop (adapt a copy to one style on a support batch C_sup, K gradient steps):

    theta_0' = theta,    theta_{k+1}' = theta_k' - delta * clip(grad L_s(theta_k'; C_sup)),    theta_s' = theta_K'

(clip(g) = g * min(1, c / ||g||) keeps each step at most delta * c long: the perceptual loss on
Caffe VGG features has gradients of norm 1e4..1e5 at a random start, so a plain step would blow up;
clipping is differentiable, so the second-order update still goes through it.)

Outer loop (update the shared initialisation from the adapted models' loss on query batches):

    min_theta  E_s [ L_s(theta_s'(theta); C_query) ]

Second order differentiates through the inner steps (d theta_s' / d theta involves Hessians);
the first-order approximation treats d theta_s' / d theta as the identity, so the outer gradient
is simply grad L_s at theta_s' (FOMAML). It needs no graph of the inner loop: about half the time
and a fraction of the memory, which is why it is the default on a CPU.

At test time ``adapt`` first takes exactly the inner-loop step(s) the start was meta-trained for,
then continues with Adam. (Measured: Adam from the very first update throws away most of the
meta-learned head start -- a meta-learned theta can itself have a large loss, because only theta'
is optimised -- and repeating the clipped inner step oscillates.)

The network is Johnson et al.'s TransformNet with instance normalisation. The inner loop adapts
all parameters, or only the normalisation (gamma, beta) ones -- 0.4 % of the parameters, which a
style is known to live in (Dumoulin et al.'s conditional IN).

The package: ``core`` (the network, its settings, the perceptual loss), ``bilevel`` (the inner loop
and the meta step) and, here, test-time adaptation and the method's surface.
"""
from __future__ import annotations

import copy
import hashlib
import sys
import types
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from ... import assets, checkpoints, config as _config, controls, images, ops
from ...data import image_files
from ...errors import ArgumentError
from ..johnson import TransformNet
from .bilevel import inner_loop, meta_step, tasks_from_batch, train_step
from .core import (ADAPTS, ORDERS, Config, adapted_names, build, check_config, config_of, loss, norm_parameter_names,
                   objective, perceptual_terms, resolved_order, style_targets)

__all__ = ["ADAPTS", "ARENA_CONTROLS", "ORDERS", "STYLE_INPUT", "TRAINED", "AdaptedStyle", "Config",
           "TransformNet", "adapt", "adapted_names", "build", "check_config", "clear_cache", "config_of",
           "content_batch", "encode_style", "evaluate", "inner_loop", "loss", "meta_step", "norm_parameter_names",
           "objective", "perceptual_terms", "pretrained", "resolved_order", "single_style_module", "style_targets",
           "stylize", "tasks_from_batch", "train_step"]

#: ``stylize``'s ``style`` is a picture: a tensor, a path or a bundled name (``methods.Method``).
STYLE_INPUT = "image"
#: A trained network ships: the meta-learned start that ``stylize`` adapts to each style.
TRAINED = True
#: What the arena and the gallery run it with: K = 20 adaptation steps at 256 px, adapted anew
#: for every picture (``encode_style`` gives the adapted network to reuse; ``bench.arena``).
ARENA_CONTROLS = {"steps": 20, "adapt_size": 256, "progress": False, "cache": False}


# ---------------------------------------------------------------- test time: adapt, stylize

def _square(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize the short side to ``size`` and crop the centre square (sides a multiple of 4)."""
    size = max(_config.MIN_SIDE, size - size % 4)
    h, w = x.shape[-2:]
    s = size / min(h, w)
    x = images.resize(x, (max(size, round(h * s)), max(size, round(w * s))))
    return images.center_crop(x, size)


def content_batch(content=None, size: int = 256) -> torch.Tensor:
    """A batch (N,3,S,S) of square content crops: ``content`` (tensor, list, folder, names) or the
    bundled content photos."""
    if content is None:
        content = assets.names("content")
    if isinstance(content, torch.Tensor) and content.dim() == 4 and content.shape[0] > 1:
        content = list(content.split(1))
    if not isinstance(content, (list, tuple)):
        if isinstance(content, (str, Path)) and Path(content).is_dir():
            content = image_files(content)
        else:
            content = [content]
    return torch.cat([_square(assets.resolve(c), size) for c in content])


def evaluate(model: nn.Module, content: torch.Tensor, style, cfg: Config | None = None) -> dict:
    """Style + content (+ TV) loss of ``model`` on ``content`` (N,3,S,S) for ``style``; floats."""
    cfg = cfg or Config()
    style = assets.resolve(style).to(content.device) if not isinstance(style, torch.Tensor) else style
    grams = style_targets(style, cfg)
    with torch.no_grad():
        terms = perceptual_terms(model(content), content, grams, cfg)
    out = {k: float(v) for k, v in terms.items()}
    out["total"] = sum(out.values())
    return out


@ops.with_grad
def adapt(style, steps: int | None = None, model: nn.Module | None = None, cfg: Config | None = None, *,
          content=None, lr: float | None = None, params: str | None = None, size: int | None = None,
          batch_size: int = 2, optimizer: str = "meta", eval_content: torch.Tensor | None = None,
          seed: int = 0, progress: bool = True) -> nn.Module:
    """A fast feed-forward model for ``style``: a copy of ``model`` (default: the shipped
    meta-learned one) after ``steps`` (K) updates of the style's perceptual loss on ``content``.

    ``params`` 'all' or 'norm' picks what adapts (default ``cfg.adapt``). ``optimizer``:

    * 'meta' (default): the first ``cfg.inner_steps`` updates are exactly the inner loop's rule
      (clipped gradient steps of size ``cfg.inner_lr``), the update the meta-learned start was
      trained to take; the remaining ones are Adam with ``cfg.adapt_lr``;
    * 'sgd': the inner-loop rule for every step;
    * 'adam': Adam for every step.

    ``lr`` overrides Adam's rate ('meta', 'adam') or the step size of every step ('sgd'). The
    returned model has
    ``.history``: the training loss per step, and with ``eval_content`` also ``.eval_history``: the
    loss on those images before each step and after the last (length steps + 1).
    """
    if model is None:
        model = pretrained()
    if not isinstance(model, nn.Module):
        raise ArgumentError(f"model must be an nn.Module (e.g. metastyle.build() or pretrained()), got {type(model).__name__}")
    cfg = check_config(cfg or config_of(model))
    steps = cfg.adapt_steps if steps is None else int(steps)
    if steps < 0:
        raise ArgumentError(f"steps={steps} must be >= 0")
    size = size or cfg.size
    device = next(model.parameters()).device
    style_t = _square(assets.resolve(style), size).to(device)
    data = content_batch(content, size).to(device)
    fast = copy.deepcopy(model).train()
    names = set(adapted_names(fast, params or cfg.adapt))
    for n, p in fast.named_parameters():
        p.requires_grad_(n in names)
    trainable = [p for n, p in fast.named_parameters() if n in names]
    if optimizer not in ("meta", "sgd", "adam"):
        raise ArgumentError(f"optimizer={optimizer!r} is unknown; use 'meta', 'sgd' or 'adam'")
    # the inner-loop rule (clipped gradient steps of size inner_lr) for the first n_inner steps
    n_inner = {"meta": cfg.inner_steps, "sgd": steps, "adam": 0}[optimizer]
    inner_opt = torch.optim.SGD(trainable, lr=cfg.inner_lr if optimizer == "meta" else (lr or cfg.inner_lr))
    adam = torch.optim.Adam(trainable, lr=lr or cfg.adapt_lr)
    loss = objective(cfg, style_targets(style_t, cfg))   # the style's targets, once
    gen = torch.Generator().manual_seed(seed)
    history, eval_history = [], []
    for step in tqdm(range(steps), desc="adapt", disable=not progress or steps < 10, leave=False):
        if eval_content is not None:
            eval_history.append(evaluate(fast, eval_content, style_t, cfg)["total"])
        rows = torch.randint(0, data.shape[0], (min(batch_size, data.shape[0]),), generator=gen)
        x = data[rows.to(device)]
        terms = loss.set_content_image(x).weighted(fast(x))
        total = sum(terms.values())
        if not torch.isfinite(total):
            raise ArgumentError(f"adaptation loss became {float(total)}; lower lr")
        inner = step < n_inner
        opt = inner_opt if inner else adam
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(trainable, cfg.inner_clip if inner else cfg.clip)
        opt.step()
        history.append(float(total.detach()))
    if eval_content is not None:
        eval_history.append(evaluate(fast, eval_content, style_t, cfg)["total"])
    for p in fast.parameters():
        p.requires_grad_(False)
    fast.eval()
    fast.history, fast.eval_history = history, eval_history
    return fast


_CACHE: "OrderedDict[tuple, nn.Module]" = OrderedDict()
CACHE_SIZE = 8


def _fingerprint(t: torch.Tensor) -> str:
    return hashlib.sha1(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def _model_key(model: nn.Module) -> tuple:
    with torch.no_grad():
        s = sum(float(p.double().sum()) + float(p.double().abs().sum()) for p in model.parameters())
    return id(model), s


def clear_cache() -> None:
    """Forget every adapted model kept by ``stylize``."""
    _CACHE.clear()


class AdaptedStyle(NamedTuple):
    """A style's adapted network (``encode_style``); ``stylize`` takes it as ``style`` and adapts
    nothing."""
    net: nn.Module


def encode_style(style, model: nn.Module | None = None, *, steps: int | None = None, cfg: Config | None = None,
                 params: str | None = None, adapt_size: int | None = None, adapt_content=None,
                 progress: bool = False) -> AdaptedStyle:
    """Adapt ``model`` (default: the shipped start) to ``style`` once, for many ``stylize`` calls:
    ``stylize(content, encode_style(style), ...)`` costs one forward pass. (``stylize`` also keeps
    its last adapted networks itself; this is the explicit form, and what the arena times.)"""
    model = model if model is not None else pretrained()
    cfg = cfg or config_of(model)
    return AdaptedStyle(adapt(assets.resolve(style), steps=steps, model=model, cfg=cfg, content=adapt_content,
                              params=params, size=adapt_size or cfg.size, progress=progress))


def _adapted(model, cfg, style_t, steps, params, size, adapt_content, progress, cache) -> nn.Module:
    """The network adapted to ``style_t``: from the cache when it holds one (and ``cache``), else
    adapted now (and kept)."""
    key = (_model_key(model), _fingerprint(_square(style_t, size)), steps, params or cfg.adapt, size,
           tuple(sorted(asdict(cfg).items())), None if adapt_content is None else str(adapt_content))
    fast = _CACHE.get(key) if cache else None
    if fast is None:
        fast = adapt(style_t, steps=steps, model=model, cfg=cfg, content=adapt_content, params=params,
                     size=size, progress=progress)
        if cache:
            _CACHE[key] = fast
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return fast


def stylize(content, style=None, *, model: nn.Module | None = None, size: int | None = None,
            steps: int | None = None, cfg: Config | None = None, params: str | None = None,
            adapt_size: int | None = None, adapt_content=None, preserve_color=False,
            progress: bool = True, cache: bool = True) -> torch.Tensor:
    """Stylise ``content`` with ``style``: adapt ``model`` (default: the shipped meta-learned one) to
    the style in ``steps`` updates -- once per (model, style, steps, params); later calls reuse the
    adapted network unless ``cache=False`` -- then one forward pass. ``style`` may also be
    ``encode_style``'s result (no adaptation). Returns (1,3,H,W) in [0,1], the content's size
    (``size``: resize the content's long side first).

    ``adapt_content`` are the photos the adaptation trains on (default: the bundled ones), at
    ``adapt_size`` (default ``cfg.size``); ``preserve_color``: see ``stylelab.controls``.
    """
    color = controls.color_mode(preserve_color)
    if style is None:
        raise ArgumentError("no style given; MetaStyle adapts to a style image, pass one")
    x = assets.resolve(content, size)
    if isinstance(style, AdaptedStyle):
        if color == "histogram":
            raise ArgumentError("preserve_color='histogram' recolours the style image before adapting to it; "
                                "pass the style image, not encode_style's result (or use preserve_color=True)")
        fast = style.net
    else:
        model = model if model is not None else pretrained()
        cfg = cfg or config_of(model)
        style_t = controls.recolor_style(assets.resolve(style), x, color)
        fast = _adapted(model, cfg, style_t, steps, params, adapt_size or cfg.size, adapt_content, progress, cache)
    device = next(fast.parameters()).device
    xp, hw = images.pad_to_multiple(x.to(device), 4)   # two stride-2 convs, then two upsamplings
    with torch.no_grad(), ops.eval_mode(fast):
        out = images.crop_to(fast(xp), hw).clamp(0.0, 1.0)
    return controls.keep_luminance(out, x, color)


def pretrained(name: str = "default") -> TransformNet:
    """The shipped meta-learned initialisation (raises CheckpointError while none ships)."""
    return checkpoints.pretrained(sys.modules[__name__], name)


# ---------------------------------------------------------------- baselines for the comparison

def single_style_module(cfg: Config | None = None):
    """A method module for ``stylelab.train`` that trains the same network on one style with the
    same perceptual loss and no inner loop: Johnson et al.'s single-style training."""
    cfg = cfg or Config()
    return types.SimpleNamespace(__name__="johnson_baseline", Config=lambda: cfg, build=build,
                                 loss=lambda model, batch: loss(model, batch, cfg))

