"""stylelab: neural style transfer, taught step by step.

The package keeps what the notebooks build: images -> encoders/stats/losses -> methods ->
train/bench/widgets/plots. Import the pieces you need, e.g. ``from stylelab import images``.
"""
from .errors import ArgumentError, CheckpointError, ImageError, StylelabError, WeightsError

__version__ = "0.1.0"
__all__ = ["StylelabError", "ImageError", "WeightsError", "CheckpointError", "ArgumentError"]
