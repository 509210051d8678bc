"""Long work off the UI thread: loading the engine, rendering clips, `clapsep` children.

A `Worker` QObject runs one plain function in its own QThread and reports through
signals, so the window never blocks and the function knows nothing of Qt. Cancel goes
through `QThread.requestInterruption`, which the host's `cancel()` callback polls
between blocks; the host then removes any half-written stem. A `clapsep` child process
(`run_child`) gets SIGTERM instead, on which the CLI removes its own temp files.
"""

import json
import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from clapsep.errors import UserError
from clapsep.host.audio_io import Section
from clapsep.host.engine import Engine, RenderInput, RenderOutcome
from clapsep.host.presets import Preset
from clapsep.host.render import RenderedStem
from clapsep.host.runtime.openvino_cpu import OPENVINO_CPU
from clapsep.host.runtime.sessions import CPU as CPU_PROVIDER
from clapsep.host.runtime.sessions import PRECISIONS
from clapsep.host.windowing import Cancelled
from clapsep.ui.render_args import render_command
from clapsep.ui.timeline import Span
from clapsep.ui.waveform import file_info, section_seconds


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
    """A `Worker` with its QThread; the thread quits when the worker ends.

    The worker is freed with the Task, on the UI thread, not by `deleteLater` in its own
    thread: its destructor calls back into Python (the thread's `disconnectNotify`) while
    it holds Qt's connection lock, and the UI thread, holding the GIL, may be waiting for
    that lock (any `connect` or `setEnabled` on a toolbar action): a deadlock.
    """

    def __init__(self, fn: TaskFn, parent: QObject | None = None) -> None:
        self.thread = QThread(parent)
        self.worker = Worker(fn)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        for end in (self.worker.finished, self.worker.failed, self.worker.cancelled):
            end.connect(self.thread.quit)

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
    spans: Mapping[PanelClip, Sequence[Span]] | None = None,
) -> list[PanelClipResult]:
    """Render every clip with `preset`; stems go to `out_dir` or beside each clip.

    A clip with marked spans renders through `clapsep render --query-span/--negative-span`
    (the command `ui.render_args.render_command` builds) in a child process; the rest through
    the engine in this thread.

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
    marked = {clip: list(spans[clip]) for clip in clips if spans and spans.get(clip)}
    plain = [clip for clip in clips if clip not in marked]
    results = []

    def done(outcome: RenderOutcome) -> None:
        result = PanelClipResult(plain[outcome.index], outcome.stems, outcome.cached)
        report.partial(result)
        results.append(result)

    if plain:
        request = engine.prepare(preset, overwrite=True)
        inputs = [RenderInput(c.path, out_dir or c.path.parent, c.section) for c in plain]
        engine.render_many(
            request,
            inputs,
            lambda index, fraction: report.progress((index + fraction) / len(clips)),
            report.cancelled,
            on_done=done,
        )
    for i, (clip, clip_spans) in enumerate(marked.items(), start=len(plain)):
        report.progress(i / len(clips))
        result = _render_with_spans(engine, clip, clip_spans, preset, out_dir, report)
        report.partial(result)
        results.append(result)
    report.progress(1.0)
    return results


def _render_with_spans(
    engine: Engine,
    clip: PanelClip,
    spans: Sequence[Span],
    preset: Preset,
    out_dir: Path | None,
    report: Reporter,
) -> PanelClipResult:
    """`clapsep render` with the clip's spans in a child process; cancel stops it."""
    section = section_seconds(clip.section, file_info(clip.path)) if clip.section else None
    flags = engine_flags(engine)
    with tempfile.TemporaryDirectory(prefix="clapsep-panel-") as work:
        preset_file = Path(work) / "preset.json"
        preset_file.write_text(json.dumps(preset.to_json()))
        argv = render_command(
            clip.path,
            preset_file,
            out_dir or clip.path.parent,
            section,
            spans,
            flags,
        )
        out = run_child(argv, report)
    records = json.loads("".join(out))["outputs"]
    stems = tuple(
        RenderedStem(
            Path(r["input"]),
            r["stem"],
            Path(r["path"]),
            r["frames"],
            r["sample_rate"],
            r["channels"],
        )
        for r in records
    )
    return PanelClipResult(clip, stems, all(r["cached"] for r in records))


def engine_flags(engine: Engine | None) -> list[str]:
    """The `--model`, `--device` and `--precision` that make a child `clapsep` render as the
    panel's engine does: its package, on the CPU if the panel runs there, at its precision
    (none: the child's defaults)."""
    if engine is None:
        return []
    flags = ["--model", engine.describe()["path"]]
    if engine.provider in (CPU_PROVIDER, OPENVINO_CPU):
        flags += ["--device", "cpu"]
    if engine.separator.precision in PRECISIONS:  # fp16 is a GPU's own choice
        flags += ["--precision", engine.separator.precision]
    return flags


def run_child(
    argv: Sequence[str], report: Reporter, on_line: Callable[[str], None] | None = None
) -> list[str]:
    """Run a `clapsep` command to its end and return its stdout lines, each handed to
    `on_line` as it arrives (progress). Cancel sends SIGTERM and raises `Cancelled`; a
    failure raises `UserError` with the command's own last line of stderr.

    Both pipes drain while the child runs, so a chatty child never blocks on a full pipe.
    """
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        lines: queue.Queue[str | None] = queue.Queue()

        def drain() -> None:
            for line in child.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        out: list[str] = []
        try:
            while True:
                if report.cancelled():
                    raise Cancelled()
                try:
                    line = lines.get(timeout=0.05)
                except queue.Empty:
                    continue
                if line is None:
                    break
                out.append(line)
                if on_line is not None:
                    on_line(line)
        finally:
            if child.poll() is None:
                child.terminate()  # cancelled, or its output was not understood
            child.wait()
        err.seek(0)
        said = [line for line in err.read().splitlines() if line.strip()]
    if child.returncode != 0:
        raise UserError(f"clapsep {argv[1]}: {said[-1] if said else f'exit {child.returncode}'}")
    return out
