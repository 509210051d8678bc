"""Waveform losses of the published recipe: -0.9 * SNR - 0.1 * SI-SNR, per item."""

import torch

EPS = 1e-8


def snr(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """10 log10(|s|² / |s - ŝ|²) per row [B] (torchmetrics' `signal_noise_ratio`, no zero-mean)."""
    estimate, reference = estimate.float(), reference.float()
    noise = (reference - estimate).pow(2).sum(-1)
    return 10 * torch.log10((reference.pow(2).sum(-1) + EPS) / (noise + EPS))


def si_snr(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Scale-invariant SNR per row [B], both signals zero-mean first (as torchmetrics)."""
    estimate = estimate.float() - estimate.float().mean(-1, keepdim=True)
    reference = reference.float() - reference.float().mean(-1, keepdim=True)
    alpha = (estimate * reference).sum(-1, keepdim=True) / (
        reference.pow(2).sum(-1, keepdim=True) + EPS
    )
    projection = alpha * reference
    ratio = (projection.pow(2).sum(-1) + EPS) / ((estimate - projection).pow(2).sum(-1) + EPS)
    return 10 * torch.log10(ratio)


def separation_loss(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """-0.9 * SNR - 0.1 * SI-SNR per row [B]: SNR keeps the level right, SI-SNR the shape."""
    return -0.9 * snr(estimate, reference) - 0.1 * si_snr(estimate, reference)
