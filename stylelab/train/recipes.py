"""Training recipes that go beyond one call of ``train()``: a multi-style network and a style added
to it, the adjustable network and its fixed-weight baseline, MetaStyle's meta-training and its
single-style baseline. Each is a thin wrapper that sets the method's options and calls ``train``.
"""
from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace
from typing import Sequence

from .. import assets
from ..data import load_images
from ..errors import ArgumentError, ImageError
from ..methods import adjustable, cin, metastyle
from .loop import train


def fit_cin(content, styles: Sequence, *, steps: int = 2000, size: int = 256, cfg: cin.Config | None = None,
        names: Sequence[str] | None = None, **train_kwargs):
    """Train one network on ``styles`` (a list of images or asset names): a thin wrapper of
    ``train.train`` that sets ``n_styles`` and the names. Returns the trainer's Result."""
    styles = list(styles)
    if names is None:
        names = [s if isinstance(s, str) else f"style {i}" for i, s in enumerate(styles)]
    cfg = cin.Config(**{**asdict(cfg or cin.Config()), "n_styles": len(styles), "style_names": tuple(names)})
    style_imgs = [assets.resolve(s) if isinstance(s, str) else s for s in styles]
    return train(cin, content, style_imgs, size=size, steps=steps, cfg=cfg, **train_kwargs)


def add_cin_style(model: cin.CINNet, style_image, steps: int = 200, *, content=None, size: int = 256,
                  name: str | None = None, lr: float = 1e-2, init: str = "mean", seed: int = 0,
                  batch_size: int | None = None, progress: bool = True):
    """Teach a trained network one more style by training only that style's (gamma, beta).

    Every convolution stays frozen, so the styles already learned are untouched. ``content``
    defaults to the bundled content photos. Returns the trainer's Result (its model is ``model``).
    """
    if steps < 1:
        raise ArgumentError(f"steps={steps} must be at least 1")
    if name is None and isinstance(style_image, str):
        name = style_image
    style = assets.resolve(style_image) if isinstance(style_image, str) else style_image
    content = content if content is not None else assets.names("content")
    new = model.add_style(name, init)
    index = model.n_styles - 1
    frozen = [p for p in model.parameters() if p.requires_grad and all(p is not q for q in new)]
    for p in frozen:
        p.requires_grad_(False)
    model.style_map = [index]
    try:
        return train(cin, content, [style], size=size, steps=steps, lr=lr, seed=seed, model=model,
                     cfg=model.cfg, params=new, batch_size=batch_size, progress=progress)
    finally:
        model.style_map = None
        for p in frozen:
            p.requires_grad_(True)


def fit_adjustable(content, style, *, steps: int = 2000, size: int = 256,
                   cfg: adjustable.Config | None = None, **train_kwargs):
    """Train the adjustable network on one style (a thin wrapper of ``train.train``)."""
    cfg = cfg or adjustable.Config()
    if isinstance(style, str) and not cfg.style_name:
        cfg = adjustable.Config(**{**asdict(cfg), "style_name": style})
    return train(adjustable, content, style, size=size, steps=steps, cfg=cfg, **train_kwargs)


def retrain_fixed_alpha(content, style, alpha_s, *, alpha_c: float = 1.0, steps: int = 2000,
                        size: int = 256, cfg: adjustable.Config | None = None, **train_kwargs):
    """Train Johnson's network (plain IN, same size and loss) with the per-layer weights fixed to
    ``alpha_s`` / ``alpha_c``: what one had to do for every setting before the adjustable network."""
    cfg = cfg or adjustable.Config()
    alpha = adjustable.make_alpha(SimpleNamespace(cfg=cfg), alpha_s, alpha_c)
    model = adjustable.FixedAlphaNet(cfg, alpha)
    return train(adjustable, content, style, size=size, steps=steps, cfg=cfg, model=model, **train_kwargs)


def meta_train(content, styles, cfg: metastyle.Config | None = None, *, steps: int = 1000, size: int = 256,
               seed: int = 0, model=None, device=None, progress: bool = True):
    """Meta-train theta over a folder (or list) of styles through ``stylelab.train``.

    Returns the trainer's Result (``.model`` is the meta-learned initialisation, ``.history`` has
    the query loss after adaptation, ``total``, and before it, ``before``, per step).
    """
    cfg = metastyle.check_config(cfg or metastyle.Config())
    style_list = load_images(styles, size, "style")
    if len(style_list) < 2:
        raise ImageError(f"meta-training needs at least 2 style images, got {len(style_list)}; "
                         "a meta-learned start must generalise over styles, so add more styles to the folder")
    if cfg.batch_size < 2:
        raise ArgumentError(f"batch_size={cfg.batch_size} must be at least 2 (a support and a query row)")
    if model is not None:
        model.cfg = cfg  # the meta step reads its bilevel settings from the network's config
    return train(metastyle, content, style_list, size=size, steps=steps, batch_size=cfg.batch_size,
                 lr=cfg.lr, seed=seed, model=model, cfg=cfg, device=device, progress=progress)


def train_single_style(content, style, cfg: metastyle.Config | None = None, *, steps: int = 400,
                       size: int = 256, lr: float = 1e-3, seed: int = 0, device=None, progress: bool = True):
    """A Johnson network for one ``style`` (the "trained on another style" start), trained with
    Adam at ``lr`` (Johnson et al.'s 1e-3); trainer Result."""
    cfg = cfg or metastyle.Config()
    return train(metastyle.single_style_module(cfg), content, style, size=size, steps=steps,
                 batch_size=cfg.batch_size, lr=lr, seed=seed, cfg=cfg, device=device, progress=progress)
