"""Damaged or hostile preset files and model package manifests are user errors: one line
naming the file (and the field), exit status 2, never an internal error or raw terminal
control characters."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.host.cli import main
from clapsep.host.presets import Preset, PresetLibrary
from clapsep.host.runtime import load_package
from clapsep.package_format import MANIFEST_FILE, REQUIRED_FILES


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "\x1b" not in err and "internal error" not in err
    return err


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "take.wav"
    with AudioFile(str(path), "w", 16000, 1, bit_depth=32) as f:
        f.write(np.random.default_rng(0).uniform(-0.5, 0.5, (1, 8000)).astype(np.float32))
    return path


def preset_json(name: str = "Dialogue", **extra: object) -> dict:
    return {
        "format": "clapsep-preset",
        "version": 1,
        "name": name,
        "positive_text": "a person speaking",
        **extra,
    }


def deeply_nested_preset(path: Path, depth: int = 100_000) -> Path:
    text = json.dumps(preset_json())[:-1] + ', "tags": ' + "[" * depth + "]" * depth + "}"
    path.write_text(text)
    return path


def test_a_deeply_nested_preset_file_is_refused_naming_the_file(
    tmp_path: Path, data_dir: Path, source: Path, capsys: pytest.CaptureFixture
) -> None:
    deep = deeply_nested_preset(tmp_path / "deep.json")
    code, _, err = run(capsys, "presets", "import", str(deep))
    assert code == 2 and str(deep) in one_line_error(err) and "nested too deeply" in err
    code, _, err = run(capsys, "render", str(source), "--preset", str(deep), "--device", "cpu")
    assert code == 2 and str(deep) in one_line_error(err) and "nested too deeply" in err


def test_a_deeply_nested_file_in_the_library_is_a_problem_and_the_rest_still_list(
    data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    (data_dir / "presets").mkdir(parents=True)
    deeply_nested_preset(data_dir / "presets" / "deep.json")
    (data_dir / "presets" / "good.json").write_text(json.dumps(preset_json("Good one")))
    code, out, _ = run(capsys, "presets", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and "Good one" in [p["name"] for p in listed["presets"]]
    (problem,) = listed["problems"]
    assert problem.startswith("deep.json: ") and "nested too deeply" in problem


@pytest.mark.parametrize(
    ("name", "code_point"),
    [
        ("Dia\nlogue", "U+000A"),
        ("Dialogue\x1b[2J\x1b[31m", "U+001B"),
        ("tab\there", "U+0009"),
        ("csi\x9b31m", "U+009B"),
        ("bidi \u202eeugolaid", "U+202E"),
        ("line\u2028break", "U+2028"),
    ],
)
def test_saving_a_preset_named_with_control_characters_is_refused(
    data_dir: Path, capsys: pytest.CaptureFixture, name: str, code_point: str
) -> None:
    code, out, err = run(capsys, "presets", "save", name, "--query", "a person speaking")
    assert code == 2 and out == ""
    assert code_point in one_line_error(err) and "control characters" in err
    assert not (data_dir / "presets").exists() or not list((data_dir / "presets").iterdir())


def test_loading_a_preset_named_with_control_characters_is_refused(
    tmp_path: Path, data_dir: Path, source: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = preset_json("Dialogue\x1b]0;owned\x07\nsecond line")
    (data_dir / "presets").mkdir(parents=True)
    (data_dir / "presets" / "bad.json").write_text(json.dumps(bad))
    code, out, _ = run(capsys, "presets", "list")
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    (warning,) = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert warning.startswith("warning: bad.json: ") and "U+001B" in warning

    (tmp_path / "bad.json").write_text(json.dumps(bad))
    code, _, err = run(capsys, "presets", "import", str(tmp_path / "bad.json"))
    assert code == 2 and str(tmp_path / "bad.json") in one_line_error(err) and "U+000A" in err
    code, _, err = run(
        capsys, "render", str(source), "--preset", str(tmp_path / "bad.json"), "--device", "cpu"
    )
    assert code == 2 and "control characters" in one_line_error(err)


def test_a_query_with_control_characters_still_names_its_preset_printably() -> None:
    preset = Preset.with_query(None, positive_text="dog\x1b[31m\tbarking\nloudly")
    assert preset.name == "dog [31m barking loudly"
    assert Preset.with_query(None, positive_text="\x1b\x07").name == "audio query"


@pytest.mark.parametrize("key", ["category", "notes", "positive_text", "negative_text"])
def test_a_preset_text_field_that_is_not_a_string_is_refused_by_name(
    tmp_path: Path, key: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(preset_json(**{key: ["not", "text"]})))
    with pytest.raises(UserError, match=rf"odd\.json: preset 'Dialogue': {key} must be a string"):
        PresetLibrary(tmp_path / "lib").import_file(path)


def bad_package(tmp_path: Path, package: Path, edit) -> Path:
    """`package` with every file linked and the manifest changed by `edit(manifest)`."""
    bad = tmp_path / "BADPKG"
    bad.mkdir()
    for item in package.iterdir():
        if item.name != MANIFEST_FILE:
            os.symlink(item, bad / item.name)
    manifest = json.loads((package / MANIFEST_FILE).read_text())
    edit(manifest)
    (bad / MANIFEST_FILE).write_text(json.dumps(manifest))
    return bad


def _set(key: str, value: object):
    return lambda m: m.update({key: value})


def _file_entry(field: str, value: object):
    def edit(manifest: dict) -> None:
        name = REQUIRED_FILES[manifest["format_version"]][0]
        manifest["files"][name][field] = value

    return edit


def _drop_sha256(manifest: dict) -> None:
    del manifest["files"][REQUIRED_FILES[manifest["format_version"]][0]]["sha256"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set("sample_rate", 0), "sample_rate is 0"),
        (_set("window_samples", -5), "window_samples is -5"),
        (_set("query_sample_rate", "48000"), "query_sample_rate is '48000'"),
        (_set("condition_dim", 1024.5), "condition_dim is 1024.5"),
        (_set("embedding_dim", True), "embedding_dim is True"),
        (_set("query_samples", None), "query_samples is None"),
        (_set("min_window_samples", 10**9), "min_window_samples (1000000000) exceeds"),
        (_file_entry("bytes", "abc"), ".onnx'].bytes is 'abc'"),
        (_file_entry("bytes", -1), ".onnx'].bytes is -1"),
        (_file_entry("sha256", 12), ".onnx'].sha256 is 12"),
        (_drop_sha256, ".onnx'].sha256 is None"),
    ],
)
def test_a_bad_manifest_value_is_a_one_line_error_naming_the_manifest_and_field(
    tmp_path: Path,
    data_dir: Path,
    source: Path,
    package: Path,
    capsys: pytest.CaptureFixture,
    edit,
    field: str,
) -> None:
    bad = bad_package(tmp_path, package, edit)
    argv = ("render", str(source), "--query", "speech", "--model", str(bad), "--device", "cpu")
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert f"{bad / MANIFEST_FILE}: " in one_line_error(err) and field in err
    for verify in (True, False):
        with pytest.raises(UserError, match="corrupt model package manifest"):
            load_package(bad, verify=verify)


def test_a_deeply_nested_manifest_is_a_user_error(tmp_path: Path, package: Path) -> None:
    bad = bad_package(tmp_path, package, lambda m: None)
    text = (bad / MANIFEST_FILE).read_text()[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000
    (bad / MANIFEST_FILE).write_text(text + "}")
    with pytest.raises(UserError, match=r"manifest\.json is nested too deeply") as caught:
        load_package(bad)
    assert "\n" not in str(caught.value)


def test_a_manifest_file_name_with_control_characters_is_refused(
    tmp_path: Path, package: Path
) -> None:
    def add(manifest: dict) -> None:
        manifest["files"]["evil\x1b[2J.onnx"] = {"sha256": "0" * 64, "bytes": 1}

    with pytest.raises(UserError, match=r"unsafe file name 'evil\\x1b\[2J\.onnx'"):
        load_package(bad_package(tmp_path, package, add))
