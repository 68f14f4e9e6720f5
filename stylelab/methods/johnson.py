"""Johnson et al. (2016) feed-forward style network, with Ulyanov et al.'s instance normalisation.

A transformation network T_theta maps a content photo to its stylisation in one forward pass;
it is trained to minimise the perceptual loss  L_c(T(c), c) + L_s(T(c), s)  (+ TV) over many
content images for one style s.

Architecture (Johnson et al., supplementary Table 1, with reflection padding):
    conv 9x9/1 32 -> conv 3x3/2 64 -> conv 3x3/2 128 -> 5 residual blocks (128)
    -> upsample x2 + conv 3x3 64 -> upsample x2 + conv 3x3 32 -> conv 9x9/1 3
Each conv but the last is followed by normalisation and ReLU.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

NormFactory = Callable[[int], nn.Module]


def make_norm(kind: str | NormFactory) -> NormFactory:
    """'instance' (Ulyanov et al.; affine), 'batch' (Johnson et al.'s original), or a factory."""
    if callable(kind):
        return kind
    if kind == "instance":
        return lambda c: nn.InstanceNorm2d(c, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d
    from ..errors import ArgumentError
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
            from ..errors import ArgumentError
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
