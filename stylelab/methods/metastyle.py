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
"""
from __future__ import annotations

import copy
import hashlib
import sys
import types
from collections import OrderedDict
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
from torch.func import functional_call

from .. import assets, checkpoints, config as _config, controls, images, losses, ops, stats
from ..data import image_files
from ..encoders import vgg19
from ..errors import ArgumentError
from .johnson import TransformNet

#: ``stylize``'s ``style`` is a picture: a tensor, a path or a bundled name (``methods.Method``).
STYLE_INPUT = "image"

ORDERS = ("first", "second", "auto")
ADAPTS = ("all", "norm")


@dataclass
class Config:
    # network: Johnson et al.'s transformation net with instance norm (MetaStyle builds on it)
    channels: tuple = (32, 64, 128)         # Johnson et al. supplementary Table 1
    n_residual: int = 5                     # Johnson et al.
    # perceptual loss: layers as in Gatys et al. / Johnson et al.; weights our choice, chosen so
    # that each term is of order 1..100 with the Caffe VGG-19 (inputs scaled to 0..255)
    content_layers: tuple = ("relu2_2",)    # Johnson et al.
    style_layers: tuple = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    content_weight: float = 1e-4            # our choice
    style_weight: float = 1e-5              # our choice
    tv_weight: float = 1.0                  # our choice
    # bilevel optimisation
    inner_steps: int = 1                    # K during meta-training; our choice (MAML-style small K)
    inner_lr: float = 0.05                  # delta, gradient steps in the inner loop; our choice
    inner_clip: float = 10.0                # c, gradient-norm clip of each inner step; our choice
    lr: float = 2e-4                        # outer Adam learning rate; our choice (measured: at 1e-3 an
                                            # outer step moved theta further than the inner step and the
                                            # query loss spiked to 1e3 mid-training)
    batch_size: int = 4                     # rows per trainer batch: first half support, second half query
    tasks: int = 4                          # at most this many styles (tasks) per meta step; our choice
    order: str = "auto"                     # 'first', 'second', or 'auto' (second on CUDA, first on CPU)
    adapt: str = "all"                      # which parameters the inner loop adapts: 'all' or 'norm'
    # test-time adaptation
    adapt_steps: int = 100                  # K at test time; our choice (the paper adapts in ~100s of steps)
    adapt_lr: float = 5e-4                  # Adam learning rate of adapt() after the inner-loop steps;
                                            # our choice (measured: 1e-3 undid the inner step's gain)
    size: int = 256                         # working size (square crops) of adapt(); our choice
    clip: float = 10.0                      # gradient-norm clip of the outer and adaptation updates


def build(cfg: Config | None = None) -> TransformNet:
    """The shared initialisation theta: a TransformNet with instance normalisation."""
    cfg = cfg or Config()
    net = TransformNet(norm="instance", channels=tuple(cfg.channels), n_residual=cfg.n_residual)
    net.cfg = cfg  # the meta step reads its bilevel settings from here
    return net


def config_of(model: nn.Module) -> Config:
    """The Config ``model`` was built (or meta-trained) with: a shipped start carries its own
    inner-loop step size, which ``adapt`` must take to get the start's head start."""
    cfg = getattr(model, "cfg", None)
    return cfg if isinstance(cfg, Config) else Config()


def check_config(cfg: Config) -> Config:
    if cfg.order not in ORDERS:
        raise ArgumentError(f"order={cfg.order!r} is unknown; use one of {ORDERS}")
    if cfg.adapt not in ADAPTS:
        raise ArgumentError(f"adapt={cfg.adapt!r} is unknown; use 'all' or 'norm'")
    if cfg.inner_steps < 1:
        raise ArgumentError(f"inner_steps={cfg.inner_steps} must be at least 1")
    return cfg


def resolved_order(cfg: Config, device) -> str:
    """'first' or 'second': ``cfg.order``, with 'auto' meaning second order on CUDA, first on CPU."""
    if cfg.order != "auto":
        return cfg.order
    return "second" if torch.device(device).type == "cuda" else "first"


def norm_parameter_names(model: nn.Module) -> list[str]:
    """Names of the normalisation parameters (gamma = weight, beta = bias of every norm layer)."""
    norms = (nn.InstanceNorm2d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)
    return [f"{m_name}.{p_name}" if m_name else p_name
            for m_name, m in model.named_modules() if isinstance(m, norms)
            for p_name, _ in m.named_parameters(recurse=False)]


def adapted_names(model: nn.Module, which: str) -> list[str]:
    """Parameter names the inner loop adapts: every one ('all') or the normalisation ones ('norm')."""
    if which not in ADAPTS:
        raise ArgumentError(f"adapt={which!r} is unknown; use 'all' or 'norm'")
    if which == "all":
        return [n for n, p in model.named_parameters() if p.requires_grad]
    names = norm_parameter_names(model)
    if not names:
        raise ArgumentError("adapt='norm' but the model has no affine normalisation layers; use adapt='all'")
    return names


# ---------------------------------------------------------------- the perceptual loss of one style

def _encoder(x: torch.Tensor):
    return vgg19(device=str(x.device))


@torch.no_grad()
def style_targets(style: torch.Tensor, cfg: Config) -> dict:
    """Gram matrices of ``style`` (1,3,H,W) at the style layers (computed once per style)."""
    f = _encoder(style).encode(style, list(cfg.style_layers))
    return {l: stats.gram(f[l]) for l in cfg.style_layers}


def perceptual_terms(output: torch.Tensor, content: torch.Tensor, grams: dict, cfg: Config) -> dict:
    """Weighted content, style (Gram) and TV terms of ``output`` for ``content`` and style ``grams``."""
    enc = _encoder(content)
    layers = list(dict.fromkeys(list(cfg.content_layers) + list(cfg.style_layers)))
    fo = enc.encode(output, layers)
    with torch.no_grad():
        fc = enc.encode(content, list(cfg.content_layers))
    lc, _ = losses.content_loss({l: fo[l] for l in cfg.content_layers}, fc)
    ls, _ = losses.gram_style_loss({l: fo[l] for l in cfg.style_layers}, grams)
    return {"content": cfg.content_weight * lc, "style": cfg.style_weight * ls,
            "tv": cfg.tv_weight * losses.tv_loss(output)}


def loss(model: nn.Module, batch: dict, cfg: Config | None = None) -> dict:
    """Plain (single-level) perceptual loss: each content row against its own style row."""
    cfg = cfg or config_of(model)
    style = batch["style"]
    with torch.no_grad():
        f = _encoder(style).encode(style, list(cfg.style_layers))
        grams = {l: stats.gram(f[l]) for l in cfg.style_layers}
    return perceptual_terms(model(batch["content"]), batch["content"], grams, cfg)


# ---------------------------------------------------------------- bilevel optimisation

def _task_loss(model, params: dict, content, grams, cfg) -> tuple[torch.Tensor, dict]:
    terms = perceptual_terms(functional_call(model, params, (content,)), content, grams, cfg)
    return sum(terms.values()), terms


def inner_loop(model: nn.Module, support: torch.Tensor, grams: dict, cfg: Config,
               second_order: bool) -> dict:
    """theta' after ``cfg.inner_steps`` gradient steps on the support batch, as a name -> tensor dict.

    Second order keeps the graph (``create_graph=True``) so the outer gradient flows back through
    the updates to theta; first order detaches each step.
    """
    names = adapted_names(model, cfg.adapt)
    theta = dict(model.named_parameters())
    fast = {n: (theta[n] if second_order else theta[n].detach().clone().requires_grad_()) for n in names}
    for _ in range(cfg.inner_steps):
        params = {**theta, **fast}
        total, _ = _task_loss(model, params, support, grams, cfg)
        grads = torch.autograd.grad(total, list(fast.values()), create_graph=second_order)
        norm = torch.sqrt(sum((g * g).sum() for g in grads))
        scale = torch.clamp(cfg.inner_clip / (norm + 1e-12), max=1.0)
        grads = [g * scale for g in grads]
        if second_order:
            fast = {n: p - cfg.inner_lr * g for (n, p), g in zip(fast.items(), grads)}
        else:
            with torch.no_grad():
                fast = {n: (p - cfg.inner_lr * g).requires_grad_() for (n, p), g in zip(fast.items(), grads)}
    return fast


def meta_step(model: nn.Module, tasks, optimizer: torch.optim.Optimizer, cfg: Config) -> dict:
    """One outer update of theta from ``tasks`` = [(style (1,3,H,W), support, query), ...].

    The outer gradient is the mean over tasks of grad_theta L_s(theta_s'; query), exact (second
    order) or with d theta'/d theta = I (first order).
    """
    check_config(cfg)
    if not tasks:
        raise ArgumentError("meta_step got no tasks; give at least one (style, support, query)")
    device = next(model.parameters()).device
    second = resolved_order(cfg, device) == "second"
    theta = OrderedDict((n, p) for n, p in model.named_parameters() if p.requires_grad)
    grads = {n: torch.zeros_like(p) for n, p in theta.items()}
    logs = {"content": 0.0, "style": 0.0, "tv": 0.0, "total": 0.0, "before": 0.0}
    for style, support, query in tasks:
        grams = style_targets(style, cfg)
        with torch.no_grad():
            before, _ = _task_loss(model, dict(theta), query, grams, cfg)
        fast = inner_loop(model, support, grams, cfg, second)
        params = {**theta, **fast}
        total, terms = _task_loss(model, params, query, grams, cfg)
        if second:  # fast depends on theta: autograd goes through the inner updates
            g = torch.autograd.grad(total, list(theta.values()), allow_unused=True)
            per = dict(zip(theta, g))
        else:       # first order: the gradient at theta' stands in for the gradient at theta
            keys = list(params)
            g = torch.autograd.grad(total, [params[k] for k in keys], allow_unused=True)
            per = dict(zip(keys, g))
        for n in grads:
            if per.get(n) is not None:
                grads[n] += per[n].detach() / len(tasks)
        for k, v in terms.items():
            logs[k] += float(v.detach()) / len(tasks)
        logs["total"] += float(total.detach()) / len(tasks)
        logs["before"] += float(before) / len(tasks)
    if not all(torch.isfinite(g).all() for g in grads.values()):
        raise ArgumentError("the meta-gradient became non-finite; lower inner_lr or lr")
    optimizer.zero_grad(set_to_none=True)
    for n, p in theta.items():
        p.grad = grads[n]
    torch.nn.utils.clip_grad_norm_(list(theta.values()), cfg.clip)
    optimizer.step()
    return logs


def tasks_from_batch(batch: dict) -> list:
    """Split a trainer batch into meta-learning tasks: one per distinct style in ``style_index``;
    the content rows are split into a support half and a query half, shared by all tasks."""
    content, style, index = batch["content"], batch["style"], batch["style_index"]
    if content.shape[0] < 2:
        raise ArgumentError(f"a meta step needs at least 2 content rows (support + query), got "
                            f"{content.shape[0]}; use batch_size >= 2")
    half = content.shape[0] // 2
    support, query = content[:half], content[half:]
    tasks, seen = [], set()
    for row, i in enumerate(index.tolist()):
        if i not in seen:
            seen.add(i)
            tasks.append((style[row:row + 1], support, query))
    return tasks


def train_step(model: nn.Module, batch: dict, optimizer: torch.optim.Optimizer, step: int) -> dict:
    """The trainer's hook: one bilevel (meta) step on a batch. ``stylelab.train.train("metastyle", ...)``
    calls this instead of its default step. Its settings are the network's own, ``model.cfg``
    (``train metastyle --set tasks=2`` and ``recipes.meta_train(cfg=...)`` set them)."""
    cfg = config_of(model)
    return meta_step(model, tasks_from_batch(batch)[:max(1, cfg.tasks)], optimizer, cfg)


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
        from pathlib import Path
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
    grams = style_targets(style_t, cfg)
    gen = torch.Generator().manual_seed(seed)
    history, eval_history = [], []
    from tqdm.auto import tqdm
    for step in tqdm(range(steps), desc="adapt", disable=not progress or steps < 10, leave=False):
        if eval_content is not None:
            eval_history.append(evaluate(fast, eval_content, style_t, cfg)["total"])
        rows = torch.randint(0, data.shape[0], (min(batch_size, data.shape[0]),), generator=gen)
        x = data[rows.to(device)]
        terms = perceptual_terms(fast(x), x, grams, cfg)
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


def stylize(content, style=None, *, model: nn.Module | None = None, size: int | None = None,
            steps: int | None = None, cfg: Config | None = None, params: str | None = None,
            adapt_size: int | None = None, adapt_content=None, preserve_color=False,
            progress: bool = True) -> torch.Tensor:
    """Stylise ``content`` with ``style``: adapt ``model`` (default: the shipped meta-learned one) to
    the style in ``steps`` updates -- once per (model, style, steps, params); later calls reuse the
    adapted network -- then one forward pass. Returns (1,3,H,W) in [0,1], the content's size
    (``size``: resize the content's long side first).

    ``adapt_content`` are the photos the adaptation trains on (default: the bundled ones), at
    ``adapt_size`` (default ``cfg.size``); ``preserve_color``: see ``stylelab.controls``.
    """
    color = controls.color_mode(preserve_color)
    if style is None:
        raise ArgumentError("no style given; MetaStyle adapts to a style image, pass one")
    model = model if model is not None else pretrained()
    cfg = cfg or config_of(model)
    size, content_size = adapt_size or cfg.size, size
    x = assets.resolve(content, content_size)
    style_t = controls.recolor_style(assets.resolve(style), x, color)
    key = (_model_key(model), _fingerprint(_square(style_t, size)), steps, params or cfg.adapt, size,
           tuple(sorted(asdict(cfg).items())), None if adapt_content is None else str(adapt_content))
    fast = _CACHE.get(key)
    if fast is None:
        fast = adapt(style_t, steps=steps, model=model, cfg=cfg, content=adapt_content, params=params,
                     size=size, progress=progress)
        _CACHE[key] = fast
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
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

