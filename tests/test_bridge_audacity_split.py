"""`clapsep audacity` splits and label spans with a real Audacity under Xvfb.

A split of three names puts four aligned tracks (the names and `rest`) under the source,
which sum to the project's samples of the section, in one undo step. Label regions named
`target`/`remove` that overlap the selection change the render; labels named otherwise,
or outside the selection, do not; a point label so named is refused saying to make it a
region. The Audacity (one for the module) and its helpers are test_bridge_audacity's.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import test_bridge_audacity as live
from test_bridge_audacity import RATE, _add_labels, _clear_project, _export, _layout, _write
from test_bridge_support import make_home, read

from clapsep.host.cli import main
from clapsep.plugin_bridge.audacity import AudacityPipe, quoted

audacity = live.audacity  # this module's own Audacity (a module-scoped fixture)
pytestmark = [live.pytestmark, pytest.mark.usefixtures("audacity")]


def _noise_project(tmp_path: Path, seconds: float) -> None:
    noise = np.random.default_rng(7).standard_normal((1, round(seconds * RATE)))
    _write(tmp_path / "media" / "mix.wav", (0.1 * noise).astype(np.float32), 32)
    with AudacityPipe(timeout=30).connect() as pipe:
        _clear_project(pipe)
        pipe.command(f"Import2: Filename={quoted(str(tmp_path / 'media' / 'mix.wav'))}")


def test_a_split_of_three_names_adds_four_aligned_tracks_summing_to_the_section_in_one_undo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    _noise_project(tmp_path, 2.0)
    start, end = 0.5, 1.25
    with AudacityPipe(timeout=30).connect() as pipe:
        pipe.command(f"Select: Start={start} End={end} Track=0 TrackCount=1 Mode=Set")
        before = _layout(pipe)
    splits = ["voice=a person speaking", "music=music", "dog=a dog barking"]
    argv = ["audacity", *(f"--split={s}" for s in splits), "--device", "cpu"]
    assert main([*argv, "--work-dir", str(tmp_path / "work")]) == 0
    stems = ["voice", "music", "dog", "rest"]
    with AudacityPipe(timeout=30).connect() as pipe:
        after = _layout(pipe)
        assert after == before + [(f"mix - {stem}", start, end) for stem in stems]
        first = len(after) - len(stems)
        section = _export(pipe, 0, start, end, tmp_path / "section.wav")
        parts = [
            _export(pipe, track, start, end, tmp_path / f"stem{track}.wav")
            for track in range(first, len(after))
        ]
        assert all(p.shape == section.shape == (1, round((end - start) * RATE)) for p in parts)
        assert np.abs(sum(parts) - section).max() <= 1e-5
        pipe.command("Undo:")  # one step removes all four
        assert _layout(pipe) == before


def _render_json(tmp_path: Path, name: str, capsys: pytest.CaptureFixture) -> np.ndarray:
    """Run `clapsep audacity --json` with a text query; the placed target's samples."""
    argv = ["audacity", "--json", "--query", "a person speaking", "--device", "cpu"]
    assert main([*argv, "--work-dir", str(tmp_path / name)]) == 0, capsys.readouterr().err
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    progress = [line["progress"] for line in lines[:-1]]
    assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(set(progress))
    (target, _) = lines[-1]["placed"]
    assert target["name"] == "mix - target" and target["start"] == 0.5 and target["end"] == 1.5
    return read(target["path"])


def test_target_and_remove_label_regions_over_the_selection_change_the_render(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    make_home(tmp_path, monkeypatch, package)
    _noise_project(tmp_path, 2.0)
    select = "Select: Start=0.5 End=1.5 Track=0 TrackCount=1 Mode=Set"
    with AudacityPipe(timeout=30).connect() as pipe:
        pipe.command(select)
    plain = _render_json(tmp_path, "plain", capsys)
    with AudacityPipe(timeout=30).connect() as pipe:  # labels that must not count
        _add_labels(pipe, [(0.6, 1.2, "other"), (1.6, 1.9, "target")])
        pipe.command(select)
    assert np.array_equal(_render_json(tmp_path, "ignored", capsys), plain)
    with AudacityPipe(timeout=30).connect() as pipe:
        _add_labels(pipe, [(0.2, 0.9, " Target"), (1.2, 1.4, "REMOVE")])
        pipe.command(select)
    used = _render_json(tmp_path, "used", capsys)
    assert used.shape == plain.shape and not np.allclose(used, plain, atol=1e-6)
    with AudacityPipe(timeout=30).connect() as pipe:
        _add_labels(pipe, [(1.0, 1.0, "target")])
        pipe.command(select)
        before = _layout(pipe)
    assert main(["audacity", "--query", "x", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert "region" in err and len(err.splitlines()) == 1
    with AudacityPipe(timeout=30).connect() as pipe:
        assert _layout(pipe) == before
