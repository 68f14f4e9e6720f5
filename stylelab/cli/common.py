"""Arguments the commands share, spelled and explained the same way everywhere."""
from __future__ import annotations

import argparse


def add_sizes(p: argparse.ArgumentParser, default=(256, 512), what: str = "long sides of the images") -> None:
    """``--sizes N [N ...]`` (``--size`` is the same option): one or more sizes in pixels."""
    p.add_argument("--sizes", "--size", dest="sizes", type=int, nargs="+", default=list(default),
                   help=f"{what}, px (default {' '.join(map(str, default))})")


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when present)")


def add_json(p: argparse.ArgumentParser, what: str = "the figures") -> None:
    p.add_argument("--json", default=None, help=f"also write {what} to this JSON file")


def add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="an exported model (<method>.pth from the trainer); default: the shipped one")
