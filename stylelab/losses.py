"""Perceptual losses: content, Gram style, mean/std style, total variation, with per-layer weights.

Each loss takes dicts ``{layer: feature}`` and a dict of per-layer weights ``{layer: w_l}`` and
returns ``(total, per_layer)`` where ``total = sum_l w_l * L_l``. Squared errors are means over
elements, so layers of different size are on comparable scales.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

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
