"""STFT, ISTFT and 32->48 kHz resampling as convolutions, so the graph exports to ONNX.

`torch.istft` does not load in onnxruntime, and the separation graph must run there,
so both transforms are written as (transposed) 1-D convolutions with fixed bases. The
ISTFT divides by the overlap-added squared window that was actually applied, so
`istft(stft(x)) == x` to float precision for any length.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def _dft_basis(n_fft: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    n_bins = n_fft // 2 + 1
    k = torch.arange(n_bins, dtype=torch.float64)[:, None]
    n = torch.arange(n_fft, dtype=torch.float64)[None, :]
    angle = 2 * math.pi * k * n / n_fft
    return window, torch.cos(angle), torch.sin(angle)


class STFT(nn.Module):
    """Centered, reflect-padded, Hann-windowed STFT returning (real, imag), each
    [B, bins, frames]."""

    def __init__(self, n_fft: int = 1024, hop: int = 320) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        window, cos, sin = _dft_basis(n_fft)
        basis = torch.cat([cos * window, -sin * window], dim=0)[:, None, :]
        self.register_buffer("basis", basis.float(), persistent=False)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pad = self.n_fft // 2
        x = F.pad(wave[:, None, :], (pad, pad), mode="reflect")
        spec = F.conv1d(x, self.basis, stride=self.hop)
        return spec.chunk(2, dim=1)


class ISTFT(nn.Module):
    """Inverse of `STFT`: overlap-add of windowed inverse DFTs, normalised by the window sum."""

    def __init__(self, n_fft: int = 1024, hop: int = 320) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        window, cos, sin = _dft_basis(n_fft)
        n_bins = n_fft // 2 + 1
        # Hermitian symmetry: interior bins count twice.
        weight = torch.full((n_bins, 1), 2.0, dtype=torch.float64)
        weight[0] = weight[-1] = 1.0
        basis = torch.cat([cos * weight, -sin * weight], dim=0) * window / n_fft
        self.register_buffer("basis", basis[:, None, :].float(), persistent=False)
        self.register_buffer("window_sq", (window**2)[None, None, :].float(), persistent=False)

    def forward(self, real: torch.Tensor, imag: torch.Tensor, length: int) -> torch.Tensor:
        spec = torch.cat([real, imag], dim=1)
        frames = F.conv_transpose1d(spec, self.basis, stride=self.hop)
        ones = torch.ones_like(real[:1, :1, :])
        norm = F.conv_transpose1d(ones, self.window_sq, stride=self.hop)
        pad = self.n_fft // 2
        out = frames[:, 0, pad : pad + length] / norm[:, 0, pad : pad + length].clamp_min(1e-8)
        return out


class Resample32To48(nn.Module):
    """Band-limited 2:3 polyphase resampler (Hann-windowed sinc, width 6, rolloff 0.99).

    The same kernel as torchaudio's default `Resample(32000, 48000)`, which the
    published training data loader used, written as one strided convolution.
    """

    orig, new = 2, 3
    lowpass_width = 6
    rolloff = 0.99

    def __init__(self) -> None:
        super().__init__()
        base = min(self.orig, self.new) * self.rolloff
        self.width = math.ceil(self.lowpass_width * self.orig / base)
        idx = torch.arange(-self.width, self.width + self.orig, dtype=torch.float64) / self.orig
        t = torch.arange(0, -self.new, -1, dtype=torch.float64)[:, None] / self.new + idx[None, :]
        t = (t * base).clamp(-self.lowpass_width, self.lowpass_width)
        window = torch.cos(t * math.pi / self.lowpass_width / 2) ** 2
        t = t * math.pi
        sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / torch.where(t == 0, 1.0, t))
        kernels = sinc * window * (base / self.orig)
        self.register_buffer("kernels", kernels[:, None, :].float(), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        batch, length = wave.shape
        x = F.pad(wave[:, None, :], (self.width, self.width + self.orig))
        y = F.conv1d(x, self.kernels, stride=self.orig)  # [B, new, frames]
        y = y.transpose(1, 2).reshape(batch, -1)
        target = (self.new * length + self.orig - 1) // self.orig
        return y[:, :target]
