"""What every panel is built from: an image widget, a live panel that recomputes when a control moves,
a figure as PNG, and the one re-entry guard."""
from __future__ import annotations

import io

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from ..images import to_pil


def image_widget(x: torch.Tensor | None = None, width: int = 256) -> W.Image:
    """An ipywidgets Image showing tensor ``x`` (updates with ``set_image``)."""
    w = W.Image(format="png", width=width)
    if x is not None:
        set_image(w, x)
    return w


def set_image(widget: W.Image, x: torch.Tensor) -> None:
    """Show tensor ``x`` (1,3,H,W) in [0,1] in an ipywidgets Image."""
    buf = io.BytesIO()
    to_pil(x).save(buf, format="PNG")
    widget.value = buf.getvalue()


def live_panel(controls: list, compute, width: int = 256) -> W.VBox:
    """Controls on the left, the picture ``compute()`` returns on the right, recomputed whenever a
    control's value changes. An error (say, every style weight at zero) is shown under the controls
    as one line instead of a traceback, and the last good picture stays. The panel keeps
    ``.image``, ``.update``, ``.compute``, ``.output`` (the last tensor) and ``.calls``."""
    image, status = image_widget(width=width), W.Label()

    def update(*_):
        try:
            panel.output = compute()
        except Exception as e:  # show the problem next to the controls instead of a traceback
            status.value = f"{type(e).__name__}: {e}"
            return
        status.value = ""
        panel.calls += 1
        set_image(image, panel.output)

    for c in controls:
        c.observe(update, names="value")
    panel = W.VBox([W.HBox([W.VBox(controls), image]), status])
    panel.image, panel.status, panel.update, panel.compute = image, status, update, compute
    panel.calls, panel.output = 0, None
    update()
    return panel


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (closes it), for an ipywidgets Image."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class Quiet:
    """The one re-entry guard of every panel. A panel that sets its own controls (to show the
    values a call asked for) does it inside ``with quiet:``; observers registered through
    ``quiet.observe(widget, fn)`` skip while it is held, so one change draws once, not twice."""

    def __init__(self):
        self.depth = 0

    def __enter__(self):
        self.depth += 1
        return self

    def __exit__(self, *exc):
        self.depth -= 1
        return False

    @property
    def held(self) -> bool:
        return self.depth > 0

    def observe(self, widget, fn) -> None:
        """Call ``fn()`` when ``widget``'s value changes, unless the guard is held."""
        widget.observe(lambda change: None if self.held else fn(), names="value")
