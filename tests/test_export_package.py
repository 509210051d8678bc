"""Export: package layout, manifest, ONNX checks and torch vs onnxruntime parity."""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from clapsep.errors import UserError
from clapsep.export.commands import register
from clapsep.export.package import load_source, write_package
from clapsep.export.parity import (
    COMPACT_COSINE_THRESHOLD,
    COMPACT_SNR_THRESHOLD_DB,
    COSINE_THRESHOLD,
    SNR_THRESHOLD_DB,
    check_package,
)
from clapsep.host.runtime import Separator, load_package
from clapsep.model.checkpoints import save_model_dir
from clapsep.package_format import MANIFEST_FILE, sha256_file
from clapsep.signals import realistic_signal, snr_db

TWO_GB = 2 * 1024**3
# The encoder/decoder pair computes what torch does, as the single graph did (127 dB on mini).
PAIR_SNR_DB = 100.0
FEATURES = {
    "features_0": ["batch", 4096, 32],
    "features_1": ["batch", 1024, 64],
    "features_2": ["batch", 256, 128],
    "features_3": ["batch", 64, 256],
    "features_4": ["batch", 64, 256],
}  # the mini encoder's grids: patch embedding, then the four stages


@pytest.fixture(scope="session")
def mini_source():
    """The untrained `mini` source; conftest's `mini_package` is exported from an identical one
    (fixed seed, the same built-in captions for its tokenizer)."""
    return load_source("mini")


def test_manifest_describes_the_package(mini_package: Path) -> None:
    manifest = json.loads((mini_package / MANIFEST_FILE).read_text())
    assert manifest["configuration"] == "mini" and manifest["trained"] is False
    assert (manifest["sample_rate"], manifest["query_sample_rate"]) == (32000, 48000)
    assert (manifest["window_samples"], manifest["condition_dim"], manifest["embedding_dim"]) == (
        327679,
        1024,
        512,
    )
    assert manifest["format_version"] == 2 and manifest["separator"]["floor"] == "linear-blend"
    assert manifest["query_encoder"]["kind"] == "clap-htsat-roberta"
    assert {"licence", "provenance", "version", "name"} <= manifest.keys()
    on_disk = {p.name for p in mini_package.iterdir()} - {MANIFEST_FILE}
    assert (
        on_disk
        == set(manifest["files"])
        >= {
            "encoder.onnx",
            "encoder.fp16.onnx",
            "decoder.onnx",
            "decoder.fp16.onnx",
            "query_text.onnx",
            "query_audio.onnx",
            "tokenizer.json",
        }
    )
    assert "separator.onnx" not in manifest["files"]
    for name, entry in manifest["files"].items():
        assert sha256_file(mini_package / name) == entry["sha256"]


def test_manifest_lists_the_encoder_and_decoder(mini_package: Path) -> None:
    separator = json.loads((mini_package / MANIFEST_FILE).read_text())["separator"]
    window = {"mixture": ["batch", "samples"]}
    assert separator["encoder"] == {
        "graph": "encoder.onnx",
        "fp16_graph": "encoder.fp16.onnx",
        "inputs": window,
        "outputs": FEATURES,
    }
    assert separator["decoder"] == {
        "graph": "decoder.onnx",
        "fp16_graph": "decoder.fp16.onnx",
        "inputs": {**window, "condition": ["batch", 1024], **FEATURES},
        "outputs": {"separated": ["batch", "samples"]},
    }
    for entry in (separator["encoder"], separator["decoder"]):  # the graphs say the same
        graph = onnx.load(str(mini_package / entry["graph"]), load_external_data=False).graph
        assert [i.name for i in graph.input] == list(entry["inputs"])
        assert [o.name for o in graph.output] == list(entry["outputs"])


def test_graphs_are_single_checked_files(mini_package: Path) -> None:
    for graph in sorted(mini_package.glob("*.onnx")):
        assert graph.stat().st_size < TWO_GB
        model = onnx.load(str(graph), load_external_data=False)
        assert not any(
            t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer
        )
        assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
        onnx.checker.check_model(str(graph))


def test_mini_parity_torch_vs_onnxruntime(mini_source, mini_package: Path) -> None:
    report = check_package(mini_source.model, mini_package)
    print(f"mini parity: {report}")
    assert report["separator_snr_db"] >= PAIR_SNR_DB
    assert (
        min(report["text_cosine"], report["audio_cosine"], report["condition_cosine"])
        >= COSINE_THRESHOLD
    )


def test_fp16_separator_tracks_fp32(mini_package: Path) -> None:
    package = load_package(mini_package)
    mixture = realistic_signal(10.23, 32000)[None, : package.window_samples]
    condition = np.random.default_rng(3).standard_normal((1, 1024)).astype(np.float32)
    condition /= np.linalg.norm(condition)
    full = Separator(package, device="cpu", fp16=False).separate(mixture, condition)
    half = Separator(package, device="cpu", fp16=True)
    assert half.fp16
    assert snr_db(full[0], half.separate(mixture, condition)[0]) >= 30.0


def test_compact_package_keeps_its_parity(mini_source, tmp_path: Path) -> None:
    out = write_package(mini_source, tmp_path / "compact", fp16=False, compact=True)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert {"encoder.onnx", "decoder.onnx", "query_audio.onnx", "query_text.onnx"} == set(
        manifest["storage"]
    )
    assert "fp16_graph" not in manifest["separator"]["encoder"]
    report = check_package(mini_source.model, out)
    print(f"mini compact parity: {report}")
    assert report["passed"] and report["separator_snr_db"] >= COMPACT_SNR_THRESHOLD_DB
    assert report["condition_cosine"] >= COMPACT_COSINE_THRESHOLD


def test_export_refuses_a_non_empty_folder(mini_source, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        write_package(mini_source, tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_official_parity_torch_vs_onnxruntime(tmp_path: Path) -> None:
    started = time.perf_counter()
    source = load_source("official")
    write_package(source, tmp_path / "official", fp16=False)
    exported = time.perf_counter()
    report = check_package(source.model, tmp_path / "official")
    print(
        f"official parity: {report}; export {exported - started:.0f} s, "
        f"check {time.perf_counter() - exported:.0f} s"
    )
    assert report["separator_snr_db"] >= SNR_THRESHOLD_DB
    assert (
        min(report["text_cosine"], report["audio_cosine"], report["condition_cosine"])
        >= COSINE_THRESHOLD
    )


def test_export_command_checks_the_folder_first(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    (tmp_path / "keep.txt").write_text("mine")
    args = parser.parse_args(["export", "--config", "mini", "--out", str(tmp_path)])
    started = time.perf_counter()
    with pytest.raises(UserError, match="not empty"):
        args.run(args)
    assert time.perf_counter() - started < 1.0  # before building or exporting anything


def test_load_source_reads_a_model_directory(mini_source, tmp_path: Path) -> None:
    model = mini_source.model
    save_model_dir(
        tmp_path / "model",
        model.config,
        model.state_dict(),
        mini_source.tokenizer.to_str(),
        {"source": "unit test"},
    )
    source = load_source("mini", tmp_path / "model")
    assert source.trained and source.provenance["model_dir"] == {"source": "unit test"}
    assert source.tokenizer.to_str() == mini_source.tokenizer.to_str()
    name, value = next(iter(model.state_dict().items()))
    assert torch.equal(source.model.state_dict()[name], value)
    with pytest.raises(UserError, match="not 'official'"):
        load_source("official", tmp_path / "model")
    with pytest.raises(UserError, match="not found"):
        load_source("mini", tmp_path / "missing.safetensors")


def test_swin_block_exported_at_batch_2_is_exact_at_batch_1(tmp_path: Path) -> None:
    """laion's window_reverse burnt the example batch into a reshape; the runtime runs batch 1."""
    import onnxruntime as ort

    from clapsep.model._laion import SwinTransformerBlock

    torch.manual_seed(0)
    block = SwinTransformerBlock(
        dim=32, input_resolution=(16, 16), num_heads=2, window_size=8
    ).eval()
    batch = torch.export.Dim("batch", min=1, max=8)
    with torch.no_grad():
        torch.onnx.export(
            block,
            (torch.randn(2, 256, 32),),
            str(tmp_path / "block.onnx"),
            dynamo=True,
            input_names=["x"],
            dynamic_shapes={"x": {0: batch}},
            verbose=False,
        )
        x = torch.randn(1, 256, 32)
        expected = block(x)[0].numpy()
    session = ort.InferenceSession(str(tmp_path / "block.onnx"), providers=["CPUExecutionProvider"])
    assert snr_db(expected, session.run(None, {"x": x.numpy()})[0]) > SNR_THRESHOLD_DB
