"""The panel's preset library and editor, on a real `PresetLibrary` in a temp folder (no model)."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from PyQt6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from clapsep.host.presets import FORMAT_VERSION, Preset, PresetLibrary, presets_in
from clapsep.ui.preset_editor import PresetEditor
from clapsep.ui.preset_panel import ALL_TAGS, PresetPanel
from clapsep.ui.render_args import clapsep_executable


class Pair:
    """The library panel and the editor wired as the main window wires them."""

    def __init__(self, library: PresetLibrary) -> None:
        self.panel, self.editor = PresetPanel(library), PresetEditor()
        self.panel.presetChosen.connect(self.editor.set_preset)
        self.editor.saveRequested.connect(self.panel.store)
        self.messages: list[str] = []
        self.panel.message.connect(self.messages.append)
        self.editor.set_preset(self.panel.current())


@pytest.fixture
def ui(qtbot, tmp_path: Path) -> Pair:
    pair = Pair(PresetLibrary(tmp_path / "presets"))
    for widget in (pair.panel, pair.editor):
        qtbot.addWidget(widget)
    return pair


def drop(widget: QWidget, *paths: Path) -> bool:
    """Drag local files over `widget` and drop them, as a desktop or DAW file browser does.

    Returns whether the widget accepted the drag.
    """
    widget.window().show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(QPoint(5, 5), *args)
    QApplication.sendEvent(widget.viewport(), enter)
    if enter.isAccepted():
        QApplication.sendEvent(widget.viewport(), QDropEvent(QPointF(5, 5), *args))
    return enter.isAccepted()


def test_factory_presets_are_listed_and_selecting_one_fills_the_editor(ui: Pair) -> None:
    assert {"Dialogue", "Wind", "Sirens"} <= set(ui.panel.names())
    assert ui.panel.select("Wind")
    assert ui.editor.name.text() == "Wind" and ui.editor.atten.value() == 24
    assert "wind" in ui.editor.notes.toPlainText().lower()


def test_search_and_tag_filter(ui: Pair) -> None:
    ui.panel.search.setText("crowd walla")
    assert ui.panel.names() == ["Crowd walla"]
    ui.panel.search.clear()
    ui.panel.tag.setCurrentText("cleanup")
    names = ui.panel.names()
    assert "Wind" in names and "Music bed" not in names
    ui.panel.tag.setCurrentText(ALL_TAGS)
    assert "Music bed" in ui.panel.names()


def test_create_edit_rename_duplicate_and_delete(ui: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    ui.panel.new()
    assert ui.editor.name.text() == "New preset" and ui.editor.positive_text.text() == ""
    ui.editor.name.setText("Hum")
    ui.editor._save()
    assert "no query" in ui.editor.message.text()  # the form says what is missing
    ui.editor.positive_text.setText("electrical hum")
    ui.editor.tags.setText("noise, cleanup")
    ui.editor.atten.setValue(12)
    ui.editor.gains["residual"].setValue(-6)
    ui.editor._save()
    library = ui.panel.library
    saved = PresetLibrary(library.directory).get("Hum")
    assert (saved.positive_text, saved.tags, saved.atten_limit_db) == (
        "electrical hum",
        ("noise", "cleanup"),
        12,
    )
    assert saved.gains_db == {"residual": -6}
    assert ui.panel.current().name == "Hum"

    ui.editor.name.setText("Mains hum")  # a rename moves the file, leaving no stale "Hum"
    ui.editor._save()
    fresh = PresetLibrary(library.directory)
    assert "Mains hum" in [p.name for p in fresh.presets()] and "Hum" not in [
        p.name for p in fresh.presets()
    ]

    ui.panel.duplicate()
    assert ui.panel.current().name == "Mains hum copy"
    assert PresetLibrary(library.directory).get("Mains hum copy").positive_text == "electrical hum"

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    ui.panel.delete()
    assert "Mains hum copy" not in [p.name for p in PresetLibrary(library.directory).presets()]
    ui.panel.select("Wind")
    ui.panel.delete()
    assert "factory preset" in ui.messages[-1] and "Wind" in ui.panel.names()


def test_editing_a_factory_preset_saves_a_user_copy_that_shadows_it(ui: Pair) -> None:
    ui.panel.select("Wind")
    ui.editor.atten.setValue(6)
    ui.editor._save()
    library = PresetLibrary(ui.panel.library.directory)
    assert library.get("Wind").atten_limit_db == 6 and not library.is_factory("Wind")


def test_export_one_and_all_then_import_keeps_both_on_a_clash(
    ui: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ui.panel.select("Dialogue")
    one, everything = tmp_path / "dialogue.json", tmp_path / "all.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(one), ""))
    ui.panel.export_dialog()
    assert [p.name for p in presets_in(json.loads(one.read_text()))] == ["Dialogue"]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(everything), ""))
    ui.panel.export_all_dialog()
    assert len(presets_in(json.loads(everything.read_text()))) == len(ui.panel.library.presets())

    changed = Preset.from_json({**json.loads(one.read_text()), "negative_text": "a dog barking"})
    (tmp_path / "mine.json").write_text(json.dumps(changed.to_json()))
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(tmp_path / "mine.json")], "")
    )
    ui.panel.import_dialog()
    assert ui.panel.current().name == "Dialogue (2)"
    assert ui.panel.library.get("Dialogue").negative_text != "a dog barking"  # both kept
    ui.panel.import_files([everything])  # identical presets are skipped, not duplicated
    assert "already in the library" in ui.messages[-1]


def test_dropping_a_preset_file_on_the_list_imports_it(ui: Pair, tmp_path: Path) -> None:
    path = tmp_path / "bell.json"
    path.write_text(
        json.dumps(Preset(name="Bell", positive_text="a church bell", tags=("bells",)).to_json())
    )
    (tmp_path / "notes.txt").write_text("not a preset")
    assert not drop(ui.panel.list, tmp_path / "notes.txt")  # not a preset file: refused
    assert drop(ui.panel.list, path, tmp_path / "notes.txt")
    assert ui.panel.current().name == "Bell"
    assert "bells" in [ui.panel.tag.itemText(i) for i in range(ui.panel.tag.count())]


def test_a_corrupt_or_newer_library_file_is_shown_and_the_rest_load(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "broken.json").write_text("{not json")
    future = {**Preset(name="Later", positive_text="x").to_json(), "version": FORMAT_VERSION + 1}
    (folder / "future.json").write_text(json.dumps(future))
    (folder / "good.json").write_text(
        json.dumps(Preset(name="Good", positive_text="a bell").to_json())
    )
    panel = PresetPanel(PresetLibrary(folder))
    qtbot.addWidget(panel)
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    problems = [t for t in texts if t.startswith("⚠")]
    assert len(problems) == 2
    assert any("broken.json" in t and "not readable JSON" in t for t in problems)
    assert any("future.json" in t and "newer clapsep-studio" in t for t in problems)
    assert "Good" in panel.names() and "Dialogue" in panel.names()


def test_reference_audio_dropped_on_the_editor_is_saved_with_the_preset(
    ui: Pair, tmp_path: Path
) -> None:
    shots = [tmp_path / "hum1.wav", tmp_path / "hum2.flac"]
    for path in shots:
        with AudioFile(str(path), "w", 16000, 1) as f:
            f.write(np.zeros((1, 1600), np.float32))
    ui.panel.new()
    ui.editor.name.setText("Hum by example")
    assert drop(ui.editor.positive_audio.list, *shots)
    assert not drop(ui.editor.negative_audio.list, tmp_path / "missing.wav")  # only existing files
    ui.editor.positive_audio.list.setCurrentRow(1)
    ui.editor.positive_audio.list.remove_selected()
    ui.editor._save()
    saved = PresetLibrary(ui.panel.library.directory).get("Hum by example")
    assert saved.positive_audio == (str(shots[0]),) and saved.positive_text == ""


def test_a_split_presets_stems_are_edited_in_the_table_and_the_cli_reads_them_back(
    ui: Pair, tmp_path: Path
) -> None:
    ui.panel.select("Dialogue / room tone")
    split = ui.editor.split
    assert split.names() == ["dialogue", "room-tone"]
    assert not ui.editor.stem_boxes["target"].isEnabled()  # a split writes its own stems
    split.table.item(1, split.NAME).setText("ambience")  # a rename keeps the stem written
    split.table.item(1, split.REMOVE).setText("a person speaking, music")
    row = split.add_stem()
    split.table.item(row, split.NAME).setText("dog")
    ui.editor.name.setText("Dialogue / ambience / dog")
    ui.editor._save()
    assert "'dog' has no query" in ui.editor.message.text()
    split.table.item(row, split.KEEP).setText("a dog barking")
    ui.editor._save()
    assert ui.panel.current().name == "Dialogue / ambience / dog", ui.messages

    shown = subprocess.run(
        [clapsep_executable(), "presets", "show", "Dialogue / ambience / dog"],
        capture_output=True,
        text=True,
        env=os.environ | {"CLAPSEP_DATA_DIR": str(tmp_path)},  # the library is tmp/presets
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    saved = Preset.from_json(json.loads(shown.stdout))
    assert [(s.name, s.positive_text, s.negative_text) for s in saved.split] == [
        ("dialogue", "a person speaking", ""),
        ("ambience", "quiet room tone and background ambience", "a person speaking, music"),
        ("dog", "a dog barking", ""),
    ]
    assert saved.stems == ("dialogue", "ambience", "rest", "dog")


def test_a_split_needs_two_stems_and_without_rows_the_preset_is_plain_again(ui: Pair) -> None:
    ui.panel.select("Dialogue / room tone")
    split = ui.editor.split
    split.table.selectRow(0)
    split.remove_selected()
    ui.editor._save()
    assert "at least two stems" in ui.editor.message.text()
    split.table.selectRow(0)
    split.remove_selected()
    assert ui.editor.stem_boxes["target"].isEnabled()
    ui.editor.positive_text.setText("a person speaking")
    preset = ui.editor.preset()
    assert (preset.split, preset.stems) == ((), ("target", "residual"))
