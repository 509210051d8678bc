"""Before/after: a time ruler and one row per file (the source and any number of named stems),
waveform above spectrogram, all on one timeline in seconds of the source file.

Click a row or the ruler to seek; drag on the ruler to set the loop; Ctrl+wheel zooms
around the pointer, the wheel scrolls. On the source row a drag marks a target span
(Shift, or the "mark target" mode) or a remove span (Alt, or "mark remove"); a right
click removes the span under the pointer. Each stem's strip has solo, mute, level and a
handle that drags the written file out (file URLs: a DAW, a file manager). Rows share one
level reference (the source's peak and loudest bin), so a quiet residual looks quiet.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QMimeData, QPoint, QRectF, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QDrag,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PyQt6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clapsep.host.audio_io import Section
from clapsep.ui.timeline import Span, SpanKind, Timeline
from clapsep.ui.waveform import (
    MAX_SECONDS,
    Preview,
    envelope,
    file_info,
    load_preview,
    section_seconds,
    shown_range,
    spectrogram_db,
    spectrogram_image,
)

STEM_COLOURS = {
    "source": "#8ab4f8",
    "target": "#81c995",
    "residual": "#f28b82",
    "dialogue": "#fdd663",
    "music": "#c58af9",
    "effects": "#78d9ec",
    "rest": "#f6aea9",
}
SPAN_COLOURS: dict[SpanKind, QColor] = {
    "target": QColor(129, 201, 149, 70),
    "remove": QColor(242, 139, 130, 70),
}
MODES = ("seek", "target", "remove")
_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)


def tick_step(visible_s: float, width: int, min_px: int = 70) -> float:
    """The smallest round step that keeps ticks `min_px` apart."""
    return next((s for s in _TICKS if s / visible_s * width >= min_px), _TICKS[-1])


def timecode(t: float, step: float = 1.0) -> str:
    minutes, seconds = divmod(t, 60)
    decimals = 0 if step >= 1 else 1 if step >= 0.1 else 2
    return f"{int(minutes)}:{seconds:0{3 + decimals if decimals else 2}.{decimals}f}"


def stem_title(name: str) -> str:
    return {"source": "Source (before)", "target": "Target (after)", "residual": "Residual"}.get(
        name, name.capitalize()
    )


class _TimelineWidget(QWidget):
    """Shared drawing of the loop, the in/out and the playhead; mouse-to-time mapping."""

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        timeline.changed.connect(self.update)
        self._press: QPoint | None = None

    def time_at(self, x: float) -> float:
        return self.timeline.to_time(x, self.width())

    def x_of(self, t: float) -> float:
        return self.timeline.to_x(t, self.width())

    def _paint_overlays(self, painter: QPainter) -> None:
        tl, h = self.timeline, self.height()
        if tl.section is not None:  # outside in/out: dimmed
            shade = QColor(0, 0, 0, 120)
            painter.fillRect(QRectF(0, 0, max(0.0, self.x_of(tl.section[0])), h), shade)
            right = self.x_of(tl.section[1])
            painter.fillRect(QRectF(right, 0, max(0.0, self.width() - right), h), shade)
        if tl.loop is not None:
            a, b = self.x_of(tl.loop[0]), self.x_of(tl.loop[1])
            tint = QColor(255, 255, 255, 45 if tl.looping else 20)
            painter.fillRect(QRectF(a, 0, b - a, h), tint)
        x = self.x_of(tl.playhead)
        painter.setPen(QPen(QColor("#ffffff"), 1.5))
        painter.drawLine(int(x), 0, int(x), h)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120 or event.angleDelta().x() / 120
        v0, v1 = self.timeline.view
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.timeline.zoom(1.25**steps, self.time_at(event.position().x()))
        else:
            self.timeline.scroll(-steps * (v1 - v0) / 8)
        event.accept()

    def _moved_far(self, event: QMouseEvent) -> bool:
        return (
            self._press is not None
            and abs(event.position().x() - self._press.x()) >= QApplication.startDragDistance()
        )


class TimeRuler(_TimelineWidget):
    """Ticks and timecodes; click to seek, drag to set the loop, double-click to clear it."""

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(timeline, parent)
        self.setFixedHeight(24)
        self.setToolTip("Click: seek · drag: loop range · double-click: clear the loop")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#2a2b31"))
        v0, v1 = self.timeline.view
        step = tick_step(v1 - v0, max(self.width(), 1))
        painter.setPen(QColor("#c8c8c8"))
        t = np.ceil(v0 / step) * step
        while t <= v1:
            x = int(self.x_of(t))
            painter.drawLine(x, self.height() - 7, x, self.height())
            painter.drawText(x + 3, 13, timecode(t, step))
            t += step
        self._paint_overlays(painter)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._moved_far(event):
            start, here = self.time_at(self._press.x()), self.time_at(event.position().x())
            self.timeline.set_loop(start, here)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and not self._moved_far(event):
            self.timeline.seekRequested.emit(self.time_at(event.position().x()))
        self._press = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.timeline.loop = None
        self.timeline.set_looping(False)


class TrackView(_TimelineWidget):
    """One file: title, waveform above, spectrogram below; on the source row, the spans."""

    def __init__(
        self,
        name: str,
        timeline: Timeline,
        marks_spans: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(timeline, parent)
        self.name, self.title = name, stem_title(name)
        self.colour = QColor(STEM_COLOURS.get(name, "#e8eaed"))
        self.marks_spans, self.mode = marks_spans, "seek"
        self.setMinimumHeight(70)
        self.preview: Preview | None = None
        self.peak, self.reference_db, self.note = 1.0, 0.0, ""
        self._image: QImage | None = None
        self._image_key: tuple = ()
        self._drag_kind: SpanKind | None = None
        self._drag_to: float | None = None

    def set_preview(
        self, preview: Preview | None, peak: float, reference_db: float, note: str = ""
    ) -> None:
        self.preview, self.peak, self.reference_db, self.note = preview, peak, reference_db, note
        self._image = None
        self.update()

    def _visible(self) -> tuple[np.ndarray, float, float]:
        """The preview's samples inside the view, and the x range they cover."""
        p, (v0, v1) = self.preview, self.timeline.view
        a, b = max(v0, p.start), min(v1, p.end)
        if b <= a:
            return np.zeros(0, np.float32), 0.0, 0.0
        i, j = round((a - p.start) * p.rate), round((b - p.start) * p.rate)
        return p.samples[i : max(j, i + 1)], self.x_of(a), self.x_of(b)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.rect()
        painter.fillRect(rect, QColor("#1e1f24"))
        wave_h = rect.height() * 0.38
        if self.preview is not None and self.preview.samples.size:
            samples, x0, x1 = self._visible()
            if samples.size and x1 - x0 >= 1:
                area = QRectF(x0, 0, x1 - x0, wave_h)
                self._paint_wave(painter, samples, area)
                key = (self.timeline.view, int(x1 - x0))
                if self._image is None or self._image_key != key:
                    db = spectrogram_db(samples, self.preview.rate, max(int(x1 - x0), 1))
                    self._image, self._image_key = spectrogram_image(db, self.reference_db), key
                painter.drawImage(QRectF(x0, wave_h, x1 - x0, rect.height() - wave_h), self._image)
        if self.marks_spans:
            self._paint_spans(painter)
        self._paint_overlays(painter)
        label = self.title if self.preview is None else f"{self.title}  {self._length():.1f} s"
        painter.setPen(QColor("#e6e6e6"))
        painter.drawText(
            rect.adjusted(6, 4, -6, -4),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            label + (f"  ({self.note})" if self.note else ""),
        )
        painter.end()

    def _length(self) -> float:
        return self.preview.samples.size / self.preview.rate

    def _paint_wave(self, painter: QPainter, samples: np.ndarray, area: QRectF) -> None:
        columns = max(int(area.width()), 1)
        lows, highs = envelope(samples, columns)
        mid, half = area.center().y(), area.height() / 2 - 2
        scale = half / max(self.peak, 1e-6)
        left = int(area.left())
        painter.setPen(QPen(QColor("#3a3c44")))
        painter.drawLine(left, int(mid), left + columns, int(mid))
        painter.setPen(QPen(self.colour))
        for x, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
            painter.drawLine(left + x, int(mid - hi * scale), left + x, int(mid - lo * scale))

    def _paint_spans(self, painter: QPainter) -> None:
        spans = list(self.timeline.spans)
        if self._drag_kind is not None and self._drag_to is not None:
            spans.append(Span(self.time_at(self._press.x()), self._drag_to, self._drag_kind))
        for span in spans:
            a, b = sorted((self.x_of(span.start), self.x_of(span.end)))
            painter.fillRect(QRectF(a, 0, b - a, self.height()), SPAN_COLOURS[span.kind])
            painter.setPen(SPAN_COLOURS[span.kind].lighter(250))
            painter.drawText(int(a) + 3, self.height() - 5, span.kind)

    def _span_kind(self, modifiers: Qt.KeyboardModifier) -> SpanKind | None:
        if not self.marks_spans:
            return None
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            return "target"
        if modifiers & Qt.KeyboardModifier.AltModifier:
            return "remove"
        return None if self.mode == "seek" else self.mode  # type: ignore[return-value]

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self.timeline.remove_span_at(self.time_at(event.position().x()))
            return
        self._press = event.position().toPoint()
        self._drag_kind = self._span_kind(event.modifiers())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_kind is not None and self._moved_far(event):
            self._drag_to = self.time_at(event.position().x())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        t = self.time_at(event.position().x())
        if self._drag_kind is not None and self._moved_far(event):
            self.timeline.add_span(self.time_at(self._press.x()), t, self._drag_kind)
        elif not self._moved_far(event):
            self.timeline.seekRequested.emit(t)
        self._press, self._drag_kind, self._drag_to = None, None, None
        self.update()


class DragHandle(QLabel):
    """Drag the file it holds out of the panel as a file URL (into a DAW or a file manager)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("⠿ drag", parent)
        self.path: Path | None = None
        self._press: QPoint | None = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def set_path(self, path: Path | None) -> None:
        self.path = path
        self.setEnabled(path is not None)
        self.setToolTip(f"Drag {path.name} into a DAW or a folder" if path else "Not rendered")

    def mime_data(self) -> QMimeData:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(self.path))])
        return mime

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.path is None or self._press is None:
            return
        if (event.position().toPoint() - self._press).manhattanLength() >= (
            QApplication.startDragDistance()
        ):
            self._press = None
            drag = QDrag(self)
            drag.setMimeData(self.mime_data())
            drag.exec(Qt.DropAction.CopyAction)


class StemStrip(QWidget):
    """A stem's name, solo, mute, level (dB) and drag handle; `changed` carries all four."""

    changed = pyqtSignal(str, float, bool, bool)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.solo, self.mute = QToolButton(), QToolButton()
        for button, text, tip in ((self.solo, "S", "Solo"), (self.mute, "M", "Mute")):
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(f"{tip} {name} (side B)")
            button.toggled.connect(self._emit)
        self.level = QDoubleSpinBox()
        self.level.setRange(-60.0, 12.0)
        self.level.setSingleStep(1.0)
        self.level.setSuffix(" dB")
        self.level.setToolTip(f"Level of {name} on side B")
        self.level.valueChanged.connect(self._emit)
        self.handle = DragHandle()
        layout = QGridLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        label = QLabel(f"<b>{stem_title(name)}</b>")
        layout.addWidget(label, 0, 0, 1, 2)
        layout.addWidget(self.solo, 1, 0)
        layout.addWidget(self.mute, 1, 1)
        layout.addWidget(self.level, 2, 0, 1, 2)
        layout.addWidget(self.handle, 3, 0, 1, 2)
        self.setFixedWidth(110)

    def _emit(self) -> None:
        self.changed.emit(
            self.name, self.level.value(), self.mute.isChecked(), self.solo.isChecked()
        )


class CompareView(QWidget):
    """The source and every stem of the selected clip on one timeline, with transport tools."""

    stemChanged = pyqtSignal(str, float, bool, bool)
    levelMatchChanged = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = Timeline(self)
        self.ruler = TimeRuler(self.timeline)
        self.rows: dict[str, TrackView] = {}
        self.strips: dict[str, StemStrip] = {}
        self.source_strip = QLabel("<b>Source</b>")
        self.source_strip.setFixedWidth(110)
        self.mode = QComboBox()
        self.mode.addItems(["Click: seek", "Drag: mark target", "Drag: mark remove"])
        self.mode.setToolTip("On the source row, or Shift-drag (target) / Alt-drag (remove)")
        self.mode.currentIndexChanged.connect(self._mode_chosen)
        self.loop = QCheckBox("Loop")
        self.loop.toggled.connect(self.timeline.set_looping)
        self.level_match = QCheckBox("Level match")
        self.level_match.setChecked(True)
        self.level_match.setToolTip("Play side B at the source's loudness")
        self.level_match.toggled.connect(self.levelMatchChanged)
        buttons = {
            "−": lambda: self.timeline.zoom(0.5),
            "+": lambda: self.timeline.zoom(2),
            "Fit": self.timeline.fit,
            "Set in": lambda: self.timeline.set_in(self.timeline.playhead),
            "Set out": lambda: self.timeline.set_out(self.timeline.playhead),
            "Clear in/out": lambda: self.timeline.set_section(None),
            "Clear spans": self.timeline.clear_spans,
        }
        self.buttons: dict[str, QPushButton] = {}
        tools = QHBoxLayout()
        for text, slot in buttons.items():
            self.buttons[text] = button = QPushButton(text)
            button.clicked.connect(slot)
            tools.addWidget(button)
        for widget in (self.loop, self.level_match, self.mode):
            tools.addWidget(widget)
        tools.addStretch(1)
        self.grid = QGridLayout()
        self.grid.setSpacing(3)
        self.grid.addWidget(self.ruler, 0, 1)
        self.grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addLayout(self.grid, 1)
        self._set_rows(["source", "target", "residual"])

    def _mode_chosen(self, index: int) -> None:
        self.rows["source"].mode = MODES[index]

    def _set_rows(self, names: list[str]) -> None:
        if list(self.rows) == names:
            return
        for widget in [*self.rows.values(), *self.strips.values()]:
            self.grid.removeWidget(widget)
            widget.deleteLater()
        self.rows, self.strips = {}, {}
        for i, name in enumerate(names, start=1):
            self.rows[name] = TrackView(name, self.timeline, marks_spans=name == "source")
            self.grid.addWidget(self.rows[name], i, 1)
            self.grid.setRowStretch(i, 1)
            if name == "source":
                self.grid.addWidget(self.source_strip, i, 0)
                continue
            self.strips[name] = strip = StemStrip(name)
            strip.changed.connect(self.stemChanged)
            self.grid.addWidget(strip, i, 0)
        self._mode_chosen(self.mode.currentIndex())

    def show_files(
        self, source: Path | None, stems: dict[str, Path | None], section: Section | None = None
    ) -> None:
        """Show `source` (the shown part of the file, see `shown_range`) and the stem files
        (already cut to the section, so placed at its start); rows follow `stems`' order."""
        self._set_rows(["source", *stems])
        if source is None:
            self.clear()
            return
        info = file_info(source)
        start, end = shown_range(info, section)
        cut = section_seconds(section, info)
        self.timeline.reset(start, end)
        if section is not None:
            self.timeline.section = cut
        previews = {"source": load_preview(source, start, end - start)}
        for name, path in stems.items():
            previews[name] = replace(load_preview(path), start=cut[0]) if path else None
        reference = previews["source"]
        peak = float(np.abs(reference.samples).max(initial=0))
        ref_db = (
            float(spectrogram_db(reference.samples, reference.rate, 64).max())
            if (reference.samples.size)
            else 0.0
        )
        for name, view in self.rows.items():
            preview = previews.get(name)
            note = "not rendered" if preview is None else ""
            if preview is not None and preview.truncated:
                note = f"first {MAX_SECONDS / 60:g} min"
            view.set_preview(preview, peak, ref_db, note)
        for name, strip in self.strips.items():
            strip.handle.set_path(stems.get(name))
        self.timeline.changed.emit()

    def clear(self) -> None:
        for view in self.rows.values():
            view.set_preview(None, 1.0, 0.0)
        for strip in self.strips.values():
            strip.handle.set_path(None)
        self.timeline.reset(0.0, 1.0)
