"""VGG-19 with named layers: the eyes every style loss looks through.

Layer names follow the paper: ``conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ... relu5_4,
pool5``. ``encode(x, layers)`` runs the network only as deep as the deepest requested layer.
Callers pass RGB in [0, 1]; the preprocessing each weight set expects happens inside:

- ``"caffe"``: BGR, 0-255, minus the mean pixel [103.939, 116.779, 123.68] (Simonyan & Zisserman);
- ``"torchvision"``: RGB in [0, 1] normalised by ImageNet mean/std.
"""
from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Iterable

import torch
import torch.nn as nn

from . import weights as _weights
from .errors import ArgumentError

_BLOCKS = (2, 2, 4, 4, 4)
_CHANNELS = (64, 128, 256, 512, 512)


def layer_names() -> list[str]:
    """All layer names of VGG-19 in forward order."""
    names = []
    for b, (n, _) in enumerate(zip(_BLOCKS, _CHANNELS), start=1):
        for i in range(1, n + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


LAYERS = layer_names()


def _block_index(name: str) -> int:
    return int(name[4])


#: Channels of each layer's output.
CHANNELS = {n: _CHANNELS[_block_index(n) - 1] for n in LAYERS}
#: Downsampling factor of each layer's output relative to the input.
STRIDE = {n: 2 ** (_block_index(n) if n.startswith("pool") else _block_index(n) - 1) for n in LAYERS}


class VGG19(nn.Module):
    """Frozen VGG-19 feature extractor with named layers.

    >>> vgg = VGG19()                       # Caffe weights, max pooling
    >>> feats = vgg.encode(x, ["relu1_1", "relu4_1"])   # stops after relu4_1
    """

    def __init__(self, weights: str = "caffe", pooling: str = "max"):
        super().__init__()
        if weights not in ("caffe", "torchvision"):
            raise ArgumentError(f"weights={weights!r} is unknown; use 'caffe' or 'torchvision'")
        if pooling not in ("max", "avg"):
            raise ArgumentError(f"pooling={pooling!r} is unknown; use 'max' or 'avg'")
        self.weights, self.pooling = weights, pooling
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in = 3
        for b, (n, c) in enumerate(zip(_BLOCKS, _CHANNELS), start=1):
            for i in range(1, n + 1):
                layers[f"conv{b}_{i}"] = nn.Conv2d(c_in, c, 3, padding=1)
                layers[f"relu{b}_{i}"] = nn.ReLU(inplace=False)
                c_in = c
            layers[f"pool{b}"] = (nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.layers = nn.Sequential(layers)
        state = (_weights.caffe_vgg19_state() if weights == "caffe" else _weights.torchvision_vgg19_state())
        self.layers.load_state_dict(state)
        if weights == "caffe":
            self.register_buffer("mean", torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.ones(1, 3, 1, 1))
        else:
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):  # the encoder is always frozen, always in eval mode
        return super().train(False)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> what the weights were trained on."""
        if self.weights == "caffe":
            x = x.flip(1) * 255.0  # RGB -> BGR, 0-255
        return (x - self.mean) / self.std

    def encode(self, x: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """Features of ``x`` at ``layers``; runs only up to the deepest one."""
        wanted = list(dict.fromkeys(layers))
        check_layers(wanted)
        if x.dim() != 4 or x.shape[1] != 3:
            raise ArgumentError(f"encode() takes (B,3,H,W) images, got shape {tuple(x.shape)}")
        deepest = max(LAYERS.index(n) for n in wanted)
        out = {}
        h = self.preprocess(x)
        for name, layer in list(self.layers.named_children())[:deepest + 1]:
            h = layer(h)
            if name in wanted:
                out[name] = h
        return out

    def forward(self, x: torch.Tensor, layers: Iterable[str] = ("relu4_1",)):
        return self.encode(x, layers)


def check_layers(layers: Iterable[str]) -> None:
    """Raise a clear error for an unknown layer name."""
    layers = list(layers)
    if not layers:
        raise ArgumentError("no layers given; name at least one VGG-19 layer, e.g. 'relu4_1'")
    for n in layers:
        if n not in LAYERS:
            raise ArgumentError(f"unknown VGG-19 layer {n!r}; names look like 'relu1_1', 'conv4_2', "
                                f"'pool3' (see stylelab.encoders.LAYERS)")


@functools.lru_cache(maxsize=4)
def vgg19(weights: str = "caffe", pooling: str = "max", device: str = "cpu") -> VGG19:
    """A shared, cached encoder instance (building one costs a second; reuse it)."""
    return VGG19(weights, pooling).to(device)


def truncated(encoder: VGG19, last: str) -> nn.Sequential:
    """The encoder's layers up to and including ``last``, as a plain Sequential (no preprocessing)."""
    check_layers([last])
    children = list(encoder.layers.named_children())[:LAYERS.index(last) + 1]
    return nn.Sequential(OrderedDict(children))
