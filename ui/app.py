"""The panel's main window: it wires presets, clips, rendering, results and the before/after view.

The window owns no audio logic: presets come from `host.presets`, renders from
`host.engine.Engine` in worker threads (`ui.render_worker`), so the panel renders
exactly what `clapsep render --preset` renders. "Render Audacity selection" runs
`clapsep audacity` with the chosen library preset (`ui.daw_link`), so an editor never needs
a terminal. Layout, output folder and last preset persist in a QSettings file in the user
data directory.
"""

import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QSettings, Qt, QUrl
from PyQt6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from clapsep.errors import UserError
from clapsep.host.audio_io import Section
from clapsep.host.engine import Engine
from clapsep.host.presets import PresetLibrary
from clapsep.host.render import STEMS
from clapsep.paths import user_data_dir
from clapsep.ui.audition import Audition
from clapsep.ui.bridge_jobs import BridgeClip, JobSource, JobWatcher
from clapsep.ui.clip_list import ClipList, ResultList
from clapsep.ui.compare_view import CompareView
from clapsep.ui.daw_link import DawStatus, PlacedStem, daw_status, render_selection
from clapsep.ui.preset_editor import PresetEditor
from clapsep.ui.preset_panel import PresetPanel
from clapsep.ui.render_worker import PanelClip, PanelClipResult, Reporter, Task, render_clips

SLOW_LOAD = (
    "Loading the model package… The first load is slow: every file's hash is verified and "
    "onnxruntime builds its sessions (on a GPU it also compiles kernels once)."
)
AUDIO_FILTER = "Audio (*.wav *.flac *.aif *.aiff *.mp3 *.ogg)"


PANEL_PRECISIONS = ("fp32", "bf16", "auto")  # the Precision choice, `--precision`'s values


def default_settings() -> QSettings:
    return QSettings(str(user_data_dir() / "panel.ini"), QSettings.Format.IniFormat)


def _column(*widgets: QWidget | QHBoxLayout) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    for w in widgets:
        layout.addLayout(w) if isinstance(w, QHBoxLayout) else layout.addWidget(w)
    return box


def _row(*widgets: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    for w in widgets:
        layout.addWidget(w)
    return layout


class MainWindow(QMainWindow):
    """`clapsep ui`: presets on the left, clips and results in the middle, before/after on the
    right."""

    def __init__(
        self,
        engine_loader: Callable[[], Engine],
        library: PresetLibrary | None = None,
        settings: QSettings | None = None,
        jobs: JobSource | None = None,
        reload: Callable[[str], Callable[[], Engine]] | None = None,
    ) -> None:
        """`engine_loader` loads the first engine; `reload(precision)` gives the loader of
        the same package at another precision (the toolbar's Precision choice; without it
        the panel keeps the first engine)."""
        super().__init__()
        self.setWindowTitle("clapsep studio")
        self.settings = settings or default_settings()
        self.engine: Engine | None = None
        self.task: Task | None = None
        self.results: dict[PanelClip, PanelClipResult] = {}

        self.presets = PresetPanel(library or PresetLibrary())
        self.editor = PresetEditor()
        self.clips = ClipList()
        self.results_list = ResultList()
        self.compare = CompareView()
        self.audition = Audition(self)
        self.out_dir = QLineEdit(str(self.settings.value("out_dir", "")))
        self.out_dir.setPlaceholderText("beside each clip")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.model_label, self.ab_label = (
            QLabel("No model loaded"),
            QLabel(self.audition.describe()),
        )
        self.reload = reload
        self.precision = QComboBox()
        self.precision.addItems(PANEL_PRECISIONS)
        self.precision.setToolTip(
            "Precision of the separator: bf16 runs on OpenVINO's CPU plugin (several times "
            "faster at official size, within a measured quality gate); auto picks bf16 where "
            "its gate held for this package"
        )
        self.precision.setEnabled(False)  # until an engine is loaded
        self.precision.activated.connect(lambda _: self.change_precision())
        self.daw_label = QLabel("Audacity: not checked yet")
        self.daw_label.setWordWrap(True)
        self._build_actions()
        self._build_layout()

        self.presets.presetChosen.connect(self.editor.set_preset)
        self.presets.message.connect(self.say)
        self.editor.saveRequested.connect(self.presets.store)
        self.clips.currentItemChanged.connect(lambda *_: self.show_current_clip())
        self.results_list.itemDoubleClicked.connect(lambda *_: self.open_result_folder())
        self.audition.status.connect(self.say)
        self._wire_compare()
        self.watcher: JobWatcher | None = None
        if jobs is not None:
            self.watcher = JobWatcher(jobs, self)
            self.watcher.arrived.connect(self._jobs_arrived)
            self.watcher.start()
        self.editor.set_preset(self.presets.current())
        self._restore()
        self.load_engine(engine_loader)

    def _wire_compare(self) -> None:
        """The before/after view's timeline drives the audition, and its in/out and spans
        are stored on the clip list item."""
        timeline = self.compare.timeline
        timeline.seekRequested.connect(self.seek)
        self.audition.positionChanged.connect(timeline.set_playhead)
        timeline.loopChanged.connect(
            lambda: self.audition.set_loop(timeline.loop, timeline.looping)
        )
        timeline.spansChanged.connect(self._spans_changed)
        timeline.sectionChanged.connect(self._section_changed)
        self.compare.stemChanged.connect(self._stem_changed)
        self.compare.levelMatchChanged.connect(self._level_match_changed)

    def seek(self, seconds: float) -> None:
        self.audition.seek(seconds)
        self.compare.timeline.set_playhead(seconds)

    def _spans_changed(self) -> None:
        if (clip := self.clips.current_clip()) is not None:
            self.clips.set_spans(clip, self.compare.timeline.spans)

    def _section_changed(self) -> None:
        clip = self.clips.current_clip()
        if clip is None:
            return
        cut = self.compare.timeline.section
        section = None if cut is None else Section(round(cut[0], 3), round(cut[1], 3))
        if self.clips.set_section(clip, section) != clip:
            self.say(f"{clip.path.name}: in/out {self.clips.currentItem().text()}")
            self.show_current_clip()

    def _stem_changed(self, name: str, gain_db: float, muted: bool, soloed: bool) -> None:
        self.audition.set_stem(name, gain_db, muted, soloed)
        self.ab_label.setText(self.audition.describe())

    def _level_match_changed(self, on: bool) -> None:
        self.audition.set_level_match(on)
        self.ab_label.setText(self.audition.describe())

    def _build_actions(self) -> None:
        def action(text: str, keys: str, slot: Callable[[], object], tip: str) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(keys))
            act.setToolTip(f"{tip} ({keys})")
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.add_action = action(
            "Add files…", "Ctrl+O", self.add_files_dialog, "Add audio files to the clip list"
        )
        self.render_action = action(
            "Render", "Ctrl+R", self.render, "Render the selected clips (all if none)"
        )
        self.cancel_action = action(
            "Cancel", "Esc", self.cancel, "Stop the render; no partial files are kept"
        )
        self.ab_action = action(
            "A/B", "Ctrl+B", self.toggle_ab, "Switch between source (A) and the stems (B)"
        )
        self.play_action = action(
            "Play/Pause", "Space", self.audition.play_pause, "Play or pause the audition"
        )
        self.daw_render_action = action(
            "Render Audacity selection",
            "Ctrl+Shift+R",
            self.render_daw_selection,
            "Render the selection in Audacity with the chosen saved preset; the stems come "
            "back as new tracks at the selection start",
        )
        self.daw_check_action = action(
            "Check connection",
            "Ctrl+Shift+K",
            self.check_daw,
            "Ask Audacity which tracks and time range are selected",
        )
        self.render_action.setEnabled(False)
        self.cancel_action.setEnabled(False)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        for act in (
            self.add_action,
            self.render_action,
            self.cancel_action,
            self.ab_action,
            self.play_action,
            self.daw_render_action,
            self.daw_check_action,
        ):
            toolbar.addAction(act)
        if self.reload is not None:
            toolbar.addSeparator()
            toolbar.addWidget(QLabel(" Precision "))
            toolbar.addWidget(self.precision)

    def _build_layout(self) -> None:
        browse, remove, open_folder = (
            QPushButton("Browse…"),
            QPushButton("Remove"),
            QPushButton("Open containing folder"),
        )
        browse.clicked.connect(self.choose_out_dir)
        remove.clicked.connect(self.clips.remove_selected)
        open_folder.clicked.connect(self.open_result_folder)
        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.addWidget(_column(QLabel("<b>Presets</b>"), self.presets))
        editor = QScrollArea()  # the form is tall: scroll rather than force a tall window
        editor.setWidget(self.editor)
        editor.setWidgetResizable(True)
        editor.setFrameShape(QFrame.Shape.NoFrame)
        editor.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.left.addWidget(_column(QLabel("<b>Preset editor</b>"), editor))
        middle = _column(
            QLabel("<b>Clips</b> — drop audio files here"),
            self.clips,
            _row(remove),
            _row(QLabel("Output"), self.out_dir, browse),
            self.daw_label,
            self.progress,
            QLabel("<b>Results</b>"),
            self.results_list,
            _row(open_folder),
        )
        right = _column(QLabel("<b>Before / after</b>"), self.compare, _row(self.ab_label))
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in ((self.left, 0), (middle, 0), (right, 1)):
            self.main_split.addWidget(widget)
            self.main_split.setStretchFactor(self.main_split.count() - 1, stretch)
        self.main_split.setSizes([420, 360, 720])
        self.left.setSizes([300, 560])
        self.setCentralWidget(self.main_split)
        self.statusBar().addPermanentWidget(self.model_label)
        self.resize(1400, 860)

    def say(self, message: str) -> None:
        self.statusBar().showMessage(message)

    # --- engine and rendering -------------------------------------------------------------

    def load_engine(self, engine_loader: Callable[[], Engine]) -> None:
        """Load the package in a worker thread; the status line says why this can take a while."""
        self.say(SLOW_LOAD)
        self.model_label.setText("Loading model…")
        self._load_started = time.monotonic()
        task = Task(lambda _report: engine_loader(), self)
        task.worker.finished.connect(self._engine_ready)
        task.worker.failed.connect(self._engine_failed)
        self._start(task)

    def _engine_ready(self, engine: Engine) -> None:
        self.engine = engine
        info = engine.describe()
        self.model_label.setText(
            f"Model {info['name']} {info['version']} · {info['precision']} on {engine.provider}"
        )
        if info["precision"] in PANEL_PRECISIONS and self.precision.currentText() != "auto":
            self.precision.setCurrentText(info["precision"])
        self.precision.setEnabled(self.reload is not None)
        self.model_label.setToolTip(f"{info['path']}\n{info['provider_note']}")
        seconds = time.monotonic() - self._load_started
        self.say(
            f"Model {info['name']} {info['version']} loaded in {seconds:.1f} s: "
            f"{info['provider_note']}"
        )
        self.render_action.setEnabled(True)

    def change_precision(self) -> None:
        """Reload the package at the chosen precision (remembered for the next start)."""
        if self.reload is None:
            return
        if self.task is not None:
            if self.engine is not None:
                self.precision.setCurrentText(self.engine.describe()["precision"])
            self.say("Finish or cancel the running task before changing the precision")
            return
        chosen = self.precision.currentText()
        self.settings.setValue("precision", chosen)
        self.render_action.setEnabled(False)
        self.precision.setEnabled(False)
        self.load_engine(self.reload(chosen))

    def _engine_failed(self, message: str) -> None:
        self.model_label.setText("No model loaded")
        self.say(f"Could not load the model package: {message}")
        self.precision.setEnabled(self.reload is not None)  # another precision may load

    def render(self) -> None:
        """Render the selected clips with the preset as shown in the editor."""
        if self.engine is None or self.busy():
            return
        clips = self.clips.selected_clips()
        if not clips:
            self.say("Nothing to render: drop audio files into the clip list")
            return
        try:
            preset = self.editor.preset()
        except UserError as exc:
            self.say(f"The preset is not valid: {exc}")
            return
        out = Path(self.out_dir.text()).expanduser() if self.out_dir.text().strip() else None
        if out is not None and not out.is_dir():
            self.say(f"Output folder {out} does not exist")
            return
        engine = self.engine

        spans = self.clips.all_spans()

        def work(report: Reporter) -> list[PanelClipResult]:
            return render_clips(engine, clips, preset, out, report, spans)

        for clip in clips:
            self.clips.mark(clip, "queued")
        self.progress.setValue(0)
        self.say(f"Rendering {len(clips)} clip(s) with {preset.name!r}…")
        task = Task(work, self)
        task.worker.progress.connect(lambda f: self.progress.setValue(round(f * 100)))
        task.worker.partial.connect(self._clip_rendered)
        task.worker.finished.connect(lambda results: self.say(f"Rendered {len(results)} clip(s)"))
        task.worker.failed.connect(
            lambda msg: self._render_stopped(clips, f"Render failed: {msg}", "failed")
        )
        task.worker.cancelled.connect(
            lambda: self._render_stopped(
                clips, "Render cancelled; no partial files were kept", "cancelled"
            )
        )
        self._start(task)

    def _start(self, task: Task) -> None:
        self.task = task
        task.thread.finished.connect(self._task_ended)
        self.cancel_action.setEnabled(True)
        for act in (self.render_action, self.daw_render_action, self.daw_check_action):
            act.setEnabled(False)
        task.start()

    def _task_ended(self) -> None:
        self.task = None
        self.cancel_action.setEnabled(False)
        self.render_action.setEnabled(self.engine is not None)
        self.daw_render_action.setEnabled(True)  # the child loads its own model
        self.daw_check_action.setEnabled(True)

    def busy(self) -> bool:
        """Whether a task runs or its end has not reached the window yet."""
        return self.task is not None

    def cancel(self) -> None:
        if self.busy():
            self.task.cancel()
            self.say("Cancelling…")

    def _clip_rendered(self, result: PanelClipResult) -> None:
        self.results[result.clip] = result
        self.clips.mark(result.clip, "cached" if result.cached else "rendered")
        self.results_list.add_result(result)
        if self.clips.current_clip() == result.clip:
            self.show_current_clip()

    def _render_stopped(self, clips: list[PanelClip], message: str, state: str) -> None:
        for clip in clips:
            if clip not in self.results:
                self.clips.mark(clip, state)
        self.progress.setValue(0)
        self.say(message)

    # --- the DAW ---------------------------------------------------------------------------

    def check_daw(self) -> None:
        """Ask Audacity what is selected (on demand, in a worker: Audacity may be slow)."""
        if self.busy():
            return
        self.daw_label.setText("Audacity: checking…")
        task = Task(daw_status, self)
        task.worker.finished.connect(self._show_daw)
        task.worker.failed.connect(lambda msg: self.say(f"Could not ask Audacity: {msg}"))
        self._start(task)

    def _show_daw(self, status: DawStatus) -> None:
        self.daw_label.setText(status.describe())
        self.say(status.describe())

    def render_daw_selection(self) -> None:
        """Render Audacity's selection with the chosen preset, which must be saved: the
        child `clapsep audacity` reads it from the library by name."""
        if self.busy():
            return
        try:
            preset = self.editor.preset()
            saved = self.presets.library.get(preset.name)
        except UserError as exc:
            self.say(f"The preset is not valid: {exc}")
            return
        if saved.to_json() != preset.to_json():
            self.say(f"Save the preset {preset.name!r} first: Audacity renders saved presets")
            return
        engine, name = self.engine, saved.name
        self.progress.setValue(0)
        self.say(f"Rendering Audacity's selection with {name!r}…")
        task = Task(lambda report: render_selection(name, engine, report), self)
        task.worker.progress.connect(lambda f: self.progress.setValue(round(f * 100)))
        task.worker.partial.connect(lambda status: self.daw_label.setText(status.describe()))
        task.worker.finished.connect(self._daw_placed)
        task.worker.failed.connect(lambda msg: self._daw_stopped(f"Audacity render: {msg}"))
        task.worker.cancelled.connect(
            lambda: self._daw_stopped("Audacity render cancelled; nothing was placed")
        )
        self._start(task)

    def _daw_placed(self, placed: list[PlacedStem]) -> None:
        self.results_list.add_files(
            [(p.path, f"{p.name}  (in Audacity at {p.start:g} s)") for p in placed]
        )
        names = ", ".join(p.name for p in placed)
        self.say(f"Placed {len(placed)} stem track(s) in Audacity: {names}")

    def _daw_stopped(self, message: str) -> None:
        self.progress.setValue(0)
        self.say(message)

    # --- clips, results, before/after -------------------------------------------------------

    def add_files_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add audio files", "", AUDIO_FILTER)
        self.clips.add_clips(PanelClip(Path(p)) for p in paths)

    def _jobs_arrived(self, items: list[BridgeClip]) -> None:
        """Bridge clips join the list; a finished job's stems become results like the panel's
        own."""
        if added := self.clips.add_clips(item.clip for item in items):
            self.say(f"{added} clip(s) arrived from the bridge")
        for item in items:
            if item.result is not None:
                self._clip_rendered(item.result)
            else:
                self.clips.mark(item.clip, f"bridge job {item.status}")

    def choose_out_dir(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Output folder", self.out_dir.text()):
            self.out_dir.setText(folder)

    def open_result_folder(self) -> None:
        if (path := self.results_list.current_path()) is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))

    def show_current_clip(self) -> None:
        clip = self.clips.current_clip()
        if clip is None:
            self.compare.clear()
            return
        result = self.results.get(clip)
        stems: dict[str, Path | None] = (
            {s.stem: s.path for s in result.stems} if result else dict.fromkeys(STEMS)
        )
        try:
            self.compare.show_files(clip.path, stems, clip.section)
            self.audition.set_tracks(clip.path, stems, clip.section)
        except (OSError, ValueError, UserError) as exc:
            self.say(f"Cannot show {clip.path.name}: {exc}")
            return
        self.compare.timeline.set_spans(self.clips.spans(clip))
        self.audition.set_level_match(self.compare.level_match.isChecked())
        for name, strip in self.compare.strips.items():
            self.audition.set_stem(
                name, strip.level.value(), strip.mute.isChecked(), strip.solo.isChecked()
            )
        self.ab_label.setText(self.audition.describe())

    def toggle_ab(self) -> None:
        self.audition.toggle()
        self.ab_label.setText(self.audition.describe())

    # --- persistence --------------------------------------------------------------------------

    def _restore(self) -> None:
        for key, restore in (
            ("geometry", self.restoreGeometry),
            ("state", self.restoreState),
            ("main_split", self.main_split.restoreState),
            ("left_split", self.left.restoreState),
        ):
            if (value := self.settings.value(key)) is not None:
                restore(value)
        if last := self.settings.value("last_preset"):
            self.presets.select(str(last))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy():
            self.task.cancel()
            self.task.wait()
        self.audition.stop()
        for key, value in (
            ("geometry", self.saveGeometry()),
            ("state", self.saveState()),
            ("main_split", self.main_split.saveState()),
            ("left_split", self.left.saveState()),
            ("out_dir", self.out_dir.text()),
        ):
            self.settings.setValue(key, value)
        if (preset := self.presets.current()) is not None:
            self.settings.setValue("last_preset", preset.name)
        self.settings.sync()
        super().closeEvent(event)
