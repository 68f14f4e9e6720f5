"""Johnson et al.'s transformation network and perceptual loss."""
import pytest
import torch
import torch.nn as nn

from stylelab import ArgumentError, CheckpointError, stats
from stylelab.methods import johnson


def test_architecture_shapes_and_size():
    net = johnson.build()
    x = torch.rand(2, 3, 64, 48)
    assert net(x).shape == x.shape
    n = sum(p.numel() for p in net.parameters())
    assert 1.6e6 < n < 1.8e6  # Johnson et al.'s network is about 1.7 M parameters
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in net.modules()) > 10
    assert sum(isinstance(m, johnson.ResidualBlock) for m in net.modules()) == 5
    assert not any("vgg" in k.lower() or "layers." in k for k in net.state_dict())


def test_norm_and_upsample_choices():
    bn = johnson.build(johnson.Config(norm="batch", upsample="transpose"))
    assert any(isinstance(m, nn.BatchNorm2d) for m in bn.modules())
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in bn.modules()) == 2
    inn = johnson.build()
    assert any(isinstance(m, nn.InstanceNorm2d) for m in inn.modules())
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.ConvTranspose2d)) for m in inn.modules())
    with pytest.raises(ArgumentError):
        johnson.build(johnson.Config(norm="layer"))
    with pytest.raises(ArgumentError):
        johnson.build(johnson.Config(upsample="bilinear"))


def test_instance_norm_output_ignores_input_contrast():
    """IN removes each image's own feature mean/std, so the output barely depends on the
    content's contrast; BN (eval mode, fixed statistics) passes it on."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 32)
    low = 0.5 + 0.2 * (x - 0.5)
    for norm, same in (("instance", True), ("batch", False)):
        torch.manual_seed(0)
        net = johnson.build(johnson.Config(norm=norm)).eval()
        with torch.no_grad():
            d = (net(x) - net(low)).abs().mean() / net(x).abs().mean()
        assert (float(d) < 0.05) == same, (norm, float(d))


def test_perceptual_loss_matches_direct_formula(vgg):
    torch.manual_seed(0)
    cfg = johnson.Config(content_weight=2.0, style_weight=3.0, tv_weight=5.0)
    out, c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), torch.rand(1, 3, 40, 40)
    terms = johnson.perceptual_loss(out, c, s, cfg)
    fo = vgg.encode(out, ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])
    fc = vgg.encode(c, ["relu2_2"])
    fs = vgg.encode(s, ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])
    lc = ((fo["relu2_2"] - fc["relu2_2"]) ** 2).mean()
    ls = sum(((stats.gram(fo[l]) - stats.gram(fs[l])) ** 2).mean() for l in fs)
    tv = (out[..., 1:, :] - out[..., :-1, :]).abs().mean() + (out[..., 1:] - out[..., :-1]).abs().mean()
    assert torch.allclose(terms["content"], 2.0 * lc, rtol=1e-4)
    assert torch.allclose(terms["style"], 3.0 * ls, rtol=1e-4)
    assert torch.allclose(terms["tv"], 5.0 * tv, rtol=1e-4)
    assert float(johnson.perceptual_loss(c, c, s, cfg)["content"]) == 0.0


def test_loss_falls_on_a_fixed_batch(content, style):
    torch.manual_seed(0)
    net = johnson.build(johnson.Config(channels=(8, 16, 32), n_residual=1))
    batch = {"content": content[..., :32, :32], "style": style[..., :32, :32], "style_index": torch.zeros(1)}
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    totals = []
    for _ in range(8):
        total = sum(johnson.loss(net, batch).values())
        opt.zero_grad()
        total.backward()
        opt.step()
        totals.append(float(total.detach()))
    assert totals[-1] < 0.7 * totals[0]


def test_transposed_convolution_leaves_a_checkerboard(content):
    x = content[..., :64, :64]
    for seed in range(2):
        scores = {}
        for up in ("nearest", "transpose"):
            torch.manual_seed(seed)
            net = johnson.build(johnson.Config(upsample=up)).eval()
            with torch.no_grad():
                scores[up] = johnson.checkerboard_score(net(x))
        assert scores["transpose"] > 20 * scores["nearest"]
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2
    assert johnson.checkerboard_score(checker.float().expand(1, 3, 8, 8)) == pytest.approx(1.0)


def test_stylize_and_pretrained(content):
    net = johnson.build(johnson.Config(channels=(8, 16, 32), n_residual=1))
    y = johnson.stylize(content, model=net)
    assert y.shape == content.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert net.training  # stylize restores the mode it found
    yc = johnson.stylize(content, model=net, preserve_color=True)
    iq = lambda t: stats.rgb_to_yiq(t)[:, 1:]
    assert (iq(yc) - iq(content)).abs().mean() < 0.5 * (iq(y) - iq(content)).abs().mean()
    with pytest.raises(CheckpointError, match="no pretrained johnson/no_such_style checkpoint"):
        johnson.pretrained("no_such_style")
    with pytest.raises(ArgumentError):
        johnson.stylize(content, torch.rand(1, 3, 32, 32))
