"""`clapsep render`, `batch` and `presets` end to end on espeak-ng speech and a real package.

The package is a real export of the `mini` configuration (the session fixture
`mini_package`), loaded by the torch-free runtime.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.host.audio_io import SourceReader
from clapsep.host.cli import main

SPEECH = "The quick brown fox jumps over the lazy dog, and then it runs into the forest."


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), SPEECH], check=True, capture_output=True)
    return path


@pytest.fixture
def home(cli_home: Path) -> Path:
    """conftest's `cli_home` with an empty `out` folder."""
    (cli_home / "out").mkdir()
    return cli_home


def read(path: Path | str) -> np.ndarray:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)


def decoded(path: Path) -> np.ndarray:
    """A source as the render reads it (integer PCM on libsndfile's scale, not pedalboard's)."""
    with SourceReader(path) as reader:
        return np.concatenate(list(reader.blocks()), axis=1)


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def render_json(capsys: pytest.CaptureFixture, *argv: str) -> dict:
    code, out, err = run(capsys, "render", *argv, "--device", "cpu", "--json")
    assert code == 0, err
    return json.loads(out)


def test_render_json_reports_outputs_provider_and_model(
    home: Path, speech: Path, package: Path, capsys: pytest.CaptureFixture
) -> None:
    result = render_json(
        capsys, str(speech), "--query", "a person speaking", "--out", str(home / "out")
    )
    assert result["provider"] == "CPUExecutionProvider"
    manifest = json.loads((package / "manifest.json").read_text())
    assert (result["model"]["name"], result["model"]["version"]) == (
        manifest["name"],
        manifest["version"],
    )
    x = decoded(speech)
    assert [o["stem"] for o in result["outputs"]] == ["target", "residual"]
    for o in result["outputs"]:
        assert set(o) == {"input", "stem", "path", "frames", "sample_rate", "channels", "cached"}
        assert (o["input"], o["frames"], o["sample_rate"], o["channels"]) == (
            str(speech),
            x.shape[1],
            22050,
            1,
        )
        assert (
            Path(o["path"]).parent == home / "out" and "a-person-speaking" in Path(o["path"]).name
        )
    target, residual = (read(o["path"]) for o in result["outputs"])
    np.testing.assert_allclose(target + residual, x, atol=1e-5)
    assert np.isfinite(target).all() and np.abs(target).sum() > 0


def test_a_second_render_comes_from_the_cache(
    home: Path, speech: Path, capsys: pytest.CaptureFixture
) -> None:
    args = (str(speech), "--preset", "Dialogue", "--out", str(home / "out"))
    first = render_json(capsys, *args)
    again = render_json(capsys, *args, "--overwrite")
    assert [o["cached"] for o in first["outputs"]] == [False, False]
    assert [o["cached"] for o in again["outputs"]] == [True, True]
    assert Path(first["outputs"][0]["path"]).name == "speech_dialogue_target.wav"


def test_sections_stems_and_audio_queries(
    home: Path, speech: Path, capsys: pytest.CaptureFixture
) -> None:
    result = render_json(
        capsys,
        str(speech),
        "--query-audio",
        str(speech),
        "--negative",
        "music",
        "--start",
        "0.5",
        "--end",
        "1.5",
        "--stems",
        "residual",
        "--out",
        str(home / "out"),
    )
    (o,) = result["outputs"]
    assert o["stem"] == "residual" and o["frames"] == 22050
    assert Path(o["path"]).name == "speech_11025-33075_music_residual.wav"
    assert result["query"]["positive"]["audio"] == [str(speech)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "{missing}", "--query", "x"], "input not found"),
        (["render", "{speech}", "--bogus"], "unrecognized arguments: --bogus"),
        (["render", "{speech}"], "say what to isolate"),
        (["render", "{speech}", "--preset", "Nope"], "no preset named 'Nope'"),
        (["render", "{speech}", "--query", "x", "--model", "{missing}"], "model package not found"),
        (["render", "{speech}", "--query", "x", "--stems", "drums"], "stems must be"),
        (["render", "{speech}", "--query", "x", "--gain", "loud"], "--gain takes STEM=DB"),
        (["render", "{speech}", "--query", "x", "--window", "60"], "the window must be"),
        (["render", "{speech}", "--query", "x", "--start", "99"], "outside the file"),
        (["render", "{speech}", "--query", "x", "--out", "{missing}/sub"], "does not exist"),
        (["render", "{speech}", "--split", "a=x"], "at least two stems"),
        (["render", "{speech}", "--split", "a=x", "--split", "rest=y"], "no query claimed"),
        (["render", "{speech}", "--split", "novalue"], "--split takes NAME=QUERY"),
        (["render", "{speech}", "--split", "a=x", "--split", "b=y", "--query", "z"], "own query"),
        (["render", "{speech}", "--query-span", "2:1"], "START < END"),
        (["render", "{speech}", "--query-span", "1:99"], "past the end"),
        (["batch", "{speechdir}", "--query-span", "0:1", "--out", "{out}"], "each input"),
        (["batch", "{missing}", "--query", "x", "--out", "{out}"], "neither a folder nor"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    home: Path, speech: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    fields = {
        "speech": str(speech),
        "speechdir": str(speech.parent),
        "missing": str(home / "absent.wav"),
        "out": str(home / "out"),
    }
    code, _, err = run(capsys, *(a.format(**fields) for a in argv), "--device", "cpu")
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0] and err.endswith(errors[0] + "\n"), err
    assert "Traceback" not in err


def test_missing_or_ambiguous_default_model_says_what_to_do(
    home: Path,
    speech: Path,
    package: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "clapsep.host.engine.bundled_model_dir", lambda: home / "no-bundled-model"
    )  # a bare install
    (home / "models" / "mini").unlink()
    code, _, err = run(capsys, "render", str(speech), "--query", "x")
    assert (
        code == 2
        and "no model package installed" in err
        and "clapsep export" in err
        and "--model" in err
    )
    (home / "models" / "one").symlink_to(package)
    (home / "models" / "two").symlink_to(package)
    code, _, err = run(capsys, "render", str(speech), "--query", "x")
    assert code == 2 and "several model packages" in err and "one, two" in err
    (home / "models" / "default").write_text("two\n")
    assert render_json(capsys, str(speech), "--query", "x", "--out", str(home / "out"))["outputs"]


def make_tree(root: Path, speech: Path) -> None:
    for rel in ("a/one.wav", "a/deep/two.wav", "b/three.flac"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".wav"):
            shutil.copy(speech, root / rel)
        else:
            with AudioFile(str(root / rel), "w", 22050, 1) as f:
                f.write(read(speech))
    (root / "b" / "broken.wav").write_bytes(b"RIFF this is not audio at all")
    (root / "notes.txt").write_text("not audio")


def test_batch_isolates_failures_and_resumes(
    home: Path, speech: Path, capsys: pytest.CaptureFixture
) -> None:
    make_tree(home / "in", speech)
    argv = (
        "batch",
        str(home / "in"),
        "--preset",
        "Sirens",
        "--out",
        str(home / "out"),
        "--device",
        "cpu",
        "--jobs",
        "2",
    )
    code, out, _err = run(capsys, *argv, "--json")
    summary = json.loads(out)
    assert code == 2, summary["files"]  # a bad input failed; the others went through
    assert summary["counts"] == {
        "rendered": 3,
        "cached": 0,
        "skipped": 0,
        "failed": 1,
        "cancelled": 0,
    }
    failed = [f for f in summary["files"] if f["status"] == "failed"]
    assert failed[0]["input"].endswith("broken.wav") and "cannot read" in failed[0]["error"]
    assert (home / "out" / "a" / "deep" / "two_sirens_target.wav").is_file()
    assert (home / "out" / "b" / "three_sirens_residual.wav").is_file()
    assert (
        json.loads((home / "out" / "clapsep-batch-summary.json").read_text())["counts"]
        == summary["counts"]
    )

    (home / "out" / "a" / "one_sirens_residual.wav").unlink()  # as if killed between the two stems
    code, out, _ = run(capsys, *argv)
    assert code == 2
    assert "skipped: 2" in out and "cached: 1" in out and "failed: 1" in out
    assert (home / "out" / "a" / "one_sirens_residual.wav").is_file()
    assert "status" in out.splitlines()[0]  # the table


def test_an_internal_error_on_one_file_is_reported_and_the_batch_goes_on(
    home: Path, speech: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clapsep.host.engine import Engine, RenderInput, RenderRequest

    real = Engine.render

    def flaky(
        self: Engine, request: RenderRequest, item: RenderInput, *args: object, **kwargs: object
    ):
        if item.source.name == "one.wav":
            raise RuntimeError("simulated crash")
        return real(self, request, item, *args, **kwargs)

    monkeypatch.setattr(Engine, "render", flaky)
    make_tree(home / "in", speech)
    code, out, _ = run(
        capsys,
        "batch",
        str(home / "in"),
        "--query",
        "a dog barks",
        "--out",
        str(home / "out"),
        "--device",
        "cpu",
        "--json",
    )
    summary = json.loads(out)
    assert code == 1
    assert summary["counts"]["rendered"] == 2 and summary["counts"]["failed"] == 2
    crashed = next(f for f in summary["files"] if f["input"].endswith("one.wav"))
    assert crashed["internal"] and crashed["error"] == "RuntimeError: simulated crash"


def test_batch_from_a_list_file_succeeds_with_status_0(
    home: Path, speech: Path, capsys: pytest.CaptureFixture
) -> None:
    listing = home / "files.txt"
    listing.write_text(f"# clips\n{speech}\n")
    code, out, _ = run(
        capsys,
        "batch",
        str(listing),
        "--query",
        "a dog barks",
        "--out",
        str(home / "out"),
        "--device",
        "cpu",
        "--json",
    )
    assert code == 0 and json.loads(out)["counts"]["rendered"] == 1


def test_presets_command_saves_lists_exports_and_imports(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out, _ = run(
        capsys,
        "presets",
        "save",
        "My wind",
        "--from",
        "Wind",
        "--negative",
        "birds chirping",
        "--notes",
        "Targets wind on the balcony mics.",
    )
    assert code == 0 and Path(out.strip()).is_file()
    code, out, _ = run(capsys, "presets", "list", "--json")
    listed = {p["name"]: p for p in json.loads(out)["presets"]}
    assert (
        listed["My wind"]["negative_text"] == "birds chirping" and not listed["My wind"]["factory"]
    )
    assert listed["Wind"]["factory"] and len(listed) == 15
    assert run(capsys, "presets", "export", "--out", str(home / "mine.json"))[0] == 0
    assert run(capsys, "presets", "delete", "My wind")[0] == 0
    code, out, _ = run(capsys, "presets", "import", str(home / "mine.json"))
    assert code == 0 and "imported My wind" in out
    code, _, err = run(capsys, "presets", "delete", "Wind")
    assert code == 2 and "factory preset" in err


def test_render_never_imports_torch(home: Path, speech: Path) -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from clapsep.host.cli import main\n"
        f"sys.exit(main(['render', {str(speech)!r}, '--query', 'x', "
        f"'--out', {str(home / 'out')!r}, '--device', 'cpu']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr


# A render as the `clapsep` script runs it, in a child process: what reaches fd 1 is stdout.
_CLI = "import sys\nfrom clapsep.host.cli import main\nsys.exit(main(sys.argv[1:]))\n"
# What onnxruntime may still write while a session opens: Python prints, fd 1, C stdio.
_CHATTY_SESSIONS = """
import ctypes, os, onnxruntime
_open = onnxruntime.InferenceSession.__init__
def _chatty(self, *args, **kwargs):
    print("onnxruntime chatter: print")
    os.write(1, b"onnxruntime chatter: fd 1\\n")
    ctypes.CDLL(None).printf(b"onnxruntime chatter: C stdio\\n")
    _open(self, *args, **kwargs)
onnxruntime.InferenceSession.__init__ = _chatty
"""


def _render_in_child(home: Path, speech: Path, *extra: str, prelude: str = "") -> tuple[str, str]:
    """`clapsep render` with the default device and a cold query cache (every session opens)."""
    argv = ["render", str(speech), "--query", "a man speaking", "--out", str(home / "out")]
    done = subprocess.run(
        [sys.executable, "-c", prelude + _CLI, *argv, "--no-cache", *extra],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_render_json_is_all_of_stdout_and_names_the_provider_used(home: Path, speech: Path) -> None:
    out, err = _render_in_child(home, speech, "--json")
    result = json.loads(out)
    assert "Failed to load" not in err and "onnxruntime" not in err, err
    assert result["provider"] == result["model"]["provider"]
    if result["provider"] == "CPUExecutionProvider":
        assert result["model"]["provider_note"].startswith("running on CPU (")
    _, err = _render_in_child(home, speech, "--overwrite")
    assert f": {result['model']['provider_note']}\n" in err.split("\r")[0]


def test_what_onnxruntime_prints_while_opening_sessions_goes_to_stderr(
    home: Path, speech: Path
) -> None:
    out, err = _render_in_child(home, speech, "--json", prelude=_CHATTY_SESSIONS)
    assert json.loads(out)["outputs"]
    for how in ("print", "fd 1", "C stdio"):
        assert f"onnxruntime chatter: {how}\n" in err
