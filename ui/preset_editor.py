"""The preset form: every field of `host.presets.Preset`, with reference audio dropped in.

The form holds no library logic: `preset()` builds a `Preset` (whose own checks raise
`UserError` with a message the form shows) and `saveRequested` hands it to the panel.
Effect chains are kept as loaded and shown as a summary; they are edited as JSON.
"""

from dataclasses import replace

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
    QVBoxLayout,
    QWidget,
)

from clapsep.errors import UserError
from clapsep.host.audio_io import AUDIO_SUFFIXES
from clapsep.host.presets import Preset
from clapsep.host.render import STEMS
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
            box.setChecked(name in p.stems)
        self.atten.setValue(p.atten_limit_db or NO_LIMIT)
        for name, box in self.gains.items():
            box.setValue(p.gains_db.get(name, 0.0))
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
            stems=tuple(name for name, box in self.stem_boxes.items() if box.isChecked()),
            atten_limit_db=self.atten.value() or None,
            gains_db=gains,
        )

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
