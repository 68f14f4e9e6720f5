"""The maths of "style": Gram matrices, channel statistics, AdaIN, colour transfer.

A feature map ``f`` has shape (B, C, H, W); N = H*W positions.
"""
from __future__ import annotations

import torch

from .images import match_size

EPS = 1e-5


def gram(f: torch.Tensor) -> torch.Tensor:
    """Normalised Gram matrix  G_ij = (1 / (C*H*W)) * sum_k F_ik F_jk,  shape (B, C, C).

    F is f reshaped to (C, N). Dividing by C*N makes layers of different size comparable
    (Johnson et al.'s normalisation).
    """
    b, c, h, w = f.shape
    F = f.reshape(b, c, h * w)
    return torch.bmm(F, F.transpose(1, 2)) / (c * h * w)


def mean_std(f: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean mu_c = (1/N) sum_k f_ck and std sigma_c = sqrt(var_c + eps), each (B, C, 1, 1).

    The variance is the biased (population) one, as instance normalisation uses.
    """
    b, c = f.shape[:2]
    flat = f.reshape(b, c, -1)
    mu = flat.mean(-1)
    var = flat.var(-1, unbiased=False)
    return mu.view(b, c, 1, 1), (var + eps).sqrt().view(b, c, 1, 1)


def normalize(f: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Instance normalisation without affine parameters: (f - mu(f)) / sigma(f)."""
    mu, sigma = mean_std(f, eps)
    return (f - mu) / sigma


def adain(content_f: torch.Tensor, style_f: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Adaptive instance normalisation (Huang & Belongie 2017, Eq. 8):

        AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)

    ``x`` = content features, ``y`` = style features (any spatial size; batch 1 broadcasts).
    """
    mu_y, sigma_y = mean_std(style_f, eps)
    return sigma_y * normalize(content_f, eps) + mu_y


def _sqrtm_psd(m: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(m)
    vals = vals.clamp_min(1e-8)
    d = vals.rsqrt() if inverse else vals.sqrt()
    return vecs @ torch.diag_embed(d) @ vecs.transpose(-1, -2)


def match_color(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Colour histogram matching (Gatys et al. 2017, Sec. 5.2): a linear map of the RGB values of
    ``source`` so that their mean and 3x3 covariance equal those of ``target``:

        x' = Sigma_t^{1/2} Sigma_s^{-1/2} (x - mu_s) + mu_t

    Both (1,3,H,W) in [0,1]; returns ``source`` recoloured, clamped to [0,1].
    """
    def moments(x):
        p = x[0].reshape(3, -1).double()
        mu = p.mean(1, keepdim=True)
        cov = (p - mu) @ (p - mu).T / p.shape[1] + 1e-5 * torch.eye(3, dtype=p.dtype)
        return p, mu, cov
    ps, mu_s, cov_s = moments(source)
    _, mu_t, cov_t = moments(target)
    a = _sqrtm_psd(cov_t) @ _sqrtm_psd(cov_s, inverse=True)
    out = a @ (ps - mu_s) + mu_t
    return out.float().reshape_as(source[0]).unsqueeze(0).clamp(0, 1)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    """RGB -> YIQ (Y is luminance; I, Q carry colour)."""
    m = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
                     dtype=x.dtype, device=x.device)
    return torch.einsum("ij,bjhw->bihw", m, x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    m = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
                     dtype=x.dtype, device=x.device)
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(m), x)


def luminance_transfer(stylised: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Colour preservation by luminance-only transfer (Gatys et al. 2017, Sec. 5.1): keep the
    luminance Y of ``stylised`` and the colour channels (I, Q) of ``content``."""
    content = match_size(content, stylised)
    y = rgb_to_yiq(stylised)[:, :1]
    iq = rgb_to_yiq(content)[:, 1:]
    return yiq_to_rgb(torch.cat([y, iq], 1)).clamp(0, 1)


def match_luminance(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Grey-level image whose luminance has the mean/std of ``target``'s (for luminance-only
    style transfer, Gatys et al. 2017 Eq. 5): Y' = sigma_t / sigma_s (Y_s - mu_s) + mu_t."""
    ys = rgb_to_yiq(source)[:, :1]
    yt = rgb_to_yiq(target)[:, :1]
    y = (ys - ys.mean()) * (yt.std() / ys.std().clamp_min(1e-6)) + yt.mean()
    return y.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()
