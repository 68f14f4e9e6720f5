"""Arguments the commands share, spelled and explained the same way everywhere.

The command line (``stylelab/cli``) and the benchmark scripts (``stylelab/bench``) both build their
parsers from these, so that ``--sizes``, ``--device``, ``--runs`` ... read alike in every ``--help``.
"""
from __future__ import annotations

import argparse

import torch


def add_sizes(p: argparse.ArgumentParser, default=(256, 512), what: str = "long sides of the images",
              flags=("--sizes", "--size")) -> None:
    """``--sizes N [N ...]`` (``--size`` is the same option, dest ``sizes``): one or more sizes in
    pixels. ``flags`` names another such option (e.g. ``("--memory-sizes",)``; dest from the first)."""
    dest = flags[0].lstrip("-").replace("-", "_")
    p.add_argument(*flags, dest=dest, type=int, nargs="+", default=list(default), metavar="PX",
                   help=f"{what}, px (default {' '.join(map(str, default))})")


def add_size(p: argparse.ArgumentParser, default: int = 256, what: str = "long side of the images",
             flag: str = "--size") -> None:
    """``--size N`` (or ``flag``): one size in pixels, where several would mean nothing."""
    p.add_argument(flag, type=int, default=default, metavar="PX", help=f"{what}, px (default {default})")


def add_device(p: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--device``: where to compute; ``default`` None means CUDA when present, else the CPU."""
    when = "cuda when present" if default is None else default
    p.add_argument("--device", default=default, help=f"cpu, cuda, cuda:1 ... (default: {when})")


def add_runs(p: argparse.ArgumentParser, default: int = 5) -> None:
    """``--runs N``: how many timed runs make each time figure (their median is reported)."""
    p.add_argument("--runs", type=int, default=default, metavar="N",
                   help=f"timed runs per figure, the median reported (default {default})")


def add_threads(p: argparse.ArgumentParser) -> None:
    """``--threads N``: torch's CPU threads (None or 0 leaves torch's own choice)."""
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch CPU threads (default, or 0: as many as torch picks)")


def add_json(p: argparse.ArgumentParser, what: str = "the figures") -> None:
    p.add_argument("--json", default=None, help=f"also write {what} to this JSON file")


def add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="an exported model (<method>.pth from the trainer); default: the shipped one")


def parse(p: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """``p.parse_args(argv)``, with the settings every command applies alike put into effect
    (``--threads``, where ``p`` has it)."""
    a = p.parse_args(argv)
    if getattr(a, "threads", None):
        torch.set_num_threads(a.threads)
    return a
