"""Long work off the UI thread: loading the engine and rendering clips.

A `Worker` QObject runs one plain function in its own QThread and reports through
signals, so the window never blocks and the function knows nothing of Qt. Cancel goes
through `QThread.requestInterruption`, which the host's `cancel()` callback polls
between blocks; the host then removes any half-written stem.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from clapsep.errors import UserError
from clapsep.host.audio_io import Section
from clapsep.host.engine import Engine, RenderInput, RenderOutcome
from clapsep.host.presets import Preset
from clapsep.host.render import RenderedStem
from clapsep.host.windowing import Cancelled


class Reporter:
    """What a task function gets: progress, partial results and the cancel flag."""

    def __init__(self, worker: "Worker") -> None:
        self._worker = worker

    def progress(self, fraction: float) -> None:
        self._worker.progress.emit(min(1.0, max(0.0, fraction)))

    def partial(self, item: Any) -> None:
        self._worker.partial.emit(item)

    def cancelled(self) -> bool:
        return self._worker.thread().isInterruptionRequested()


TaskFn = Callable[[Reporter], Any]


class Worker(QObject):
    """Runs `fn(reporter)` once in the thread it was moved to; exactly one end signal fires."""

    progress = pyqtSignal(float)
    partial = pyqtSignal(object)
    finished = pyqtSignal(object)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self, fn: TaskFn) -> None:
        super().__init__()
        self._fn = fn

    @pyqtSlot()
    def run(self) -> None:
        try:
            result = self._fn(Reporter(self))
        except Cancelled:
            self.cancelled.emit()
        except UserError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # shown to the user: the thread must never die silently
            self.failed.emit(f"internal error: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)


class Task:
    """A `Worker` with its QThread; the thread quits and both are freed when it ends."""

    def __init__(self, fn: TaskFn, parent: QObject | None = None) -> None:
        self.thread = QThread(parent)
        self.worker = Worker(fn)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        for end in (self.worker.finished, self.worker.failed, self.worker.cancelled):
            end.connect(self.thread.quit)
        self.thread.finished.connect(self.worker.deleteLater)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.thread.requestInterruption()

    def wait(self, ms: int = 30000) -> bool:
        return self.thread.wait(ms)


@dataclass(frozen=True)
class PanelClip:
    """A file in the panel's clip list, optionally one section of it (a DAW selection)."""

    path: Path
    section: Section | None = None
    origin: str = "desktop"  # "desktop" or "bridge": where the clip came from


@dataclass(frozen=True)
class PanelClipResult:
    """The stems written for one panel clip."""

    clip: PanelClip
    stems: tuple[RenderedStem, ...]
    cached: bool

    def stem(self, name: str) -> Path | None:
        return next((s.path for s in self.stems if s.stem == name), None)


def render_clips(
    engine: Engine,
    clips: Sequence[PanelClip],
    preset: Preset,
    out_dir: Path | None,
    report: Reporter,
) -> list[PanelClipResult]:
    """Render every clip with `preset`; stems go to `out_dir` or beside each clip.

    Re-rendering replaces the panel's own earlier output (same clip, same preset name):
    that is what an interactive "render again" means. Two clips of one name into one
    folder are refused before any work, so one render never overwrites another's stems.
    The source is never touched.
    """
    names = [(clip.path.stem.casefold(), clip.section) for clip in clips]
    if out_dir is not None and len(set(names)) < len(names):
        raise UserError(
            "two clips have the same file name and would write the same stems; "
            "clear the output folder to render each beside its source"
        )
    request = engine.prepare(preset, overwrite=True)
    results = []

    def done(outcome: RenderOutcome) -> None:
        result = PanelClipResult(clips[outcome.index], outcome.stems, outcome.cached)
        report.partial(result)
        results.append(result)

    inputs = [RenderInput(clip.path, out_dir or clip.path.parent, clip.section) for clip in clips]
    engine.render_many(
        request,
        inputs,
        lambda index, fraction: report.progress((index + fraction) / len(clips)),
        report.cancelled,
        on_done=done,
    )
    report.progress(1.0)
    return results
