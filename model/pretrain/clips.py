"""Labelled corpus clips for contrastive pre-training: index, sampling, loading, augmentation.

Reads the corpus builder's `clips.csv` with the training catalogue's reader
(`model.data.catalog.read_labelled`). A batch holds clips of distinct labels so that
every other caption in the batch is a true negative for the InfoNCE loss.
"""

import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from pedalboard.io import AudioFile

from clapsep.model.configs import SEPARATION_RATE
from clapsep.model.data.catalog import Clip, read_labelled


def corpus_splits(corpus: Path) -> dict[str, list[Clip]]:
    """The clips of `corpus/clips.csv` by their `split` column (`train`, `val`)."""
    table = Path(corpus) / "clips.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table} not found: build the corpus first (clapsep corpus build)")
    splits: dict[str, list[Clip]] = defaultdict(list)
    for clip in read_labelled(table):
        splits[clip.split or ""].append(clip)
    return splits


def by_label(clips: list[Clip]) -> dict[str, list[Clip]]:
    groups: dict[str, list[Clip]] = defaultdict(list)
    for clip in clips:
        groups[clip.label].append(clip)
    return dict(sorted(groups.items()))


def load_clip(path: Path, samples: int, rng: random.Random | None) -> np.ndarray:
    """Mono 32 kHz audio cut to `samples`: a random crop (or the centre when `rng` is None),
    zero-padded."""
    with AudioFile(str(path)) as f:
        if round(f.samplerate) != SEPARATION_RATE:
            raise ValueError(
                f"{path}: expected {SEPARATION_RATE} Hz corpus audio, got {f.samplerate}"
            )
        frames = f.frames
        start = 0
        if frames > samples:
            start = rng.randrange(frames - samples + 1) if rng else (frames - samples) // 2
        f.seek(start)
        audio = f.read(min(samples, frames)).mean(axis=0)
    return np.pad(audio, (0, samples - audio.shape[0])).astype(np.float32)


def band_limit(wave: torch.Tensor, cutoff_hz: float, rate: int = SEPARATION_RATE) -> torch.Tensor:
    """Remove everything above `cutoff_hz`, so that bandwidth never identifies a source."""
    spectrum = torch.fft.rfft(wave, dim=-1)
    freqs = torch.fft.rfftfreq(wave.shape[-1], d=1.0 / rate)
    spectrum[..., freqs > cutoff_hz] = 0
    return torch.fft.irfft(spectrum, n=wave.shape[-1], dim=-1)
