"""Export of NIT's noise heads as "off-query noise": a `nit` run's model directory becomes a
package with `noise.onnx`, which the torch-free runtime runs as closely as torch does."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from clapsep.errors import UserError  # noqa: E402
from clapsep.export.package import load_source, write_package  # noqa: E402
from clapsep.export.parity import SNR_THRESHOLD_DB, noise_parity  # noqa: E402
from clapsep.host.runtime import NoiseEstimator, load_package  # noqa: E402
from clapsep.model.data.synthetic import write_synthetic_corpus  # noqa: E402
from clapsep.model.noise import NOISE_HEADS_FILE, OffQueryNoise  # noqa: E402
from clapsep.model.training.config import config_from_dict  # noqa: E402
from clapsep.model.training.trainer import train  # noqa: E402
from clapsep.package_format import MANIFEST_FILE, NOISE_GRAPH  # noqa: E402


@pytest.fixture(scope="module")
def nit_run(tmp_path_factory) -> Path:
    """A `mini` model trained for two NIT steps on generated audio: its run folder."""
    folder = tmp_path_factory.mktemp("nit")
    write_synthetic_corpus(folder / "corpus", per_family=2, seconds=1.0, families=("tone", "noise"))
    config = config_from_dict(
        {
            "model": {"name": "mini"},
            "data": {
                "supervised": str(folder / "corpus" / "clips.csv"),
                "mix": {"crop_seconds": 1.0},
                "val_items": 1,
            },
            "query": {"audio_queries": False},
            "objective": {"mode": "nit"},
            "optim": {"lr": 1e-3},
            "run": {
                "out": str(folder / "run"),
                "batch_size": 1,
                "max_steps": 2,
                "val_every": 1000,
                "checkpoint_every": 1000,
                "progress": False,
                "threads": 2,
            },
        }
    )
    return train(config)


@pytest.fixture(scope="module")
def nit_package(nit_run: Path, tmp_path_factory) -> tuple[object, Path]:
    source = load_source("mini", nit_run / "model")
    out = write_package(source, tmp_path_factory.mktemp("nit-package") / "package", fp16=False)
    return source, out


def test_the_noise_heads_are_loaded_from_the_model_directory(nit_run: Path, nit_package) -> None:
    from safetensors.torch import load_file

    source, _ = nit_package
    assert isinstance(source.noise, OffQueryNoise) and source.noise.model is source.model
    saved = load_file(str(nit_run / "model" / NOISE_HEADS_FILE))
    state = source.noise.heads.state_dict()
    assert set(saved) == set(state) and all(torch.equal(saved[k], state[k]) for k in saved)
    assert source.provenance["noise_heads"] == 2


def test_nit_package_lists_the_noise_graph(nit_package) -> None:
    _, out = nit_package
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["noise"]["graph"] == NOISE_GRAPH and manifest["noise"]["outputs"] == ["noise"]
    assert manifest["noise"]["heads"] == 2 and manifest["noise"]["inputs"]["condition"] == [
        "batch",
        1024,
    ]
    assert NOISE_GRAPH in manifest["files"] and (out / NOISE_GRAPH).is_file()


def test_noise_graph_parity_torch_vs_onnxruntime(nit_package) -> None:
    source, out = nit_package
    package = load_package(out)
    estimator = NoiseEstimator(package, device="cpu")
    assert NoiseEstimator.has_noise(package)
    condition = np.random.default_rng(5).standard_normal(package.condition_dim).astype(np.float32)
    condition /= np.linalg.norm(condition)
    snr = noise_parity(source.noise, estimator, condition)
    print(f"off-query noise parity: {snr:.1f} dB")
    assert snr >= SNR_THRESHOLD_DB
    noise = estimator.estimate(np.full((1, 40000), 0.01, np.float32), condition[None])
    assert noise.shape == (1, 40000) and noise.dtype == np.float32
    with pytest.raises(ValueError, match="condition"):
        estimator.estimate(np.zeros((1, 40000), np.float32), condition[None, :10])


def test_a_plain_export_has_no_noise_graph(mini_package: Path) -> None:
    package = load_package(mini_package)
    assert "noise" not in package.manifest and not package.has(NOISE_GRAPH)
    assert not NoiseEstimator.has_noise(package)
    with pytest.raises(UserError, match="no off-query noise"):
        NoiseEstimator(package, device="cpu")


def test_a_model_directory_without_heads_exports_no_noise(nit_run: Path, tmp_path: Path) -> None:
    plain = shutil.copytree(nit_run / "model", tmp_path / "model")
    (plain / NOISE_HEADS_FILE).unlink()
    assert load_source("mini", plain).noise is None


def test_noise_heads_that_do_not_fit_are_refused(nit_run: Path, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    broken = shutil.copytree(nit_run / "model", tmp_path / "model")
    save_file(
        {"proj.0.weight": torch.zeros(3, 3), "proj.0.bias": torch.zeros(3)},
        str(broken / NOISE_HEADS_FILE),
    )
    with pytest.raises(UserError, match="noise heads"):
        load_source("mini", broken)
