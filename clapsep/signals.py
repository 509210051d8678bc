"""Real-looking test audio and the similarity measures of the parity checks and of the
runtime's precision gate (numpy only, so every part may use it).

Noise alone hides errors that only show on structured signals (a tonal component
through a mask, silence between events), so the signal has a vibrato harmonic tone,
decaying noise bursts, a chirp and a silent gap.
"""

import numpy as np


def realistic_signal(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Mono float32: vibrato harmonic tone + decaying noise bursts + chirp + a silent gap."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(220.0 * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))) / rate
    tone = sum(0.25 / k * np.sin(k * phase) for k in range(1, 8)) * (
        0.6 + 0.4 * np.sin(2 * np.pi * 0.3 * t)
    )
    bursts = np.zeros_like(t)
    for start in rng.uniform(0, max(seconds - 0.5, 0.1), size=max(1, int(seconds * 1.5))):
        idx = (t >= start) & (t < start + 0.4)
        bursts[idx] += 0.3 * rng.standard_normal(idx.sum()) * np.exp(-(t[idx] - start) * 12)
    f0, f1 = 300.0, min(12000.0, rate / 2.5)
    chirp = 0.15 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * max(seconds, 1e-3))))
    signal = tone + bursts + chirp
    gap = (t > 0.45 * seconds) & (t < 0.5 * seconds)
    signal[gap] = 0.0
    return (0.8 * signal / np.abs(signal).max()).astype(np.float32)


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    error = float(np.sum((reference.astype(np.float64) - estimate) ** 2))
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / max(error, 1e-30)))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
