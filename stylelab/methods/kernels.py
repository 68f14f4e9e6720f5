"""Dynamic style kernels (Xu et al., "Learning Dynamic Style Kernels for Artistic Style Transfer",
CVPR 2023), built from what the paper's abstract describes; where it is silent we say "our choice".

With f_c = phi(c), f_s = phi(s) the VGG-19 relu4_1 features (C channels, N_c and N_s positions):

1. Style Alignment Encoding (SAE), attention with content queries and style keys/values:

       A = softmax( (W_q norm(f_c))^T (W_k norm(f_s)) / sqrt(d) )          (N_c x N_s)
       a_i = sum_j A_ij (W_v norm(f_s))_j         a style feature aligned to content position i

2. Content-based Gating Modulation (CGM): a learned, content-dependent threshold theta_i keeps
   strong matches and sends weak ones back to the global style (uniform attention, the mean
   m_s of W_v norm(f_s)):

       r_i = max_j cos(q_i, k_j)                               how well position i is matched
       g_i = sigmoid( tau * (r_i - theta(f_c)_i) )             the gate, in [0, 1]
       z_i = g_i a_i + (1 - g_i) m_s                           the gated, aligned style feature

   ``gate`` (strength s in [0,1]) scales the gate's effect: g <- 1 - s (1 - g); s = 0 is no CGM.

3. Kernel generation: a small conv net maps [z, norm(f_c)] to a k x k kernel K_{g,i} per pixel i
   and channel group g, and a per-pixel bias b_i (C channels).

4. Per-pixel modulation (involution-style, each kernel applied at its own position only),
   expressed relative to the style's global statistics mu_s = mu(f_s), sigma_s = sigma(f_s):

       t_{c,i} = sigma_s,c * ( sum_{j in N_k(i)} K_{g(c), i}(j - i) * norm(f_c)_{c,j}  +  b_{c,i} ) + mu_s,c

   AdaIN is the special case K = centre spike, b = 0, the same everywhere. The generator starts
   there (our choice for short CPU runs): an untrained model is AdaIN, so the trained AdaIN decoder
   fits it from the first step (``train kernels --init adain/default``) and training only has to
   learn where the kernels should differ from AdaIN's.

5. T(c, s) = g(alpha t + (1 - alpha) f_c), with g the AdaIN decoder (``adain.Decoder``).

Attention is quadratic in positions (a 512 px image has 64 x 64 = 4096 relu4_1 positions, so a
full A would be 4096^2 floats = 64 MiB per image). We process queries in chunks of
``Config.chunk`` rows and average-pool the style keys/values down to at most ``Config.max_keys``
positions, so the attention's memory is bounded by chunk * max_keys floats at any image size.
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import assets, checkpoints, controls, encoders, images, losses, ops, stats
from ..errors import ArgumentError
from .adain import Decoder

#: ``stylize``'s ``style`` is a picture: a tensor, a path or a bundled name (``methods.Method``).
STYLE_INPUT = "image"
#: A trained network (``pretrained()``) does the work (``methods.Method``).
TRAINED = True

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


@dataclass
class Config:
    layer: str = "relu4_1"        # the AdaIN bottleneck; the abstract is silent (our choice)
    channels: int = 512           # channels of ``layer``
    dim: int = 128                # width of queries and keys (our choice)
    kernel_size: int = 3          # k of the k x k style kernels (our choice; measured in the notebook)
    groups: int = 64              # channel groups sharing one kernel: 512 / 64 = 8 channels each (our choice)
    hidden: int = 256             # width of the kernel generator (our choice)
    use_gate: bool = True         # False trains the "without CGM" ablation
    chunk: int = 1024             # query positions per attention chunk (memory bound, not a result)
    max_keys: int = 4096          # style positions kept for keys/values (pooled above this)
    decoder_width: float = 1.0    # 1.0 = AdaIN's decoder; smaller trains faster on a CPU
    style_layers: tuple = STYLE_LAYERS                        # AdaIN's style layers
    content_weight: float = 1.0   # on normalised relu4_1 features (SANet/AdaAttN's choice)
    content_normalized: bool = True  # False: on the raw relu4_1 features (divided by the last
                                  # ``feature_scale``), so the content term also keeps the photo's
                                  # feature statistics, as Gatys' content loss does (our option)
    style_weight: float = 3e-5    # mean/std style loss; Caffe features are in 0-255 units, so its raw
                                  # value is ~1e5x the normalised content loss (our choice, measured)
    feature_scale: tuple = ()     # divide each style layer's features by these before the style loss
                                  # (see ``adain.Config.feature_scale``; then style_weight ~ 10); () = raw
    identity_weight: float = 10.0 # T(c,c) = c and T(s,s) = s in pixels (SANet's identity loss); 0 = off
    lr: float = 1e-4              # AdaIN's learning rate
    batch_size: int = 4           # our choice for CPU (AdaIN used 8)


# ---------------------------------------------------------------- the pieces, as functions

def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, chunk: int = 1024):
    """softmax(q^T k / sqrt(d)) v^T over positions, computed ``chunk`` query rows at a time.

    q: (B, d, Nq), k: (B, d, Nk), v: (B, C, Nk). Returns (out (B, C, Nq), best (B, Nq)) where
    ``best`` is each query's highest cosine similarity to any key (the CGM's match score).
    """
    if chunk < 1:
        raise ArgumentError(f"chunk={chunk} must be >= 1")
    scale = 1.0 / math.sqrt(q.shape[1])
    qn, kn = F.normalize(q, dim=1), F.normalize(k, dim=1)
    outs, bests = [], []
    for i in range(0, q.shape[2], chunk):
        qc = q[:, :, i:i + chunk]
        a = torch.softmax(torch.bmm(qc.transpose(1, 2), k) * scale, dim=-1)      # (B, n, Nk)
        outs.append(torch.bmm(v, a.transpose(1, 2)))                             # (B, C, n)
        bests.append(torch.bmm(qn[:, :, i:i + chunk].transpose(1, 2), kn).amax(-1))
    return torch.cat(outs, 2), torch.cat(bests, 1)


def apply_kernels(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Per-pixel, per-group kernels (involution-style):

        out_{c,i} = sum_{j in N_k(i)} K_{g(c), i}(j - i) x_{c,j}

    x: (B, C, H, W); kernels: (B, G, k*k, H, W) with C divisible by G. Borders replicate x.
    """
    b, c, h, w = x.shape
    g, kk = kernels.shape[1], kernels.shape[2]
    k = int(round(math.sqrt(kk)))
    if k * k != kk or k % 2 == 0:
        raise ArgumentError(f"kernels hold {kk} taps; need an odd square k*k (k = 1, 3, 5, ...)")
    if c % g:
        raise ArgumentError(f"{c} channels do not split into {g} groups; pick groups dividing {c}")
    if k == 1:
        return (x.view(b, g, c // g, h, w) * kernels).view(b, c, h, w)
    cols = F.unfold(F.pad(x, [k // 2] * 4, mode="replicate"), k)        # (B, C*k*k, H*W)
    cols = cols.view(b, g, c // g, kk, h, w)
    return (cols * kernels.unsqueeze(2)).sum(3).view(b, c, h, w)


def crop_kernels(kernels: torch.Tensor, k: int) -> torch.Tensor:
    """The central k x k taps of (B, G, K*K, H, W) kernels (a smaller neighbourhood at run time)."""
    kk = kernels.shape[2]
    big = int(round(math.sqrt(kk)))
    if k % 2 == 0 or k < 1 or k > big:
        raise ArgumentError(f"kernel_size={k} must be odd and at most the trained size {big}")
    if k == big:
        return kernels
    b, g, _, h, w = kernels.shape
    off = (big - k) // 2
    return kernels.view(b, g, big, big, h, w)[:, :, off:off + k, off:off + k].reshape(b, g, k * k, h, w)


# ---------------------------------------------------------------- the model

class StyleKernels(nn.Module):
    """SAE + CGM + kernel generator + decoder. The VGG encoder is fetched, never registered."""

    def __init__(self, cfg: Config | None = None):
        super().__init__()
        cfg = cfg or Config()
        if cfg.channels % cfg.groups:
            raise ArgumentError(f"groups={cfg.groups} must divide channels={cfg.channels}")
        if cfg.kernel_size < 1 or cfg.kernel_size % 2 == 0:
            raise ArgumentError(f"kernel_size={cfg.kernel_size} must be odd (1, 3, 5, ...)")
        self.cfg = cfg
        c, d, k = cfg.channels, cfg.dim, cfg.kernel_size
        # SAE: learned 1x1 projections of normalised features
        self.q, self.k, self.v = nn.Conv2d(c, d, 1), nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 1)
        # CGM: content-dependent threshold theta(f_c) and a learned temperature tau
        self.theta = nn.Sequential(nn.Conv2d(c, 64, 1), nn.ReLU(inplace=True), nn.Conv2d(64, 1, 1))
        self.log_tau = nn.Parameter(torch.tensor(math.log(10.0)))
        # kernel generator: [z, norm(f_c)] -> G k^2 kernel taps + C biases per pixel
        self.gen = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(2 * c, cfg.hidden, 3), nn.ReLU(inplace=True),
            nn.Conv2d(cfg.hidden, cfg.groups * k * k + c, 1))
        self.decoder = Decoder(c, cfg.decoder_width)
        self._init_generator()

    def _init_generator(self):
        # start every kernel as a centre spike of height 1 (identity) and every bias at 0,
        # so the untrained model is AdaIN and training moves away from it
        last = self.gen[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        k, g = self.cfg.kernel_size, self.cfg.groups
        with torch.no_grad():
            last.bias[:g * k * k].view(g, k * k)[:, (k * k) // 2] = 1.0

    # ------------------------------------------------------------ stages (each one inspectable)
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        vgg = encoders.vgg19(device=str(x.device))
        return vgg.encode(x, [self.cfg.layer])[self.cfg.layer]

    def _keys_values(self, fs: torch.Tensor):
        n = fs.shape[-2] * fs.shape[-1]
        if n > self.cfg.max_keys:  # bound the attention's width: average-pool the style grid
            f = math.ceil(math.sqrt(n / self.cfg.max_keys))
            fs = F.avg_pool2d(fs, f, ceil_mode=True)
        fs = stats.normalize(fs)
        return self.k(fs).flatten(2), self.v(fs).flatten(2), fs.shape[-2:]

    def align(self, fc: torch.Tensor, fs: torch.Tensor):
        """SAE. Returns (aligned feature a (B,C,H,W), match score r (B,1,H,W))."""
        k, v, _ = self._keys_values(fs)
        return self._attend(fc, k, v)

    def _attend(self, fc: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
        b, _, h, w = fc.shape
        q = self.q(stats.normalize(fc)).flatten(2)
        a, best = attention(q, k, v, self.cfg.chunk)
        return a.view(b, -1, h, w), best.view(b, 1, h, w)

    def gate_map(self, fc: torch.Tensor, match: torch.Tensor) -> torch.Tensor:
        """CGM gate g = sigmoid(tau (r - theta(f_c))), (B,1,H,W); ones if the model has no CGM."""
        if not self.cfg.use_gate:
            return torch.ones_like(match)
        return torch.sigmoid(self.log_tau.exp() * (match - self.theta(stats.normalize(fc))))

    def attention_map(self, fc: torch.Tensor, fs: torch.Tensor, y: int, x: int) -> torch.Tensor:
        """Attention weights of content position (y, x) over the style grid, (Hs', Ws')."""
        q = self.q(stats.normalize(fc))[:, :, y, x]                        # (B, d)
        k, _, hw = self._keys_values(fs)
        a = torch.softmax(torch.einsum("bd,bdn->bn", q, k) / math.sqrt(q.shape[1]), -1)
        return a[0].view(*hw)

    def kernels(self, fc: torch.Tensor, fs: torch.Tensor, gate: float = 1.0) -> dict:
        """All intermediate results: aligned ``a``, ``match``, ``gate``, gated ``z``,
        ``kernels`` (B,G,k*k,H,W) and ``bias`` (B,C,H,W)."""
        if not 0.0 <= gate <= 1.0:
            raise ArgumentError(f"gate={gate} must be in [0, 1] (0 = no gating, 1 = the learned gate)")
        k, v, _ = self._keys_values(fs)                                    # once: SAE and m_s share them
        a, match = self._attend(fc, k, v)
        g = self.gate_map(fc, match)
        g = 1.0 - gate * (1.0 - g)
        m_s = v.mean(-1)[..., None, None]                                  # uniform attention
        z = g * a + (1.0 - g) * m_s
        out = self.gen(torch.cat([z, stats.normalize(fc)], 1))
        G, kk = self.cfg.groups, self.cfg.kernel_size ** 2
        b, _, h, w = fc.shape
        return {"aligned": a, "match": match, "gate": g, "z": z,
                "kernels": out[:, :G * kk].reshape(b, G, kk, h, w), "bias": out[:, G * kk:]}

    def modulate(self, fc, fs, gate: float = 1.0, kernel_size: int | None = None, alpha: float = 1.0):
        """t = alpha (sigma_s (K * norm(f_c) + b) + mu_s) + (1 - alpha) f_c."""
        parts = self.kernels(fc, fs, gate)
        K = parts["kernels"] if kernel_size is None else crop_kernels(parts["kernels"], kernel_size)
        mu_s, sigma_s = stats.mean_std(fs)
        t = sigma_s * (apply_kernels(stats.normalize(fc), K) + parts["bias"]) + mu_s
        return alpha * t + (1.0 - alpha) * fc

    def forward(self, content, style, gate: float = 1.0, kernel_size: int | None = None, alpha: float = 1.0):
        t = self.modulate(self.encode(content), self.encode(style), gate, kernel_size, alpha)
        return self.decoder(t)


def build(cfg: Config | None = None) -> StyleKernels:
    return StyleKernels(cfg or Config())


# ---------------------------------------------------------------- training

def loss(model: StyleKernels, batch: dict) -> dict:
    """content (normalised relu4_1) + style (mean/std, relu1_1..relu4_1) + identity (pixels)."""
    cfg = model.cfg
    c, s = batch["content"], batch["style"]
    vgg = encoders.vgg19(device=str(c.device))
    layers = list(dict.fromkeys(list(cfg.style_layers) + [cfg.layer]))
    fc_all, fs_all = vgg.encode(c, layers), vgg.encode(s, layers)
    fc, fs = fc_all[cfg.layer], fs_all[cfg.layer]
    out = model.decoder(model.modulate(fc, fs))
    fo = vgg.encode(out, layers)
    if getattr(cfg, "content_normalized", True):
        lc, _ = losses.content_loss({"x": stats.normalize(fo[cfg.layer])}, {"x": stats.normalize(fc)})
    else:
        k = float(cfg.feature_scale[-1]) if cfg.feature_scale else 1.0
        lc, _ = losses.content_loss({"x": fo[cfg.layer] / k}, {"x": fc / k})
    fo_s, fs_s = (losses.scale_features({l: f[l] for l in cfg.style_layers}, cfg.style_layers,
                                        cfg.feature_scale) for f in (fo, fs_all))
    ls, _ = losses.mean_std_style_loss(fo_s, fs_s)
    terms = {"content": cfg.content_weight * lc, "style": cfg.style_weight * ls}
    if cfg.identity_weight > 0:
        icc = model.decoder(model.modulate(fc, fc))
        iss = model.decoder(model.modulate(fs, fs))
        terms["identity"] = cfg.identity_weight * (F.mse_loss(_fit(icc, c), c) + F.mse_loss(_fit(iss, s), s))
    return terms


def _fit(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    # the decoder returns multiples of 8 pixels; bring the output back to the input's size
    if x.shape[-2:] == like.shape[-2:]:
        return x
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


def has_unused_parameters(model: StyleKernels) -> bool:
    """True when the loss leaves some parameters out (the gate's, with ``use_gate=False``): the
    trainer then tells DistributedDataParallel to look for them."""
    return not model.cfg.use_gate


def trainable_parameters(model: StyleKernels):
    return [p for p in model.parameters() if p.requires_grad]


# ---------------------------------------------------------------- using it

def pretrained(name: str = "default") -> StyleKernels:
    """The shipped model (raises CheckpointError while none ships)."""
    return checkpoints.pretrained(sys.modules[__name__], name)


def config_dict(cfg: Config) -> dict:
    """The config as plain values (for checkpoints' meta)."""
    return asdict(cfg)


class StyleFeatures(NamedTuple):
    """A style encoded once (``encode_style``): its relu4_1 features, the costly part of the style's
    path, and the image itself (``preserve_color="histogram"`` recolours the style to each content
    and so encodes it again)."""
    image: torch.Tensor
    features: torch.Tensor


@torch.no_grad()
def encode_style(style, model: StyleKernels | None = None, *, size: int | None = None) -> StyleFeatures:
    """The style's VGG-19 features, computed once; ``stylize`` takes the result as ``style``.
    ``style``: a tensor, path or bundled name (``size``: its long side)."""
    model = model if model is not None else pretrained()
    s = assets.resolve(style, size).to(next(model.parameters()).device)
    images.check_size(s, "style")
    return StyleFeatures(s, model.encode(s))


@torch.no_grad()
def stylize(content, style=None, *, model: StyleKernels | None = None, size: int | None = None,
            style_size: int | None = None, alpha: float = 1.0, gate: float = 1.0,
            kernel_size: int | None = None, preserve_color=False) -> torch.Tensor:
    """Stylise ``content`` with ``style`` (an image, or ``encode_style``'s result): (1,3,H,W) in
    [0,1], the content's size.

    Controls: ``alpha`` (0 = content features, 1 = full style), ``gate`` (CGM strength in [0,1]:
    0 ignores the gate, 1 applies the learned one), ``kernel_size`` (odd, at most the trained k:
    use only the central taps; 1 = per-pixel scaling with no spatial neighbourhood),
    ``preserve_color`` (``stylelab.controls``). Uses the shipped model unless ``model`` is given;
    runs on the model's device and leaves the model as it was.
    """
    alpha = controls.check_alpha(alpha)
    color = controls.color_mode(preserve_color)
    if style is None:
        raise ArgumentError("no style given; pass a style image")
    model = model if model is not None else pretrained()
    dev = next(model.parameters()).device
    c = assets.resolve(content, size).to(dev)
    images.check_size(c, "content")
    c8, hw = images.pad_to_multiple(c, 8)   # the decoder's three upsamplings
    with ops.eval_mode(model):
        if isinstance(style, StyleFeatures) and color != "histogram":
            fs = style.features.to(dev)
        else:
            s = style.image if isinstance(style, StyleFeatures) else assets.resolve(style, style_size or size)
            s = controls.recolor_style(s.to(dev), c, color)
            images.check_size(s, "style")
            fs = model.encode(s)
        out = model.decoder(model.modulate(model.encode(c8), fs, gate, kernel_size, alpha))
    return controls.keep_luminance(images.crop_to(out, hw).clamp(0, 1), c, color)
