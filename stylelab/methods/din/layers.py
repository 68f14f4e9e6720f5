"""DIN's building blocks: the dynamic convolution and dynamic instance normalisation, the DIN
parameters that reproduce AdaIN, a DIN layer with its weight, bias and offset nets, and the
depthwise-separable pieces of the compact content path. ``stylelab.methods.din`` assembles them
into the network and re-exports every name defined here.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import deform_conv2d

from ...errors import ArgumentError
from ...stats import mean_std, normalize


# ---------------------------------------------------------------- the DIN operation

def _pad(x: torch.Tensor, pad: int) -> torch.Tensor:
    if pad == 0:
        return x
    mode = "reflect" if min(x.shape[-2:]) > pad else "replicate"
    return F.pad(x, (pad, pad, pad, pad), mode=mode)


def _check_kernel(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None):
    if weight.dim() != 5:
        raise ArgumentError(f"a dynamic kernel has shape (B, C_out, C_in/groups, k, k), got {tuple(weight.shape)}")
    b, c = x.shape[:2]
    if weight.shape[0] not in (1, b) or c % weight.shape[2] != 0:
        raise ArgumentError(f"kernel {tuple(weight.shape)} does not fit features {tuple(x.shape)}: the batch must "
                            f"be 1 or {b} and C_in/groups must divide {c}")
    weight = weight.expand(b, *weight.shape[1:])
    if bias is not None:
        bias = bias.reshape(bias.shape[0], -1).expand(b, weight.shape[1])
    return weight, bias


def dynamic_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 dilation: int = 1, offset: torch.Tensor | None = None) -> torch.Tensor:
    """Convolve each sample with its own kernel: y_b = W_b (*) x_b + b_b, reflection padded, stride 1.

    ``x`` (B, C, H, W); ``weight`` (B or 1, C_out, C/groups, k, k); ``bias`` (B or 1, C_out).
    The batch is folded into the channels, so one grouped convolution with B * groups groups does
    every sample at once. With ``offset`` (B, 2*k*k, H, W) the kernel samples at shifted positions
    (a deformable convolution, Dai et al. 2017) through ``torchvision.ops.deform_conv2d``.
    """
    weight, bias = _check_kernel(x, weight, bias)
    b, c, h, w = x.shape
    _, c_out, c_g, kh, kw = weight.shape
    groups = b * (c // c_g)
    xp = _pad(x, dilation * (kh - 1) // 2)
    xp = xp.reshape(1, b * c, *xp.shape[-2:])
    wt = weight.reshape(b * c_out, c_g, kh, kw)
    bs = None if bias is None else bias.reshape(b * c_out)
    if offset is None:
        y = F.conv2d(xp, wt, bs, dilation=dilation, groups=groups)
    else:
        if offset.shape != (b, 2 * kh * kw, h, w):
            raise ArgumentError(f"offsets must have shape {(b, 2 * kh * kw, h, w)}, got {tuple(offset.shape)}")
        # one offset group per sample: group b moves the sampling points of sample b's channels
        y = deform_conv2d(xp, offset.reshape(1, b * 2 * kh * kw, h, w), wt, bs, dilation=(dilation, dilation))
    return y.reshape(b, c_out, h, w)


def dynamic_instance_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                          **kw) -> torch.Tensor:
    """DIN(x) = W (*) IN(x) + b: instance normalisation, then a per-sample dynamic convolution."""
    return dynamic_conv(normalize(x), weight, bias, **kw)


def adain_params(style_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The DIN parameters that make DIN equal to AdaIN: a 1x1 depthwise kernel W_c = sigma_c(s) and
    bias b_c = mu_c(s), shapes (B, C, 1, 1, 1) and (B, C)."""
    mu, sigma = mean_std(style_f)
    b, c = mu.shape[:2]
    return sigma.reshape(b, c, 1, 1, 1), mu.reshape(b, c)


# ---------------------------------------------------------------- a DIN layer with its weight and bias nets

class DINLayer(nn.Module):
    """IN of the content feature, then a dynamic k x k convolution whose kernel and bias are
    predicted from a style feature.

    weight net: conv3x3/2 -> ReLU -> conv1x1 to C_out * C_in/g channels -> adaptive average pool to
    k x k; bias net: conv3x3/2 -> ReLU -> conv1x1 to C_out -> adaptive average pool to 1 x 1.
    The kernel is predicted around the identity (W = I + dW; our choice, so an untrained layer is
    plain IN and training starts from a sensible network). ``group_channels`` = C_in/g: 1 is
    depthwise, ``channels`` is a full convolution.
    """

    def __init__(self, channels: int, style_channels: int, kernel_size: int = 3, group_channels: int = 1,
                 hidden: int = 128, deformable: bool = True):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ArgumentError(f"kernel_size={kernel_size} must be odd (1 or 3)")
        if channels % group_channels != 0:
            raise ArgumentError(f"group_channels={group_channels} must divide channels={channels}")
        self.channels, self.k, self.c_g = channels, kernel_size, group_channels
        n_w = channels * group_channels
        self.weight_net = nn.Sequential(nn.Conv2d(style_channels, hidden, 3, 2, 1), nn.ReLU(inplace=True),
                                        nn.Conv2d(hidden, n_w, 1), nn.AdaptiveAvgPool2d(kernel_size))
        self.bias_net = nn.Sequential(nn.Conv2d(style_channels, hidden, 3, 2, 1), nn.ReLU(inplace=True),
                                      nn.Conv2d(hidden, channels, 1), nn.AdaptiveAvgPool2d(1))
        for net in (self.weight_net, self.bias_net):
            nn.init.normal_(net[2].weight, std=0.01)
            nn.init.zeros_(net[2].bias)
        eye = torch.zeros(channels, group_channels, kernel_size, kernel_size)
        centre = kernel_size // 2
        for o in range(channels):
            eye[o, o % group_channels, centre, centre] = 1.0
        self.register_buffer("identity", eye, persistent=False)
        self.offset_net = None
        if deformable and kernel_size > 1:
            self.offset_net = nn.Conv2d(channels, 2 * kernel_size * kernel_size, 3, padding=1)
            nn.init.zeros_(self.offset_net.weight)
            nn.init.zeros_(self.offset_net.bias)

    def predict(self, style_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Kernel (B, C, C_in/g, k, k) and bias (B, C) for a (scaled) style feature."""
        b = style_f.shape[0]
        dw = self.weight_net(style_f).reshape(b, self.channels, self.c_g, self.k, self.k)
        return self.identity + dw, self.bias_net(style_f).reshape(b, self.channels)

    def offsets(self, x: torch.Tensor) -> torch.Tensor:
        """Sampling offsets (B, 2*k*k, H, W) predicted from the normalised content feature."""
        if self.offset_net is None:
            raise ArgumentError("this DIN layer has no offset net (1x1 kernel or deformable=False in the Config)")
        return self.offset_net(normalize(x))

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, *, deformable: bool = False,
                offset_scale: float = 1.0, stroke_mask: torch.Tensor | None = None,
                stroke_dilation: int = 2) -> torch.Tensor:
        offset = self.offsets(x) * offset_scale if (deformable and self.offset_net is not None) else None
        y = dynamic_instance_norm(x, weight, bias, offset=offset)
        if stroke_mask is not None and self.k > 1 and stroke_dilation > 1:
            # larger strokes: the same kernel spread over a wider window, blended in by the mask
            m = F.interpolate(stroke_mask, size=x.shape[-2:], mode="bilinear", align_corners=False)
            big = dynamic_instance_norm(x, weight, bias, dilation=stroke_dilation,
                                        offset=None if offset is None else offset * stroke_dilation)
            y = m * big + (1 - m) * y
        return y


# ---------------------------------------------------------------- the compact content path

def _in(c):
    return nn.InstanceNorm2d(c, affine=True)


class DSConv(nn.Sequential):
    """Depthwise-separable conv for the decoder: reflect-pad, depthwise 3x3, ReLU, pointwise 1x1, ReLU
    (no normalisation, like AdaIN's decoder)."""

    def __init__(self, c_in, c_out, relu=True):
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_in, 3, groups=c_in), nn.ReLU(inplace=True),
                  nn.Conv2d(c_in, c_out, 1)]
        super().__init__(*layers, *([nn.ReLU(inplace=True)] if relu else []))
