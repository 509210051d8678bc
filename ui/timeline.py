"""The before/after view's shared state, in seconds of the source file: what is shown (zoom),
the playhead, the loop, the clip's in/out and the marked spans.

Every row and the ruler draw from one `Timeline`, so they always agree; it emits
`changed` after any edit, and the requests (`seekRequested`, ...) the window acts on.
"""

from dataclasses import dataclass
from typing import Literal

from PyQt6.QtCore import QObject, pyqtSignal

SpanKind = Literal["target", "remove"]
MIN_VIEW_S = 0.05


@dataclass(frozen=True)
class Span:
    """A marked part of the input: "target" (what to keep) or "remove"; seconds of the file."""

    start: float
    end: float
    kind: SpanKind

    def contains(self, t: float) -> bool:
        return self.start <= t <= self.end


class Timeline(QObject):
    changed = pyqtSignal()
    seekRequested = pyqtSignal(float)
    loopChanged = pyqtSignal()
    spansChanged = pyqtSignal()
    sectionChanged = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.start, self.end = 0.0, 1.0  # the shown part of the file
        self.view = (0.0, 1.0)  # the visible part of it (zoom)
        self.playhead = 0.0
        self.loop: tuple[float, float] | None = None
        self.looping = False
        self.section: tuple[float, float] | None = None  # the clip's in/out, None: whole file
        self.spans: list[Span] = []

    def reset(self, start: float, end: float) -> None:
        self.start, self.end = start, max(end, start + MIN_VIEW_S)
        self.view = (self.start, self.end)
        self.loop, self.section, self.spans = None, None, []
        self.playhead = start
        self.changed.emit()

    # --- mapping and zoom -------------------------------------------------------------------

    def to_x(self, t: float, width: int) -> float:
        v0, v1 = self.view
        return (t - v0) / (v1 - v0) * width

    def to_time(self, x: float, width: int) -> float:
        v0, v1 = self.view
        return min(self.end, max(self.start, v0 + x / max(width, 1) * (v1 - v0)))

    def zoom(self, factor: float, anchor: float | None = None) -> None:
        """Show `factor` times less (factor > 1 zooms in) around `anchor` (the view's centre)."""
        v0, v1 = self.view
        anchor = (v0 + v1) / 2 if anchor is None else anchor
        span = min(self.end - self.start, max(MIN_VIEW_S, (v1 - v0) / factor))
        left = anchor - (anchor - v0) / (v1 - v0) * span
        self._set_view(left, span)

    def scroll(self, seconds: float) -> None:
        v0, v1 = self.view
        self._set_view(v0 + seconds, v1 - v0)

    def fit(self) -> None:
        self._set_view(self.start, self.end - self.start)

    def _set_view(self, left: float, span: float) -> None:
        left = min(max(left, self.start), self.end - span)
        self.view = (left, left + span)
        self.changed.emit()

    # --- playhead, loop, section, spans -----------------------------------------------------

    def set_playhead(self, t: float) -> None:
        if t != self.playhead:
            self.playhead = t
            self.changed.emit()

    def set_loop(self, a: float, b: float) -> None:
        a, b = sorted((a, b))
        self.loop = (a, b) if b - a >= MIN_VIEW_S / 5 else None
        self.loopChanged.emit()
        self.changed.emit()

    def set_looping(self, on: bool) -> None:
        self.looping = on
        self.loopChanged.emit()
        self.changed.emit()

    def set_section(self, section: tuple[float, float] | None) -> None:
        self.section = section
        self.sectionChanged.emit()
        self.changed.emit()

    def set_in(self, t: float) -> None:
        out = self.section[1] if self.section else self.end
        self.set_section((t, out) if t < out else (t, self.end))

    def set_out(self, t: float) -> None:
        start = self.section[0] if self.section else self.start
        self.set_section((start, t) if t > start else (self.start, t))

    def add_span(self, a: float, b: float, kind: SpanKind) -> Span | None:
        a, b = sorted((max(a, self.start), min(b, self.end)))
        if b - a < 0.01:
            return None
        span = Span(round(a, 3), round(b, 3), kind)
        self.spans.append(span)
        self.spansChanged.emit()
        self.changed.emit()
        return span

    def remove_span_at(self, t: float) -> Span | None:
        """Remove the newest span under `t`; returns it (None: nothing there)."""
        for span in reversed(self.spans):
            if span.contains(t):
                self.spans.remove(span)
                self.spansChanged.emit()
                self.changed.emit()
                return span
        return None

    def set_spans(self, spans: list[Span]) -> None:
        self.spans = list(spans)
        self.changed.emit()

    def clear_spans(self) -> None:
        self.spans = []
        self.spansChanged.emit()
        self.changed.emit()
