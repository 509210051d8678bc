"""The preset form: every field of `host.presets.Preset`, with reference audio dropped in.

The form holds no library logic: `preset()` builds a `Preset` (whose own checks raise
`UserError` with a message the form shows) and `saveRequested` hands it to the panel.
Effect chains are kept as loaded and shown as a summary; they are edited as JSON. A split
preset's stems are rows of a table (name, keep and remove text); a stem's audio examples
and spans are kept as loaded, like the chains.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clapsep.errors import UserError
from clapsep.host.audio_io import AUDIO_SUFFIXES
from clapsep.host.presets import Preset, SplitStem
from clapsep.host.render import REST, STEMS
from clapsep.ui.clip_list import FileDropList

NO_LIMIT = 0.0  # the attenuation spin box shows "off" at 0 dB
BLANK = Preset(
    name="New preset", positive_text=" "
)  # the space passes Preset's query check; shown stripped


class ShotList(QWidget):
    """Reference audio files for one side of the query: drop files, remove the selected."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = FileDropList(AUDIO_SUFFIXES)
        self.list.setFixedHeight(46)
        self.list.setToolTip(f"Drop example recordings of {title} here")
        self.list.filesDropped.connect(
            lambda paths: self.set_files([*self.files(), *map(str, paths)])
        )
        remove = QPushButton("Remove")
        remove.clicked.connect(self.list.remove_selected)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.list, 1)
        row.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)

    def files(self) -> tuple[str, ...]:
        return tuple(self.list.item(i).text() for i in range(self.list.count()))

    def set_files(self, files: tuple[str, ...] | list[str]) -> None:
        self.list.clear()
        self.list.addItems(list(dict.fromkeys(files)))


class SplitTable(QWidget):
    """A split's stems, one row each: its name and the text it keeps and removes.

    Each row remembers the stem it was loaded from, so a rename keeps that stem's audio
    examples, spans, gain and place among the preset's stems.
    """

    NAME, KEEP, REMOVE, EXAMPLES = range(4)
    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Stem", "Keep (text)", "Remove (text)", "Audio"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(110)
        self.table.setToolTip(
            "Each stem claims its part of the input; 'rest' is what no stem claims, and all "
            "of them sum to the input. Empty: a plain target/residual preset."
        )
        add, remove = QPushButton("Add stem"), QPushButton("Remove stem")
        add.clicked.connect(lambda: self.add_stem())
        remove.clicked.connect(self.remove_selected)
        buttons = QVBoxLayout()
        for button in (add, remove):
            buttons.addWidget(button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.table, 1)
        row.addLayout(buttons)

    def set_stems(self, stems: Sequence[SplitStem]) -> None:
        self.table.setRowCount(0)
        for stem in stems:
            self.add_stem(stem)
        self.changed.emit()

    def add_stem(self, stem: SplitStem | None = None) -> int:
        """Append a row for `stem` (None: a new stem with a free name); returns its row."""
        name = stem.name if stem else self._free_name()
        row = self.table.rowCount()
        self.table.insertRow(row)
        texts = (stem.positive_text, stem.negative_text) if stem else ("", "")
        for column, text in zip((self.NAME, self.KEEP, self.REMOVE), (name, *texts), strict=True):
            self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.item(row, self.NAME).setData(Qt.ItemDataRole.UserRole, stem)
        shots = [*stem.positive_audio, *stem.negative_audio] if stem else []
        spans = len(stem.positive_spans) + len(stem.negative_spans) if stem else 0
        counts = ((len(shots), "file(s)"), (spans, "span(s)"))
        summary = ", ".join(f"{n} {what}" for n, what in counts if n)
        examples = QTableWidgetItem(summary)
        examples.setFlags(examples.flags() & ~Qt.ItemFlag.ItemIsEditable)
        examples.setToolTip("\n".join(shots) or "audio examples are edited in the preset's JSON")
        self.table.setItem(row, self.EXAMPLES, examples)
        self.changed.emit()
        return row

    def remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.changed.emit()

    def names(self) -> list[str]:
        return [self._text(row, self.NAME) for row in range(self.table.rowCount())]

    def _free_name(self) -> str:
        taken, n = {name.casefold() for name in self.names()}, 1
        while f"stem {n}" in taken:
            n += 1
        return f"stem {n}"

    def rows(self) -> list[tuple[SplitStem | None, SplitStem]]:
        """(the stem a row was loaded from or None, the row as a stem); raises `UserError`
        for a stem without a query."""
        out = []
        for row in range(self.table.rowCount()):
            loaded = self.table.item(row, self.NAME).data(Qt.ItemDataRole.UserRole)
            name, keep, remove = (self._text(row, c) for c in (self.NAME, self.KEEP, self.REMOVE))
            edited = {"name": name, "positive_text": keep, "negative_text": remove}
            out.append((loaded, replace(loaded, **edited) if loaded else SplitStem(**edited)))
        return out

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""


def split_fields(base: Preset, rows: list[tuple[SplitStem | None, SplitStem]]) -> dict[str, Any]:
    """`split`, `stems` and `gains_db` of a split preset edited from `base`.

    A renamed stem keeps its gain and whether it is written; a new stem is written;
    `rest` stays as `base` had it. Without a base split every stem and `rest` are written.
    """
    split = tuple(stem for _, stem in rows)
    if not base.split:
        return {"split": split, "stems": STEMS, "gains_db": {}}  # STEMS: Preset's "all of them"
    renames = {loaded.name: stem.name for loaded, stem in rows if loaded is not None}
    renames[REST] = REST
    kept = [renames[name] for name in base.stems if name in renames]
    added = [stem.name for loaded, stem in rows if loaded is None]
    stems = tuple(dict.fromkeys([*kept, *added]))
    gains = {renames[k]: v for k, v in base.gains_db.items() if k in renames}
    return {"split": split, "stems": stems or STEMS, "gains_db": gains}


class PresetEditor(QWidget):
    """Edit one preset; emits `saveRequested(preset, original_name)` when the user saves."""

    saveRequested = pyqtSignal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._original: Preset | None = None
        self.name, self.category, self.tags = QLineEdit(), QLineEdit(), QLineEdit()
        self.tags.setPlaceholderText("comma separated, e.g. dialogue, cleanup")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("What this preset targets, in words")
        self.notes.setMaximumHeight(56)
        self.positive_text, self.negative_text = QLineEdit(), QLineEdit()
        self.positive_text.setPlaceholderText("what to keep, e.g. a person speaking")
        self.negative_text.setPlaceholderText("what to remove, e.g. wind noise")
        self.positive_audio, self.negative_audio = (
            ShotList("the target"),
            ShotList("what to remove"),
        )
        self.audio_weight = QSlider(Qt.Orientation.Horizontal)
        self.audio_weight.setRange(0, 100)
        self.stem_boxes = {name: QCheckBox(name) for name in STEMS}
        self.atten = QDoubleSpinBox()
        self.atten.setRange(NO_LIMIT, 60)
        self.atten.setSuffix(" dB")
        self.atten.setSpecialValueText("off")
        self.gains = {name: self._gain_box() for name in STEMS}
        self.split = SplitTable()
        self.split.changed.connect(self._split_changed)
        self.chains = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b")
        save = QPushButton("Save preset")
        save.clicked.connect(self._save)

        stems, gains = QHBoxLayout(), QHBoxLayout()
        for name in STEMS:
            stems.addWidget(self.stem_boxes[name])
            gains.addWidget(QLabel(name))
            gains.addWidget(self.gains[name], 1)
        form = QFormLayout()
        for label, widget in (
            ("Name", self.name),
            ("Category", self.category),
            ("Tags", self.tags),
            ("Targets", self.notes),
            ("Keep (text)", self.positive_text),
            ("Keep (audio)", self.positive_audio),
            ("Remove (text)", self.negative_text),
            ("Remove (audio)", self.negative_audio),
            ("Text ↔ audio", self.audio_weight),
            ("Split stems", self.split),
            ("Stems", stems),
            ("Gains", gains),
            ("Atten. limit", self.atten),
            ("Effects", self.chains),
        ):
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(save, 0, Qt.AlignmentFlag.AlignRight)

    @staticmethod
    def _gain_box() -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(-60, 24)
        box.setSuffix(" dB")
        return box

    def set_preset(self, preset: Preset | None) -> None:
        """Show `preset` (None: a blank form for a new one)."""
        self._original = preset
        p = preset or BLANK
        self.name.setText(p.name)
        self.category.setText(p.category)
        self.tags.setText(", ".join(p.tags))
        self.notes.setPlainText(p.notes)
        self.positive_text.setText(p.positive_text.strip())
        self.negative_text.setText(p.negative_text)
        self.positive_audio.set_files(p.positive_audio)
        self.negative_audio.set_files(p.negative_audio)
        self.audio_weight.setValue(round(p.audio_weight * 100))
        for name, box in self.stem_boxes.items():
            box.setChecked(name in p.stems or bool(p.split))  # both, should the split go
        self.atten.setValue(p.atten_limit_db or NO_LIMIT)
        for name, box in self.gains.items():
            box.setValue(p.gains_db.get(name, 0.0))
        self.split.set_stems(p.split)
        effects = [
            f"pre: {', '.join(s.name for s in p.pre_chain)}" if p.pre_chain else "",
            f"post: {', '.join(s.name for s in p.post_chain)}" if p.post_chain else "",
        ]
        self.chains.setText("; ".join(e for e in effects if e) or "none")
        self.message.clear()

    def preset(self) -> Preset:
        """The form as a preset; raises `UserError` saying what is wrong."""
        base = self._original or BLANK
        gains = {name: box.value() for name, box in self.gains.items() if box.value()}
        plain = {
            "split": (),
            "stems": tuple(name for name, box in self.stem_boxes.items() if box.isChecked()),
            "gains_db": gains,
        }
        rows = self.split.rows()
        return replace(
            base,
            name=self.name.text().strip(),
            category=self.category.text().strip(),
            tags=tuple(t.strip() for t in self.tags.text().split(",") if t.strip()),
            notes=self.notes.toPlainText().strip(),
            positive_text=self.positive_text.text().strip(),
            negative_text=self.negative_text.text().strip(),
            positive_audio=self.positive_audio.files(),
            negative_audio=self.negative_audio.files(),
            audio_weight=self.audio_weight.value() / 100,
            atten_limit_db=self.atten.value() or None,
            **(split_fields(base, rows) if rows else plain),
        )

    def _split_changed(self) -> None:
        """A split writes its named stems and `rest`: the target/residual boxes rest meanwhile."""
        plain = self.split.table.rowCount() == 0
        for box in (*self.stem_boxes.values(), *self.gains.values()):
            box.setEnabled(plain)

    def show_error(self, message: str) -> None:
        self.message.setText(message)

    def _save(self) -> None:
        try:
            preset = self.preset()
        except UserError as exc:
            self.show_error(str(exc))
            return
        self.message.clear()
        self.saveRequested.emit(preset, self._original.name if self._original else "")
