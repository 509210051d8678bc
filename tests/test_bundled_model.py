"""The bundled default model (`models/clapsep-bundled`): intact, small, offline, and it separates.

These run the committed package itself through the CLI and the torch-free runtime; the
SDR floors are below the model card's measured numbers, so a retrain that ships a worse
model fails here.
"""

import json
import shutil
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.host.cli import main
from clapsep.host.engine import default_package
from clapsep.host.runtime import QueryEncoder, QuerySpec, Separator, load_package
from clapsep.model.evaluation import metrics
from clapsep.paths import bundled_model_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "street"
MAX_PACKAGE_BYTES = 60 * 10**6
SPEECH = (
    "Good morning. Could you pass me the script for the next scene, please? "
    "We start in five minutes."
)


def read(path: Path) -> np.ndarray:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Over all channels at once (the metric takes one signal)."""
    return metrics.si_sdr(estimate.reshape(-1), reference.reshape(-1))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLAPSEP_MODEL_DIR", str(tmp_path / "models"))
    return tmp_path


def test_bundled_package_checksums_verify_and_it_fits_in_60_mb() -> None:
    package = load_package(bundled_model_dir())  # re-hashes every file against the manifest
    files = package.manifest["files"]
    total = sum(p.stat().st_size for p in bundled_model_dir().iterdir() if p.is_file())
    assert package.manifest["trained"] and package.manifest["configuration"] == "bundled"
    assert set(files) | {"manifest.json"} == {p.name for p in bundled_model_dir().iterdir()}
    assert total <= MAX_PACKAGE_BYTES, f"{total / 1e6:.1f} MB"


def test_with_no_model_installed_the_bundled_one_is_the_default(empty_home: Path) -> None:
    assert default_package() == bundled_model_dir()
    (empty_home / "models").mkdir()
    assert default_package() == bundled_model_dir()


def test_default_model_renders_the_demo_with_the_network_unreachable(
    empty_home: Path, offline: None, capsys: pytest.CaptureFixture
) -> None:
    """`.ci/demo`'s two renders; floors just under the model card's measured improvements."""
    mixture, speech = read(EXAMPLE / "mixture.wav"), read(EXAMPLE / "speech.wav")
    kept_without_birds = speech + read(EXAMPLE / "traffic.wav")
    for query, reference, floor in (
        (
            ["--query", "a man speaking", "--negative", "road traffic and birds chirping"],
            speech,
            1.5,
        ),
        (["--negative", "birds chirping"], kept_without_birds, 0.3),
    ):
        (empty_home / "out").mkdir(exist_ok=True)
        code = main(
            [
                "render",
                str(EXAMPLE / "mixture.wav"),
                *query,
                "--out",
                str(empty_home / "out"),
                "--device",
                "cpu",
                "--no-cache",
                "--overwrite",
                "--json",
            ]
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        report = json.loads(out)
        assert report["model"]["path"] == str(bundled_model_dir())
        target = read(Path(next(o["path"] for o in report["outputs"] if o["stem"] == "target")))
        assert target.shape == mixture.shape
        assert si_sdr(target, reference) - si_sdr(mixture, reference) > floor, query


def test_bundled_model_isolates_generated_speech_over_noise_by_more_than_3_db(
    tmp_path: Path,
) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(
        ["espeak-ng", "-w", str(tmp_path / "speech.wav"), SPEECH], check=True, capture_output=True
    )
    package = load_package(bundled_model_dir())
    rate = package.sample_rate
    with AudioFile(str(tmp_path / "speech.wav")) as f, f.resampled_to(rate) as r:
        speech = r.read(r.frames).mean(axis=0)[: package.window_samples]
    rng = np.random.default_rng(0)
    spectrum = np.fft.rfft(rng.standard_normal(len(speech))) / np.sqrt(
        np.arange(len(speech) // 2 + 1) + 1.0
    )
    noise = np.fft.irfft(spectrum, len(speech))  # pink noise
    noise *= np.std(speech) / np.std(noise)  # 0 dB
    mixture = (speech + noise).astype(np.float32)
    condition = QueryEncoder(package, "cpu").condition(
        QuerySpec(text="a person speaking"), QuerySpec(text="noise")
    )
    estimate = Separator(package, "cpu").separate(
        mixture[None], np.asarray(condition, np.float32)[None]
    )[0]
    assert metrics.sdr(estimate, speech) - metrics.sdr(mixture, speech) > 3.0
