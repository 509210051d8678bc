"""`--precision bf16`: the separator graphs on OpenVINO's CPU plugin, within the quality gate
of fp32, reported as what really ran, and never confused with fp32 in the render cache."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.host.cli import main
from clapsep.host.runtime import Separator, load_package
from clapsep.host.runtime.openvino_cpu import OPENVINO_CPU, bf16_problem
from clapsep.signals import realistic_signal, snr_db

needs_bf16 = pytest.mark.skipif(bf16_problem() is not None, reason=str(bf16_problem()))


def _windows_and_condition() -> tuple[np.ndarray, np.ndarray]:
    full = realistic_signal(3.0, 32000)
    mixture = np.stack([full, 0.5 * full[::-1]]).astype(np.float32)
    condition = np.random.default_rng(3).standard_normal((2, 1024)).astype(np.float32)
    return mixture, condition / np.linalg.norm(condition, axis=1, keepdims=True)


@needs_bf16
def test_bf16_separates_within_30_db_of_fp32_and_says_it_ran_on_openvino(package: Path) -> None:
    """The official-size gate (separated output >= 30 dB SNR against fp32), on the mini
    package; the bundled model's SDRi gate is a figure in docs/benchmarks.md."""
    pkg = load_package(package)
    fp32 = Separator(pkg, device="cpu", threads=2)
    bf16 = Separator(pkg, device="cpu", threads=2, precision="bf16")
    assert (bf16.provider, bf16.precision) == (OPENVINO_CPU, "bf16")
    mixture, condition = _windows_and_condition()
    expected, got = fp32.separate(mixture, condition), bf16.separate(mixture, condition)
    snrs = [snr_db(e, g) for e, g in zip(expected, got, strict=True)]
    assert min(snrs) >= 30.0
    assert max(snrs) < 100.0  # bf16 really ran: not fp32's samples


def test_bf16_is_refused_in_one_line_without_openvino_or_off_the_cpu(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = load_package(package)
    with pytest.raises(UserError, match="runs on the CPU"):
        Separator(pkg, device="cuda", precision="bf16")
    with pytest.raises(UserError, match="unknown precision 'int4'"):
        Separator(pkg, device="cpu", precision="int4")
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if the extra were not installed
    assert "pip install 'clapsep-studio[openvino]'" in str(bf16_problem())
    with pytest.raises(UserError, match=r"\[openvino\] extra"):
        Separator(pkg, device="cpu", precision="bf16")


def _clip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: float) -> Path:
    """A mono 32 kHz clip of the structured signal, with a data folder of its own."""
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    source = tmp_path / "clip.wav"
    with AudioFile(str(source), "w", samplerate=32000, num_channels=1) as f:
        f.write(realistic_signal(seconds, 32000)[None, :])
    return source


@needs_bf16
def test_a_bf16_render_is_not_served_from_an_fp32_render_of_the_same_clip(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    source = _clip(tmp_path, monkeypatch, 2.0)
    results = {}
    for precision in ("fp32", "bf16", "bf16"):
        out = tmp_path / f"out-{precision}-{len(results)}"
        out.mkdir()
        argv = ["render", str(source), "--query", "a tone", "--model", str(package)]
        argv += ["--out", str(out), "--device", "cpu", "--precision", precision, "--json"]
        assert main(argv) == 0
        result = json.loads(capsys.readouterr().out)
        results[len(results)] = result
    fp32, bf16, again = results.values()
    assert [o["cached"] for o in (fp32["outputs"][0], bf16["outputs"][0], again["outputs"][0])] == [
        False,
        False,
        True,
    ]
    assert (bf16["provider"], bf16["model"]["precision"]) == (OPENVINO_CPU, "bf16")
    assert fp32["model"]["precision"] == "fp32"


@needs_bf16
def test_auto_picks_bf16_once_its_gate_held_for_the_package_and_remembers_it(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clapsep.host.runtime.sessions import BF16_GATE_DB, auto_precision

    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    pkg = load_package(package)
    assert auto_precision(pkg, "cpu") == "bf16"
    (record,) = (tmp_path / "data" / "precision-gates").iterdir()
    measured = json.loads(record.read_text())["bf16_snr_db"]
    assert measured >= BF16_GATE_DB
    assert Separator(pkg, device="cpu", precision="auto").precision == "bf16"
    record.write_text(json.dumps({"bf16_snr_db": BF16_GATE_DB - 1}))  # as if it had failed
    assert Separator(pkg, device="cpu", precision="auto").precision == "fp32"
    assert auto_precision(pkg, "cuda") == "fp32"  # a GPU device keeps its own graphs


def _preset_file(tmp_path: Path, precision: object) -> Path:
    path = tmp_path / f"tone-{precision}.json"
    preset = {"format": "clapsep-preset", "version": 1, "name": "Tone", "positive_text": "a tone"}
    path.write_text(json.dumps({**preset, "precision": precision}))
    return path


@needs_bf16
def test_a_presets_precision_applies_unless_the_command_line_names_one(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    source = _clip(tmp_path, monkeypatch, 1.0)
    preset = _preset_file(tmp_path, "bf16")
    ran = []
    for extra in ([], ["--precision", "fp32"]):
        out = tmp_path / f"out{len(ran)}"
        argv = ["render", str(source), "--preset", str(preset), "--model", str(package)]
        assert main([*argv, "--out", str(out), "--device", "cpu", "--json", *extra]) == 0
        ran.append(json.loads(capsys.readouterr().out)["model"]["precision"])
    assert ran == ["bf16", "fp32"]


def test_a_preset_with_an_unknown_precision_is_refused_by_name(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["render", str(tmp_path / "x.wav"), "--preset", str(_preset_file(tmp_path, "int3"))]
    (tmp_path / "x.wav").write_bytes(b"")
    assert main([*argv, "--model", str(package)]) == 2
    assert "preset 'Tone': precision must be one of auto, fp32, bf16" in capsys.readouterr().err
