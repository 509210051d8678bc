"""Before/after: waveform and spectrogram of source, target and residual, from the real files.

Files are read with pedalboard at a reduced rate (constant memory whatever the file's
length) and at most `MAX_SECONDS` are shown. The three rows share one level reference
(the source's peak and loudest bin), so a quiet residual looks quiet.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from clapsep.host.audio_io import Section

PREVIEW_RATE = 16000
MAX_SECONDS = 600.0
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
    """A mono signal at a reduced rate, and whether the file was longer than shown."""

    samples: np.ndarray
    rate: int
    truncated: bool


def load_preview(path: Path, section: Section | None = None) -> Preview:
    """The (section of the) file as mono float32 at up to PREVIEW_RATE Hz."""
    with AudioFile(str(path)) as f:
        first, stop = section.frames(f.samplerate, f.frames) if section else (0, f.frames)
        rate = min(PREVIEW_RATE, round(f.samplerate))
        wanted = min(stop - first, round(MAX_SECONDS * f.samplerate))
        reader = f.resampled_to(rate) if rate != f.samplerate else f
        reader.seek(round(first * rate / f.samplerate))
        x = reader.read(round(wanted * rate / f.samplerate))
    return Preview(x.mean(axis=0).astype(np.float32), rate, wanted < stop - first)


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


class TrackView(QWidget):
    """One row: a title, the waveform above and the spectrogram below."""

    def __init__(self, title: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title, self.colour = title, QColor(colour)
        self.setMinimumHeight(90)
        self.preview: Preview | None = None
        self.peak, self.reference_db, self.note = 1.0, 0.0, ""
        self._image: QImage | None = None

    def set_preview(
        self, preview: Preview | None, peak: float, reference_db: float, note: str = ""
    ) -> None:
        self.preview, self.peak, self.reference_db, self.note = preview, peak, reference_db, note
        self._image = None
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.rect()
        painter.fillRect(rect, QColor("#1e1f24"))
        wave_h = rect.height() * 0.38
        label = (
            self.title
            if self.preview is None
            else f"{self.title}  {self.preview.samples.size / self.preview.rate:.1f} s"
        )
        if self.preview is not None and self.preview.samples.size:
            self._paint_wave(painter, QRectF(0, 0, rect.width(), wave_h))
            if self._image is None or self._image.width() != max(rect.width(), 1):
                db = spectrogram_db(self.preview.samples, self.preview.rate, max(rect.width(), 1))
                self._image = spectrogram_image(db, self.reference_db)
            painter.drawImage(QRectF(0, wave_h, rect.width(), rect.height() - wave_h), self._image)
        painter.setPen(QColor("#e6e6e6"))
        painter.drawText(
            rect.adjusted(6, 4, -6, -4),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            label + (f"  ({self.note})" if self.note else ""),
        )
        painter.end()

    def _paint_wave(self, painter: QPainter, area: QRectF) -> None:
        columns = max(int(area.width()), 1)
        lows, highs = envelope(self.preview.samples, columns)
        mid, half = area.center().y(), area.height() / 2 - 2
        scale = half / max(self.peak, 1e-6)
        painter.setPen(QPen(QColor("#3a3c44")))
        painter.drawLine(0, int(mid), columns, int(mid))
        painter.setPen(QPen(self.colour))
        for x, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
            painter.drawLine(x, int(mid - hi * scale), x, int(mid - lo * scale))


class CompareView(QWidget):
    """Source, target and residual of the selected clip, one row each."""

    ROWS = (
        ("source", "Source (before)", "#8ab4f8"),
        ("target", "Target (after)", "#81c995"),
        ("residual", "Residual (removed)", "#f28b82"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = {key: TrackView(title, colour) for key, title, colour in self.ROWS}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        for view in self.rows.values():
            layout.addWidget(view, 1)

    def show_files(
        self, source: Path | None, stems: dict[str, Path | None], section: Section | None = None
    ) -> None:
        """Show `source` (its section) and the stem files (already cut to the section)."""
        previews = {"source": load_preview(source, section) if source else None}
        previews |= {key: load_preview(path) if path else None for key, path in stems.items()}
        reference = previews["source"]
        peak = float(np.abs(reference.samples).max(initial=0)) if reference else 1.0
        ref_db = (
            float(spectrogram_db(reference.samples, reference.rate, 64).max())
            if reference and reference.samples.size
            else 0.0
        )
        for key, view in self.rows.items():
            preview = previews.get(key)
            note = "not rendered" if preview is None and key != "source" else ""
            if preview is not None and preview.truncated:
                note = f"first {MAX_SECONDS / 60:g} min"
            view.set_preview(preview, peak, ref_db, note)

    def clear(self) -> None:
        for view in self.rows.values():
            view.set_preview(None, 1.0, 0.0)
