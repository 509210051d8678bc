"""What the before/after view draws and plays, read from the real files.

Previews are mono at a reduced rate (constant memory whatever the file's length); the
audition reads full-rate audio of the playable range only. At most `MAX_SECONDS` of a
file are shown: the whole file when it is shorter, else the clip's section with context.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile
from PyQt6.QtGui import QImage

from clapsep.host.audio_io import Section

PREVIEW_RATE = 16000
MAX_SECONDS = 600.0
CONTEXT_S = 30.0
N_FFT = 1024
ROWS = 160
LOWEST_HZ = 40.0
FLOOR_DB = -80.0
# A dark-to-bright map (black, indigo, magenta, orange, pale yellow) for the spectrogram.
_ANCHORS = np.array(
    [[0, 0, 4], [80, 18, 123], [183, 55, 121], [251, 136, 97], [252, 253, 191]], np.float32
)
_LUT = np.stack(
    [np.interp(np.linspace(0, 4, 256), np.arange(5), _ANCHORS[:, c]) for c in range(3)], 1
).astype(np.uint8)


@dataclass(frozen=True)
class Preview:
    """A mono signal at a reduced rate that starts `start` seconds into its file's timeline."""

    samples: np.ndarray
    rate: int
    start: float = 0.0
    truncated: bool = False

    @property
    def end(self) -> float:
        return self.start + self.samples.size / self.rate


@dataclass(frozen=True)
class FileInfo:
    rate: int
    frames: int
    channels: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def file_info(path: Path) -> FileInfo:
    with AudioFile(str(path)) as f:
        return FileInfo(round(f.samplerate), f.frames, f.num_channels)


def section_seconds(section: Section | None, info: FileInfo) -> tuple[float, float]:
    """The section as (in, out) seconds of the file (the whole file without one)."""
    if section is None:
        return 0.0, info.seconds
    first, stop = section.frames(info.rate, info.frames)
    return first / info.rate, stop / info.rate


def shown_range(info: FileInfo, section: Section | None) -> tuple[float, float]:
    """The part of the file the view shows: all of it up to MAX_SECONDS, else the section with
    CONTEXT_S either side (at most MAX_SECONDS)."""
    if info.seconds <= MAX_SECONDS:
        return 0.0, info.seconds
    start, stop = section_seconds(section, info)
    first = max(0.0, start - CONTEXT_S)
    return first, min(info.seconds, stop + CONTEXT_S, first + MAX_SECONDS)


def load_preview(path: Path, start: float = 0.0, seconds: float | None = None) -> Preview:
    """`seconds` (all, at most MAX_SECONDS) of the file from `start`, mono at <= PREVIEW_RATE."""
    with AudioFile(str(path)) as f:
        rate = min(PREVIEW_RATE, round(f.samplerate))
        left = f.frames / f.samplerate - start
        wanted = min(left if seconds is None else seconds, MAX_SECONDS, left)
        reader = f.resampled_to(rate) if rate != f.samplerate else f
        reader.seek(round(start * rate))
        x = reader.read(max(0, round(wanted * rate)))
    return Preview(x.mean(axis=0).astype(np.float32), rate, start, wanted < left - 1e-6)


def load_audio(path: Path, start: float = 0.0, seconds: float | None = None) -> np.ndarray:
    """Full-rate (channels, frames) float32 of the file from `start` (at most MAX_SECONDS)."""
    with AudioFile(str(path)) as f:
        first = round(start * f.samplerate)
        count = f.frames - first if seconds is None else round(seconds * f.samplerate)
        f.seek(first)
        return f.read(min(count, f.frames - first, round(MAX_SECONDS * f.samplerate)))


def envelope(x: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-column minimum and maximum of `x` split into `columns` equal parts."""
    if x.size == 0 or columns < 1:
        return np.zeros(max(columns, 0)), np.zeros(max(columns, 0))
    edges = np.linspace(0, x.size, columns + 1).astype(int)
    edges[1:] = np.maximum(edges[1:], edges[:-1] + 1)
    idx = np.minimum(edges[:-1], x.size - 1)
    return np.minimum.reduceat(x, idx), np.maximum.reduceat(x, idx)


def spectrogram_db(x: np.ndarray, rate: int, frames: int) -> np.ndarray:
    """Magnitude in dB, shape (ROWS, frames), on a log-frequency axis from LOWEST_HZ to Nyquist.

    A log axis gives speech and low sounds the room a listener gives them.
    """
    padded = np.pad(x, (N_FFT // 2, N_FFT // 2))
    if padded.size < N_FFT:
        padded = np.pad(padded, (0, N_FFT - padded.size))
    starts = np.linspace(0, padded.size - N_FFT, frames).astype(int)
    windows = padded[starts[:, None] + np.arange(N_FFT)] * np.hanning(N_FFT).astype(np.float32)
    bins = np.round(np.geomspace(LOWEST_HZ, rate / 2, ROWS) / rate * N_FFT).astype(int)
    return (20 * np.log10(np.abs(np.fft.rfft(windows, axis=1))[:, bins] + 1e-9)).T


def spectrogram_image(db: np.ndarray, reference_db: float) -> QImage:
    """dB values (bins, frames) as a colour image, low frequencies at the bottom."""
    level = np.clip((db - reference_db - FLOOR_DB) / -FLOOR_DB, 0, 1)
    rgb = np.ascontiguousarray(_LUT[(level[::-1] * 255).astype(np.uint8)])
    height, width = level.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
