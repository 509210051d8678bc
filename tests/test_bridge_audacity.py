"""The Audacity round trip with a real Audacity under Xvfb, driven through mod-script-pipe.

Imports noise, selects 1.0-2.5 s on its track, runs `clapsep audacity`, then checks in
Audacity itself: two new tracks named after the source track and stem, clips exactly at
the selection, and audio (exported back from Audacity) that sums to the source range
sample for sample. `.ci/setup.sh` installs audacity, xvfb and xauth.
"""

import datetime
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_bridge_support import make_home, read, write_noise

from clapsep.host.cli import main
from clapsep.plugin_bridge.audacity import AudacityPipe, pipe_paths, quoted

pytestmark = pytest.mark.skipif(
    shutil.which("audacity") is None or shutil.which("xvfb-run") is None,
    reason="needs audacity and xvfb-run (apt-get install audacity xvfb xauth)",
)


def _config(home: Path, temp: Path) -> str:
    """Preferences that load mod-script-pipe without asking, show no dialog and export
    undithered."""
    found = [
        p
        for lib in (
            "/usr/lib",
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/local/lib",
        )
        if os.path.isfile(p := f"{lib}/audacity/modules/mod-script-pipe.so")
    ]
    if not found:
        pytest.skip("this Audacity build has no mod-script-pipe module")
    so = found[0]
    stamp = datetime.datetime.fromtimestamp(os.path.getmtime(so)).strftime("%Y-%m-%dT%H:%M:%S")
    return (
        f"PrefsVersion=1.1.1r1\n[Version]\nMajor=3\nMinor=2\nMicro=4\n"
        f"[Module]\nmod-script-pipe=1\n[ModulePath]\nmod-script-pipe={so}\n"
        f"[ModuleDateTime]\nmod-script-pipe={stamp}\n[GUI]\nShowSplashScreen=0\n"
        f"[Directories]\nTempDir={temp}\n"
        f"[Quality]\nDitherAlgorithmChoice=None\nHQDitherAlgorithmChoice=None\n"
    )


@pytest.fixture
def audacity(tmp_path: Path) -> Iterator[Path]:
    """A fresh Audacity under `xvfb-run -a`, answering on the script pipe; always killed."""
    home = tmp_path / "audacity-home"
    (home / ".audacity-data").mkdir(parents=True)
    (tmp_path / "audacity-temp").mkdir()
    (home / ".audacity-data" / "audacity.cfg").write_text(_config(home, tmp_path / "audacity-temp"))
    for pipe in pipe_paths():
        pipe.unlink(
            missing_ok=True
        )  # left by a killed instance; a live one would make this test fail
    with (tmp_path / "audacity.log").open("w") as log:
        proc = subprocess.Popen(
            ["xvfb-run", "-a", "audacity"],
            env=os.environ | {"HOME": str(home)},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        with AudacityPipe(timeout=30).connect(wait=60):
            pass
        yield tmp_path
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        for pipe in pipe_paths():
            pipe.unlink(missing_ok=True)


def test_selection_round_trip_puts_aligned_stems_on_new_tracks(
    audacity: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    source = tmp_path / "media" / "dialog.wav"
    write_noise(source, 4, 48000, 1, seed=3)
    with AudacityPipe(timeout=30).connect() as pipe:
        pipe.command(f"Import2: Filename={quoted(str(source))}")
        pipe.command("Select: Start=1.0 End=2.5 Track=0 TrackCount=1 Mode=Set")

    code = main(
        [
            "audacity",
            "--query",
            "a person speaking",
            "--device",
            "cpu",
            "--work-dir",
            str(tmp_path / "work"),
        ]
    )
    assert code == 0, capsys.readouterr().err

    with AudacityPipe(timeout=30).connect() as pipe:
        tracks = pipe.json("GetInfo: Type=Tracks Format=JSON")
        assert [t["name"] for t in tracks] == ["dialog", "dialog - target", "dialog - residual"]
        assert [t["selected"] for t in tracks] == [1, 0, 0]  # the user's selection is given back
        clips = pipe.json("GetInfo: Type=Clips Format=JSON")
        assert sorted((c["track"], c["start"], c["end"]) for c in clips) == [
            (0, 0, 4),
            (1, 1, 2.5),
            (2, 1, 2.5),
        ]
        exported = []
        for index in range(3):  # Audacity's own view of the range on each track
            path = tmp_path / f"export{index}.wav"
            pipe.command(f"Select: Start=0.9 End=2.5 Track={index} TrackCount=1 Mode=Set")
            pipe.command(f"Export2: Filename={quoted(str(path))} NumChannels=1")
            exported.append(read(path))
    x, target, residual = exported
    assert x.shape == target.shape == residual.shape == (1, round(1.6 * 48000))
    inside = slice(
        4800, None
    )  # 1.0-2.5 s within the 0.9-2.5 s export (export stops at a track's end)
    lsb = 1 / 32768  # Audacity exports 16-bit WAV by default (dither off in its preferences)
    np.testing.assert_allclose(target[:, inside] + residual[:, inside], x[:, inside], atol=2 * lsb)
    for stem in (target, residual):  # silence before the placed clip, audio from its first sample
        assert np.abs(stem[:, :4800]).max() == 0 and np.abs(stem[:, 4800]).max() > 0
