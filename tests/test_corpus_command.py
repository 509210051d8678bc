"""`clapsep corpus build|stats` through the real CLI front end."""

import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

import clapsep.host.cli
from clapsep.model.corpus.build import BuildOptions, build
from clapsep.model.corpus.packages import Package

REPO = Path(__file__).resolve().parents[1]
ENTRY_POINT = "clapsep.model.corpus.command:register"


@pytest.fixture(autouse=True)
def corpus_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the command as the installed entry point would (works without `pip install -e`)."""
    monkeypatch.setattr(
        clapsep.host.cli, "entry_points", lambda group: [EntryPoint("corpus", ENTRY_POINT, group)]
    )


def test_entry_point_is_declared_in_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["clapsep.commands"]["corpus"] == ENTRY_POINT


def test_stats_prints_the_per_label_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "kit"
    for name in ("Kick-Hard", "Snare-Hard", "HatOpen-Hard"):
        (root / "GMRockKit").mkdir(parents=True, exist_ok=True)
        with AudioFile(
            str(root / "GMRockKit" / f"{name}.wav"), "w", samplerate=44100, num_channels=1
        ) as f:
            f.write(
                (np.random.default_rng(len(name)).uniform(-0.3, 0.3, (1, 22050))).astype(np.float32)
            )
    build(
        BuildOptions(out=tmp_path / "corpus"),
        catalog=[Package("hydrogen-data", str(root), "files", "GPL-2+")],
    )
    assert clapsep.host.cli.main(["corpus", "stats", str(tmp_path / "corpus")]) == 0
    out = capsys.readouterr().out
    assert "3 clips" in out and "kick_drum" in out and "hi_hat" in out


def test_stats_without_a_corpus_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert clapsep.host.cli.main(["corpus", "stats", str(tmp_path)]) == 2
    assert "no corpus" in capsys.readouterr().err


def test_build_refuses_unknown_packages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = clapsep.host.cli.main(
        ["corpus", "build", "--out", str(tmp_path), "--packages", "no-such-package"]
    )
    assert code == 2 and "unknown package" in capsys.readouterr().err


def test_build_refuses_a_folder_inside_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    code = clapsep.host.cli.main(["corpus", "build", "--out", str(REPO / "corpus-here")])
    assert code == 2 and "outside the repository" in capsys.readouterr().err
    assert not (REPO / "corpus-here").exists()


def test_bad_limit_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        clapsep.host.cli.main(["corpus", "build", "--out", str(tmp_path), "--limit-per-label", "0"])
        == 2
    )
    assert clapsep.host.cli.main(["corpus", "build", "--limit-per-label", "x"]) == 2


def test_install_runs_apt_get_update_then_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from clapsep.model.corpus.packages import BY_NAME, apt_install

    calls = []
    monkeypatch.setattr("os.geteuid", lambda: 0)
    apt_install(
        [BY_NAME["hydrogen-data"], BY_NAME["timgm6mb-soundfont"]],
        run=lambda cmd, env: calls.append(cmd) or type("Done", (), {"returncode": 0})(),
    )
    assert calls[0][:2] == ["apt-get", "update"]
    assert calls[1][:2] == ["apt-get", "install"] and "--no-install-recommends" in calls[1]
    assert calls[1][-3:] == ["fluidsynth", "hydrogen-data", "timgm6mb-soundfont"]


def test_apt_package_list_matches_the_catalogue() -> None:
    from clapsep.model.corpus.packages import CATALOG

    listed = (REPO / "model" / "corpus" / "apt-packages.txt").read_text().split()
    assert listed == sorted({name for p in CATALOG for name in p.apt_packages()})
