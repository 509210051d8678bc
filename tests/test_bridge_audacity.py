"""The Audacity round trip with a real Audacity under Xvfb, driven through mod-script-pipe.

One Audacity serves the module (a fresh, empty project per test). Three `clapsep audacity`
runs in a row on a 24-bit and on a float project check, in Audacity itself, after each:
every earlier stem track keeps its name, position and samples; the new stems sit at the
selection start and sum to the project's samples of the section (exported back from
Audacity as 32-bit float); one Edit > Undo removes exactly the last render and Redo brings
it back. A muted or soloed track is refused; `--status` reports and changes nothing;
SIGTERM during a `--json` render exits 130 with the project as it was. A modal dialog
makes the command fail within seconds, saying to close it.
`.ci/setup.sh` installs audacity, xvfb and xauth.
"""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from test_bridge_support import make_home, read

from clapsep.host.cli import main
from clapsep.plugin_bridge.audacity import AudacityPipe, pipe_paths, quoted
from clapsep.plugin_bridge.audacity_command import snapshot

pytestmark = pytest.mark.skipif(
    shutil.which("audacity") is None or shutil.which("xvfb-run") is None,
    reason="needs audacity and xvfb-run (apt-get install audacity xvfb xauth)",
)
RATE = 48000
SECTIONS = [(0.5, 1.5), (1.25, 2.75), (2.0, 3.0)]  # three renders, overlapping on purpose


def _config(temp: Path) -> str:
    """Preferences that load mod-script-pipe without asking and show no splash screen;
    export format and dither stay at Audacity's defaults (16-bit, shaped HQ dither)."""
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
    )


def _start_audacity(root: Path) -> subprocess.Popen:
    """Audacity under `xvfb-run -a` in its own home, answering on the script pipe."""
    home = root / "audacity-home"
    (home / ".audacity-data").mkdir(parents=True)
    (root / "audacity-temp").mkdir()
    (home / ".audacity-data" / "audacity.cfg").write_text(_config(root / "audacity-temp"))
    for pipe in pipe_paths():
        pipe.unlink(missing_ok=True)  # left by a killed instance
    with (root / "audacity.log").open("w") as log:
        proc = subprocess.Popen(
            ["xvfb-run", "-a", "audacity"],
            env=os.environ | {"HOME": str(home)},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        with AudacityPipe(timeout=30).connect(wait=90):
            pass
    except BaseException:
        _stop_audacity(proc)
        raise
    return proc


def _stop_audacity(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    for pipe in pipe_paths():
        pipe.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def audacity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    """One Audacity for the module (the modal-dialog test, last, ends it)."""
    proc = _start_audacity(tmp_path_factory.mktemp("audacity"))
    try:
        yield proc
    finally:
        _stop_audacity(proc)


def _clear_project(pipe: AudacityPipe) -> None:
    if pipe.json("GetInfo: Type=Tracks Format=JSON"):
        pipe.command("SelectAll:")
        pipe.command("RemoveTracks:")


def _write(path: Path, x: np.ndarray, bit_depth: int) -> np.ndarray:
    with AudioFile(str(path), "w", RATE, x.shape[0], bit_depth=bit_depth) as f:
        f.write(x)
    return read(path)  # the samples as stored (24-bit rounds)


def _layout(pipe: AudacityPipe) -> list[tuple[str, float, float]]:
    """(track name, clip start, clip end) of every clip, in track order."""
    names = [t["name"] for t in pipe.json("GetInfo: Type=Tracks Format=JSON")]
    clips = pipe.json("GetInfo: Type=Clips Format=JSON")
    return [(names[c["track"]], c["start"], c["end"]) for c in clips]


def _export(pipe: AudacityPipe, track: int, start: float, end: float, path: Path) -> np.ndarray:
    """Audacity's own samples of `track` over [start, end] as 32-bit float."""
    pipe.command("SetPreference: Name=/FileFormats/ExportFormat_SF1_Type/WAV_10000 Value=6")
    pipe.command(f"Select: Start={start!r} End={end!r} Track={track} TrackCount=1 Mode=Set")
    pipe.command(f"Export2: Filename={quoted(str(path))} NumChannels=1")
    pipe.command("SetPreference: Name=/FileFormats/ExportFormat_SF1_Type/WAV_10000 Value=2")
    return read(path)


def _add_labels(pipe: AudacityPipe, labels: list[tuple[float, float, str]]) -> None:
    """A new label track holding `labels` (start, end, text), made as a user makes them."""
    pipe.command("NewLabelTrack:")
    track = len(pipe.json("GetInfo: Type=Tracks Format=JSON")) - 1
    count = sum(len(t[1]) for t in pipe.json("GetInfo: Type=Labels Format=JSON"))
    for n, (start, end, text) in enumerate(labels):
        pipe.command(f"Select: Start={start} End={end} Track={track} TrackCount=1 Mode=Set")
        pipe.command("AddLabel:")
        pipe.command(f"SetLabel: Label={count + n} Text={quoted(text)}")


@pytest.mark.parametrize(
    ("bit_depth", "sample_format"), [(24, "Format24Bit"), (32, "Format32BitFloat")]
)
def test_three_round_trips_keep_earlier_stems_and_one_undo_removes_only_the_last(
    audacity: subprocess.Popen,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
    bit_depth: int,
    sample_format: str,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    noise = np.random.default_rng(bit_depth).standard_normal((1, 4 * RATE)).astype(np.float32)
    source = _write(tmp_path / "media" / "dialog.wav", 0.1 * noise, bit_depth)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        pipe.command(
            "SetPreference: Name=/SamplingRate/DefaultProjectSampleFormatChoice "
            f"Value={sample_format}"
        )
        pipe.command(f"Import2: Filename={quoted(str(tmp_path / 'media' / 'dialog.wav'))}")
    kept: dict[int, np.ndarray] = {}  # stem track -> its samples when it was placed
    for run, (start, end) in enumerate(SECTIONS):
        with AudacityPipe(timeout=30).connect() as pipe:
            pipe.command(f"Select: Start={start} End={end} Track=0 TrackCount=1 Mode=Set")
            before = _layout(pipe)
        code = main(
            [
                "audacity",
                "--query",
                "a person speaking",
                "--device",
                "cpu",
                "--work-dir",
                str(tmp_path / f"work{run}"),
            ]
        )
        assert code == 0, capsys.readouterr().err
        with AudacityPipe(timeout=30).connect() as pipe:
            after = _layout(pipe)
            new = [("dialog - target", start, end), ("dialog - residual", start, end)]
            assert after == before + new  # nothing earlier moved or lost its name
            tracks = pipe.json("GetInfo: Type=Tracks Format=JSON")
            assert [t["selected"] for t in tracks] == [1] + [0] * (len(tracks) - 1)
            for track, samples in kept.items():  # earlier stems keep their samples
                _, s, e = after[track]
                again = _export(pipe, track, s, e, tmp_path / f"kept{run}_{track}.wav")
                assert np.array_equal(again, samples), f"stem track {track} changed"
            section = _export(pipe, 0, start, end, tmp_path / f"source{run}.wav")
            target, residual = (
                _export(pipe, track, start, end, tmp_path / f"stem{run}_{track}.wav")
                for track in (len(after) - 2, len(after) - 1)
            )
            kept |= {len(after) - 2: target, len(after) - 1: residual}
            first = round(start * RATE)
            assert section.shape == target.shape == (1, round((end - start) * RATE))
            # Audacity's own samples of the section; its int24 scale differs by < 1e-7
            assert np.abs(section - source[:, first : first + section.shape[1]]).max() <= 1e-6
            assert np.abs(target + residual - section).max() <= 1e-6
            assert np.abs(target).max() > 0 and np.abs(residual).max() > 0
            pipe.command("Undo:")  # one step removes exactly this render
            assert _layout(pipe) == before
            pipe.command("Redo:")
            assert _layout(pipe) == after
    with AudacityPipe(timeout=30).connect() as pipe:  # export preferences came back
        assert pipe.command("GetPreference: Name=/Quality/HQDitherAlgorithmChoice").strip() == (
            "Shaped"
        )
        pipe.command(
            "SetPreference: Name=/SamplingRate/DefaultProjectSampleFormatChoice "
            "Value=Format32BitFloat"
        )


def test_the_export_preferences_the_user_chose_are_restored(
    audacity: subprocess.Popen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path
) -> None:
    make_home(tmp_path, monkeypatch, package)
    source = tmp_path / "media" / "music.wav"
    _write(source, np.full((1, RATE), 0.25, np.float32), 32)
    wav_format = "/FileFormats/ExportFormat_SF1_Type/WAV_10000"
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        pipe.command(f"SetPreference: Name={wav_format} Value=4")  # 24-bit PCM
        pipe.command("SetPreference: Name=/Quality/HQDitherAlgorithmChoice Value=Triangle")
        pipe.command(f"Import2: Filename={quoted(str(source))}")
        pipe.command("Select: Start=0.25 End=0.5 Track=0 TrackCount=1 Mode=Set")
    argv = ["audacity", "--query", "music", "--device", "cpu", "--work-dir", str(tmp_path / "w")]
    assert main(argv) == 0
    with AudacityPipe(timeout=30).connect() as pipe:
        assert pipe.command(f"GetPreference: Name={wav_format}").strip() == "4"
        assert pipe.command("GetPreference: Name=/Quality/HQDitherAlgorithmChoice").strip() == (
            "Triangle"
        )
        pipe.command(f"SetPreference: Name={wav_format} Value=2")
        pipe.command("SetPreference: Name=/Quality/HQDitherAlgorithmChoice Value=Shaped")


def test_a_muted_track_is_refused_with_what_to_change(
    audacity: subprocess.Popen,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    source = tmp_path / "media" / "music.wav"
    _write(source, np.full((1, RATE), 0.25, np.float32), 32)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        pipe.command(f"Import2: Filename={quoted(str(source))}")
        pipe.command("SetTrack: Track=0 Mute=1")
        pipe.command("Select: Start=0.25 End=0.5 Track=0 TrackCount=1 Mode=Set")
    argv = ["audacity", "--query", "music", "--device", "cpu", "--work-dir", str(tmp_path / "w")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "unmute" in err and len(err.splitlines()) == 1
    with AudacityPipe(timeout=30).connect() as pipe:
        assert [t["name"] for t in pipe.json("GetInfo: Type=Tracks Format=JSON")] == ["music"]


def test_a_soloed_track_anywhere_is_refused_naming_it(
    audacity: subprocess.Popen,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    for name in ("music", "drums"):
        _write(tmp_path / "media" / f"{name}.wav", np.full((1, RATE), 0.25, np.float32), 32)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        for name in ("music", "drums"):
            pipe.command(f"Import2: Filename={quoted(str(tmp_path / 'media' / f'{name}.wav'))}")
        pipe.command("SetTrack: Track=1 Solo=1")  # not the track rendered
        pipe.command("Select: Start=0.25 End=0.5 Track=0 TrackCount=1 Mode=Set")
        before = _layout(pipe)
    argv = ["audacity", "--query", "music", "--device", "cpu", "--work-dir", str(tmp_path / "w")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "'drums'" in err and "unsolo" in err and len(err.splitlines()) == 1
    with AudacityPipe(timeout=30).connect() as pipe:
        assert _layout(pipe) == before


def test_status_prints_tracks_selection_and_label_regions_and_changes_nothing(
    audacity: subprocess.Popen,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    for name in ("dialog", "room"):
        _write(tmp_path / "media" / f"{name}.wav", np.full((1, 2 * RATE), 0.25, np.float32), 32)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        for name in ("dialog", "room"):
            pipe.command(f"Import2: Filename={quoted(str(tmp_path / 'media' / f'{name}.wav'))}")
        labels = [(0.1, 0.5, "target"), (0.9, 1.1, "Remove"), (1.2, 1.3, "remove")]
        _add_labels(pipe, [*labels, (1.8, 1.9, "target")])
        pipe.command("Select: Start=0.25 End=1.5 Track=1 TrackCount=1 Mode=Set")
        state = snapshot(pipe)
    assert main(["audacity", "--status"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "daw": "Audacity",
        "connected": True,
        "tracks": ["room"],
        "selection": [0.25, 1.5],
        "labels": {"target": 1, "remove": 2},
    }
    with AudacityPipe(timeout=30).connect() as pipe:
        assert snapshot(pipe) == state
        assert [t["selected"] for t in pipe.json("GetInfo: Type=Tracks Format=JSON")] == [0, 1, 0]


def test_sigterm_during_a_json_render_exits_130_and_places_nothing(
    audacity: subprocess.Popen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path
) -> None:
    make_home(tmp_path, monkeypatch, package)  # the child inherits this home
    noise = np.random.default_rng(3).standard_normal((1, 20 * RATE)).astype(np.float32)
    _write(tmp_path / "media" / "long.wav", 0.1 * noise, 32)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        pipe.command(f"Import2: Filename={quoted(str(tmp_path / 'media' / 'long.wav'))}")
        pipe.command("Select: Start=0 End=20 Track=0 TrackCount=1 Mode=Set")
        state = snapshot(pipe)
    cli = "import sys; from clapsep.host.cli import main; sys.exit(main())"
    argv = ["audacity", "--json", "--query", "rain", "--device", "cpu", "--work-dir", "w"]
    child = subprocess.Popen(
        [sys.executable, "-c", cli, *argv],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first, child.communicate(timeout=60)[1]
        assert json.loads(first) == {"progress": 0.0}
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1] == "cancelled" and "placed" not in out
    with AudacityPipe(timeout=30).connect() as pipe:
        assert snapshot(pipe) == state


def test_a_modal_dialog_fails_within_seconds_saying_to_close_it(
    audacity: subprocess.Popen,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    try:  # the dialog is never closed: this Audacity is stopped at the end
        to_pipe = os.open(pipe_paths()[0], os.O_WRONLY)
        os.write(to_pipe, b"Preferences:\n")  # opens the modal Preferences dialog
        time.sleep(2)
        began = time.monotonic()
        argv = ["audacity", "--query", "x", "--device", "cpu", "--work-dir", str(tmp_path / "w")]
        assert main(argv) == 2
        took = time.monotonic() - began
        err = capsys.readouterr().err.strip()
        assert "close the open dialog in Audacity" in err and len(err.splitlines()) == 1
        assert took < 10, f"took {took:.1f} s"
        os.close(to_pipe)
    finally:
        _stop_audacity(audacity)
