"""Every method has the one shape of ``stylelab.methods.Method``, so callers never branch on a name."""
import inspect

import pytest
import torch

from stylelab import ArgumentError, assets, checkpoints, images, methods

NAMES = methods.NAMES
#: An odd size, so that no network's stride divides it.
CONTENT_HW = (53, 70)


@pytest.fixture(scope="module")
def odd_content():
    return images.resize(assets.load("chelsea", size=96), CONTENT_HW)


def shipped(name):
    return any(k.startswith(name + "/") for k in checkpoints.registry())


@pytest.mark.parametrize("name", NAMES)
def test_the_module_states_the_protocol(name):
    mod = methods.get(name)
    assert isinstance(mod, methods.Method)
    assert mod.STYLE_INPUT in (methods.STYLE_IMAGE, methods.TRAINED_STYLE)
    assert mod.TRAINED is (name != "gatys")
    assert callable(getattr(mod, "build", None)) and callable(getattr(mod, "loss", None))
    assert isinstance(getattr(mod, "ARENA_CONTROLS", {}), dict)
    assert callable(getattr(mod, "trained_styles", None)) == (mod.STYLE_INPUT == methods.TRAINED_STYLE)


@pytest.mark.parametrize("name", NAMES)
def test_stylize_has_one_signature(name):
    params = inspect.signature(methods.get(name).stylize).parameters
    first = list(params.values())[:2]
    assert [p.name for p in first] == ["content", "style"]
    assert first[1].default is None
    for kw in ("model", "size"):
        assert params[kw].kind is inspect.Parameter.KEYWORD_ONLY and params[kw].default is None
    assert "preserve_color" in params or name == "gatys"   # gatys takes it through run()'s controls


@pytest.mark.parametrize("name", [n for n in NAMES if n != "gatys"])
def test_the_network_keeps_its_config_as_cfg(name):
    mod = methods.get(name)
    model = mod.build()
    assert isinstance(model.cfg, mod.Config)


def _style_for(mod, model):
    if mod.STYLE_INPUT == methods.TRAINED_STYLE:
        return mod.trained_styles(model)[0]
    return assets.load("starry_night", size=64)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "gatys"])
def test_output_is_the_contents_size_and_the_model_is_left_as_it_was(name, odd_content):
    mod = methods.get(name)
    if not shipped(name):
        pytest.skip(f"no {name} checkpoint ships")
    model = mod.pretrained(*(["starry_night"] if name == "johnson" else []))
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    extra = {"steps": 1, "progress": False, "adapt_size": 64} if name == "metastyle" else {}
    out = mod.stylize(odd_content, _style_for(mod, model), model=model, **extra)
    assert out.shape == (1, 3) + CONTENT_HW
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    assert model.training, "stylize switched the caller's model to eval mode"
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_gatys_output_is_the_contents_size(odd_content):
    """The optimisation runs at Config.size (or ``size``); the picture comes back at the content's
    size, or at the resized content's with ``size``."""
    gatys, style = methods.get("gatys"), assets.load("starry_night", size=64)
    assert gatys.stylize(odd_content, style, steps=1, progress=False).shape[-2:] == odd_content.shape[-2:]
    assert max(gatys.stylize(odd_content, style, steps=1, size=64, progress=False).shape[-2:]) == 64


@pytest.mark.parametrize("name", NAMES)
def test_preserve_color_means_the_same_everywhere(name, odd_content):
    """True keeps the content's colours (luminance transfer); an unknown mode is refused the same
    way by every method."""
    mod = methods.get(name)
    style = "starry_night" if mod.STYLE_INPUT == methods.STYLE_IMAGE else None
    with pytest.raises(ArgumentError, match="preserve_color"):
        mod.stylize(odd_content, style, preserve_color="sepia", **({"steps": 1} if name == "gatys" else {}))


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(methods.get(n), "encode_style")])
def test_a_cached_style_gives_the_same_picture(name, odd_content):
    """``stylize(content, encode_style(style))`` is ``stylize(content, style)``, without the style's
    encoding: what the arena's cached column times."""
    mod = methods.get(name)
    if not shipped(name):
        pytest.skip(f"no {name} checkpoint ships")
    assert mod.STYLE_INPUT == methods.STYLE_IMAGE
    model, style = mod.pretrained(), assets.load("starry_night", size=64)
    extra = {"steps": 1, "adapt_size": 64} if name == "metastyle" else {}
    code = mod.encode_style(style, model, **extra)
    direct = mod.stylize(odd_content, style, model=model, **extra, **({"cache": False} if extra else {}))
    assert torch.allclose(mod.stylize(odd_content, code, model=model), direct, atol=1e-5)
