"""Johnson et al. (2016) feed-forward style network, with Ulyanov et al.'s instance normalisation.

A transformation network T_theta maps a content photo to its stylisation in one forward pass;
it is trained to minimise the perceptual loss  L_c(T(c), c) + L_s(T(c), s)  (+ TV) over many
content images for one style s.

Architecture (Johnson et al., supplementary Table 1, with reflection padding):
    conv 9x9/1 32 -> conv 3x3/2 64 -> conv 3x3/2 128 -> 5 residual blocks (128)
    -> upsample x2 + conv 3x3 64 -> upsample x2 + conv 3x3 32 -> conv 9x9/1 3
Each conv but the last is followed by normalisation and ReLU.

Perceptual loss (Johnson et al. Sec. 3), with phi = VGG-19 (ours; Johnson used VGG-16, whose
layers of the same names sit at the same depths):

    L(theta) = lambda_c * L_c(T(c), c) at relu2_2
             + lambda_s * sum_l L_gram(T(c), s) at relu1_2, relu2_2, relu3_3, relu4_3
             + lambda_tv * TV(T(c))

>>> net = johnson.build()                         # instance norm, upsample + conv
>>> res = train.train("johnson", content_dir, "starry_night", size=256, steps=2000)
>>> johnson.stylize("chelsea", model=res.model)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn

from .. import assets, checkpoints, controls, encoders, images, losses, ops
from ..errors import ArgumentError
from ..images import luminance

#: ``stylize``'s ``style`` names a style the network was trained on (``methods.Method``).
STYLE_INPUT = "trained"
#: A trained network (``pretrained()``) does the work (``methods.Method``).
TRAINED = True

NormFactory = Callable[[int], nn.Module]


def make_norm(kind: str | NormFactory) -> NormFactory:
    """'instance' (Ulyanov et al.; affine), 'batch' (Johnson et al.'s original), or a factory."""
    if callable(kind):
        return kind
    if kind == "instance":
        return lambda c: nn.InstanceNorm2d(c, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d
    raise ArgumentError(f"norm={kind!r} is unknown; use 'instance' or 'batch'")


class ConvLayer(nn.Sequential):
    """Reflection-pad -> conv (-> norm -> ReLU)."""

    def __init__(self, c_in, c_out, k, stride=1, norm: NormFactory | None = None, relu=True):
        layers = [nn.ReflectionPad2d(k // 2), nn.Conv2d(c_in, c_out, k, stride)]
        if norm is not None:
            layers.append(norm(c_out))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class UpLayer(nn.Sequential):
    """x2 upsampling: nearest upsample + conv (no checkerboard), or a transposed conv."""

    def __init__(self, c_in, c_out, norm: NormFactory, mode: str = "nearest"):
        if mode == "nearest":
            layers = [nn.Upsample(scale_factor=2, mode="nearest"),
                      nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3)]
        elif mode == "transpose":
            layers = [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
        else:
            raise ArgumentError(f"upsample={mode!r} is unknown; use 'nearest' or 'transpose'")
        super().__init__(*layers, norm(c_out), nn.ReLU(inplace=True))


class ResidualBlock(nn.Module):
    """x + norm(conv(relu(norm(conv(x)))))  (He et al.; Johnson et al. drop the final ReLU)."""

    def __init__(self, c: int, norm: NormFactory):
        super().__init__()
        self.body = nn.Sequential(ConvLayer(c, c, 3, norm=norm), ConvLayer(c, c, 3, norm=norm, relu=False))

    def forward(self, x):
        return x + self.body(x)


class TransformNet(nn.Module):
    """The image transformation network T. ``norm`` picks the normalisation ('instance', 'batch' or
    a factory ``channels -> module``, e.g. conditional IN); ``upsample`` 'nearest' or 'transpose'.

    Output is an unclamped RGB image; ``stylize`` clamps it to [0, 1].
    """

    def __init__(self, norm: str | NormFactory = "instance", upsample: str = "nearest",
                 channels: tuple[int, int, int] = (32, 64, 128), n_residual: int = 5):
        super().__init__()
        f = make_norm(norm)
        c1, c2, c3 = channels
        self.encoder = nn.Sequential(ConvLayer(3, c1, 9, norm=f), ConvLayer(c1, c2, 3, 2, norm=f),
                                     ConvLayer(c2, c3, 3, 2, norm=f))
        self.residual = nn.Sequential(*[ResidualBlock(c3, f) for _ in range(n_residual)])
        self.decoder = nn.Sequential(UpLayer(c3, c2, f, upsample), UpLayer(c2, c1, f, upsample),
                                     ConvLayer(c1, 3, 9, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.residual(self.encoder(x)))


# ---------------------------------------------------------------- the method's surface

@dataclass
class Config:
    """Johnson et al. (2016) defaults, with Ulyanov et al.'s instance normalisation."""
    norm: str = "instance"            # Ulyanov et al. 2016 ('batch' is Johnson et al.'s original)
    upsample: str = "nearest"         # our choice: upsample + conv (Odena et al. 2016); 'transpose' = Johnson's
    channels: tuple = (32, 64, 128)   # Johnson et al., supplementary Table 1
    n_residual: int = 5               # Johnson et al., supplementary Table 1
    content_layers: tuple = ("relu2_2",)                                    # Johnson et al. Sec. 4.1
    style_layers: tuple = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")      # Johnson et al. Sec. 4.1
    # our choice: our losses are means (stats.gram / C^2 per element) on the Caffe VGG-19, so the
    # paper's 1 : 5 does not carry over. Measured on the bundled photos (128 px, batch 2, 80 steps):
    # at 1 : 1 the style term swamps the content and the cat is gone; at 10 : 1 the network keeps the
    # cat and paints it in the style's colours and strokes; at 30 : 1 the style is faint.
    content_weight: float = 10.0
    style_weight: float = 1.0
    tv_weight: float = 1e3            # our choice (paper: 1e-6..1e-4 on a summed TV; ours is a mean)
    lr: float = 1e-3                  # Johnson et al. Sec. 4.1 (Adam)
    batch_size: int = 4               # Johnson et al. Sec. 4.1


def build(cfg: Config | None = None) -> TransformNet:
    """The transformation network of ``cfg`` (default: instance norm, upsample + conv)."""
    cfg = cfg or Config()
    net = TransformNet(cfg.norm, cfg.upsample, tuple(cfg.channels), cfg.n_residual)
    net.cfg = cfg  # the loss reads its weights and layers from here
    return net


def _config_of(model) -> Config:
    return getattr(model, "cfg", None) or Config()


def perceptual_loss(output: torch.Tensor, content: torch.Tensor, style: torch.Tensor, cfg: Config | None = None,
                    encoder=None) -> dict[str, torch.Tensor]:
    """Johnson et al.'s perceptual loss of ``output`` for ``content`` (same batch) and ``style``
    (batch 1 broadcasts), as named, already weighted terms {"content", "style", "tv"}."""
    cfg = cfg or Config()
    vgg = encoder or encoders.vgg19(device=str(output.device))
    objective = losses.PerceptualLoss(vgg, cfg.content_layers, cfg.style_layers, content_weight=cfg.content_weight,
                                      style_weight=cfg.style_weight, tv_weight=cfg.tv_weight)
    return objective.set_content_image(content).set_style_image(style).weighted(output)


def loss(model: TransformNet, batch: dict) -> dict[str, torch.Tensor]:
    """The trainer's hook: perceptual loss of T(content) against each row's style image."""
    output = model(batch["content"])
    return perceptual_loss(output, batch["content"], batch["style"], _config_of(model))


def state_from(model: TransformNet, meta: dict, state: dict) -> dict:
    """Another method's weights as a start for a Johnson network (``train --from``): a
    conditional-IN network gives its shared convolutions and, for each IN layer, the mean of its
    styles' (gamma, beta) (the "average style"); MetaStyle's network already has these names."""
    if meta.get("method") != "cin":
        return state
    out = {}
    for key, value in state.items():
        key = key.removeprefix("net.")
        stem, _, index = key.rpartition(".")
        layer, _, kind = stem.rpartition(".")
        if kind in ("gamma", "beta") and index.isdigit():
            name = f"{layer}.{'weight' if kind == 'gamma' else 'bias'}"
            out.setdefault(name, []).append(value)
        else:
            out[key] = value
    return {k: torch.stack(v).mean(0) if isinstance(v, list) else v for k, v in out.items()}


#: The style ``pretrained()`` and ``stylize()`` use when none is named.
DEFAULT_STYLE = "starry_night"


def shipped_styles() -> list[str]:
    """The styles a Johnson network ships for (``pretrained(style)``)."""
    return sorted(k.split("/", 1)[1] for k in checkpoints.registry() if k.startswith("johnson/"))


def trained_styles(model=None) -> list[str]:
    """The style names ``stylize`` takes: with ``model``, the one it was trained on where that is
    known (a shipped network, ``pretrained(style)``; else none); without, the shipped styles, one
    network each."""
    if model is not None:
        name = getattr(model, "style_name", "")
        return [name] if name else []
    return shipped_styles()


def pretrained(style: str = "default") -> TransformNet:
    """The shipped network trained on ``style`` (``"default"``: ``DEFAULT_STYLE``), offline and
    hash-checked, or a CheckpointError that names the shipped styles and says how to train one."""
    style = DEFAULT_STYLE if style == "default" else style
    model = checkpoints.pretrained(sys.modules[__name__], style)
    model.style_name = style   # shipped as johnson/<style>: the registry names its style
    return model


@torch.no_grad()
def stylize(content, style=None, *, model: TransformNet | None = None, size: int | None = None,
            preserve_color=False) -> torch.Tensor:
    """T(content), clamped to [0,1]. Johnson networks are single-style: pass the trained ``model``,
    or ``style`` = the name of a shipped network (see ``pretrained``). ``preserve_color=True`` keeps
    the content's colours (luminance-only transfer, Gatys et al. 2017; ``stylelab.controls``)."""
    color = controls.color_mode(preserve_color, style_image=False)
    if model is None:
        if style is not None and not isinstance(style, str):
            raise ArgumentError("a Johnson network is trained for one style; pass model= (a trained network) "
                                "or the name of a shipped style, not a style image")
        model = pretrained(style or "default")
    x = assets.resolve(content, size)
    dev = next(model.parameters()).device
    xp, hw = images.pad_to_multiple(x.to(dev), 4)   # two stride-2 convs, then two upsamplings
    with ops.eval_mode(model):
        y = images.crop_to(model(xp), hw).clamp(0, 1).cpu()
    return controls.keep_luminance(y, x, color)


def checkerboard_score(x: torch.Tensor) -> float:
    """How much of an image's detail energy sits in the 2-pixel checkerboard pattern: the
    spectral power at the Nyquist frequencies (pi, 0), (0, pi), (pi, pi) of the luminance,
    relative to all non-DC power. Transposed convolutions with stride 2 leave exactly this
    pattern (Odena et al. 2016)."""
    y = luminance(x.detach().float().cpu())[0, 0]
    y = y[: y.shape[0] // 2 * 2, : y.shape[1] // 2 * 2]
    p = torch.fft.fft2(y - y.mean()).abs() ** 2
    h, w = p.shape
    nyq = p[h // 2, 0] + p[0, w // 2] + p[h // 2, w // 2]
    return float(nyq / p.sum().clamp_min(1e-12))
