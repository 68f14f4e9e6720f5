"""Shared fixtures: small images, and a private STYLELAB_HOME for tests that touch the cache."""
import os

os.environ.setdefault("STYLELAB_QUICK", "1")

import pytest
import torch

from stylelab import assets


@pytest.fixture(scope="session")
def content():
    return assets.load("chelsea", size=64)


@pytest.fixture(scope="session")
def style():
    return assets.load("starry_night", size=64)


@pytest.fixture(scope="session")
def vgg():
    from stylelab.encoders import vgg19
    return vgg19()


@pytest.fixture
def rng():
    return torch.Generator().manual_seed(0)
