"""The panel's "Render Audacity selection" and "Check connection" actions, through a real
`clapsep audacity` child process: without Audacity they say so, and with a real Audacity
under Xvfb the chosen preset's stems land as tracks at the selection start.

The live test shares `tests/test_bridge_audacity.py`'s Audacity (its module fixture); run it
under `flock /tmp/clapsep-audacity.lock`, since Audacity's script pipes are per user.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from test_bridge_audacity import RATE, _clear_project, _layout, _write, audacity  # noqa: F401
from test_bridge_support import make_home
from test_ui_panel import open_window

from clapsep.plugin_bridge.audacity import AudacityPipe, pipe_paths, quoted
from clapsep.ui.app import MainWindow

needs_audacity = pytest.mark.skipif(
    shutil.which("audacity") is None or shutil.which("xvfb-run") is None,
    reason="needs audacity and xvfb-run (apt-get install audacity xvfb xauth)",
)


def test_without_audacity_the_action_says_not_connected_and_places_nothing(
    qtbot, package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if any(path.exists() for path in pipe_paths()):
        pytest.skip("an Audacity script pipe exists for this user (is Audacity running?)")
    home = make_home(tmp_path, monkeypatch, package)
    for name in ("HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    window = open_window(qtbot, package, home)
    window.presets.select("Dialogue")
    window.editor.atten.setValue(3)
    window.daw_render_action.trigger()
    assert "Save the preset 'Dialogue' first" in window.statusBar().currentMessage()
    assert not window.busy()  # refused before any child starts

    window.presets.select("Dialogue")  # back to the saved preset
    window.daw_render_action.trigger()
    assert window.busy()  # the child runs in a worker; the window keeps drawing
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    message = window.statusBar().currentMessage()
    assert "not connected to Audacity" in message and "mod-script-pipe" in message
    assert window.daw_label.text().startswith("Audacity: not connected (")
    assert "\n" not in window.daw_label.text() and "Traceback" not in message
    assert window.progress.value() == 0 and window.results_list.count() == 0

    window.daw_label.clear()
    window.daw_check_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert window.daw_label.text().startswith("Audacity: not connected (")
    assert window.daw_render_action.isEnabled() and window.daw_check_action.isEnabled()


@needs_audacity
def test_render_audacity_selection_places_the_split_presets_stems_at_the_selection_start(
    audacity: subprocess.Popen,  # noqa: F811
    qtbot,
    package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = make_home(tmp_path, monkeypatch, package)
    source = home / "media" / "take.wav"
    noise = np.random.default_rng(3).standard_normal((1, 3 * RATE)).astype(np.float32)
    _write(source, 0.1 * noise, 32)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        pipe.command(f"Import2: Filename={quoted(str(source))}")
        pipe.command("Select: Start=0.5 End=1.5 Track=0 TrackCount=1 Mode=Set")
        before = _layout(pipe)
    window: MainWindow = open_window(qtbot, package, home)
    window.daw_check_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert window.daw_label.text() == "Audacity: connected · take · 0.5–1.5 s"

    window.presets.select("Dialogue / room tone")
    seen: list[float] = []
    window.daw_render_action.trigger()
    window.task.worker.progress.connect(seen.append)
    qtbot.waitUntil(lambda: not window.busy(), timeout=300000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Placed 3 stem track(s) in Audacity"), message
    assert seen and seen[-1] == 1.0 and window.progress.value() == 100
    stems = ["take - dialogue", "take - room-tone", "take - rest"]
    with AudacityPipe(timeout=30).connect() as pipe:
        assert _layout(pipe) == before + [(name, 0.5, 1.5) for name in stems]
    listed = [window.results_list.item(i).text() for i in range(window.results_list.count())]
    assert listed == [f"{name}  (in Audacity at 0.5 s)" for name in stems]


@needs_audacity
def test_cancel_stops_the_audacity_render_and_places_nothing(
    audacity: subprocess.Popen,  # noqa: F811
    qtbot,
    package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = make_home(tmp_path, monkeypatch, package)
    source = home / "media" / "long.wav"
    noise = np.random.default_rng(4).standard_normal((1, 30 * RATE)).astype(np.float32)
    _write(source, 0.1 * noise, 32)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        pipe.command(f"Import2: Filename={quoted(str(source))}")
        pipe.command("Select: Start=0 End=30 Track=0 TrackCount=1 Mode=Set")
        before = _layout(pipe)
    window = open_window(qtbot, package, home)
    window.presets.select("Dialogue")
    window.daw_render_action.trigger()
    task = window.task  # cancel at the first progress line: the child is mid-render
    task.worker.progress.connect(lambda _f: task.cancel(), Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: not window.busy(), timeout=300000)
    assert window.statusBar().currentMessage() == "Audacity render cancelled; nothing was placed"
    assert window.progress.value() == 0 and window.results_list.count() == 0
    with AudacityPipe(timeout=30).connect() as pipe:
        assert _layout(pipe) == before
