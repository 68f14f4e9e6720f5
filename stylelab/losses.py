"""Perceptual losses: content, Gram style, mean/std style, total variation, with per-layer weights.

Each loss takes dicts ``{layer: feature}`` and a dict of per-layer weights ``{layer: w_l}`` and
returns ``(total, per_layer)`` where ``total = sum_l w_l * L_l``. Squared errors are means over
elements, so layers of different size are on comparable scales.

``PerceptualLoss`` puts them together the way every optimisation-based and feed-forward method
uses them: encode the targets once (``set_content_image``, ``set_style_image``), then score each
new output against them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F

from .errors import ArgumentError
from .stats import gram, mean_std

Feats = Mapping[str, torch.Tensor]


def layer_weights(layers, weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Per-layer weights for ``layers``: ``weights`` if given (missing layers get 0), else 1 each.

    Raises if a weight names a layer not in ``layers``, or if every weight is zero.
    """
    layers = list(layers)
    if weights is None:
        out = {l: 1.0 for l in layers}
    else:
        unknown = set(weights) - set(layers)
        if unknown:
            raise ArgumentError(f"layer weights name {sorted(unknown)} which are not among the layers "
                                f"{layers}; add them to the layers or drop the weights")
        out = {l: float(weights.get(l, 0.0)) for l in layers}
    if any(w < 0 for w in out.values()):
        raise ArgumentError(f"layer weights must be >= 0, got {out}")
    if layers and sum(out.values()) <= 0:
        raise ArgumentError(f"all layer weights are zero ({out}); give at least one layer a positive weight")
    return out


def _weighted(per_layer: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    total = sum(weights[l] * v for l, v in per_layer.items())
    return total if isinstance(total, torch.Tensor) else torch.zeros(())


def scale_features(feats: Feats, layers, scale) -> Feats:
    """{l: phi_l / s_l}: each layer's features divided by its scale, ``scale[i]`` for ``layers[i]``
    (e.g. its mean activation, as a normalised VGG would give). An empty ``scale`` returns
    ``feats`` unchanged (raw features)."""
    if not scale:
        return feats
    if len(scale) != len(layers):
        raise ArgumentError(f"feature_scale needs one number per layer {tuple(layers)}, got {tuple(scale)}")
    s = dict(zip(layers, scale))
    return {l: f / s[l] for l, f in feats.items()}


def content_loss(out: Feats, target: Feats, weights: Mapping[str, float] | None = None):
    """L_c = sum_l w_l * (1/(C H W)) ||phi_l(p) - phi_l(c)||^2 ."""
    w = layer_weights(target.keys(), weights)
    per = {l: F.mse_loss(out[l], target[l].expand_as(out[l])) for l in target}
    return _weighted(per, w), per


def gram_style_loss(out: Feats, target_grams: Feats, weights: Mapping[str, float] | None = None):
    """L_s = sum_l w_l * (1/C^2) ||G(phi_l(p)) - G_l^target||_F^2 , with ``gram`` normalised by C*H*W.

    ``target_grams`` are precomputed Gram matrices (compute them once, not every step).
    """
    w = layer_weights(target_grams.keys(), weights)
    per = {l: F.mse_loss(gram(out[l]), target_grams[l].expand(out[l].shape[0], -1, -1))
           for l in target_grams}
    return _weighted(per, w), per


def mean_std_style_loss(out: Feats, target: Feats, weights: Mapping[str, float] | None = None):
    """Huang & Belongie's style loss: L_s = sum_l w_l (||mu(phi_l(p)) - mu(phi_l(s))||_2^2
    + ||sigma(phi_l(p)) - sigma(phi_l(s))||_2^2) / C_l  (means over channels).

    ``target`` holds features, or ``(mu, sigma)`` tuples precomputed with ``stats.mean_std``.
    """
    w = layer_weights(target.keys(), weights)
    per = {}
    for l, t in target.items():
        mu_t, sd_t = t if isinstance(t, tuple) else mean_std(t)
        mu_o, sd_o = mean_std(out[l])
        per[l] = F.mse_loss(mu_o, mu_t.expand_as(mu_o)) + F.mse_loss(sd_o, sd_t.expand_as(sd_o))
    return _weighted(per, w), per


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation: mean |x[i+1,j] - x[i,j]| + mean |x[i,j+1] - x[i,j]| (anisotropic, L1)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


@dataclass
class ShortRunTerms:
    """Loss options for short CPU runs of the decoders that invert relu4_1 (AdaIN, DIN); our
    additions, and the paper's loss with every one at its default:

    - ``train_alpha``, ``pixel_weight``: a reconstruction warm-up: train on the blend
      (1 - a) f(c) + a T(c, s) at a = ``train_alpha`` (0: an autoencoder of the photo) plus
      ``pixel_weight`` * ||o - c||^2 in pixels;
    - ``feature_scale``: divide each loss layer's VGG features by these before comparing them (one
      per style layer; see ``adain.Config``); empty = raw features;
    - ``identity_weight``: ``identity_weight`` * ||T(c, c) - c||^2 in pixels (SANet's identity
      loss): styled with itself, a photo must come back;
    - ``content_target``: the content term compares the output's relu4_1 with ``"adain"``,
      AdaIN(f(c), f(s)) (AdaIN's loss), or ``"content"``, the photo's own f(c).
    """
    train_alpha: float = 1.0
    pixel_weight: float = 0.0
    feature_scale: tuple = ()
    identity_weight: float = 0.0
    content_target: str = "adain"


class PerceptualLoss:
    """Content, Gram-style and TV loss of an image against targets encoded once.

    Set the targets with ``set_content_image`` and ``set_style_image`` (or ``set_style_grams``);
    they are computed without gradients and kept, so scoring a new output costs one encoder pass.
    Then:

    - ``terms(x)``: the unweighted terms ``content`` = sum_l w_l L_c^l, ``style`` = sum_l w_l L_s^l,
      ``tv`` (when a TV weight is given) and each layer's ``content/<layer>``, ``style/<layer>``;
    - ``weighted(x)``: ``{"content": a L_c, "style": b L_s, "tv": t L_tv}``, a training step's terms;
    - ``__call__(x)``: ``(a L_c + b L_s + t L_tv, terms)``;
    - ``layer_losses(x, per_row=True)``: every layer's raw loss for each row of a batch.

    Content targets are per row of the content batch; style targets per row of the style batch,
    where a batch of one is broadcast to every output row. ``relative=True`` divides each layer's
    weight by the mean square of its target (the content features, the style's Gram matrix), so
    layers of very different magnitude count alike. ``tv_weight=None`` leaves the TV term out.
    """

    def __init__(self, encoder, content_layers: Sequence[str] = (), style_layers: Sequence[str] = (), *,
                 content_layer_weights: Mapping[str, float] | None = None,
                 style_layer_weights: Mapping[str, float] | None = None, content_weight: float = 1.0,
                 style_weight: float = 1.0, tv_weight: float | None = None, relative: bool = False):
        self.encoder = encoder
        self.content_layers, self.style_layers = list(content_layers), list(style_layers)
        self.layers = list(dict.fromkeys(self.content_layers + self.style_layers))
        self.cw = layer_weights(self.content_layers, content_layer_weights) if self.content_layers else {}
        self.sw = layer_weights(self.style_layers, style_layer_weights) if self.style_layers else {}
        self.a, self.b = float(content_weight), float(style_weight)
        self.t = None if tv_weight is None else float(tv_weight)
        self.relative = relative
        self.content_targets: dict[str, torch.Tensor] = {}
        self.style_targets: dict[str, torch.Tensor] = {}

    # ------------------------------------------------------------ targets

    @torch.no_grad()
    def set_content_image(self, content: torch.Tensor) -> "PerceptualLoss":
        """phi_l(content) at the content layers, kept as the content targets."""
        feats = self.encoder.encode(content, self.content_layers) if self.content_layers else {}
        self.content_targets = {l: f.detach() for l, f in feats.items()}
        if self.relative:
            self.cw = {l: 1.0 / float(f.pow(2).mean().clamp_min(1e-8)) for l, f in self.content_targets.items()}
        return self

    @torch.no_grad()
    def set_style_image(self, style, weights: Sequence[float] | None = None) -> "PerceptualLoss":
        """Gram targets of ``style``: a batch (one Gram per row; a batch of one fits every output),
        or a list of images (possibly of different sizes) blended as sum_k beta_k G(phi(s_k)) /
        sum_k beta_k with ``weights`` (default equal); a batch with ``weights`` blends its rows."""
        batch = isinstance(style, torch.Tensor)
        if batch:   # one encoder pass for the whole batch: a Gram per row
            feats = self.encoder.encode(style, self.style_layers)
            rows = {l: gram(feats[l]) for l in self.style_layers}
            if weights is None:
                return self.set_style_grams(rows)
            grams_of = [{l: g[k:k + 1] for l, g in rows.items()} for k in range(style.shape[0])]
        else:       # several images, possibly of different sizes: one pass each
            grams_of = [None] * len(style)
        weights = [float(w) for w in (weights if weights is not None else [1.0] * len(grams_of))]
        if len(weights) != len(grams_of) or sum(weights) <= 0 or min(weights) < 0:
            raise ArgumentError(f"style weights {weights} must be >= 0, not all zero, one per style image "
                                f"({len(grams_of)})")
        total = sum(weights)
        grams = {l: 0.0 for l in self.style_layers}
        for k, beta in enumerate(weights):
            if grams_of[k] is None:
                feats = self.encoder.encode(style[k], self.style_layers)
                grams_of[k] = {l: gram(feats[l]) for l in self.style_layers}
            for l in self.style_layers:
                grams[l] = grams[l] + (beta / total) * grams_of[k][l]
        return self.set_style_grams(grams)

    @torch.no_grad()
    def set_style_grams(self, grams: Mapping[str, torch.Tensor]) -> "PerceptualLoss":
        """Precomputed Gram targets ``{layer: G}`` (one style's, computed once and reused)."""
        missing = set(self.style_layers) - set(grams)
        if missing:
            raise ArgumentError(f"style targets lack the layers {sorted(missing)}")
        self.style_targets = {l: grams[l].detach() for l in self.style_layers}
        if self.relative:
            self.sw = {l: 1.0 / float(g.pow(2).mean().clamp_min(1e-12)) for l, g in self.style_targets.items()}
        return self

    def _check_targets(self):
        if self.content_layers and not self.content_targets:
            raise ArgumentError("no content target: call set_content_image(content) first")
        if self.style_layers and not self.style_targets:
            raise ArgumentError("no style target: call set_style_image(style) first")

    # ------------------------------------------------------------ scores

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The unweighted terms of ``x`` and each layer's share (see the class docstring)."""
        self._check_targets()
        feats = self.encoder.encode(x, self.layers)
        out = {}
        if self.content_layers:
            lc, per = content_loss({l: feats[l] for l in self.content_layers}, self.content_targets, self.cw)
            out["content"] = lc
            out.update({f"content/{l}": v for l, v in per.items()})
        if self.style_layers:
            ls, per = gram_style_loss({l: feats[l] for l in self.style_layers}, self.style_targets, self.sw)
            out["style"] = ls
            out.update({f"style/{l}": v for l, v in per.items()})
        if self.t is not None:
            out["tv"] = tv_loss(x)
        return out

    def weighted(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"content": a L_c, "style": b L_s, "tv": t L_tv}`` (the terms present)."""
        t = self.terms(x)
        scale = {"content": self.a, "style": self.b, "tv": self.t}
        return {k: scale[k] * t[k] for k in ("content", "style", "tv") if k in t}

    def __call__(self, x: torch.Tensor):
        terms = self.terms(x)
        total = x.new_zeros(())
        for k, w in (("content", self.a), ("style", self.b), ("tv", self.t)):
            if k in terms and w:
                total = total + w * terms[k]
        terms["total"] = total
        return total, terms

    def layer_losses(self, x: torch.Tensor, per_row: bool = False) -> dict[str, torch.Tensor]:
        """Raw (unweighted) loss of every content layer, then every style layer, as
        ``{"content/<l>": L, "style/<l>": L}``; with ``per_row`` each is a (B,) tensor, row b's mean
        squared error alone."""
        self._check_targets()
        feats = self.encoder.encode(x, self.layers)
        dims = lambda d: d.flatten(1).mean(1) if per_row else d.mean()
        out = {f"content/{l}": dims((feats[l] - self.content_targets[l].expand_as(feats[l])) ** 2)
               for l in self.content_layers}
        for l in self.style_layers:
            g = gram(feats[l])
            out[f"style/{l}"] = dims((g - self.style_targets[l].expand_as(g)) ** 2)
        return out
