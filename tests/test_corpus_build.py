"""End-to-end builds: a synthetic package laid out like hydrogen-data, then the real one.

The synthetic package reuses the real label table (its files carry hydrogen's names)
and holds one file of each kind the builder must drop, so the whole path runs on any
machine. The real-package test skips without `hydrogen-data` (apt-get install
hydrogen-data).
"""

import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.files import temp_path
from clapsep.model.corpus.build import BuildOptions, build
from clapsep.model.corpus.packages import BY_NAME, Package
from clapsep.model.corpus.report import CLIP_COLUMNS

KIT = "GMRockKit"
HITS = [
    "Kick",
    "Snare",
    "Tom1",
    "Tom2",
    "TomFloor",
    "Crash",
    "Ride",
    "HatOpen",
    "HatClosed",
    "Cowbell",
]


def hit(seed: int, seconds: float = 0.6, level: float = 0.5) -> np.ndarray:
    """A decaying noise burst, like a drum hit."""
    n = round(seconds * 44100)
    noise = np.random.default_rng(seed).uniform(-1, 1, n)
    return (noise * np.exp(-np.arange(n) / (0.08 * 44100)) * level).astype(np.float32)


def write(path: Path, audio: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with AudioFile(str(path), "w", samplerate=44100, num_channels=1, bit_depth=16) as f:
        f.write(audio.reshape(1, -1))


@pytest.fixture(scope="module")
def fake_package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    root = tmp_path_factory.mktemp("drumkits")
    for i, piece in enumerate(HITS):
        for j, velocity in enumerate(["Soft", "Med", "Hard"]):
            write(root / KIT / f"{piece}-{velocity}.wav", hit(10 * i + j, level=0.2 + 0.2 * j))
    clipped = hit(99, level=2.0)  # a good part of it at full scale
    write(root / KIT / "Splash-Hard.wav", clipped)
    write(root / KIT / "Splash-Soft.wav", hit(98, level=0.001))  # silent
    shutil.copy(root / KIT / "Kick-Hard.wav", root / KIT / "Kick-Hardest.wav")  # duplicate
    write(root / KIT / "Mystery.wav", hit(97))  # not in the table
    return Package("hydrogen-data", str(root), "files", "GPL-2+")


@pytest.fixture(scope="module")
def built(fake_package: Package, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    summary = build(BuildOptions(out=out), catalog=[fake_package])
    return out, summary


def read_rows(out: Path) -> list[dict[str, str]]:
    with open(out / "clips.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_build_writes_clips_and_tables(built: tuple[Path, dict]) -> None:
    out, summary = built
    rows = read_rows(out)
    assert rows and tuple(rows[0]) == CLIP_COLUMNS
    assert len(rows) == summary["clips"] == len(HITS) * 3
    for row in rows:
        with AudioFile(str(out / row["path"])) as f:
            assert (f.samplerate, f.num_channels, f.file_dtype) == (32000, 1, "float32")
            assert abs(f.frames / 32000 - float(row["duration_s"])) < 1e-3
        assert row["native_sr"] == "44100" and row["licence"] == "GPL-2+" and row["caption"]
    with open(out / "licences.csv", newline="", encoding="utf-8") as f:
        licences = list(csv.DictReader(f))
    assert {r["source_file"] for r in licences} == {r["source_file"] for r in rows}


def test_build_counts_what_it_skipped(built: tuple[Path, dict]) -> None:
    _, summary = built
    assert summary["skipped"] == {"clipping": 1, "duplicate": 1, "silent": 1, "unlabelled": 1}
    on_disk = json.loads((built[0] / "summary.json").read_text())
    assert on_disk["skipped"] == summary["skipped"]
    assert (
        on_disk["per_label"]["kick_drum"]["train"] + on_disk["per_label"]["kick_drum"]["val"] == 3
    )


def test_split_never_shares_a_source_file_or_group(built: tuple[Path, dict]) -> None:
    rows = read_rows(built[0])
    sides = defaultdict(set)
    for row in rows:
        sides["file:" + row["source_file"]].add(row["split"])
        sides["group:" + row["group"]].add(row["split"])
    assert all(len(s) == 1 for s in sides.values())
    assert {r["split"] for r in rows} == {"train", "val"}
    assert len({r["group"] for r in rows}) == len(
        HITS
    )  # one group per drum piece, not per velocity


def test_rerun_is_idempotent_and_resumes_a_lost_clip(
    built: tuple[Path, dict], fake_package: Package
) -> None:
    out, _ = built
    manifest = (out / "manifest.jsonl").read_text()
    csv_before = (out / "clips.csv").read_text()
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "clips").rglob("*.wav")}
    build(BuildOptions(out=out), catalog=[fake_package])
    assert (out / "manifest.jsonl").read_text() == manifest
    assert (out / "clips.csv").read_text() == csv_before
    assert {p: p.stat().st_mtime_ns for p in (out / "clips").rglob("*.wav")} == mtimes

    lost = sorted(mtimes)[0]
    lost.unlink()
    torn = temp_path(lost)  # what a build killed while writing the clip leaves
    torn.write_bytes(b"half a clip")
    build(BuildOptions(out=out), catalog=[fake_package])
    assert lost.exists() and not torn.exists()
    assert len((out / "manifest.jsonl").read_text().splitlines()) == len(manifest.splitlines()) + 1
    assert (out / "clips.csv").read_text() == csv_before


def test_other_settings_are_refused(built: tuple[Path, dict], fake_package: Package) -> None:
    with pytest.raises(UserError, match="seed"):
        build(BuildOptions(out=built[0], seed=5), catalog=[fake_package])


def test_limit_per_label_makes_a_small_build(fake_package: Package, tmp_path: Path) -> None:
    summary = build(BuildOptions(out=tmp_path, limit_per_label=1), catalog=[fake_package])
    for label, counts in summary["per_label"].items():
        assert counts["train"] <= 1 and counts["val"] <= 1, label
    assert summary["skipped"]["over_limit"] > 0


def test_unknown_or_missing_packages_are_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown package"):
        build(BuildOptions(out=tmp_path, packages=("no-such-package",)))
    absent = Package("hydrogen-data", str(tmp_path / "absent"), "files", "GPL-2+")
    with pytest.raises(UserError, match=r"not installed|none of the selected"):
        build(BuildOptions(out=tmp_path / "c"), catalog=[absent])


def test_small_build_of_the_real_hydrogen_package(tmp_path: Path) -> None:
    package = BY_NAME["hydrogen-data"]
    if not package.installed():
        pytest.skip("hydrogen-data is not installed (apt-get install hydrogen-data)")
    summary = build(BuildOptions(out=tmp_path, limit_per_label=2), catalog=[package])
    assert set(summary["per_label"]) == {
        "cymbal",
        "hi_hat",
        "tom_drum",
        "snare_drum",
        "kick_drum",
        "cowbell",
        "percussion",
        "hand_clap",
    }
    assert summary["failures"] == [] and summary["missing_packages"] == []
    rows = read_rows(tmp_path)
    assert all(r["source_file"].startswith(package.root) for r in rows)
    assert all(0.05 < float(r["duration_s"]) <= 10.0 for r in rows)
