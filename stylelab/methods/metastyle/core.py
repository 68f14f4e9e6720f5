"""MetaStyle's network, settings and perceptual loss (the package's docstring has the method)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from ... import losses, stats
from ...encoders import vgg19
from ...errors import ArgumentError
from ..johnson import TransformNet

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


def objective(cfg: Config, grams: dict, content: torch.Tensor | None = None) -> losses.PerceptualLoss:
    """The perceptual loss of one style (its Gram targets ``grams``), with ``content`` as the content
    target when given (``set_content_image`` sets a new one)."""
    device = next(iter(grams.values())).device
    loss = losses.PerceptualLoss(vgg19(device=str(device)), cfg.content_layers, cfg.style_layers,
                                 content_weight=cfg.content_weight, style_weight=cfg.style_weight,
                                 tv_weight=cfg.tv_weight).set_style_grams(grams)
    return loss.set_content_image(content) if content is not None else loss


def perceptual_terms(output: torch.Tensor, content: torch.Tensor, grams: dict, cfg: Config) -> dict:
    """Weighted content, style (Gram) and TV terms of ``output`` for ``content`` and style ``grams``."""
    return objective(cfg, grams, content).weighted(output)


def loss(model: nn.Module, batch: dict, cfg: Config | None = None) -> dict:
    """Plain (single-level) perceptual loss: each content row against its own style row."""
    cfg = cfg or config_of(model)
    return perceptual_terms(model(batch["content"]), batch["content"], style_targets(batch["style"], cfg), cfg)
