"""On-the-fly mixtures: crops, SNR scaling, band-limiting and the published peak protection.

Every random choice takes an explicit `np.random.Generator`, so a mixture is a pure
function of its seed: validation pairs are fixed, and a resumed run draws exactly the
mixtures an uninterrupted one would have drawn.
"""

from dataclasses import dataclass, field

import numpy as np

from clapsep.model.configs import SEPARATION_RATE
from clapsep.model.data.acoustics import Conditions

PEAK_LIMIT = 1.0  # above this the mixture is rescaled ...
PEAK_TARGET = 0.9  # ... so that its peak becomes this, target scaled alike (as published)
_SILENT = 1e-10


@dataclass(frozen=True)
class MixConfig:
    """How training mixtures are made (defaults: the published recipe, 5 s crops)."""

    crop_seconds: float = 5.0
    snr_db: float = 0.0
    snr_range: tuple[float, float] | None = None  # uniform draw; overrides snr_db
    interferers: int = 1
    band_limit_prob: float = 0.0  # chance that a source is low-passed (a band-limited recording)
    band_limit_hz: tuple[float, float] = (3000.0, 12000.0)
    # Training draws a label with probability proportional to (its clip count) ** this, then a
    # clip of it: 1.0 draws clips uniformly (the table's own balance), 0.0 labels uniformly.
    label_temperature: float = 1.0
    # Chance that a training interferer is generated stationary noise (hiss to rumble)
    # instead of a clip: the corpus has little of the steady noise dialogue editors remove.
    noise_prob: float = 0.0
    # Dialogue weighted up: the chance that a training item is speech against everything
    # else (no other voice), at its own SNR range and with 1..n interferers summed.
    speech_share: float = 0.0
    speech_snr_range: tuple[float, float] = (-5.0, 10.0)
    speech_interferers: tuple[int, int] = (1, 2)
    # How speech sources arrive in post (rooms, phone lines, level rides): speech only.
    dialogue: Conditions = field(default_factory=Conditions)

    @property
    def crop_samples(self) -> int:
        return round(self.crop_seconds * SEPARATION_RATE)

    def draw_snr(self, rng: np.random.Generator) -> float:
        if self.snr_range is None:
            return self.snr_db
        return float(rng.uniform(*self.snr_range))


def random_crop(wave: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A `length`-sample excerpt at a random offset; shorter clips are zero-padded at the end."""
    if len(wave) <= length:
        return np.pad(wave, (0, length - len(wave)))
    start = int(rng.integers(0, len(wave) - length + 1))
    return wave[start : start + length]


def band_limit(wave: np.ndarray, cutoff_hz: float, rate: int = SEPARATION_RATE) -> np.ndarray:
    """Low-pass at `cutoff_hz` with a raised-cosine roll-off over the 10% below it."""
    spectrum = np.fft.rfft(wave)
    freqs = np.fft.rfftfreq(len(wave), 1.0 / rate)
    start = 0.9 * cutoff_hz
    ramp = np.clip((freqs - start) / (cutoff_hz - start), 0.0, 1.0)
    gain = 0.5 * (1.0 + np.cos(np.pi * ramp))
    return np.fft.irfft(spectrum * gain, n=len(wave)).astype(np.float32)


def scale_to_snr(target: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`noise` rescaled so that 10 log10(|target|² / |noise|²) = `snr_db` (silent stays silent)."""
    noise_energy = float(np.sum(noise.astype(np.float64) ** 2))
    target_energy = float(np.sum(target.astype(np.float64) ** 2))
    if noise_energy <= _SILENT or target_energy <= _SILENT:
        return noise
    gain = np.sqrt(target_energy / (noise_energy * 10.0 ** (snr_db / 10.0)))
    return (noise * gain).astype(np.float32)


def mix(
    target: np.ndarray, noise: np.ndarray, snr_db: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mixture, target, noise) at `snr_db`; if the mixture peaks above 1 all three are
    scaled to a 0.9 peak, as the published recipe does."""
    noise = scale_to_snr(target, noise, snr_db)
    mixture = target + noise
    peak = float(np.max(np.abs(mixture))) if len(mixture) else 0.0
    if peak > PEAK_LIMIT:
        gain = PEAK_TARGET / peak
        target, noise, mixture = target * gain, noise * gain, mixture * gain
    return mixture.astype(np.float32), target.astype(np.float32), noise.astype(np.float32)


def augment(wave: np.ndarray, config: MixConfig, rng: np.random.Generator) -> np.ndarray:
    """Per-source augmentation: band-limiting with probability `band_limit_prob`."""
    if config.band_limit_prob > 0 and rng.random() < config.band_limit_prob:
        return band_limit(wave, float(rng.uniform(*config.band_limit_hz)))
    return wave


# (upper spectral slope, captions): power falls as 1/f**slope; 0 is white, 1 pink, 2 brown.
NOISE_CAPTIONS = (
    (0.5, ("white noise", "a steady hiss", "static noise")),
    (1.5, ("pink noise", "steady background noise", "a constant noise floor")),
    (2.0, ("a low rumble", "brown noise", "a deep steady rumble")),
)


def colored_noise(
    length: int, rng: np.random.Generator, rate: int = SEPARATION_RATE
) -> tuple[np.ndarray, str]:
    """Stationary noise with a random 1/f**slope spectrum (slope 0..2), and a caption saying
    what it sounds like; unit RMS (`mix` sets the level)."""
    slope = float(rng.uniform(0.0, 2.0))
    freqs = np.fft.rfftfreq(length, 1.0 / rate)
    shape = np.maximum(freqs, 20.0) ** (-slope / 2)
    spectrum = (rng.standard_normal(len(freqs)) + 1j * rng.standard_normal(len(freqs))) * shape
    wave = np.fft.irfft(spectrum, n=length)
    wave = (wave / (np.std(wave) + 1e-12)).astype(np.float32)
    captions = next(c for upper, c in NOISE_CAPTIONS if slope <= upper)
    return wave, captions[int(rng.integers(len(captions)))]
