"""Published-format mixture lists round-trip; `clapsep eval` runs a model directory and a
package."""

import json

import numpy as np
import pytest
import soundfile as sf

from clapsep.model.evaluation.mixtures import (
    MixtureItem,
    read_mixture_csv,
    render,
    write_mixture_csv,
)

# The first rows of the authors' metadata/evaluation/esc_eval.csv (published format, 0 dB).
PUBLISHED = """source_file,positive_caption,noise_file,negative_caption
4-218199-F-35.wav,the sound of washing machine,5-223103-A-31.wav,the sound of mouse click
4-218199-F-35.wav,the sound of washing machine,4-196671-A-8.wav,the sound of sheep
Y7fmOlUlwoNg.wav,Constant rattling noise and sharp vibrations,YbmEF-c-M174.wav,\
"A duck quacks, a bird chirps twice"
"""


def test_published_csv_round_trip_is_byte_identical(tmp_path):
    (tmp_path / "esc.csv").write_text(PUBLISHED)
    items = read_mixture_csv(tmp_path / "esc.csv")
    assert items[0] == MixtureItem(
        "4-218199-F-35.wav",
        "the sound of washing machine",
        "5-223103-A-31.wav",
        "the sound of mouse click",
        0.0,
        None,
    )
    assert items[2].negative == "A duck quacks, a bird chirps twice"
    write_mixture_csv(tmp_path / "again.csv", items)
    assert (tmp_path / "again.csv").read_text() == PUBLISHED


def test_extended_columns_round_trip(tmp_path):
    items = [
        MixtureItem("a.wav", "a dog", "b.wav", None, -5.0, "dog"),
        MixtureItem("c.wav", "rain", "d.wav", "wind", 2.5),
    ]
    write_mixture_csv(tmp_path / "x.csv", items)
    assert (tmp_path / "x.csv").read_text().splitlines()[0].endswith(",snr_db,class")
    assert read_mixture_csv(tmp_path / "x.csv") == items


def test_render_mixes_at_the_item_snr(tmp_path):
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "s.wav", 0.1 * rng.standard_normal(16000).astype(np.float32), 32000)
    sf.write(tmp_path / "n.wav", 0.1 * rng.standard_normal(40000).astype(np.float32), 32000)
    mixture, target = render(MixtureItem("s.wav", "q", "n.wav", snr_db=-3.0), tmp_path, seconds=1.0)
    assert len(mixture) == len(target) == 32000 and np.all(
        target[16000:] == 0
    )  # zero-padded as published
    noise = mixture - target
    assert 10 * np.log10(np.sum(target**2) / np.sum(noise**2)) == pytest.approx(-3.0, abs=1e-3)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from clapsep.model.checkpoints import save_model_dir
    from clapsep.model.configs import CONFIGS
    from clapsep.model.separator import build_model
    from clapsep.model.tokenizer import train_bpe_tokenizer

    out = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    model = build_model("mini")
    tokenizer = train_bpe_tokenizer(["a steady tone", "a burst of noise"] * 10, vocab_size=300)
    save_model_dir(out, CONFIGS["mini"], model.state_dict(), tokenizer.to_str(), {"source": "test"})
    return out


def test_eval_command_on_a_model_directory(tmp_path, tiny_model_dir):
    from clapsep.host.cli import main
    from clapsep.model.data.synthetic import write_synthetic_corpus

    write_synthetic_corpus(
        tmp_path / "audio", per_family=2, seconds=1.0, families=("tone", "noise")
    )
    sf.write(tmp_path / "audio" / "silence.wav", np.zeros(32000, np.float32), 32000)
    items = [
        MixtureItem(
            "clips/tone-000.wav",
            "a steady tone",
            "clips/noise-000.wav",
            "a burst of noise",
            0.0,
            "tone",
        ),
        MixtureItem("silence.wav", "a steady tone", "clips/noise-001.wav", None, 0.0, "tone"),
    ]
    write_mixture_csv(tmp_path / "mix.csv", items)
    code = main(
        [
            "eval",
            "--model",
            str(tiny_model_dir),
            "--mixtures",
            str(tmp_path / "mix.csv"),
            "--audio-root",
            str(tmp_path / "audio"),
            "--out",
            str(tmp_path / "res"),
            "--seconds",
            "1",
            "--quiet",
            "--queries",
            "text-pn,audio-1",
        ]
    )  # audio shots from the corpus's clips.csv, on torch
    assert code == 0
    result = json.loads((tmp_path / "res" / "results.json").read_text())
    first, first_audio, silent, _ = result["items"]
    assert {"SDRi", "SDRi-bss", "SI-SDRi"} <= set(first) and all(
        np.isfinite(first[k]) for k in ("SDRi", "SDRi-bss", "SI-SDRi")
    )
    assert first_audio["shot_files"][0].endswith("tone-001.wav") and np.isfinite(
        first_audio["SI-SDRi"]
    )
    assert silent["silent_reference"] and silent["SDRi"] is None
    for mode in ("text-pn", "audio-1"):
        assert (
            result["summary"][mode]["SDRi"]["n"] == 1
            and result["summary"][mode]["SDRi"]["silent"] == 1
        )
    assert "| SDRi-bss |" in (tmp_path / "res" / "results.md").read_text()


@pytest.mark.slow
def test_onnx_package_and_torch_score_alike(tmp_path, tmp_path_factory):
    """What is measured is what users run: the package's numbers match the torch model's."""
    pytest.importorskip("torch")
    from clapsep.export.package import ensure_untrained_package, load_source
    from clapsep.model.checkpoints import save_model_dir
    from clapsep.model.data.synthetic import write_synthetic_corpus
    from clapsep.model.evaluation.backends import OnnxBackend, TorchBackend, open_backend
    from clapsep.model.evaluation.runner import evaluate

    source = load_source("mini")  # the seeded untrained model the shared test package holds
    package = ensure_untrained_package(
        "mini", tmp_path_factory.getbasetemp() / "mini-package", source
    )
    save_model_dir(
        tmp_path / "torch",
        source.model.config,
        source.model.state_dict(),
        source.tokenizer.to_str(),
        {},
    )
    write_synthetic_corpus(
        tmp_path / "audio", per_family=1, seconds=1.0, families=("tone", "noise")
    )
    items = [
        MixtureItem(
            "clips/tone-000.wav", "a steady tone", "clips/noise-000.wav", "a burst of noise"
        )
    ]
    onnx, torch_backend = open_backend(package), open_backend(tmp_path / "torch")
    assert isinstance(onnx, OnnxBackend) and isinstance(torch_backend, TorchBackend)
    a = evaluate(onnx, items, tmp_path / "audio", seconds=1.0)[0]
    b = evaluate(torch_backend, items, tmp_path / "audio", seconds=1.0)[0]
    for name in ("SDRi", "SDRi-bss", "SI-SDRi"):
        assert a[name] == pytest.approx(b[name], abs=0.01)
