"""The panel end to end: drops, a real render through the host with progress and cancel,
results, the before/after view, A/B, bridge jobs and remembered layout.

The model is a real export of the `mini` configuration (the session fixture
`mini_package`) loaded by the torch-free runtime.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtGui import QDesktopServices
from test_ui_presets import drop

from clapsep.errors import UserError
from clapsep.host.audio_io import Section, SourceReader
from clapsep.host.cli.options import engine_loader
from clapsep.host.engine import Engine
from clapsep.host.presets import PresetLibrary
from clapsep.ui.app import MainWindow
from clapsep.ui.audition import NO_DEVICE
from clapsep.ui.bridge_jobs import JobFolder
from clapsep.ui.command import register
from clapsep.ui.render_worker import PanelClip
from clapsep.ui.screenshot import make_clip


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return make_clip(tmp_path_factory.mktemp("clips") / "speech.wav")


@pytest.fixture(scope="session")
def long_noise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 s of noise: enough windows that a cancel lands in the middle of the render."""
    path = tmp_path_factory.mktemp("clips") / "long.wav"
    with AudioFile(str(path), "w", 16000, 1) as f:
        f.write(np.random.default_rng(1).standard_normal((1, 90 * 16000)).astype(np.float32) * 0.1)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "out").mkdir()
    return tmp_path


def open_window(qtbot, package: Path, home: Path) -> MainWindow:
    settings = QSettings(str(home / "panel.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        engine_loader(str(package), "cpu"),
        PresetLibrary(home / "presets"),
        settings,
        JobFolder(home / "jobs"),
    )
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert window.engine is not None, window.statusBar().currentMessage()
    return window


@pytest.fixture
def window(qtbot, package: Path, home: Path) -> MainWindow:
    return open_window(qtbot, package, home)


def decoded(path: Path) -> np.ndarray:
    """A source as the render reads it (integer PCM on libsndfile's scale, not pedalboard's)."""
    with SourceReader(path) as reader:
        return np.concatenate(list(reader.blocks()), axis=1)


def read(path: Path) -> np.ndarray:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)


def test_status_line_shows_the_model_and_the_provider_really_in_use(window: MainWindow) -> None:
    label = window.model_label.text()
    assert "CPUExecutionProvider" in label and window.engine.package.name in label
    assert window.engine.package.version in label
    assert "CPU" in window.model_label.toolTip()  # the provider note: why this provider


def test_a_missing_package_is_explained_in_the_status_line(qtbot, home: Path) -> None:
    window = MainWindow(
        lambda: Engine(home / "nowhere", "cpu"),
        PresetLibrary(home / "presets"),
        QSettings(str(home / "panel.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    assert "first load is slow" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.busy(), timeout=30000)
    assert "Could not load the model package" in window.statusBar().currentMessage()
    assert not window.render_action.isEnabled()


def test_dropped_audio_files_become_clips_and_other_files_are_refused(
    window: MainWindow, speech: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("not audio")
    assert not drop(window.clips, tmp_path / "notes.txt")
    assert drop(window.clips, speech, tmp_path / "notes.txt")
    drop(window.clips, speech)  # the same file again is not listed twice
    assert window.clips.clips() == [PanelClip(speech)]


def test_render_reaches_100_percent_and_shows_results_and_before_after(
    qtbot, window: MainWindow, speech: Path, home: Path, monkeypatch
) -> None:
    window.clips.add_clips([PanelClip(speech)])
    window.presets.select("Dialogue")
    window.out_dir.setText(str(home / "out"))
    seen: list[float] = []
    with qtbot.waitSignal(
        window.statusBar().messageChanged,
        timeout=60000,
        check_params_cb=lambda m: m.startswith("Rendered"),
    ):
        window.render()
        window.task.worker.progress.connect(seen.append)
        assert window.cancel_action.isEnabled() and not window.render_action.isEnabled()
    qtbot.waitUntil(lambda: not window.busy())
    assert window.progress.value() == 100 and seen[-1] == 1.0
    assert window.render_action.isEnabled() and not window.cancel_action.isEnabled()
    result = window.results[PanelClip(speech)]
    target, residual = result.stem("target"), result.stem("residual")
    assert target.parent == home / "out" and "dialogue" in target.name
    np.testing.assert_allclose(read(target) + read(residual), decoded(speech), atol=1e-5)
    assert window.results_list.count() == 2 and "rendered" in window.clips.item(0).text()

    rows = window.compare.rows  # the before/after rows show the real files
    assert all(rows[k].preview is not None for k in ("source", "target", "residual"))
    assert rows["target"].preview.samples.size == rows["source"].preview.samples.size
    window.compare.grab()  # paints waveforms and spectrograms without error

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    window.results_list.setCurrentRow(0)
    window.open_result_folder()
    assert opened == [str(home / "out")]


def test_a_render_again_hits_the_cache_and_replaces_its_own_output(
    qtbot, window: MainWindow, speech: Path, home: Path
) -> None:
    window.clips.add_clips([PanelClip(speech)])
    window.out_dir.setText(str(home / "out"))
    for _ in range(2):
        window.render()
        qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert "cached" in window.clips.item(0).text()
    assert window.results_list.count() == 2 and "from cache" in window.results_list.item(0).text()


def test_two_clips_of_one_name_into_one_folder_are_refused(
    qtbot, window: MainWindow, speech: Path, home: Path
) -> None:
    other = home / "elsewhere" / speech.name
    other.parent.mkdir()
    shutil.copy(speech, other)
    window.clips.add_clips([PanelClip(speech), PanelClip(other)])
    window.out_dir.setText(str(home / "out"))
    window.render()
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert "same file name" in window.statusBar().currentMessage()
    assert list((home / "out").iterdir()) == [] and "failed" in window.clips.item(1).text()


def test_cancel_stops_the_render_and_leaves_no_files(
    qtbot, window: MainWindow, long_noise: Path, home: Path
) -> None:
    window.clips.add_clips([PanelClip(long_noise)])
    window.out_dir.setText(str(home / "out"))
    window.render()
    # Cancel from inside the worker at its first progress report: deterministic mid-render.
    task = window.task
    task.worker.progress.connect(lambda _f: task.cancel(), Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    qtbot.waitUntil(lambda: "cancelled" in window.statusBar().currentMessage())
    assert list((home / "out").iterdir()) == []
    assert window.progress.value() == 0 and "cancelled" in window.clips.item(0).text()
    assert window.render_action.isEnabled() and not window.results


def test_a_b_switches_between_source_and_target_and_says_when_there_is_no_audio_device(
    qtbot, window: MainWindow, speech: Path, home: Path
) -> None:
    window.clips.add_clips([PanelClip(speech)])
    window.out_dir.setText(str(home / "out"))
    window.render()
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert window.ab_label.text() == f"A (before): {speech.name}"
    window.ab_action.trigger()
    assert window.ab_label.text().startswith("B (after):") and "target" in window.ab_label.text()
    window.toggle_ab()
    assert window.ab_label.text().startswith("A (before)")
    if not window.audition.available:  # headless: a clear message, not an error
        window.play_action.trigger()
        assert window.statusBar().currentMessage() == NO_DEVICE


def test_shortcuts_for_render_cancel_and_a_b(window: MainWindow) -> None:
    bound = {a.text(): a.shortcut().toString() for a in window.actions()}
    assert {
        "Render": "Ctrl+R",
        "Cancel": "Esc",
        "A/B": "Ctrl+B",
        "Play/Pause": "Space",
    }.items() <= bound.items()


def job_record(status: str, source: Path, stems: list[Path]) -> dict:
    """A job as the bridge's render service stores it (`plugin_bridge.job_queue.JobRecord`)."""
    clip = {
        "id": "item-7",
        "source": str(source),
        "source_in": 0.5,
        "source_out": 1.5,
        "position": 12.0,
    }
    results = [
        {
            "id": "item-7",
            "track": "",
            "position": 12.0,
            "error": None,
            "stems": [
                {
                    "stem": p.stem.rsplit("_", 1)[-1],
                    "path": str(p),
                    "position": 12.0,
                    "length": 1.0,
                    "frames": 22050,
                    "sample_rate": 22050,
                    "channels": 1,
                }
                for p in stems
            ],
        }
    ]
    return {
        "id": "job1",
        "status": status,
        "progress": 1.0 if status == "done" else 0.0,
        "error": None,
        "spec": {"format": "clapsep-job", "version": 1, "clips": [clip], "preset": "Dialogue"},
        "clips": results if status == "done" else [],
    }


def test_bridge_jobs_appear_in_the_clip_list_and_their_stems_as_results(
    window: MainWindow, speech: Path, home: Path
) -> None:
    store = home / "jobs"
    store.mkdir()
    (store / "job1.json").write_text(json.dumps(job_record("queued", speech, [])))
    (store / "job2.json").write_text("{half written")
    window.watcher.check()
    clip = window.clips.clips()[0]
    assert (clip.path, clip.origin, clip.section.start, clip.section.end) == (
        speech,
        "bridge",
        0.5,
        1.5,
    )
    assert "(bridge)" in window.clips.item(0).text() and "queued" in window.clips.item(0).text()
    window.watcher.check()  # unchanged: nothing new
    assert window.clips.count() == 1 and window.results_list.count() == 0

    stems = [
        home / "out" / "speech_dialogue_target.wav",
        home / "out" / "speech_dialogue_residual.wav",
    ]
    for path in stems:
        shutil.copy(speech, path)
    (store / "job1.json").write_text(json.dumps(job_record("done", speech, stems)))
    window.watcher.check()
    assert window.clips.count() == 1 and window.results_list.count() == 2
    assert window.results[clip].stem("target") == stems[0]
    assert window.compare.rows["target"].preview is not None  # the bridge's stems in before/after


def test_layout_output_folder_and_last_preset_are_remembered(
    qtbot, package: Path, home: Path
) -> None:
    first = open_window(qtbot, package, home)
    first.presets.select("Wind")
    first.out_dir.setText(str(home / "out"))
    first.resize(760, 560)
    first.close()
    second = open_window(qtbot, package, home)
    assert second.presets.current().name == "Wind" and second.editor.name.text() == "Wind"
    assert second.out_dir.text() == str(home / "out")
    assert (second.width(), second.height()) == (760, 560)


def test_screenshot_script_renders_and_grabs_the_panel_without_torch_or_the_bridge(
    package: Path, home: Path, speech: Path
) -> None:
    """`python -m clapsep.ui.screenshot` end to end; ui may import host only, never torch or
    plugin_bridge."""
    out = home / "panel.png"
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['clapsep.plugin_bridge'] = None\n"
        "from clapsep.ui.screenshot import main\n"
        f"sys.exit(main(['--model', {str(package)!r}, '--out', {str(out)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 20000  # a real picture, not an empty frame


def test_the_ui_command_checks_its_package_before_opening_a_window(home: Path) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["ui", "--model", str(home / "nowhere"), "--device", "cpu"])
    with pytest.raises(UserError, match="model package not found"):
        args.run(args)


def test_in_out_set_on_the_timeline_is_the_section_the_render_writes(
    qtbot, window: MainWindow, speech: Path, home: Path
) -> None:
    window.clips.add_clips([PanelClip(speech)])
    window.out_dir.setText(str(home / "out"))
    window.show_current_clip()
    window.compare.timeline.set_section((0.5, 1.5))  # what "Set in" / "Set out" do
    clip = window.clips.current_clip()
    assert clip.section == Section(0.5, 1.5) and "[0.5–1.5 s]" in window.clips.item(0).text()
    window.render()
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    target = window.results[clip].stem("target")
    with AudioFile(str(speech)) as f:
        rate = f.samplerate
    assert read(target).shape[1] == round(1.0 * rate)
    assert window.compare.rows["target"].preview.start == 0.5  # placed at the in point


def test_a_split_preset_renders_every_named_stem_and_rest_into_before_after(
    qtbot, window: MainWindow, speech: Path, home: Path
) -> None:
    window.clips.add_clips([PanelClip(speech)])
    window.presets.select("Dialogue / room tone")
    window.out_dir.setText(str(home / "out"))
    window.render()
    qtbot.waitUntil(lambda: not window.busy(), timeout=120000)
    result = window.results[PanelClip(speech)]
    names = ["dialogue", "room-tone", "rest"]
    assert [s.stem for s in result.stems] == names, window.statusBar().currentMessage()
    total = sum(read(s.path) for s in result.stems)
    np.testing.assert_allclose(total, decoded(speech), atol=1e-5)  # the stems sum to the input
    assert list(window.compare.rows) == ["source", *names] and list(window.compare.strips) == names
    assert all(window.compare.rows[name].preview is not None for name in names)
    assert window.results_list.count() == 3


def test_the_precision_choice_reloads_the_engine_and_is_remembered(
    qtbot, package: Path, home: Path
) -> None:
    asked: list[str] = []

    def reload(precision: str):
        asked.append(precision)
        return engine_loader(str(package), "cpu", precision=precision)

    settings = QSettings(str(home / "panel.ini"), QSettings.Format.IniFormat)
    window = MainWindow(reload("fp32"), PresetLibrary(home / "presets"), settings, reload=reload)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert window.precision.isEnabled() and window.precision.currentText() == "fp32"
    assert "fp32 on CPUExecutionProvider" in window.model_label.text()
    window.precision.setCurrentText("auto")
    window.change_precision()
    qtbot.waitUntil(lambda: not window.busy(), timeout=120000)
    assert asked == ["fp32", "auto"] and settings.value("precision") == "auto"
    chosen = window.engine.describe()["precision"]  # what auto resolved to on this CPU
    assert chosen in ("fp32", "bf16") and f"{chosen} on " in window.model_label.text()
    assert window.precision.currentText() == "auto"  # the choice stays as the user made it
