"""`clapsep render --split` and span queries end to end on a real package and real speech.

A split writes one stem per NAME plus `rest`, which sum to the input to float rounding;
`--overlapping` writes each query's independent target (equal to its one-query render).
Spans take example shots from the input itself. Outputs are checked before the model loads.
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.host.audio_io import SourceReader
from clapsep.host.cli import main

SPEECH = "Over there, by the old mill, a dog barks at the passing train every single morning."


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng speech over a tone and noise, 16-bit PCM (read on libsndfile's scale)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("clip")
    subprocess.run(
        ["espeak-ng", "-w", str(folder / "voice.wav"), SPEECH], check=True, capture_output=True
    )
    with AudioFile(str(folder / "voice.wav")) as f:
        voice, rate = f.read(f.frames)[0], int(f.samplerate)
    t = np.arange(voice.size) / rate
    bed = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.random.default_rng(0).standard_normal(
        t.size
    )
    stereo = np.stack([voice + bed, 0.7 * voice + bed]).astype(np.float32)
    path = folder / "scene.wav"
    with AudioFile(str(path), "w", samplerate=rate, num_channels=2, bit_depth=16) as f:
        f.write(np.clip(stereo, -1, 1))
    return path


@pytest.fixture
def home(cli_home: Path) -> Path:
    (cli_home / "out").mkdir()
    return cli_home


def decoded(path: Path) -> np.ndarray:
    with SourceReader(path) as reader:
        return np.concatenate(list(reader.blocks()), axis=1)


def render(capsys: pytest.CaptureFixture, *argv: str) -> dict:
    code = main(["render", *argv, "--device", "cpu", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def error_of(capsys: pytest.CaptureFixture, *argv: str) -> str:
    code = main(["render", *argv, "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    (line,) = [line for line in err.splitlines() if line.startswith("error: ")]
    return line


SPLIT = ["--split", "voice=a man speaking", "--split", "tone=a steady hum", "--split", "hiss=noise"]


def test_a_split_writes_every_named_stem_and_rest_which_sum_to_the_input(
    home: Path, clip: Path, capsys: pytest.CaptureFixture
) -> None:
    result = render(capsys, str(clip), *SPLIT, "--out", str(home / "out"))
    stems = {o["stem"]: Path(o["path"]) for o in result["outputs"]}
    assert list(stems) == ["voice", "tone", "hiss", "rest"]
    assert stems["voice"].name == "scene_split_voice.wav"
    assert [q["stem"] for q in result["query"]["split"]] == ["voice", "tone", "hiss"]
    assert result["query"]["partition"] is True
    total = sum(decoded(path) for path in stems.values())
    x = decoded(clip)
    assert total.shape == x.shape and np.abs(total - x).max() <= 1e-5
    again = render(capsys, str(clip), *SPLIT, "--out", str(home / "out"), "--overwrite")
    assert all(o["cached"] for o in again["outputs"])


def test_overlapping_split_stems_equal_each_query_rendered_alone(
    home: Path, clip: Path, capsys: pytest.CaptureFixture
) -> None:
    out = str(home / "out")
    split = render(capsys, str(clip), *SPLIT, "--overlapping", "--out", out, "--no-cache")
    stems = {o["stem"]: Path(o["path"]) for o in split["outputs"]}
    assert list(stems) == ["voice", "tone", "hiss"]  # independent targets: no rest
    alone = render(capsys, str(clip), "--query", "a steady hum", "--out", out, "--no-cache")
    target = next(Path(o["path"]) for o in alone["outputs"] if o["stem"] == "target")
    assert np.abs(decoded(stems["tone"]) - decoded(target)).max() < 1e-5


def test_the_attenuation_limit_and_gains_apply_per_stem_and_the_sum_still_holds(
    home: Path, clip: Path, capsys: pytest.CaptureFixture
) -> None:
    out = home / "out"
    plain = render(capsys, str(clip), *SPLIT, "--out", str(out), "--no-cache")
    limited = render(
        capsys,
        str(clip),
        *SPLIT,
        "--atten-limit",
        "12",
        "--out",
        str(out / "limited"),
        "--no-cache",
    )
    paths = {o["stem"]: Path(o["path"]) for o in limited["outputs"]}
    x = decoded(clip)
    assert np.abs(sum(decoded(p) for p in paths.values()) - x).max() <= 1e-5
    f = 10 ** (-12 / 20)
    voice = next(Path(o["path"]) for o in plain["outputs"] if o["stem"] == "voice")
    expected = (1 - f) * decoded(voice) + f * x / 4  # an equal share of the floor per stem
    assert np.abs(decoded(paths["voice"]) - expected).max() < 1e-5
    gained = render(
        capsys, str(clip), *SPLIT, "--gain", "rest=-6", "--out", str(out / "gain"), "--no-cache"
    )
    rest = next(Path(o["path"]) for o in gained["outputs"] if o["stem"] == "rest")
    plain_rest = next(Path(o["path"]) for o in plain["outputs"] if o["stem"] == "rest")
    assert np.allclose(decoded(rest), decoded(plain_rest) * 10 ** (-6 / 20), atol=1e-6)


def test_a_split_preset_and_a_stem_taken_from_a_preset_render(
    home: Path, clip: Path, capsys: pytest.CaptureFixture
) -> None:
    out = str(home / "out")
    factory = render(capsys, str(clip), "--preset", "Dialogue / room tone", "--out", out)
    assert [o["stem"] for o in factory["outputs"]] == ["dialogue", "room-tone", "rest"]
    mixed = render(
        capsys,
        str(clip),
        "--split",
        "wind=@Wind",
        "--split",
        "talk=span:0.2:1.2",
        "--out",
        out,
    )
    wind, talk = mixed["query"]["split"]
    assert wind["positive"]["text"] and wind["negative"] is not None  # the Wind preset's query
    assert talk["positive"]["spans"] == [[0.2, 1.2]] and talk["positive"]["text"] is None


def test_span_queries_take_their_shots_from_each_input(
    home: Path, clip: Path, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    other = tmp_path / "other.wav"
    shutil.copy(clip, other)
    result = render(
        capsys,
        str(clip),
        str(other),
        "--query-span",
        "0.3:1.3",
        "--negative-span",
        "1.5:2.0",
        "--out",
        str(home / "out"),
    )
    queries = result["query"]
    assert len(queries) == 2  # prepared once per input
    assert [q["positive"]["spans"] for q in queries] == [[[0.3, 1.3]], [[0.3, 1.3]]]
    assert queries[0]["negative"]["spans"] == [[1.5, 2.0]]
    assert {o["input"] for o in result["outputs"]} == {str(clip), str(other)}


def test_a_taken_output_is_refused_before_the_model_loads_naming_overwrite(
    home: Path, clip: Path, capsys: pytest.CaptureFixture
) -> None:
    out = home / "out"
    (out / "scene_a-man-speaking_target.wav").write_bytes(b"an editor's file")
    broken = home / "not-a-package"
    broken.mkdir()
    line = error_of(
        capsys, str(clip), "--query", "a man speaking", "--out", str(out), "--model", str(broken)
    )
    assert "exists" in line and "--overwrite" in line
    assert (out / "scene_a-man-speaking_target.wav").read_bytes() == b"an editor's file"


def test_a_missing_out_folder_is_created_when_its_parent_exists(
    home: Path, clip: Path, capsys: pytest.CaptureFixture
) -> None:
    fresh = home / "out" / "stems"
    result = render(capsys, str(clip), "--query", "a man speaking", "--out", str(fresh))
    assert all(Path(o["path"]).parent == fresh for o in result["outputs"])
    line = error_of(capsys, str(clip), "--query", "x", "--out", str(home / "no" / "such"))
    assert "parent" in line and "does not exist" in line


def test_a_batch_split_writes_every_stem_of_each_file_and_a_rerun_skips_them(
    clip: Path, home: Path, capsys: pytest.CaptureFixture
) -> None:
    inputs = home / "in"
    inputs.mkdir()
    for name in ("a.wav", "b.wav"):
        shutil.copy(clip, inputs / name)
    splits = ["--split", "voice=a person speaking", "--split", "tone=a steady tone"]
    argv = ["batch", str(inputs), *splits, "--out", str(home / "out"), "--device", "cpu"]
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    counts = summary["counts"]
    assert counts["rendered"] + counts["cached"] == 2  # b is a copy of a: its render is cached
    for name in ("a", "b"):
        stems = {p.name.split("_")[-1]: p for p in (home / "out").glob(f"{name}_*.wav")}
        assert set(stems) == {"voice.wav", "tone.wav", "rest.wav"}
        total = sum(decoded(p) for p in stems.values())
        np.testing.assert_allclose(total, decoded(clip), atol=1e-5)
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["skipped"] == 2
