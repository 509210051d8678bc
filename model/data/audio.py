"""Decoding clips at 32 kHz, once: a streaming pedalboard read and an in-memory store.

Training revisits every clip many times; decoding and resampling dominate a CPU step
if repeated, so `ClipStore` keeps decoded mono float32 arrays up to a memory budget
(clips past the budget are decoded on each use). Reading goes through pedalboard's
streaming resampler, so a long file never needs a second full-rate copy in memory.
"""

from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile

from clapsep.model.configs import SEPARATION_RATE

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aiff", ".aif", ".m4a")


def load_audio(
    path: Path, rate: int = SEPARATION_RATE, max_seconds: float | None = None
) -> np.ndarray:
    """Mono float32 [samples] at `rate`; at most `max_seconds` are decoded."""
    with AudioFile(str(path)) as source, source.resampled_to(rate) as resampled:
        frames = resampled.frames
        if max_seconds is not None:
            frames = min(frames, int(max_seconds * rate))
        wave = resampled.read(frames)
    return np.ascontiguousarray(wave.mean(axis=0), dtype=np.float32)


class ClipStore:
    """Decoded clips by path, kept while the total stays under `budget_mb`."""

    def __init__(self, budget_mb: float = 2048.0, max_seconds: float | None = None) -> None:
        self.budget = int(budget_mb * 2**20)
        self.max_seconds = max_seconds
        self.used = 0
        self._clips: dict[Path, np.ndarray] = {}

    def get(self, path: Path) -> np.ndarray:
        wave = self._clips.get(path)
        if wave is None:
            wave = load_audio(path, max_seconds=self.max_seconds)
            if self.used + wave.nbytes <= self.budget:
                self._clips[path] = wave
                self.used += wave.nbytes
        return wave

    def preload(self, paths: list[Path]) -> int:
        """Decode up front (before DataLoader workers fork, so they share the pages)."""
        for path in paths:
            if self.used >= self.budget:
                break
            self.get(path)
        return len(self._clips)
