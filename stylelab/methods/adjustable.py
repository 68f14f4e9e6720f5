"""Adjustable real-time style transfer (Babaeizadeh & Ghiasi, 2018).

The per-layer loss weights become inputs of the network. With content layers C and style
layers S, the loss of a stylisation p is (Eq. 6)

    L(p) = sum_{l in C} alpha_c^l L_c^l(p) + sum_{l in S} alpha_s^l L_s^l(p)

and the network Phi(c, alpha_c, alpha_s) is Johnson's transformation network whose instance
normalisation layers are conditioned on alpha (Eq. 7-8):

    z = gamma_alpha * (x - mu(x)) / sigma(x) + beta_alpha,   (gamma_alpha, beta_alpha) = Lambda(alpha_c, alpha_s)

Lambda is a small MLP that outputs the gamma and beta of every conditional IN layer at once.
Training samples alpha ~ U(0, 1), so after training any alpha in [0, 1] is one forward pass: the
loss weights can be moved after training, in real time. Each layer's loss is divided by its
exponential moving average (Eq. 9) so that layers of very different scale weigh alike.

Choices where the description is silent (our choices):
- one style per network (the paper's model also takes the style image through a style
  prediction network; we condition on alpha only, so the network learns one style);
- Lambda: Linear(n_alpha, 128) - ReLU - Linear(128, 2 x channels of all IN layers), started at
  gamma = 1, beta = 0, plus a linear path A (alpha - 1/2) started at zero (see ``conditioning``);
- alpha_s is drawn independently for every row of a batch (more contrast per step);
- alpha_c is fixed to 1 in training, as the paper does with its single content layer
  (``Config.sample_alpha_c`` samples it too);
- Eq. 9 is applied as L^l / EMA(L^l) (the description's numerator sum_i EMA(L^i) is a factor
  common to every layer, which Adam's step size makes irrelevant); EMA decay 0.99, starting
  at min(0.99, (1 + n) / (10 + n)) after n updates so that it follows the early fall of the losses;
- a smaller transformation network than Johnson's by default (channels 16-32-64, 3 residual
  blocks) so that a slider re-renders a 256 px image in well under a second on a laptop CPU.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Mapping

import torch
import torch.nn as nn

from .. import assets, checkpoints, controls, encoders, losses, ops, stats
from ..errors import ArgumentError, CheckpointError
from .cin import run_padded
from .johnson import TransformNet

#: ``stylize``'s ``style`` names a style the network was trained on (``methods.Method``).
STYLE_INPUT = "trained"
#: A trained network (``pretrained()``) does the work (``methods.Method``).
TRAINED = True


@dataclass
class Config:
    #: "last feature set of conv3" and "of conv2, conv3, conv4" of VGG-19 (the description, Sec. 4)
    content_layers: tuple = ("relu3_4",)
    style_layers: tuple = ("relu2_2", "relu3_4", "relu4_4")
    #: the transformation network (our choice, see the module docstring)
    channels: tuple = (16, 32, 64)
    n_residual: int = 3
    #: hidden width of Lambda (our choice)
    hidden: int = 128
    #: decay of the per-layer loss EMA of Eq. 9 (our choice)
    ema_decay: float = 0.99
    #: a constant factor on every style term (our choice; 1 = Eq. 6 as written). Eq. 9 makes each
    #: layer's loss ~1, not its gradient: from a trained Johnson start the style terms' gradients
    #: were 16x the content term's, rows with a low alpha_s hardly pulled, and the network ignored
    #: alpha. The factor sets the balance so that alpha_s spans photo to painting (the shipped
    #: network's runs list the factors they used).
    style_scale: float = 1.0
    #: train each photo twice in a batch, at alpha_s and 1 - alpha_s (our choice): the two rows
    #: differ only in alpha, so the batch's gradient carries how the loss's pull changes with
    #: alpha, which is what Lambda has to learn, with far less noise from the photos
    alpha_pairs: bool = True
    #: stop updating Eq. 9's moving averages once they have this many updates (0: never, as
    #: written). Our addition, measured: dividing by a *running* average turns the objective
    #: into roughly sum_l alpha^l log L^l, whose content term can go to zero, so the network slid
    #: to the photo for every alpha (from another balance it slid to the painting); with the
    #: averages frozen, Eq. 6 has fixed weights and alpha trades the layers as it says.
    ema_freeze: int = 0
    #: gain of Lambda's linear path A (alpha - 1/2) (our choice): a learning-rate multiplier for A
    #: under Adam, so that the sliders take effect within a CPU budget of steps
    linear_gain: float = 10.0
    #: train with alpha_c ~ U(0,1) too (the paper fixes alpha_c = 1: one content layer)
    sample_alpha_c: bool = False
    #: bundled name of the style the network was trained on (informative; stored in checkpoints)
    style_name: str = ""
    #: Adam (our choice of rate and batch for a laptop)
    lr: float = 1e-3
    batch_size: int = 4


class LambdaIN(nn.Module):
    """Instance normalisation whose (gamma, beta) the network sets from Lambda(alpha) before each
    forward pass (``self.gamma``, ``self.beta``: (B, C))."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.gamma: torch.Tensor | None = None
        self.beta: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gamma is None:
            raise ArgumentError("a conditional IN layer ran without alpha; call the network as model(x, alpha)")
        return stats.normalize(x) * self.gamma[:, :, None, None] + self.beta[:, :, None, None]


class AdjustableNet(nn.Module):
    """Phi(c, alpha): ``model(x, alpha)`` with alpha (B or 1, n_content + n_style) = [alpha_c, alpha_s]."""

    def __init__(self, cfg: Config):
        super().__init__()
        if not cfg.content_layers or not cfg.style_layers:
            raise ArgumentError("the adjustable network needs at least one content and one style layer")
        encoders.check_layers(list(cfg.content_layers) + list(cfg.style_layers))
        self.cfg = cfg
        self.net = TransformNet(norm=LambdaIN, channels=tuple(cfg.channels), n_residual=cfg.n_residual)
        sizes = [m.channels for m in self.norms()]
        self.n_alpha = len(cfg.content_layers) + len(cfg.style_layers)
        self.lam = nn.Sequential(nn.Linear(self.n_alpha, cfg.hidden), nn.ReLU(inplace=True),
                                 nn.Linear(cfg.hidden, 2 * sum(sizes)))
        #: a linear path from the centred alpha, started at zero (our choice, see ``conditioning``)
        self.lam_linear = nn.Linear(self.n_alpha, 2 * sum(sizes), bias=False)
        with torch.no_grad():  # start as plain IN: gamma = 1, beta = 0
            self.lam[2].weight.mul_(0.1)
            self.lam[2].bias.copy_(torch.cat([torch.ones(sum(sizes)), torch.zeros(sum(sizes))]))
            self.lam_linear.weight.zero_()
        self.sizes = sizes
        #: Eq. 9's moving averages, one per layer (content layers first); saved with the model
        self.register_buffer("loss_ema", torch.zeros(self.n_alpha))
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))

    def norms(self) -> list[LambdaIN]:
        return [m for m in self.modules() if isinstance(m, LambdaIN)]

    def conditioning(self, alpha: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Lambda(alpha): one (gamma, beta) pair of shape (B, C_l) per conditional IN layer (Eq. 8).

        Lambda(alpha) = MLP(alpha) + g A (alpha - 1/2), g = ``cfg.linear_gain``. The linear path is
        our addition: the MLP's hidden units are mostly the same for every alpha, so its gradient
        mostly repeats its output bias and it learned to listen to alpha very slowly (after 100 CPU
        steps from a trained start the sliders did nothing visible); A's gradient is the
        correlation of alpha with the loss's pull, which is exactly the part to learn."""
        out = self.lam(alpha) + self.cfg.linear_gain * self.lam_linear(alpha - 0.5)
        gammas, betas = out.split(sum(self.sizes), dim=1)
        return list(zip(gammas.split(self.sizes, 1), betas.split(self.sizes, 1)))

    def forward(self, x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        if alpha.dim() == 1:
            alpha = alpha.unsqueeze(0)
        if alpha.shape[-1] != self.n_alpha:
            raise ArgumentError(f"alpha has {alpha.shape[-1]} entries; this network takes {self.n_alpha} "
                                f"({len(self.cfg.content_layers)} content + {len(self.cfg.style_layers)} style)")
        alpha = alpha.to(x.dtype).expand(x.shape[0], -1)
        norms = self.norms()
        for m, (g, b) in zip(norms, self.conditioning(alpha)):
            m.gamma, m.beta = g, b
        try:
            return self.net(x)
        finally:
            for m in norms:
                m.gamma = m.beta = None


class FixedAlphaNet(nn.Module):
    """Johnson's network (plain IN) trained with the same loss at one fixed alpha: the baseline that
    the sliders replace ("retrain with those weights")."""

    def __init__(self, cfg: Config, alpha: torch.Tensor):
        super().__init__()
        self.cfg = cfg
        self.net = TransformNet(norm="instance", channels=tuple(cfg.channels), n_residual=cfg.n_residual)
        self.n_alpha = len(cfg.content_layers) + len(cfg.style_layers)
        self.register_buffer("fixed_alpha", alpha.float().view(1, self.n_alpha))
        self.register_buffer("loss_ema", torch.zeros(self.n_alpha))
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x)


def build(cfg: Config | None = None) -> AdjustableNet:
    return AdjustableNet(cfg or Config())


# ---------------------------------------------------------------- alpha

def make_alpha(model, alpha_s=None, alpha_c=1.0) -> torch.Tensor:
    """The (1, n_alpha) input [alpha_c, alpha_s] from a scalar, a list (one per style layer) or
    ``{layer: value}``; every entry must lie in [0, 1], the range the network was trained on."""
    cfg = model.cfg

    def vec(v, layers, what):
        if v is None:
            v = 1.0
        if isinstance(v, Mapping):
            unknown = set(v) - set(layers)
            if unknown:
                raise ArgumentError(f"{what} names {sorted(unknown)}, not among {list(layers)}")
            v = [float(v.get(l, 1.0)) for l in layers]
        t = torch.as_tensor(v, dtype=torch.float32).flatten()
        if t.numel() == 1:
            t = t.expand(len(layers))
        if t.numel() != len(layers):
            raise ArgumentError(f"{what} has {t.numel()} values; give one per layer {list(layers)} or one number")
        if not torch.isfinite(t).all() or (t < 0).any() or (t > 1).any():
            raise ArgumentError(f"{what}={t.tolist()} must lie in [0, 1], the range the network was trained on")
        return t

    return torch.cat([vec(alpha_c, cfg.content_layers, "alpha_c"),
                      vec(alpha_s, cfg.style_layers, "alpha_s")]).unsqueeze(0)


def trained_styles(model: AdjustableNet | None = None) -> list[str]:
    """The one style ``model`` (default: the shipped one) was trained on, by name."""
    name = (model if model is not None else pretrained()).cfg.style_name
    return [name] if name else []


@torch.no_grad()
def stylize(content, style=None, *, model: AdjustableNet | None = None, size: int | None = None,
            alpha_s=None, alpha_c=1.0, preserve_color=False) -> torch.Tensor:
    """Stylise ``content`` with the network's style at per-layer weights ``alpha_s`` (one per style
    layer: relu2_2, relu3_4, relu4_4; default 1) and ``alpha_c`` (default 1, as in training).
    ``style`` may name the style the network was trained on (a check); one forward pass.
    ``preserve_color=True`` keeps the content's colours (``stylelab.controls``)."""
    color = controls.color_mode(preserve_color, style_image=False)
    model = model if model is not None else pretrained()
    if style is not None and isinstance(style, str) and model.cfg.style_name and style != model.cfg.style_name:
        raise ArgumentError(f"this network was trained on {model.cfg.style_name!r}, not {style!r}; "
                            "train one for that style with adjustable.loss")
    dev = next(model.parameters()).device
    x = assets.resolve(content, size).to(dev)
    a = make_alpha(model, alpha_s, alpha_c).to(dev)
    with ops.eval_mode(model):
        return controls.keep_luminance(run_padded(lambda t: model(t, a), x), x, color)


@torch.no_grad()
def randomize(content, n: int = 8, *, model: AdjustableNet | None = None, seed: int | None = None,
              alpha_c: float = 1.0, size: int | None = None) -> tuple[list[torch.Tensor], torch.Tensor]:
    """``n`` diverse stylisations of one content image: alpha_s ~ U(0, 1) per style layer.
    Returns (images, alphas) with alphas of shape (n, number of style layers)."""
    model = model if model is not None else pretrained()
    if n < 1:
        raise ArgumentError(f"n={n} must be at least 1")
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    alphas = torch.rand(n, len(model.cfg.style_layers), generator=g)
    return [stylize(content, alpha_s=a, alpha_c=alpha_c, model=model, size=size) for a in alphas], alphas


# ---------------------------------------------------------------- training

def layer_losses(model, out: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """(B, n_alpha) raw per-row losses: content layers (Eq. 1) then style layers (Eq. 2).

    Squared errors are means over elements (``losses.content_loss``, ``losses.gram_style_loss``)."""
    cfg = model.cfg
    objective = losses.PerceptualLoss(encoders.vgg19(device=str(out.device)), cfg.content_layers, cfg.style_layers)
    objective.set_content_image(content).set_style_image(style, weights=[1.0] * style.shape[0])  # the mean Gram
    per = objective.layer_losses(out, per_row=True)
    return torch.stack([per[f"content/{l}"] for l in cfg.content_layers]
                       + [per[f"style/{l}"] for l in cfg.style_layers], 1)


def sample_alpha(model, batch_size: int, device=None) -> torch.Tensor:
    """alpha ~ U(0,1) per row and style layer (alpha_c = 1 unless cfg.sample_alpha_c)."""
    cfg = model.cfg
    a_s = torch.rand(batch_size, len(cfg.style_layers), device=device)
    a_c = (torch.rand if cfg.sample_alpha_c else torch.ones)(batch_size, len(cfg.content_layers), device=device)
    return torch.cat([a_c, a_s], 1)


def loss(model, batch: dict) -> dict:
    """sum_l alpha^l L^l / EMA(L^l) averaged over the batch (Eq. 6 with Eq. 9), one term per layer."""
    cfg = model.cfg
    c, s = batch["content"], batch["style"]
    fixed = getattr(model, "fixed_alpha", None)
    if fixed is not None:
        alpha = fixed.expand(c.shape[0], -1)
    elif cfg.alpha_pairs and c.shape[0] >= 2:
        half = c.shape[0] // 2   # rows i and half + i: the same photo at alpha_s and 1 - alpha_s
        c, s = torch.cat([c[:half], c[:half]]), torch.cat([s[:half], s[:half]])
        a = sample_alpha(model, half, c.device)
        n_c = len(cfg.content_layers)
        alpha = torch.cat([a, torch.cat([a[:, :n_c], 1 - a[:, n_c:]], 1)])
    else:
        alpha = sample_alpha(model, c.shape[0], c.device)
    out = model(c, alpha)
    per = layer_losses(model, out, c, s)  # (B, n_alpha)
    frozen = 0 < cfg.ema_freeze <= int(model.ema_steps)
    if model.training and not frozen:
        with torch.no_grad():
            m = per.detach().mean(0)
            n = int(model.ema_steps)
            # the losses fall by orders of magnitude in the first steps; like TensorFlow's
            # ExponentialMovingAverage(num_updates=...) the decay starts small so the average keeps up
            d = min(cfg.ema_decay, (1 + n) / (10 + n)) if n else 0.0
            model.loss_ema.mul_(d).add_((1 - d) * m)
            model.ema_steps += 1
    if int(model.ema_steps) == 0:
        raise ArgumentError("the loss EMA is empty: train the model (model.train()) before evaluating its loss")
    scale = torch.tensor([1.0] * len(cfg.content_layers) + [cfg.style_scale] * len(cfg.style_layers),
                         device=per.device)
    weighted = (scale * alpha * per / model.loss_ema.clamp_min(1e-12)).mean(0)
    names = [f"content_{l}" for l in cfg.content_layers] + [f"style_{l}" for l in cfg.style_layers]
    return dict(zip(names, weighted))


@torch.no_grad()
def style_losses(model, output: torch.Tensor, style) -> dict[str, float]:
    """Raw Gram style loss of ``output`` at each style layer of ``model`` (Eq. 2), for checks and plots."""
    cfg = model.cfg
    s = assets.resolve(style).to(output.device) if isinstance(style, str) else style.to(output.device)
    objective = losses.PerceptualLoss(encoders.vgg19(device=str(output.device)), (), cfg.style_layers)
    per = objective.set_style_image(s).layer_losses(output)
    return {l: float(per[f"style/{l}"]) for l in cfg.style_layers}


# ---------------------------------------------------------------- checkpoints

def config_from(meta: dict) -> Config:
    """The Config for starting from another method's network (``train adjustable --from
    johnson/starry_night``): its transformation network's size, and its style's name."""
    src = meta.get("config") or {}
    cfg = Config()
    return Config(**{**asdict(cfg), "channels": tuple(src.get("channels", cfg.channels)),
                     "n_residual": int(src.get("n_residual", cfg.n_residual)),
                     "style_name": src.get("style_name") or _shipped_style(meta)})


def _shipped_style(meta: dict) -> str:
    """``"starry_night"`` for a start named ``"johnson/starry_night"``; "" otherwise."""
    method, _, name = str(meta.get("shipped_as", "")).partition("/")
    return name if method == "johnson" else ""


def state_from(model: AdjustableNet, meta: dict, state: dict) -> dict:
    """A trained Johnson (or MetaStyle) network as a start: its convolutions as they are, and its
    IN scale and shift as Lambda's output bias, so that every alpha starts at that network's
    picture and Lambda only has to learn how alpha moves away from it."""
    norms = [name for name, m in model.net.named_modules() if isinstance(m, LambdaIN)]
    for name in norms:
        if f"{name}.weight" not in state:
            raise CheckpointError(f"the start has no IN layer {name!r}; start the adjustable network from "
                                  "a Johnson network of the same size (--set channels=... n_residual=...)")
    out = {f"net.{k}": v for k, v in state.items() if k.rpartition(".")[0] not in norms}
    out["lam.2.bias"] = torch.cat([state[f"{n}.weight"].float() for n in norms]
                                  + [state[f"{n}.bias"].float() for n in norms])
    out["lam_linear.weight"] = torch.zeros_like(model.lam_linear.weight)
    return out


def pretrained(name: str = "default") -> AdjustableNet:
    """The shipped adjustable network (a CheckpointError until one is listed in the registry)."""
    return checkpoints.pretrained(sys.modules[__name__], name)
