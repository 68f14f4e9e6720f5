"""The errors stylelab raises for bad input: each message is one line naming the problem and the fix."""


class StylelabError(Exception):
    """Base class of every error stylelab raises on purpose."""


class ImageError(StylelabError, ValueError):
    """An image (file, array or tensor) that cannot be used."""


class WeightsError(StylelabError, RuntimeError):
    """Encoder weights that are missing, altered or cannot be fetched offline."""


class CheckpointError(StylelabError, RuntimeError):
    """A trained checkpoint that is missing, altered or does not fit the model."""


class ArgumentError(StylelabError, ValueError):
    """An argument that cannot work (unknown layer, zero weights, alpha out of range, ...)."""
