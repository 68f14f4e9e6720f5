"""Dynamic style kernels: parity of the pieces against direct formulas, the controls, training."""
import math

import pytest
import torch
import torch.nn.functional as F

from stylelab import CheckpointError, StylelabError, stats
from stylelab.encoders import vgg19
from stylelab.errors import ArgumentError
from stylelab.methods import kernels as K


def tiny_cfg(**kw):
    base = dict(dim=16, groups=8, hidden=32, decoder_width=0.125, chunk=7)
    base.update(kw)
    return K.Config(**base)


def test_apply_kernels_matches_loop(rng):
    b, c, h, w, g, k = 2, 6, 5, 4, 3, 3
    x = torch.randn(b, c, h, w, generator=rng)
    ker = torch.randn(b, g, k * k, h, w, generator=rng)
    xp = F.pad(x, [1, 1, 1, 1], mode="replicate")
    want = torch.zeros_like(x)
    for n in range(b):
        for ch in range(c):
            gi = ch // (c // g)
            for i in range(h):
                for j in range(w):
                    patch = xp[n, ch, i:i + k, j:j + k].reshape(-1)
                    want[n, ch, i, j] = (patch * ker[n, gi, :, i, j]).sum()
    assert torch.allclose(K.apply_kernels(x, ker), want, atol=1e-5)


def test_centre_spike_kernels_are_identity_and_crop(rng):
    x = torch.randn(1, 8, 6, 6, generator=rng)
    ker = torch.zeros(1, 4, 25, 6, 6)
    ker[:, :, 12] = 2.0
    assert torch.allclose(K.apply_kernels(x, ker), 2 * x)
    small = K.crop_kernels(ker, 3)
    assert small.shape == (1, 4, 9, 6, 6) and torch.all(small[:, :, 4] == 2.0)
    assert torch.allclose(K.apply_kernels(x, K.crop_kernels(ker, 1)), 2 * x)
    with pytest.raises(ArgumentError):
        K.crop_kernels(ker, 7)
    with pytest.raises(ArgumentError):
        K.crop_kernels(ker, 2)


def test_chunked_attention_matches_full_softmax(rng):
    q, k, v = (torch.randn(2, 8, 30, generator=rng), torch.randn(2, 8, 11, generator=rng),
               torch.randn(2, 5, 11, generator=rng))
    a = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(8), -1)       # (B, Nq, Nk)
    want = v @ a.transpose(1, 2)
    cos = F.normalize(q, dim=1).transpose(1, 2) @ F.normalize(k, dim=1)
    for chunk in (1, 7, 30, 100):
        out, best = K.attention(q, k, v, chunk)
        assert torch.allclose(out, want, atol=1e-5)
        assert torch.allclose(best, cos.amax(-1), atol=1e-6)


def test_keys_are_pooled_to_bound_memory(rng):
    torch.manual_seed(0)
    m = K.build(tiny_cfg(max_keys=16)).eval()
    fs = torch.rand(1, 512, 12, 12, generator=rng)
    k, v, hw = m._keys_values(fs)
    assert k.shape[-1] <= 16 and v.shape[-1] == k.shape[-1] == hw[0] * hw[1]
    fc = torch.rand(1, 512, 5, 6, generator=rng)
    a, r = m.align(fc, fs)
    assert a.shape == (1, 512, 5, 6) and r.shape == (1, 1, 5, 6)
    amap = m.attention_map(fc, fs, 2, 3)
    assert amap.shape == tuple(hw) and torch.isclose(amap.sum(), torch.tensor(1.0))


def test_gate_formula_and_strength(rng):
    torch.manual_seed(0)
    m = K.build(tiny_cfg()).eval()
    fc, fs = torch.rand(1, 512, 4, 4, generator=rng), torch.rand(1, 512, 5, 5, generator=rng)
    with torch.no_grad():
        full = m.kernels(fc, fs, gate=1.0)
        off = m.kernels(fc, fs, gate=0.0)
        half = m.kernels(fc, fs, gate=0.5)
        want = torch.sigmoid(m.log_tau.exp() * (full["match"] - m.theta(stats.normalize(fc))))
    assert torch.allclose(full["gate"], want)
    assert torch.all(off["gate"] == 1.0) and torch.allclose(off["z"], off["aligned"])
    assert torch.allclose(half["gate"], 1 - 0.5 * (1 - want))
    with pytest.raises(ArgumentError):
        m.kernels(fc, fs, gate=1.5)
    no_cgm = K.build(tiny_cfg(use_gate=False)).eval()
    with torch.no_grad():
        assert torch.all(no_cgm.kernels(fc, fs)["gate"] == 1.0)


def test_untrained_model_starts_as_adain(rng):
    torch.manual_seed(0)
    m = K.build(tiny_cfg()).eval()
    fc, fs = torch.rand(1, 512, 4, 4, generator=rng), 3 + 2 * torch.rand(1, 512, 6, 6, generator=rng)
    with torch.no_grad():
        t = m.modulate(fc, fs)
        half = m.modulate(fc, fs, alpha=0.25)
    mu, sigma = stats.mean_std(fs)
    adain = sigma * stats.normalize(fc) + mu
    assert torch.allclose(t, adain, atol=0.05)
    assert torch.allclose(half, 0.25 * adain + 0.75 * fc, atol=0.05)
    # styled with itself, an untrained model gives its content feature back
    assert torch.allclose(m.modulate(fc, fc), fc, atol=0.02)


def test_stylize_shapes_controls_and_errors(content, style):
    torch.manual_seed(0)
    m = K.build(tiny_cfg(kernel_size=5))
    out = K.stylize(content, style, model=m)
    assert out.shape == content.shape and out.min() >= 0 and out.max() <= 1
    with torch.no_grad():  # make the kernel generator matter, then the controls must change the output
        m.gen[-1].weight.normal_(std=0.05)
    a = K.stylize(content, style, model=m)
    assert not torch.allclose(a, K.stylize(content, style, model=m, kernel_size=1), atol=1e-4)
    assert not torch.allclose(a, K.stylize(content, style, model=m, gate=0.0), atol=1e-4)
    assert not torch.allclose(a, K.stylize(content, style, model=m, alpha=0.3), atol=1e-4)
    for bad in (dict(alpha=2.0), dict(gate=-0.1), dict(kernel_size=7), dict(kernel_size=4)):
        with pytest.raises(ArgumentError):
            K.stylize(content, style, model=m, **bad)
    with pytest.raises(ArgumentError):
        K.build(K.Config(groups=7))
    with pytest.raises(StylelabError):
        K.stylize(content[..., :16, :16], style, model=m)


def test_pretrained_loads_the_shipped_model_or_says_how_to_train_one(tmp_path, monkeypatch):
    import json
    from stylelab import checkpoints
    if "kernels/default" in checkpoints.registry():
        model = K.pretrained()
        assert not model.training and any(p.abs().sum() > 0 for p in model.parameters())
    monkeypatch.setattr(checkpoints, "REGISTRY", tmp_path / "registry.json")
    (tmp_path / "registry.json").write_text(json.dumps({}))
    with pytest.raises(CheckpointError, match="train"):
        K.pretrained()


def test_training_lowers_the_loss(content, style):
    from stylelab import train
    cfg = tiny_cfg(batch_size=1, lr=2e-3)
    r = train.train(K, [content], style, size=32, steps=12, cfg=cfg, seed=0, progress=False)
    total = r.curve("total")
    assert set(r.history[0]) >= {"content", "style", "identity", "total"}
    assert sum(total[-3:]) / 3 < total[0]


def test_raw_content_term_keeps_the_photos_feature_statistics(content, style):
    """content_normalized=False: the content term compares raw relu4_1 features (divided by the
    last feature_scale) instead of mean/std-normalised ones, so a shift of the output's channel
    means counts; the style and identity terms do not change."""
    torch.manual_seed(0)
    m = K.build(tiny_cfg(feature_scale=(1.0, 1.0, 1.0, 10.0)))
    c, s = content[..., :32, :32], style[..., :32, :32]
    batch = {"content": c, "style": s, "style_index": torch.zeros(1)}
    with torch.no_grad():
        norm = K.loss(m, batch)
        m.cfg = tiny_cfg(feature_scale=(1.0, 1.0, 1.0, 10.0), content_normalized=False)
        raw = K.loss(m, batch)
        vgg = vgg19()
        fc, fs = vgg.encode(c, ["relu4_1"])["relu4_1"], vgg.encode(s, ["relu4_1"])["relu4_1"]
        fo = vgg.encode(m.decoder(m.modulate(fc, fs)), ["relu4_1"])["relu4_1"]
        want_raw = ((fo / 10 - fc / 10) ** 2).mean()
        want_norm = ((stats.normalize(fo) - stats.normalize(fc)) ** 2).mean()
    assert torch.allclose(raw["content"], want_raw, rtol=1e-4)
    assert torch.allclose(norm["content"], want_norm, rtol=1e-4)
    assert torch.allclose(raw["style"], norm["style"]) and torch.allclose(raw["identity"], norm["identity"])
