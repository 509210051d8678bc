"""Runtime: package verification (tampered, truncated, incompatible) and the Separator:
encoder/decoder packages (format 2) and single-graph ones (format 1, the bundled model)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from clapsep.errors import UserError
from clapsep.export.package import ensure_untrained_package, load_source
from clapsep.host.runtime import Separator, load_package
from clapsep.host.runtime.sessions import open_session
from clapsep.package_format import (
    DECODER_GRAPH,
    ENCODER_GRAPH,
    MANIFEST_FILE,
    SEPARATOR_GRAPH,
    package_digest,
    sha256_file,
)
from clapsep.signals import realistic_signal, snr_db

BUNDLED = Path(__file__).resolve().parents[1] / "models" / "clapsep-bundled"


@pytest.fixture(scope="session")
def mini_package(tmp_path_factory) -> Path:
    return ensure_untrained_package("mini", tmp_path_factory.getbasetemp() / "mini-package")


@pytest.fixture(scope="session")
def format1_package(mini_package: Path, tmp_path_factory) -> Path:
    """The mini model as an older format-1 package: one `separator.onnx` in place of the
    encoder and decoder graphs, as packages before format 2 (and bundled 0.1.0) were."""
    from clapsep.export.graphs import export_separator

    out = tmp_path_factory.getbasetemp() / "format1-package"
    if (out / MANIFEST_FILE).is_file():
        return out
    split = ("encoder*.onnx", "decoder*.onnx")
    shutil.copytree(mini_package, out, ignore=shutil.ignore_patterns(*split))
    export_separator(load_source("mini").model, out / SEPARATOR_GRAPH)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    files = {k: v for k, v in manifest["files"].items() if (out / k).is_file()}
    graph = out / SEPARATOR_GRAPH
    files[SEPARATOR_GRAPH] = {"sha256": sha256_file(graph), "bytes": graph.stat().st_size}
    kept = {k: manifest["separator"][k] for k in ("batch", "floor", "floor_rule")}
    inputs = {"mixture": ["batch", "samples"], "condition": ["batch", 1024]}
    separator = {"graph": SEPARATOR_GRAPH, "inputs": inputs, "outputs": ["separated"], **kept}
    manifest.update(format_version=1, separator=separator, files=files)
    manifest["digest"] = package_digest(files)
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return out


@pytest.fixture
def package_copy(mini_package: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(mini_package, tmp_path / "copy"))


def _edit_manifest(package: Path, **changes) -> None:
    manifest = json.loads((package / MANIFEST_FILE).read_text())
    manifest.update(changes)
    (package / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_load_package_reads_the_manifest(mini_package: Path) -> None:
    package = load_package(mini_package)
    assert (package.sample_rate, package.query_sample_rate) == (32000, 48000)
    assert (package.window_samples, package.condition_dim) == (327679, 1024)
    assert package.name == "clapsep-mini" and package.version == "0.1.0"
    assert package.digest == package_digest(package.manifest["files"]) == package.manifest["digest"]


def test_tampered_package_is_refused(package_copy: Path) -> None:
    graph = package_copy / ENCODER_GRAPH
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0x01
    graph.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"was modified: checksum of encoder\.onnx"):
        load_package(package_copy)


def test_truncated_package_is_refused(package_copy: Path) -> None:
    graph = package_copy / DECODER_GRAPH
    graph.write_bytes(graph.read_bytes()[:1000])
    with pytest.raises(UserError, match=r"decoder\.onnx truncated"):
        load_package(package_copy)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / MANIFEST_FILE).unlink(), "is not a model package"),
        (lambda p: (p / MANIFEST_FILE).write_text("{ not json"), "not valid JSON"),
        (
            lambda p: _edit_manifest(p, format_version=99),
            "format version 99.*update clapsep-studio",
        ),
        (lambda p: _edit_manifest(p, format="something-else"), "not a clapsep model package"),
        (lambda p: _edit_manifest(p, format_version=1), "manifest lists no separator.onnx"),
        (lambda p: (p / "query_text.onnx").unlink(), "query_text.onnx is missing"),
        (
            lambda p: _edit_manifest(p, files={"../x": {"sha256": "0", "bytes": 1}}),
            "manifest lists no",
        ),
    ],
)
def test_broken_packages_get_one_line_errors(package_copy: Path, damage, message: str) -> None:
    damage(package_copy)
    with pytest.raises(UserError, match=message) as caught:
        load_package(package_copy)
    assert "\n" not in str(caught.value)


def test_missing_package_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_package(tmp_path / "nowhere")


def test_separator_reports_the_provider_in_use(mini_package: Path) -> None:
    package = load_package(mini_package)
    cpu = Separator(package, device="cpu", threads=1)
    assert (
        cpu.provider == "CPUExecutionProvider" and cpu.provider_note == "running on CPU (requested)"
    )
    auto = Separator(package)  # this test machine has no GPU
    assert auto.provider == "CPUExecutionProvider" and not auto.fp16
    assert "running on CPU" in auto.provider_note
    with pytest.raises(UserError, match="unknown device"):
        Separator(package, device="quantum")


def test_separator_keeps_shape_and_batch(mini_package: Path) -> None:
    separator = Separator(load_package(mini_package), device="cpu")
    rng = np.random.default_rng(0)
    condition = rng.standard_normal((3, 1024)).astype(np.float32)
    for samples in (513, 8193, 327679):
        mixture = 0.1 * rng.standard_normal((3, samples)).astype(np.float32)
        out = separator.separate(mixture, condition)
        assert out.shape == mixture.shape and out.dtype == np.float32 and np.isfinite(out).all()
        single = separator.separate(mixture[1:2], condition[1:2])
        assert snr_db(single[0], out[1]) > 60  # batching changes only float rounding
    with pytest.raises(ValueError, match="window must hold"):
        separator.separate(np.zeros((1, 512), np.float32), condition[:1])
    with pytest.raises(ValueError, match="expected mixture"):
        separator.separate(np.zeros((2, 1000), np.float32), condition[:1])
    with pytest.raises(ValueError, match="expected mixture"):
        separator.decode(separator.encode(mixture), condition[:1])


def _windows(samples: int) -> np.ndarray:
    """Two different windows of a realistic signal."""
    full = realistic_signal(samples / 32000 + 0.01, 32000)[:samples]
    return np.stack([full, 0.5 * full[::-1]]).astype(np.float32)


def _conditions(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    condition = rng.standard_normal((2, 1024)).astype(np.float32)
    return condition / np.linalg.norm(condition, axis=1, keepdims=True)


def test_split_package_separates_as_torch(mini_package: Path) -> None:
    """`mini_package` is the untrained `mini` source's export (fixed seed)."""
    import torch

    model = load_source("mini").model
    separator = Separator(load_package(mini_package), device="cpu")
    condition = _conditions(1)
    for mixture in (_windows(327679), _windows(100001)):
        with torch.no_grad():
            expected = model(torch.from_numpy(mixture), torch.from_numpy(condition)).numpy()
        got = separator.separate(mixture, condition)
        assert min(snr_db(e, g) for e, g in zip(expected, got, strict=True)) >= 100.0


def test_one_encoding_decodes_under_any_condition(mini_package: Path) -> None:
    separator = Separator(load_package(mini_package), device="cpu")
    mixture, first, second = _windows(48000), _conditions(1), _conditions(2)
    encoded = separator.encode(mixture)
    one, other = separator.decode(encoded, first), separator.decode(encoded, second)
    np.testing.assert_array_equal(one, separator.separate(mixture, first))
    np.testing.assert_array_equal(other, separator.separate(mixture, second))
    assert snr_db(one, other) < 40.0  # the condition does change the result


def test_single_graph_package_renders_as_its_graph(format1_package: Path) -> None:
    """An older format-1 package (one `separator.onnx`) still reads: `separate` and
    `encode`/`decode` both give exactly what that graph gives when run on its own."""
    package = load_package(format1_package)
    assert package.manifest["format_version"] == 1 and not package.has(ENCODER_GRAPH)
    separator = Separator(package, device="cpu", threads=2)
    session, _, _ = open_session(package.file(SEPARATOR_GRAPH), "cpu", threads=2)
    mixture = _windows(40000)
    encoded = separator.encode(mixture)
    for condition in (_conditions(1), _conditions(2)):
        expected = session.run(["separated"], {"mixture": mixture, "condition": condition})[0]
        np.testing.assert_array_equal(separator.separate(mixture, condition), expected)
        np.testing.assert_array_equal(separator.decode(encoded, condition), expected)
    with pytest.raises(UserError, match="no fp16 separator"):
        Separator(package, device="cpu", fp16=True)


@pytest.mark.parametrize("package_dir", ["mini", "bundled", "format1"])
def test_windows_of_digital_silence_separate_to_silence_without_the_network(
    package_dir: str, mini_package: Path, request: pytest.FixtureRequest
) -> None:
    """A mask times a zero spectrum is zero, so silent rows skip the graphs (encoder and
    decoder, or the single graph) and the sounding rows get what they get on their own."""
    chosen = {"mini": mini_package, "bundled": BUNDLED}
    package = load_package(chosen.get(package_dir) or request.getfixturevalue("format1_package"))
    separator = Separator(package, device="cpu", threads=2)
    sounding, condition = _windows(40000), _conditions(1)[:1]
    mixture = np.stack([np.zeros(40000, np.float32), sounding[0], np.zeros(40000, np.float32)])
    mixture = np.concatenate([mixture, sounding[1:]])
    encoded = separator.encode(mixture)
    assert encoded.sounding.tolist() == [False, True, False, True]
    got = separator.decode(encoded, np.repeat(condition, 4, axis=0))
    assert not got[[0, 2]].any()
    alone = separator.separate(sounding, np.repeat(condition, 2, axis=0))
    assert min(snr_db(a, g) for a, g in zip(alone, got[[1, 3]], strict=True)) >= 100.0
    all_silent = separator.encode(np.zeros((2, 40000), np.float32))
    assert all_silent.inputs == {} and not all_silent.sounding.any()
    assert not separator.decode(all_silent, np.repeat(condition, 2, axis=0)).any()
