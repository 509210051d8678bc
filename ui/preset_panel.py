"""The preset library: search, tag filter, and the create/duplicate/delete/import/export actions.

All storage goes through `host.presets.PresetLibrary` (the same library the CLI's
`--preset` and the bridge read). A file the library could not load is listed in red
with its reason, and the rest of the library stays usable.
"""

from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLineEdit,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clapsep.errors import UserError
from clapsep.host.presets import Preset, PresetLibrary
from clapsep.ui.clip_list import FileDropList

ALL_TAGS = "All tags"
JSON_FILTER = "Preset files (*.json)"


def matches(preset: Preset, words: str, tag: str) -> bool:
    """Whether `preset` has `tag` (or tag is ALL_TAGS) and every search word somewhere
    (a split's stem names and queries included)."""
    if tag != ALL_TAGS and tag.casefold() not in {t.casefold() for t in preset.tags}:
        return False
    haystack = " ".join(
        (
            preset.name,
            preset.category,
            " ".join(preset.tags),
            preset.notes,
            preset.positive_text,
            preset.negative_text,
            *(f"{s.name} {s.positive_text} {s.negative_text}" for s in preset.split),
        )
    ).casefold()
    return all(word in haystack for word in words.casefold().split())


class PresetPanel(QWidget):
    """Lists the library; `presetChosen` carries the selected preset (None: nothing selected)."""

    presetChosen = pyqtSignal(object)
    message = pyqtSignal(str)

    def __init__(self, library: PresetLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search presets")
        self.search.setClearButtonEnabled(True)
        self.tag = QComboBox()
        self.list = FileDropList({".json"})
        self.list.setToolTip("Drop preset or library .json files here to import them")
        self.list.filesDropped.connect(self.import_files)
        self.search.textChanged.connect(lambda: self.refresh())
        self.tag.currentTextChanged.connect(lambda: self.refresh())
        self.list.currentItemChanged.connect(lambda *_: self.presetChosen.emit(self.current()))

        buttons = QGridLayout()
        actions = (
            ("New", self.new),
            ("Duplicate", self.duplicate),
            ("Delete", self.delete),
            ("Import…", self.import_dialog),
            ("Export…", self.export_dialog),
            ("Export all…", self.export_all_dialog),
        )
        for i, (label, slot) in enumerate(actions):
            button = QPushButton(label)
            button.clicked.connect(slot)
            buttons.addWidget(button, i // 3, i % 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tag)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.refresh()

    def current(self) -> Preset | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def names(self) -> list[str]:
        """Names of the presets listed now (after search and tag filter)."""
        return [
            p.name
            for i in range(self.list.count())
            if (p := self.list.item(i).data(Qt.ItemDataRole.UserRole))
        ]

    def refresh(self, select: str | None = None) -> None:
        """Rebuild the list from the library, keeping (or moving to) a selection."""
        select = select or (self.current().name if self.current() else None)
        presets = self.library.presets()
        self._refresh_tags(presets)
        self.list.blockSignals(True)
        self.list.clear()
        for preset in presets:
            if matches(preset, self.search.text(), self.tag.currentText()):
                label = f"{preset.name}   — {preset.category}" if preset.category else preset.name
                item = QListWidgetItem(
                    label + ("  (factory)" if self.library.is_factory(preset.name) else "")
                )
                item.setData(Qt.ItemDataRole.UserRole, preset)
                item.setToolTip(preset.notes)
                self.list.addItem(item)
        for problem in self.library.problems:
            item = QListWidgetItem(f"⚠ {problem}")
            item.setForeground(QBrush(QColor("#c0392b")))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(problem)
            self.list.addItem(item)
        self.list.blockSignals(False)
        names = self.names()
        row = names.index(select) if select in names else (0 if names else -1)
        self.list.setCurrentRow(row)
        self.presetChosen.emit(self.current())

    def _refresh_tags(self, presets: list[Preset]) -> None:
        tags = sorted({t for p in presets for t in p.tags}, key=str.casefold)
        chosen = self.tag.currentText() or ALL_TAGS
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItems([ALL_TAGS, *tags])
        self.tag.setCurrentText(chosen if chosen in tags else ALL_TAGS)
        self.tag.blockSignals(False)

    def select(self, name: str) -> bool:
        """Select a preset by name (clearing the filters if they hide it)."""
        if name not in self.names():
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
            self.tag.setCurrentText(ALL_TAGS)
        self.refresh(select=name)
        return self.current() is not None and self.current().name == name

    def store(self, preset: Preset, original: str) -> bool:
        """Save an edited preset; a rename of a user preset removes the old name."""
        try:
            renamed = bool(original) and original.casefold() != preset.name.casefold()
            if renamed and self.library.path_of(preset.name):
                raise UserError(f"a preset named {preset.name!r} exists; choose another name")
            self.library.save(preset, overwrite=not renamed)
            if renamed and self.library.path_of(original):
                self.library.delete(original)
        except UserError as exc:
            self.message.emit(str(exc))
            return False
        self.refresh(select=preset.name)
        self.message.emit(f"Saved preset {preset.name!r}")
        return True

    def new(self) -> None:
        self.list.setCurrentRow(-1)

    def free_name(self, base: str) -> str:
        taken = {p.name.casefold() for p in self.library.presets()}
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base} {n}"
        return name

    def duplicate(self) -> None:
        if (preset := self.current()) is not None:
            self.store(replace(preset, name=self.free_name(f"{preset.name} copy")), "")

    def delete(self) -> None:
        preset = self.current()
        if preset is None:
            return
        if self.library.is_factory(preset.name):
            self.message.emit(f"{preset.name!r} is a factory preset and cannot be deleted")
            return
        answer = QMessageBox.question(self, "Delete preset", f"Delete the preset {preset.name!r}?")
        if answer == QMessageBox.StandardButton.Yes:
            self.library.delete(preset.name)
            self.refresh()
            self.message.emit(f"Deleted preset {preset.name!r}")

    def import_files(self, paths: list[Path]) -> None:
        imported: list[str] = []
        for path in paths:
            try:
                imported += [p.name for p in self.library.import_file(Path(path))]
            except UserError as exc:
                self.message.emit(f"Import failed: {exc}")
                return
        self.refresh(select=imported[0] if imported else None)
        self.message.emit(
            f"Imported {len(imported)} preset(s)"
            + (f": {', '.join(imported)}" if imported else " (all were already in the library)")
        )

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import presets", "", JSON_FILTER)
        if paths:
            self.import_files([Path(p) for p in paths])

    def export(self, names: list[str], path: Path) -> None:
        try:
            self.library.export(names, path)
        except (UserError, OSError) as exc:
            self.message.emit(f"Export failed: {exc}")
            return
        self.message.emit(f"Exported {len(names)} preset(s) to {path}")

    def export_dialog(self) -> None:
        if (preset := self.current()) is not None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export preset", f"{preset.slug}.json", JSON_FILTER
            )
            if path:
                self.export([preset.name], Path(path))

    def export_all_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export library", "clapsep-presets.json", JSON_FILTER
        )
        if path:
            self.export([p.name for p in self.library.presets()], Path(path))
