"""Conditional instance normalisation: N styles in one network (Dumoulin, Shlens & Kudlur, ICLR 2017).

Johnson's transformation network T, but every instance-normalisation layer keeps one
(gamma_s, beta_s) pair per style s (Dumoulin et al., Eq. 5):

    CIN(x, s) = gamma_s * (x - mu(x)) / sigma(x) + beta_s

All convolutions are shared by every style; a style costs only its gammas and betas
(2 x the channels of all normalisation layers: 3,200 numbers for the default network, against
about 1.7 million for a whole network per style). Mixing styles with weights w (w_s >= 0,
sum_s w_s = 1) is a convex combination of their parameters (Dumoulin et al., Sec. 5):

    gamma = sum_s w_s gamma_s,   beta = sum_s w_s beta_s

A new style is learned by training only its (gamma, beta) with everything else frozen.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import assets, checkpoints, controls, encoders, images, losses, ops, stats
from ..errors import ArgumentError
from .johnson import TransformNet

#: ``stylize``'s ``style`` names a style the network was trained on (``methods.Method``).
STYLE_INPUT = "trained"
#: A trained network (``pretrained()``) does the work (``methods.Method``).
TRAINED = True


@dataclass
class Config:
    #: Dumoulin et al. trained 32 styles in one network (Sec. 4); set it to your number of styles.
    n_styles: int = 32
    #: Names shown by ``stylize(style="name")``, one per style (optional).
    style_names: tuple = ()
    #: Johnson et al.'s network widths and residual blocks (Dumoulin et al. keep its layout).
    channels: tuple = (32, 64, 128)
    n_residual: int = 5
    #: Dumoulin et al. use VGG-16 relu3_3 for content and relu1_2..relu4_3 for style; we use the
    #: same positions (the last layer of each block) in our VGG-19: our choice of the mapping.
    content_layers: tuple = ("relu3_4",)
    style_layers: tuple = ("relu1_2", "relu2_2", "relu3_4", "relu4_4")
    #: Each layer's loss is divided by the size of its target (||phi(c)||^2 resp. ||G(s)||^2), so
    #: the weights below are scale-free: our choice (the paper tunes raw weights per style set).
    content_weight: float = 1.0
    style_weight: float = 2.0
    tv_weight: float = 0.0
    #: Adam, lr 1e-3 as Dumoulin et al.; batch 16 there, 4 here so it fits a laptop (our choice).
    lr: float = 1e-3
    batch_size: int = 4


# ---------------------------------------------------------------- the conditional IN layer

class ConditionalInstanceNorm(nn.Module):
    """Instance normalisation with one (gamma, beta) per style.

    The network sets ``weights`` (B, N) (one-hot for a single style, convex weights for a mix)
    before its forward pass; ``gamma = weights @ gamma_table``.
    Each style's parameters are separate tensors so that a new style can be trained alone.
    """

    def __init__(self, channels: int, n_styles: int):
        super().__init__()
        self.channels = channels
        self.gamma = nn.ParameterList([nn.Parameter(torch.ones(channels)) for _ in range(n_styles)])
        self.beta = nn.ParameterList([nn.Parameter(torch.zeros(channels)) for _ in range(n_styles)])
        self.weights: torch.Tensor | None = None

    @property
    def n_styles(self) -> int:
        return len(self.gamma)

    def tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, C) tables of every style's gamma and beta."""
        return torch.stack(list(self.gamma)), torch.stack(list(self.beta))

    def add_style(self, gamma: torch.Tensor, beta: torch.Tensor) -> list[nn.Parameter]:
        g, b = nn.Parameter(gamma.detach().clone()), nn.Parameter(beta.detach().clone())
        self.gamma.append(g)
        self.beta.append(b)
        return [g, b]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.weights is None:
            raise ArgumentError("a conditional IN layer ran without style weights; call the network as "
                                "model(x, weights) (or use cin.stylize)")
        G, Bt = self.tables()
        w = self.weights.to(x.dtype)
        gamma, beta = w @ G, w @ Bt  # (B, C): the convex combination of the styles' parameters
        return stats.normalize(x) * gamma[:, :, None, None] + beta[:, :, None, None]


class CINNet(nn.Module):
    """Johnson's TransformNet with conditional IN: ``model(x, weights)``, weights (B or 1, N)."""

    def __init__(self, cfg: Config):
        super().__init__()
        if cfg.n_styles < 1:
            raise ArgumentError(f"n_styles={cfg.n_styles} must be at least 1")
        if cfg.style_names and len(cfg.style_names) != cfg.n_styles:
            raise ArgumentError(f"{len(cfg.style_names)} style names for {cfg.n_styles} styles; "
                                "give one name per style or none")
        self.cfg = cfg
        self.net = TransformNet(norm=lambda c: ConditionalInstanceNorm(c, cfg.n_styles),
                                channels=tuple(cfg.channels), n_residual=cfg.n_residual)
        self.style_names = list(cfg.style_names) or [f"style {i}" for i in range(cfg.n_styles)]
        #: while training one new style, maps the trainer's style_index to the model's index
        self.style_map: list[int] | None = None

    def norms(self) -> list[ConditionalInstanceNorm]:
        return [m for m in self.modules() if isinstance(m, ConditionalInstanceNorm)]

    @property
    def n_styles(self) -> int:
        return self.norms()[0].n_styles

    def style_parameters(self, index: int) -> list[nn.Parameter]:
        """The gamma and beta of style ``index`` in every layer (all that style owns)."""
        return [p for m in self.norms() for p in (m.gamma[index], m.beta[index])]

    def add_style(self, name: str | None = None, init: str = "mean") -> list[nn.Parameter]:
        """Append a style; its parameters start at the mean of the existing styles ("mean") or at
        the identity gamma=1, beta=0 ("identity"). Returns the new parameters."""
        new = []
        for m in self.norms():
            G, Bt = m.tables()
            if init == "mean":
                g, b = G.mean(0), Bt.mean(0)
            elif init == "identity":
                g, b = torch.ones_like(G[0]), torch.zeros_like(Bt[0])
            else:
                raise ArgumentError(f"init={init!r} is unknown; use 'mean' or 'identity'")
            new += m.add_style(g, b)
        self.style_names.append(name or f"style {self.n_styles - 1}")
        self.cfg = Config(**{**asdict(self.cfg), "n_styles": self.n_styles,
                             "style_names": tuple(self.style_names)})
        return new

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if weights.dim() == 1:
            weights = weights.unsqueeze(0)
        if weights.shape[-1] != self.n_styles:
            raise ArgumentError(f"{weights.shape[-1]} style weights for a network of {self.n_styles} styles")
        norms = self.norms()
        for m in norms:
            m.weights = weights.expand(x.shape[0], -1)
        try:
            return self.net(x)
        finally:
            for m in norms:
                m.weights = None


def build(cfg: Config | None = None) -> CINNet:
    return CINNet(cfg or Config())


def parameters_per_style(model: CINNet) -> int:
    """Numbers one style owns: its gamma and beta in every conditional IN layer."""
    return sum(p.numel() for p in model.style_parameters(0))


# ---------------------------------------------------------------- choosing styles

def style_weights(model: CINNet, style) -> torch.Tensor:
    """(1, N) convex weights from an index, a name, or weights over the styles (normalised to sum 1)."""
    n = model.n_styles
    if isinstance(style, str):
        if style not in model.style_names:
            raise ArgumentError(f"no style named {style!r} in this network; choose one of {model.style_names}")
        style = model.style_names.index(style)
    if isinstance(style, (int,)) and not isinstance(style, bool):
        if not 0 <= style < n:
            raise ArgumentError(f"style index {style} is out of range; this network has styles 0..{n - 1}")
        return F.one_hot(torch.tensor([style]), n).float()
    if isinstance(style, dict):
        unknown = set(style) - set(model.style_names)
        if unknown:
            raise ArgumentError(f"no styles named {sorted(unknown)}; choose among {model.style_names}")
        style = [float(style.get(s, 0.0)) for s in model.style_names]
    w = torch.as_tensor(style, dtype=torch.float32).flatten()
    if w.numel() != n:
        raise ArgumentError(f"{w.numel()} style weights for a network of {n} styles; give one weight per style")
    if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ArgumentError(f"style weights {w.tolist()} must be >= 0 with a positive sum")
    return (w / w.sum()).unsqueeze(0)


def run_padded(fn, x: torch.Tensor, multiple: int = 4) -> torch.Tensor:
    """``fn(x)`` on ``x`` reflection-padded to a multiple of ``multiple``, cropped back, clamped."""
    xp, hw = images.pad_to_multiple(x, multiple)
    return images.crop_to(fn(xp), hw).clamp(0.0, 1.0)


def trained_styles(model: CINNet | None = None) -> list[str]:
    """The names of the styles ``model`` (default: the shipped one) was trained on."""
    return list((model if model is not None else pretrained()).style_names)


@torch.no_grad()
def stylize(content, style=None, *, model: CINNet | None = None, size: int | None = None,
            preserve_color=False) -> torch.Tensor:
    """Stylise ``content`` with style ``style``: an index, a name, or weights over the styles
    (a list, a tensor or ``{name: weight}``; mixing is the convex combination of (gamma, beta));
    None is the first style.
    ``preserve_color=True`` keeps the content's colours (``stylelab.controls``)."""
    color = controls.color_mode(preserve_color, style_image=False)
    model = model if model is not None else pretrained()
    dev = next(model.parameters()).device
    x = assets.resolve(content, size).to(dev)
    w = style_weights(model, 0 if style is None else style).to(dev)
    with ops.eval_mode(model):
        return controls.keep_luminance(run_padded(lambda t: model(t, w), x), x, color)


# ---------------------------------------------------------------- training

def _style_index(model: CINNet, batch_index: torch.Tensor) -> torch.Tensor:
    if model.style_map is not None:
        return torch.as_tensor(model.style_map, device=batch_index.device)[batch_index]
    if int(batch_index.max()) >= model.n_styles:
        raise ArgumentError(f"the trainer passed style index {int(batch_index.max())} to a network of "
                            f"{model.n_styles} styles; build it with Config(n_styles=<number of style images>)")
    return batch_index


def loss(model: CINNet, batch: dict) -> dict:
    """Dumoulin et al.'s objective, each row with its own style (batch["style_index"]):

    L = w_c * ||phi(T(c,s)) - phi(c)||^2 / ||phi(c)||^2 + w_s * sum_l ||G_l(T(c,s)) - G_l(s)||^2 / ||G_l(s)||^2
    """
    cfg = model.cfg
    c, s = batch["content"], batch["style"]
    idx = _style_index(model, batch["style_index"])
    out = model(c, F.one_hot(idx, model.n_styles).float())
    objective = losses.PerceptualLoss(encoders.vgg19(device=str(c.device)), cfg.content_layers, cfg.style_layers,
                                      content_weight=cfg.content_weight, style_weight=cfg.style_weight,
                                      tv_weight=cfg.tv_weight or None, relative=True)
    return objective.set_content_image(c).set_style_image(s).weighted(out)


# ---------------------------------------------------------------- checkpoints

def state_from(model: CINNet, meta: dict, state: dict) -> dict:
    """A single-style network's weights (Johnson's, MetaStyle's) as a start for ``model``
    (``train cin --from johnson/starry_night``): its convolutions are shared as they are, and
    every style's (gamma, beta) starts at that network's IN scale and shift."""
    own, out = model.state_dict(), {}
    for key, value in state.items():
        layer, _, kind = key.rpartition(".")
        if value.dim() == 1 and f"net.{layer}.gamma.0" in own:
            which = "gamma" if kind == "weight" else "beta"
            out.update({f"net.{layer}.{which}.{i}": value.clone() for i in range(model.n_styles)})
        else:
            out[f"net.{key}"] = value
    return out


def pretrained(name: str = "default") -> CINNet:
    """The shipped multi-style network (a CheckpointError until one is listed in the registry)."""
    return checkpoints.pretrained(sys.modules[__name__], name)
