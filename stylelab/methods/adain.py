"""AdaIN: arbitrary style transfer in real time (Huang & Belongie, ICCV 2017).

    t = AdaIN(f(c), f(s)) = sigma(f(s)) * (f(c) - mu(f(c))) / sigma(f(c)) + mu(f(s))
    T(c, s) = g(t)

f is VGG-19 up to relu4_1 (frozen), g a decoder that mirrors it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .. import assets, checkpoints, controls, images, stats, video as vio
from ..encoders import vgg19
from ..errors import ArgumentError, CheckpointError, ImageError
from ..losses import ShortRunTerms, content_loss, mean_std_style_loss, scale_features

#: ``stylize``'s ``style`` is a picture: a tensor, a path or a bundled name (``methods.Method``).
STYLE_INPUT = "image"
#: A trained network (``pretrained()``) does the work (``methods.Method``).
TRAINED = True


class Decoder(nn.Module):
    """g: mirrors VGG-19 up to relu4_1 (Huang & Belongie Sec. 6.1): reflection padding, nearest
    upsampling, no normalisation. ``c_in`` channels in (512 for relu4_1), RGB out (unclamped).
    ``width`` scales every channel count (1.0 = the paper's decoder)."""

    def __init__(self, c_in: int = 512, width: float = 1.0):
        super().__init__()
        c = [max(8, int(round(n * width))) for n in (256, 128, 64)]

        def conv(a, b, relu=True):
            return [nn.ReflectionPad2d(1), nn.Conv2d(a, b, 3)] + ([nn.ReLU(inplace=True)] if relu else [])

        up = lambda: [nn.Upsample(scale_factor=2, mode="nearest")]
        self.net = nn.Sequential(
            *conv(c_in, c[0]), *up(),
            *conv(c[0], c[0]), *conv(c[0], c[0]), *conv(c[0], c[0]), *conv(c[0], c[1]), *up(),
            *conv(c[1], c[1]), *conv(c[1], c[2]), *up(),
            *conv(c[2], c[2]), *conv(c[2], 3, relu=False),
        )

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.net(t)


# ---------------------------------------------------------------- configuration and model

CONTENT_LAYER = "relu4_1"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")  # Huang & Belongie Sec. 6.2, equal weights


@dataclass
class Config(ShortRunTerms):
    """AdaIN's training settings.

    - ``style_weight`` lambda in L = L_c + lambda L_s: 10, the default of the widely used PyTorch
      reimplementation (naoto0804/pytorch-AdaIN, whose trained decoder the source slides use); the
      slides give no number, so this is our choice following it. Both losses are means of squared
      errors there and here (``stylelab.losses``).
    - ``lr`` 1e-4, ``batch_size`` 8, 256 px crops of images resized to 512: the paper's training
      recipe (Adam; MS-COCO content, WikiArt style, ~160k iterations).
    - ``width`` scales the decoder's channels; 1.0 is the paper's decoder (our option, for quick
      CPU experiments).
    - ``train_alpha`` and ``pixel_weight`` (our additions, for a reconstruction warm-up on a CPU):
      the decoder is trained on t_a = (1 - a) f(c) + a AdaIN(f(c), f(s)) with a = ``train_alpha``,
      plus ``pixel_weight`` * ||g(t_a) - c||^2. With a = 0, style_weight = 0 and a small pixel
      weight, the decoder first learns to turn relu4_1 back into the photo; the paper's loss is
      a = 1, pixel_weight = 0.
    - ``feature_scale`` (our addition): divide each loss layer's VGG features by these numbers
      (relu1_1, relu2_1, relu3_1, relu4_1) before comparing them. The paper's VGG was *normalised*
      (Gatys et al.: weights scaled so each filter's mean activation is 1), so every layer counts
      about equally; our Caffe VGG's raw mean activations on the training corpus are about 24, 138,
      153 and 590, so without rescaling relu4_1 outweighs relu1_1 (the colours) about 600 times.
      Empty = raw features (the default, which the lesson's live training uses).
    - ``identity_weight`` (our addition): add ``identity_weight`` * ||g(f(c)) - c||^2, so that
      the decoder keeps turning the photo's own features back into the photo while it learns to
      paint. Without it a decoder trained only on AdaIN targets paints texture even at alpha = 0,
      and alpha stops meaning "how much style". 0 = off (the paper's loss).
    - ``content_target`` (our addition): ``"adain"`` compares f(g(t)) with t (the paper's loss);
      ``"content"`` compares it with the photo's own f(c), so the content term keeps the photo's
      relu4_1 structure while the style term pulls the statistics toward the style's (the balance
      Gatys et al. strike, and what ``stylelab.bench.quality``'s content figure measures).
    """
    style_weight: float = 10.0
    content_weight: float = 1.0
    lr: float = 1e-4
    batch_size: int = 8
    size: int = 256
    width: float = 1.0


class AdaINNet(nn.Module):
    """T(c, s) = g(AdaIN(f(c), f(s))). Only the decoder g has weights of its own; the frozen VGG-19
    encoder f is fetched with ``stylelab.encoders.vgg19`` when needed (it is not a submodule, so it
    stays out of state dicts and checkpoints)."""

    def __init__(self, cfg: Config | None = None):
        super().__init__()
        self.cfg = cfg or Config()
        self.decoder = Decoder(512, self.cfg.width)

    def encoder(self):
        return vgg19(device=str(self.device))

    @property
    def device(self) -> torch.device:
        return next(self.decoder.parameters()).device

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """f(x): VGG-19 relu4_1 features."""
        return self.encoder().encode(x, [CONTENT_LAYER])[CONTENT_LAYER]

    def forward(self, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        fc = self.encode(content)
        t = stats.adain(fc, self.encode(style))
        return self.decoder((1 - alpha) * fc + alpha * t)


def build(cfg: Config | None = None) -> AdaINNet:
    return AdaINNet(cfg)


def trainable_parameters(model: AdaINNet):
    return model.decoder.parameters()


def loss(model: AdaINNet, batch: dict) -> dict:
    """Huang & Belongie Eq. 11-13: with t = AdaIN(f(c), f(s)),

        L_c = ||f(g(t)) - t||^2                       (the AdaIN target, not the content features)
        L_s = sum_i ||mu(phi_i(g(t))) - mu(phi_i(s))||^2 + ||sigma(phi_i(g(t))) - sigma(phi_i(s))||^2

    over relu1_1..relu4_1; returns {"content": w_c L_c, "style": lambda L_s}, plus the optional
    "pixel" and "identity" terms of ``Config`` (our additions for short CPU runs).
    """
    cfg = model.cfg
    enc = model.encoder()
    c, s = batch["content"], batch["style"]
    with torch.no_grad():
        fc = enc.encode(c, [CONTENT_LAYER])[CONTENT_LAYER]
        fs = enc.encode(s, STYLE_LAYERS)
        t = stats.adain(fc, fs[CONTENT_LAYER])
        a = getattr(cfg, "train_alpha", 1.0)
        if a != 1.0:
            t = (1 - a) * fc + a * t
    out = model.decoder(t)
    fo = enc.encode(out, STYLE_LAYERS)
    fo = scale_features(fo, STYLE_LAYERS, cfg.feature_scale)
    mode = getattr(cfg, "content_target", "adain")
    if mode not in ("adain", "content"):
        raise ArgumentError(f"content_target={mode!r} must be 'adain' or 'content'")
    target = scale_features({CONTENT_LAYER: t if mode == "adain" else fc}, STYLE_LAYERS, cfg.feature_scale)
    lc, _ = content_loss({CONTENT_LAYER: fo[CONTENT_LAYER]}, target)
    terms = {"content": cfg.content_weight * lc}
    if cfg.style_weight:
        fs = scale_features(fs, STYLE_LAYERS, cfg.feature_scale)
        ls, _ = mean_std_style_loss(fo, {l: stats.mean_std(fs[l]) for l in STYLE_LAYERS})
        terms["style"] = cfg.style_weight * ls
    if getattr(cfg, "pixel_weight", 0.0):
        terms["pixel"] = cfg.pixel_weight * F.mse_loss(out, c)
    if getattr(cfg, "identity_weight", 0.0):
        terms["identity"] = cfg.identity_weight * F.mse_loss(model.decoder(fc), c)
    return terms


def pretrained(name: str = "default") -> AdaINNet:
    """The shipped AdaIN decoder, offline; a CheckpointError saying how to train one if none ships."""
    try:
        return checkpoints.pretrained(sys.modules[__name__], name)
    except CheckpointError as e:
        raise CheckpointError(
            f"{e} -- for AdaIN: stylelab.train.train('adain', CONTENT_DIR, STYLE_DIR, size=256, steps=160000) "
            "(hours on a GPU for the paper's quality), then stylize(..., model=result.model)") from None


def _model(model) -> AdaINNet:
    if model is None:
        return pretrained()
    if not isinstance(model, AdaINNet):
        raise ArgumentError(f"model= must be an AdaIN model (adain.build() or adain.pretrained()), "
                            f"got {type(model).__name__}")
    return model


# ---------------------------------------------------------------- cached style features

@dataclass
class StyleFeatures:
    """A style encoded once: its relu4_1 channel statistics (all AdaIN needs) and the image itself
    (kept for ``preserve_color``, which recolours the style to each content and so re-encodes it)."""
    image: torch.Tensor
    mean: torch.Tensor   # (1, 512, 1, 1)
    std: torch.Tensor    # (1, 512, 1, 1)


@torch.no_grad()
def encode_style(style, model: AdaINNet | None = None, *, size: int | None = None, device=None) -> StyleFeatures:
    """Encode ``style`` once (a tensor, path or bundled name; ``size`` = long side) and return the
    cached features; pass them to ``stylize`` in place of the image to skip the style encoder.
    (The encoder is VGG-19's, the same for every AdaIN model: ``model`` only says the device.)"""
    if isinstance(style, StyleFeatures):
        return style
    dev = _model(model).device if model is not None else torch.device(device or "cpu")
    x = assets.resolve(style, size).to(dev)
    if x.shape[0] != 1:
        raise ImageError(f"a style must be one image, got a batch of {x.shape[0]}; pass them as a list")
    mu, sigma = stats.mean_std(vgg19(device=str(dev)).encode(x, [CONTENT_LAYER])[CONTENT_LAYER])
    return StyleFeatures(x, mu, sigma)


# ---------------------------------------------------------------- controls

def _masked_mean_std(f: torch.Tensor, m: torch.Tensor, eps: float = stats.EPS):
    """Channel mean/std of ``f`` over the positions weighted by ``m`` (1,1,h,w)."""
    wsum = m.sum((2, 3), keepdim=True).clamp_min(1e-6)
    mu = (f * m).sum((2, 3), keepdim=True) / wsum
    var = ((f - mu) ** 2 * m).sum((2, 3), keepdim=True) / wsum
    return mu, (var + eps).sqrt()


def adain_target(fc: torch.Tensor, styles: Sequence[StyleFeatures], weights: Sequence[float] | None = None,
                 masks: torch.Tensor | None = None, alpha: float = 1.0) -> torch.Tensor:
    """The feature the decoder inverts (Huang & Belongie Sec. 7.1):

    - interpolation: t = sum_k w_k AdaIN(f(c), f(s_k));
    - spatial control: in each region m_k, AdaIN of the content features *of that region* to s_k
      (t = sum_k m_k t_k / sum_k m_k; where no mask covers a position the content feature stays);
    - trade-off: (1 - alpha) f(c) + alpha t.
    """
    if masks is None:
        w = weights if weights is not None else [1.0 / len(styles)] * len(styles)
        norm = stats.normalize(fc)
        t = sum(wk * (s.std * norm + s.mean) for wk, s in zip(w, styles))
    else:
        m = F.interpolate(masks.to(fc), size=fc.shape[-2:], mode="bilinear", align_corners=False,
                          antialias=True).clamp(0, 1)
        t = torch.zeros_like(fc)
        for k, s in enumerate(styles):
            mk = m[k:k + 1]
            mu, sigma = _masked_mean_std(fc, mk)
            t = t + mk * (s.std * (fc - mu) / sigma + s.mean)
        cover = m.sum(0, keepdim=True)
        t = torch.where(cover > 1e-6, t / cover.clamp_min(1e-6), fc)
    return (1 - alpha) * fc + alpha * t


@torch.no_grad()
def stylize(content, style=None, *, model: AdaINNet | None = None, size: int | None = None,
            alpha: float = 1.0, style_weights=None, preserve_color=False, mask=None,
            style_size: int | None = None) -> torch.Tensor:
    """Stylise ``content`` with ``style``: T(c, s, alpha) = g((1 - alpha) f(c) + alpha AdaIN(f(c), f(s))).

    - ``style``: an image (tensor, path, bundled name), a ``StyleFeatures`` from ``encode_style``
      (encoded once, reused), or a list of them for interpolation / spatial control;
    - ``alpha`` in [0, 1]: content-style trade-off;
    - ``style_weights``: one weight per style (>= 0, normalised to sum to 1; default equal);
    - ``preserve_color``: keep the content's colours (``stylelab.controls``): "histogram" recolours
      each style to the content's colour statistics first (``stats.match_color``, the paper's
      colour control); True or "luminance" keeps the content's chrominance in the output;
    - ``mask``: spatial control, see ``masks_for`` (not combined with ``style_weights``);
    - ``model``: an AdaIN model; default ``pretrained()``;
    - ``size`` / ``style_size``: long side to resize the content / style images to.

    Returns (B,3,H,W) in [0,1], the content's size.
    """
    alpha = controls.check_alpha(alpha)
    color = controls.color_mode(preserve_color)
    model = _model(model)
    dev = model.device
    c = assets.resolve(content, size).to(dev)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles or style is None:
        raise ArgumentError("no style given; pass a style image or a list of them")
    if mask is not None and style_weights is not None:
        raise ArgumentError("give either style_weights (interpolation) or mask (spatial control), not both")
    w = controls.style_weights(style_weights, len(styles))
    if color == "histogram":
        imgs = [s.image if isinstance(s, StyleFeatures) else assets.resolve(s, style_size) for s in styles]
        feats = [encode_style(stats.match_color(im.to(dev), c[:1]), model=model) for im in imgs]
    else:
        feats = [encode_style(s, model, size=style_size) if not isinstance(s, StyleFeatures)
                 else StyleFeatures(s.image, s.mean.to(dev), s.std.to(dev)) for s in styles]
    masks = controls.masks_for(mask, len(feats), tuple(c.shape[-2:])) if mask is not None else None
    x, hw = images.pad_to_multiple(c, 8)   # the decoder's three upsamplings
    if masks is not None:
        masks, _ = images.pad_to_multiple(masks, 8)
    fc = model.encode(x)
    t = adain_target(fc, feats, w, masks, alpha)
    out = images.crop_to(model.decoder(t), hw).clamp(0, 1)
    return stats.luminance_transfer(out, c) if color == "luminance" else out


# ---------------------------------------------------------------- video

@dataclass
class VideoResult:
    frames: list          # the stylised frames, each (1,3,H,W)
    flicker: float        # mean |o_{t+1} - o_t| / mean |i_{t+1} - i_t|
    path: object = None   # where the GIF/MP4 was written, if ``out`` was given


def stylize_video(video, style, out=None, fps: float | None = None, size: int | None = None,
                  max_frames: int | None = None, progress: bool = True, verbose: bool = True,
                  **controls) -> VideoResult:
    """Stylise ``video`` (a list of frames, or an animated GIF / MP4 path) frame by frame with the
    style encoded once; write an animated GIF or MP4 to ``out`` (by its suffix) if given.

    ``controls`` go to ``stylize`` (alpha, style_weights, preserve_color, mask, model). Reports the
    flicker: the mean absolute change between consecutive output frames relative to the input's
    (1 = as steady as the input; AdaIN has no temporal term, so expect more than 1).
    """
    frames, src_fps = vio.read_frames(video, size=size, max_frames=max_frames)
    model = _model(controls.pop("model", None))
    style_size = controls.pop("style_size", None)
    styles = style if isinstance(style, (list, tuple)) else [style]
    feats = [encode_style(s, model, size=style_size) for s in styles]
    feats = feats if isinstance(style, (list, tuple)) else feats[0]
    outs = [stylize(f, feats, model=model, **controls).cpu()
            for f in tqdm(frames, desc="stylize video", disable=not progress, leave=False)]
    flick = vio.flicker(outs, frames)
    path = vio.write_frames(outs, out, fps=fps or src_fps or 10) if out is not None else None
    if verbose:
        print(f"stylised {len(outs)} frames; flicker {flick:.2f}x the input's frame-to-frame change"
              + (f"; wrote {path}" if path else ""))
    return VideoResult(outs, flick, path)
