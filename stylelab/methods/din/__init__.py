"""DIN: dynamic instance normalisation for arbitrary style transfer (Jing et al., AAAI 2020).

AdaIN transforms a normalised content feature with two numbers per channel computed by a fixed
rule from the style feature. DIN replaces that fixed rule by a learned one, and the affine map by
a convolution:

    AdaIN(x, s) = sigma(s) * IN(x) + mu(s)
    DIN(x, s)   = W(s) (*) IN(x) + b(s)

``(*)`` is a convolution whose kernel ``W(s)`` and bias ``b(s)`` are *predicted* from the style
feature by a weight net and a bias net (convolutions, then adaptive pooling down to the kernel
size). With a 1x1 depthwise kernel, ``W(s) = sigma(s)`` and ``b(s) = mu(s)``, DIN is exactly AdaIN
(``adain_params``; the lessons and tests check it).

Because the style now arrives as convolution parameters, the two encoders no longer have to be the
same network: the style goes through a heavy encoder (VGG-19 to relu4_1) once per style, and the
result can be cached (``DIN.encode_style`` -> ``StyleCode``); every content image goes through a
compact MobileNet-style encoder (depthwise-separable inverted residual blocks), two DIN layers at
1/8 and 1/4 of the resolution, and a light depthwise-separable decoder.

Stroke control, from other convolution types (Jing et al. Sec. "flexible convolutions"):

- deformable dynamic convolution (``torchvision.ops.deform_conv2d``) with offsets predicted from
  the content feature, which moves where each kernel samples ("uniform-stroke placement");
- spatial stroke size: a dilated copy of each 3x3 dynamic kernel, blended in where a mask says so
  (``stroke_mask``), or where the content is flat (``stroke_mask="auto"``, from its structure).

The source we worked from is the paper's abstract and summaries; channel counts, kernel sizes,
where the DIN layers sit and the loss are our choices (said so at each default below).

The building blocks (``dynamic_conv``, ``dynamic_instance_norm``, ``adain_params``, ``DINLayer``,
``DSConv``) live in ``din.layers`` and are re-exported here; this module assembles the network,
its loss and ``stylize``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.ops.misc import Conv2dNormActivation

from ... import assets, checkpoints, controls, encoders, images, ops
from ...errors import ArgumentError
from ...losses import ShortRunTerms, content_loss, mean_std_style_loss, scale_features
from ...stats import adain
# the building blocks, used below and re-exported as din.<name>
from .layers import (DINLayer, DSConv, _in, _pad, adain_params, dynamic_conv,
                     dynamic_instance_norm)

__all__ = ["STYLE_INPUT", "TRAINED", "Config", "DIN", "DINLayer", "DSConv", "StyleCode", "adain_params", "build",
           "dynamic_conv", "dynamic_instance_norm", "encode_style", "loss", "pretrained", "structure_mask",
           "stylize"]

#: ``stylize``'s ``style`` is a picture: a tensor, a path or a bundled name (``methods.Method``).
STYLE_INPUT = "image"
#: A trained network (``pretrained()``) does the work (``methods.Method``).
TRAINED = True


# ---------------------------------------------------------------- configuration

@dataclass
class Config(ShortRunTerms):
    #: channels of the content path at 1/2, 1/4 and 1/8 of the input size (our choice: MobileNet-like
    #: widths small enough for the >20x saving the paper reports, wide enough to carry a style)
    channels: tuple = (32, 64, 128)
    #: expansion ratio of the inverted residual blocks (MobileNetV2's default, Sandler et al. 2018)
    expand: int = 4
    #: one DIN layer per entry, deepest first: (style layer, kernel size, input channels per group);
    #: input channels per group 1 = depthwise. The first sits after the encoder (1/8 resolution),
    #: the second after the first upsampling (1/4). Our choice: the paper uses DIN at several scales
    #: ("hierarchical"), with 1x1 and 3x3, grouped and depthwise kernels.
    din_layers: tuple = (("relu4_1", 3, 8), ("relu3_1", 3, 1))
    #: hidden channels of each weight / bias net (our choice)
    hidden: int = 128
    #: VGG features are divided by these so the weight nets see O(1) inputs (our choice; the Caffe
    #: VGG's relu3_1 / relu4_1 activations have standard deviations of a few hundred)
    style_scale: dict = field(default_factory=lambda: {"relu1_1": 30.0, "relu2_1": 100.0,
                                                        "relu3_1": 250.0, "relu4_1": 750.0})
    #: deformable dynamic convolutions: offset nets predict content-dependent sampling offsets, which
    #: are trained and used by default; ``stylize(..., deformable=False)`` switches them off (our
    #: choice; zero-initialised, so off and on agree before training)
    deformable: bool = True
    #: AdaIN's losses (Huang & Belongie 2017): content at relu4_1, mean/std style loss at
    #: relu1_1..relu4_1 with weight lambda = 10
    content_layer: str = "relu4_1"
    style_layers: tuple = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    style_weight: float = 10.0
    #: Adam learning rate and batch size (AdaIN's lr 1e-4 is for 160k steps; our choice for short
    #: CPU runs is higher)
    lr: float = 1e-3
    batch_size: int = 4
    #: train_alpha, pixel_weight, feature_scale, identity_weight: ``losses.ShortRunTerms``; here
    #: ``train_alpha`` blends every DIN layer (0: the content network alone, an autoencoder)
    #: the content loss's target at ``content_layer``: "content" = the photo's own VGG feature f(c);
    #: "adain" = AdaIN(f(c), f(s)) as in AdaIN's loss (our option: the target then already has the
    #: style's statistics, so the content and style terms stop pulling against each other, which a
    #: short CPU run needs; with "content" the style term wiped the photo within 100 steps)
    content_target: str = "content"


class StyleCode(NamedTuple):
    """A style encoded once: per DIN layer the predicted kernel (B, C_out, C_in/g, k, k) and bias (B, C_out)."""
    weights: tuple
    biases: tuple


# ---------------------------------------------------------------- the network

class DIN(nn.Module):
    """Heavy style encoder (VGG-19 to relu4_1, fetched at call time, never a submodule) feeding the
    weight / bias nets of DIN layers inside a compact MobileNet-style content network:

        content: conv3x3/2 -> IR/2 -> IR -> IR/2 -> IR            (1/8, MobileNetV2 inverted residuals)
                 -> DIN_1 -> up x2 -> DSConv -> DIN_2 -> up x2 -> DSConv -> up x2 -> conv3x3 -> RGB
    """

    def __init__(self, cfg: Config | None = None):
        super().__init__()
        self.cfg = cfg = cfg or Config()
        c1, c2, c3 = cfg.channels
        if len(cfg.din_layers) != 2:
            raise ArgumentError(f"din_layers must name two DIN layers (1/8 and 1/4 resolution), got {len(cfg.din_layers)}")
        for name, _, _ in cfg.din_layers:
            if name not in cfg.style_scale:
                raise ArgumentError(f"style layer {name!r} has no entry in Config.style_scale; add one")
        e = cfg.expand
        self.encoder = nn.Sequential(
            Conv2dNormActivation(3, c1, 3, stride=2, norm_layer=_in, activation_layer=nn.ReLU),
            InvertedResidual(c1, c2, 2, e, norm_layer=_in), InvertedResidual(c2, c2, 1, e, norm_layer=_in),
            InvertedResidual(c2, c3, 2, e, norm_layer=_in), InvertedResidual(c3, c3, 1, e, norm_layer=_in))
        self.din = nn.ModuleList([
            DINLayer(c, encoders.CHANNELS[layer], k, g, cfg.hidden, cfg.deformable)
            for c, (layer, k, g) in zip((c3, c2), cfg.din_layers)])
        up = lambda: nn.Upsample(scale_factor=2, mode="nearest")
        self.decoder1 = nn.Sequential(up(), DSConv(c3, c2))
        self.decoder2 = nn.Sequential(up(), DSConv(c2, c1), up(), nn.ReflectionPad2d(1), nn.Conv2d(c1, 3, 3))

    # -- style path (heavy, once per style)
    def encode_style(self, style: torch.Tensor) -> StyleCode:
        """Run VGG-19 to relu4_1 on ``style`` and the weight / bias nets: the style's DIN parameters.
        Cache the result and pass it to ``forward`` / ``stylize`` in place of the style image."""
        vgg = encoders.vgg19(device=str(style.device))
        layers = [l for l, _, _ in self.cfg.din_layers]
        feats = vgg.encode(style, layers)
        ws, bs = [], []
        for layer, (name, _, _) in zip(self.din, self.cfg.din_layers):
            w, b = layer.predict(feats[name] / self.cfg.style_scale[name])
            ws.append(w)
            bs.append(b)
        return StyleCode(tuple(ws), tuple(bs))

    # -- content path (light, every image)
    def forward(self, content: torch.Tensor, style, *, alpha: float = 1.0, deformable: bool | None = None,
                offset_scale: float = 1.0, stroke_mask: torch.Tensor | None = None,
                stroke_dilation: int = 2) -> torch.Tensor:
        """Stylise ``content`` (B,3,H,W) with ``style`` (an image batch or a ``StyleCode``); unclamped RGB.

        ``alpha`` blends each DIN layer's output with its input feature: alpha*DIN(x) + (1-alpha)*x.
        ``deformable`` None follows ``Config.deformable``."""
        deformable = self.cfg.deformable if deformable is None else bool(deformable)
        code = style if isinstance(style, StyleCode) else self.encode_style(style)
        h, w = content.shape[-2:]
        if h % 8 or w % 8:
            raise ArgumentError(f"the content's sides ({h}x{w}) must be multiples of 8 for DIN's three "
                                "down/up-sampling stages; resize it (stylize() does this for you)")
        ctrl = dict(deformable=deformable, offset_scale=offset_scale, stroke_mask=stroke_mask,
                    stroke_dilation=stroke_dilation)
        x = self.encoder(content)
        x = _blend(self.din[0](x, code.weights[0], code.biases[0], **ctrl), x, alpha)
        x = self.decoder1(x)
        x = _blend(self.din[1](x, code.weights[1], code.biases[1], **ctrl), x, alpha)
        return self.decoder2(x)


def _blend(y, x, alpha):
    return y if alpha == 1.0 else alpha * y + (1 - alpha) * x


def build(cfg: Config | None = None) -> DIN:
    return DIN(cfg)


# ---------------------------------------------------------------- training

def loss(model: DIN, batch: dict) -> dict:
    """AdaIN's objective on DIN's output o = T(c, s) (Huang & Belongie Eq. 11-13):

        L = ||phi_4_1(o) - phi_4_1(c)||^2 + lambda * sum_l (||mu(phi_l(o)) - mu(phi_l(s))||^2
                                                     + ||sigma(phi_l(o)) - sigma(phi_l(s))||^2)

    The content target is the content image's relu4_1 feature, or with ``content_target="adain"``
    AdaIN's target t = AdaIN(phi_4_1(c), phi_4_1(s)) computed in VGG space, as AdaIN's loss uses.
    Optional terms for short runs: ``pixel_weight`` * ||o - c||^2 and ``identity_weight`` *
    ||T(c, c) - c||^2."""
    cfg = model.cfg
    c, s = batch["content"], batch["style"]
    out = model(c, s, alpha=getattr(cfg, "train_alpha", 1.0))
    vgg = encoders.vgg19(device=str(c.device))
    layers = list(dict.fromkeys([*cfg.style_layers, cfg.content_layer]))
    fo = vgg.encode(out, layers)
    target = getattr(cfg, "content_target", "content")
    if target not in ("content", "adain"):
        raise ArgumentError(f"content_target={target!r} must be 'content' or 'adain'")
    with torch.no_grad():
        fc = vgg.encode(c, [cfg.content_layer])
        fs = vgg.encode(s, layers)
        if target == "adain":
            fc = {cfg.content_layer: adain(fc[cfg.content_layer], fs[cfg.content_layer])}
        fs = {l: fs[l] for l in cfg.style_layers}
    fo, fc, fs = (scale_features(f, cfg.style_layers, cfg.feature_scale) for f in (fo, fc, fs))
    lc, _ = content_loss({cfg.content_layer: fo[cfg.content_layer]}, fc)
    terms = {"content": lc}
    if cfg.style_weight:
        ls, _ = mean_std_style_loss({l: fo[l] for l in cfg.style_layers}, fs)
        terms["style"] = cfg.style_weight * ls
    if getattr(cfg, "pixel_weight", 0.0):
        terms["pixel"] = cfg.pixel_weight * F.mse_loss(out, c)
    if getattr(cfg, "identity_weight", 0.0):
        terms["identity"] = cfg.identity_weight * F.mse_loss(model(c, c, alpha=getattr(cfg, "train_alpha", 1.0)), c)
    return terms


# ---------------------------------------------------------------- stroke size from the content's structure

def structure_mask(content: torch.Tensor, blur: int = 15) -> torch.Tensor:
    """Where strokes may be large: 1 in flat regions, 0 along detail (our choice of rule).

    m = 1 - normalised, blurred gradient magnitude of the luminance; (B,1,H,W) in [0,1]."""
    y = images.luminance(content) if content.shape[1] == 3 else content
    gx = F.pad(y[..., :, 1:] - y[..., :, :-1], (0, 1, 0, 0))
    gy = F.pad(y[..., 1:, :] - y[..., :-1, :], (0, 0, 0, 1))
    g = (gx ** 2 + gy ** 2).sqrt()
    g = F.avg_pool2d(_pad(g, blur // 2), blur, stride=1)
    lo = g.amin(dim=(-2, -1), keepdim=True)
    hi = g.amax(dim=(-2, -1), keepdim=True)
    return 1 - (g - lo) / (hi - lo).clamp_min(1e-8)


def _as_mask(mask, content: torch.Tensor) -> torch.Tensor:
    if isinstance(mask, str):
        if mask != "auto":
            raise ArgumentError(f"stroke_mask={mask!r} is unknown; pass 'auto', a (H,W) tensor in [0,1] or None")
        return structure_mask(content)
    m = torch.as_tensor(mask, dtype=content.dtype, device=content.device)
    if m.dim() == 2:
        m = m[None, None]
    elif m.dim() == 3:
        m = m[None]
    if m.dim() != 4 or m.shape[:2] != (1, 1):
        raise ArgumentError(f"stroke_mask must be (H,W), (1,H,W) or (1,1,H,W), got {tuple(m.shape)}")
    if float(m.min()) < 0 or float(m.max()) > 1:
        raise ArgumentError("stroke_mask values must lie in [0, 1] (1 = large strokes)")
    return F.interpolate(m, size=content.shape[-2:], mode="bilinear", align_corners=False)


# ---------------------------------------------------------------- using it

@torch.no_grad()
def stylize(content, style=None, *, model: DIN | None = None, size: int | None = None,
            style_size: int | None = None, alpha: float = 1.0, deformable: bool | None = None,
            offset_scale: float = 1.0, stroke_mask=None, stroke_dilation: int = 2,
            preserve_color=False) -> torch.Tensor:
    """Stylise ``content`` with ``style`` (tensors, paths, asset names, or a ``StyleCode`` from
    ``encode_style`` to reuse a cached style). Returns (1,3,H,W) in [0,1], the content's size.

    Controls: ``alpha`` in [0,1] (style strength); ``deformable`` (content-predicted offsets move the
    kernels' sampling points; None = as trained, ``Config.deformable``) with ``offset_scale``; ``stroke_mask`` ('auto' = large strokes where the
    content is flat, or a (H,W) mask in [0,1], 1 = large) with ``stroke_dilation`` (how much larger);
    ``preserve_color`` keeps the content's colours (``stylelab.controls``; "histogram" needs a style
    image, not a cached code). ``model`` defaults to the shipped checkpoint."""
    alpha = controls.check_alpha(alpha)
    color = controls.color_mode(preserve_color)
    if style is None:
        raise ArgumentError("no style given; pass a style image (or a StyleCode from din.encode_style)")
    if int(stroke_dilation) != stroke_dilation or stroke_dilation < 1:
        raise ArgumentError(f"stroke_dilation={stroke_dilation} must be a whole number >= 1")
    model = model if model is not None else pretrained()
    dev = next(model.parameters()).device
    c = assets.resolve(content, size).to(dev)
    # three down/up-sampling stages need sides that are multiples of 8: DIN resizes to the nearest
    # ones (padding instead measurably weakens the style at the lessons' quick sizes)
    h, w = c.shape[-2:]
    c8 = images.resize(c, (max(8, round(h / 8) * 8), max(8, round(w / 8) * 8))) if (h % 8 or w % 8) else c
    if isinstance(style, StyleCode):
        if color == "histogram":
            raise ArgumentError("preserve_color='histogram' recolours the style image, and a cached "
                                "StyleCode has none; pass the style image itself")
        code = style
    else:
        s = assets.resolve(style, style_size or size).to(dev)
        code = encode_style(controls.recolor_style(s, c, color), model=model)
    m = None if stroke_mask is None else _as_mask(stroke_mask, c8)
    with ops.eval_mode(model):
        out = model(c8, code, alpha=alpha, deformable=deformable, offset_scale=offset_scale, stroke_mask=m,
                    stroke_dilation=int(stroke_dilation))
    out = out.clamp(0, 1)
    if out.shape[-2:] != (h, w):
        out = images.resize(out, (h, w)).clamp(0, 1)
    return controls.keep_luminance(out, c, color)


@torch.no_grad()
def encode_style(style, model: DIN | None = None, size: int | None = None) -> StyleCode:
    """The style's dynamic weights and biases, computed once (``model.encode_style``); ``stylize``
    takes the result as ``style``. ``style``: a tensor, path or bundled name."""
    model = model if model is not None else pretrained()
    s = assets.resolve(style, size).to(next(model.parameters()).device)
    with ops.eval_mode(model):
        return model.encode_style(s)


def pretrained(name: str = "default") -> DIN:
    """The shipped DIN checkpoint (offline), or a CheckpointError saying how to train one."""
    return checkpoints.pretrained(sys.modules[__name__], name)
