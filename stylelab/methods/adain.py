"""AdaIN: arbitrary style transfer in real time (Huang & Belongie, ICCV 2017).

    t = AdaIN(f(c), f(s)) = sigma(f(s)) * (f(c) - mu(f(c))) / sigma(f(c)) + mu(f(s))
    T(c, s) = g(t)

f is VGG-19 up to relu4_1 (frozen), g a decoder that mirrors it.
"""
from __future__ import annotations

import torch
import torch.nn as nn


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
