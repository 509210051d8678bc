"""`clapsep eval-list` (label-balanced held-out lists) and `clapsep eval --queries` (text P, N,
P+N and audio-query modes) on a tiny corpus table and the exported mini package."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clapsep.model.configs import SEPARATION_RATE
from clapsep.model.corpus.report import CLIP_COLUMNS
from clapsep.model.data.synthetic import synth
from clapsep.model.evaluation.heldout import ShotPool
from clapsep.model.evaluation.mixtures import MixtureItem, read_mixture_csv, write_mixture_csv
from clapsep.model.evaluation.runner import MODES, parse_modes

# label -> category; three val clips per label (the first two from one recording), one train clip
LABELS = {"tone": "tonal", "chirp": "tonal", "noise": "noisy", "clicks": "noisy"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "clips").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for label, category in LABELS.items():
        for i, split in enumerate(["val", "val", "val", "train"]):
            path = f"clips/{label}-{i}.wav"
            sf.write(folder / path, synth(label, 1.0, rng), SEPARATION_RATE)
            rows.append(
                {
                    "path": path,
                    "label": label,
                    "category": category,
                    "caption": f"{label} number {i}",
                    "source_package": "test",
                    "source_file": path,
                    "licence": "CC0-1.0",
                    "native_sr": SEPARATION_RATE,
                    "duration_s": 1.0,
                    "split": split,
                    "group": f"{label}-a" if i < 2 else f"{label}-{i}",
                }
            )
    with (folder / "clips.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CLIP_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def table_rows(corpus: Path) -> dict[str, dict[str, str]]:
    with (corpus / "clips.csv").open(newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f)}


def test_eval_list_is_label_balanced_across_categories(tmp_path, corpus):
    from clapsep.host.cli import main

    out = tmp_path / "list.csv"
    assert (
        main(
            [
                "eval-list",
                "--corpus",
                str(corpus),
                "--out",
                str(out),
                "--items",
                "10",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    items, rows = read_mixture_csv(out), table_rows(corpus)
    assert len(items) == 10
    assert sorted(i.label for i in items[:4]) == sorted(LABELS)  # every label before any repeats
    assert sorted(i.label for i in items[4:8]) == sorted(LABELS)
    for item in items:
        target, noise = rows[item.source], rows[item.noise]
        assert target["split"] == noise["split"] == "val"
        assert target["category"] != noise["category"]
        assert (item.query, item.negative, item.label) == (
            target["caption"],
            noise["caption"],
            target["label"],
        )
        assert (corpus / item.source).is_file()
    assert (
        len({i.source for i in items if i.label == items[0].label}) > 1
    )  # a repeated label takes another clip
    again = tmp_path / "again.csv"
    main(
        ["eval-list", "--corpus", str(corpus), "--out", str(again), "--items", "10", "--seed", "3"]
    )
    assert again.read_text() == out.read_text()


def test_eval_list_refuses_a_single_category(tmp_path, capsys):
    from clapsep.host.cli import main

    (tmp_path / "clips.csv").write_text("path,label,category,split\na.wav,x,c,val\nb.wav,y,c,val\n")
    assert main(["eval-list", "--corpus", str(tmp_path), "--out", str(tmp_path / "l.csv")]) == 2
    assert "another category" in capsys.readouterr().err


def test_shots_skip_the_source_and_prefer_other_recordings(corpus):
    pool = ShotPool(corpus / "clips.csv", seed=1)
    item = MixtureItem("clips/tone-0.wav", "q", "clips/noise-0.wav", label="tone")
    five = pool.shots(item, corpus, 5)
    assert (
        len(five) == 2 and corpus.joinpath("clips/tone-0.wav").resolve() not in five
    )  # train clip not used
    assert five[0].name == "tone-2.wav"  # tone-1 is the same recording as the source
    assert pool.shots(item, corpus, 1) == five[:1]
    unlabelled = MixtureItem("clips/chirp-1.wav", "q", "clips/noise-0.wav")  # label from the table
    assert all(
        "chirp" in p.name and p.name != "chirp-1.wav" for p in pool.shots(unlabelled, corpus, 5)
    )


def test_query_modes_parse():
    assert parse_modes(["text-p,text-n", "text-pn", "text-p"]) == ["text-p", "text-n", "text-pn"]
    with pytest.raises(ValueError, match="unknown query mode"):
        parse_modes(["audio-3"])


def test_every_query_mode_through_the_onnx_package(tmp_path, corpus, mini_package):
    from clapsep.host.cli import main

    items = [
        MixtureItem(
            "clips/tone-0.wav", "tone number 0", "clips/noise-1.wav", "noise number 1", 0.0, "tone"
        ),
        MixtureItem(
            "clips/clicks-2.wav", "clicks number 2", "clips/chirp-0.wav", None, 0.0, "clicks"
        ),
    ]
    write_mixture_csv(tmp_path / "mix.csv", items)
    code = main(
        [
            "eval",
            "--model",
            str(mini_package),
            "--mixtures",
            str(tmp_path / "mix.csv"),
            "--audio-root",
            str(corpus),
            "--out",
            str(tmp_path / "res"),
            "--seconds",
            "0.5",
            "--quiet",
            "--queries",
            "text-p,text-n,text-pn",
            "--queries",
            "audio-1",
            "--queries",
            "audio-5",
        ]
    )
    assert code == 0
    result = json.loads((tmp_path / "res" / "results.json").read_text())
    records = result["items"]
    assert [r["mode"] for r in records] == list(MODES) * 2 and list(result["summary"]) == list(
        MODES
    )
    by_mode = {(r["source"], r["mode"]): r for r in records}
    assert by_mode["clips/tone-0.wav", "text-n"]["query"] is None
    assert by_mode["clips/tone-0.wav", "text-n"]["negative"] == "noise number 1"
    assert by_mode["clips/clicks-2.wav", "text-n"]["skipped"] == "no negative caption"
    text_n = result["summary"]["text-n"]["SDRi"]
    assert (text_n["n"], text_n["skipped"], text_n["silent"]) == (1, 1, 0)
    for r in records:
        if r["skipped"]:
            continue
        assert all(np.isfinite(r[k]) for k in ("SDRi", "SDRi-bss", "SI-SDRi")), r
        if r["mode"].startswith("audio-"):
            assert r["query"] is None and r["shots"] == len(r["shot_files"]) == min(
                int(r["mode"][-1]), 2
            )
            assert not any(Path(f).name == Path(r["source"]).name for f in r["shot_files"])
        else:
            assert r["shots"] is None and r["shot_files"] == []
    assert (
        result["shots"]["audio-5"] == {"min": 2, "mean": 2.0, "max": 2}
        and result["shots"]["text-p"] is None
    )
    markdown = (tmp_path / "res" / "results.md").read_text()
    assert all(f": {mode}" in markdown for mode in MODES) and "| audio-5 |" in markdown


def test_positive_only_is_text_p_and_audio_needs_a_table(tmp_path, corpus, mini_package):
    from clapsep.host.cli import main

    (tmp_path / "mix.csv").write_text(
        "source_file,positive_caption,noise_file,negative_caption\n"
        "clips/tone-0.wav,a tone,clips/noise-0.wav,noise\n"
    )
    common = [
        "eval",
        "--model",
        str(mini_package),
        "--mixtures",
        str(tmp_path / "mix.csv"),
        "--seconds",
        "0.5",
        "--quiet",
        "--out",
        str(tmp_path / "res"),
    ]
    assert main([*common, "--audio-root", str(corpus), "--positive-only"]) == 0
    result = json.loads((tmp_path / "res" / "results.json").read_text())
    assert result["meta"]["queries"] == ["text-p"] and result["items"][0]["negative"] is None
    assert (
        main([*common, "--audio-root", str(corpus), "--positive-only", "--queries", "text-pn"]) == 2
    )
    assert (
        main([*common, "--audio-root", str(tmp_path), "--queries", "audio-1"]) == 2
    )  # no clips.csv there
