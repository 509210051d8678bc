"""Build a model package: load (or not) weights, export the graphs, write the manifest.

The package is written in a hidden folder beside its destination and renamed into place
when whole; its manifest, written last, holds the size and sha256 of every file, so a
package that is half-copied later is refused by the runtime instead of running.
An export without weights is an untrained model (for benchmarks and tests); the
manifest and the command both say so. Configurations without a tokenizer of their own
(`mini`, untrained exports) get a small byte-level BPE trained on the captions below.
A model directory from a `nit` run carries its noise heads (`noise_heads.safetensors`);
they become `noise.onnx`, the "off-query noise" stem, listed in the manifest under
`noise` (absent otherwise). The separator is written as the encoder/decoder pair of
format 2 (`graphs`); the runtime still reads format-1 packages of one separator graph.
"""

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from clapsep.errors import UserError
from clapsep.export import graphs
from clapsep.files import replacing
from clapsep.host.runtime.package import load_package
from clapsep.model.checkpoints import (
    CheckpointError,
    load_checkpoint,
    load_model_dir,
    state_dict_of,
)
from clapsep.model.configs import MAX_WINDOW_SAMPLES, QUERY_RATE, QUERY_SAMPLES, SEPARATION_RATE
from clapsep.model.noise import NoiseHeads, OffQueryNoise
from clapsep.model.separator import MIN_WINDOW_SAMPLES, CLAPSep, build_model
from clapsep.model.tokenizer import train_bpe_tokenizer
from clapsep.package_format import (
    AUDIO_GRAPH,
    CONDITION_INPUT,
    DECODER_FP16_GRAPH,
    DECODER_GRAPH,
    ENCODER_FP16_GRAPH,
    ENCODER_GRAPH,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_FILE,
    MIXTURE_INPUT,
    NOISE_GRAPH,
    NOISE_OUTPUT,
    SEPARATED_OUTPUT,
    TEXT_GRAPH,
    TOKENIZER_FILE,
    package_digest,
    sha256_file,
)

BPE_VOCAB = 1024
UNTRAINED_SEED = 0
CAPTIONS = (
    "a dog barks in the distance",
    "a man speaks while birds chirp",
    "rain falls on a tin roof",
    "a car engine idles and then accelerates",
    "a woman sings with an acoustic guitar",
    "applause and cheering from a crowd",
    "a telephone rings twice",
    "wind blows through trees",
    "footsteps on a wooden floor",
    "a baby cries while music plays",
    "water running from a tap",
    "a siren wails as traffic passes",
    "piano notes over soft background noise",
    "a cat meows and a door closes",
    "thunder rumbles during heavy rain",
    "a drum beat with bass",
    "people talking in a busy restaurant",
    "a helicopter flies overhead",
    "keyboard typing",
    "an electric guitar solo",
    "ocean waves crash on the shore",
    "a clock ticks loudly",
    "children laughing and playing outside",
    "a train horn and rails clattering",
    "violin and cello playing a slow melody",
    "hammering and a power drill",
    "a crow caws",
)
LICENCES = {
    "project": "GPL-3.0-or-later (clapsep-studio export code)",
    "weights": "untrained random initialisation: no third-party weights",
}


@dataclass
class ExportSource:
    """A model ready to export, with its tokenizer and where its weights came from."""

    model: CLAPSep
    tokenizer: Tokenizer
    trained: bool
    provenance: dict[str, Any]
    noise: OffQueryNoise | None = (
        None  # the NIT noise heads on `model`, when it was trained with them
    )


def _caption_tokenizer(max_length: int) -> Tokenizer:
    return train_bpe_tokenizer(CAPTIONS, vocab_size=BPE_VOCAB, max_length=max_length)


def _load_model(config: str, weights: Path | None) -> CLAPSep:
    if weights is None:
        with torch.random.fork_rng():  # the same untrained model every time, caller's RNG untouched
            torch.manual_seed(UNTRAINED_SEED)
            return build_model(config)
    try:
        if weights.is_dir():
            model = load_model_dir(weights)
            if model.config.name != config:
                raise UserError(f"{weights} holds a {model.config.name!r} model, not {config!r}")
            return model
        model = build_model(config)
        model.load_state_dict(state_dict_of(load_checkpoint(weights)), strict=True)
        return model
    except (CheckpointError, ValueError, RuntimeError) as exc:
        raise UserError(str(exc).splitlines()[0]) from None


def _load_noise(model: CLAPSep, weights: Path | None) -> OffQueryNoise | None:
    """The noise heads saved beside a model directory's weights (a `nit` run), if any."""
    if weights is None or not weights.is_dir():
        return None
    try:
        heads = NoiseHeads.from_model_dir(weights, model)
    except (CheckpointError, ValueError, RuntimeError) as exc:
        raise UserError(
            f"{weights}: cannot load the noise heads: {str(exc).splitlines()[0]}"
        ) from None
    return OffQueryNoise(model, heads).eval() if heads is not None else None


def load_source(
    config: str, weights: Path | None = None, tokenizer: Path | None = None
) -> ExportSource:
    """The model of `config` with `weights` (a model directory or a state-dict file), or untrained.

    A model directory with noise heads beside its weights also yields their off-query noise.
    """
    weights = Path(weights) if weights is not None else None
    model = _load_model(config, weights)
    noise = _load_noise(model, weights)
    tok = Tokenizer.from_file(str(tokenizer)) if tokenizer is not None else model.tokenizer
    provenance: dict[str, Any] = {"weights": weights.name if weights else None}
    if weights is not None and weights.is_dir():
        meta = json.loads((weights / "config.json").read_text())
        provenance["model_dir"] = meta.get("provenance", {})
    if tok is None:
        if weights is not None and config != "mini":
            raise UserError(
                f"{config} weights need their tokenizer: pass --tokenizer tokenizer.json"
            )
        tok = _caption_tokenizer(model.config.text.max_length)
        provenance["tokenizer"] = (
            f"byte-level BPE ({BPE_VOCAB}) trained on {len(CAPTIONS)} built-in captions"
        )
    if tok.get_vocab_size() > model.config.text.vocab_size:
        raise UserError(
            f"tokenizer has {tok.get_vocab_size()} tokens; the {config} text model takes "
            f"{model.config.text.vocab_size}"
        )
    model.tokenizer = tok  # the torch side tokenises exactly as the package will
    if noise is not None:
        provenance["noise_heads"] = len(noise.heads.proj)
    return ExportSource(model.eval(), tok, weights is not None, provenance, noise)


def _manifest(
    source: ExportSource,
    name: str,
    package_version: str,
    separator: dict[str, Any],
    files: dict[str, Any],
) -> dict[str, Any]:
    cfg = source.model.config
    try:
        tool = version("clapsep-studio")
    except PackageNotFoundError:
        tool = "unknown"
    licence = dict(LICENCES)
    if source.trained:
        licence["weights"] = (
            "see provenance: converted releases inherit the CLAPSep and LAION-CLAP "
            "licences; project-trained weights follow their training data's terms"
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": package_version,
        "configuration": cfg.name,
        "model_config": cfg.to_dict(),
        "trained": source.trained,
        "sample_rate": SEPARATION_RATE,
        "query_sample_rate": QUERY_RATE,
        "window_samples": MAX_WINDOW_SAMPLES,
        "min_window_samples": MIN_WINDOW_SAMPLES,
        "query_samples": QUERY_SAMPLES,
        "embedding_dim": cfg.embedding_dim,
        "condition_dim": cfg.condition_dim,
        "separator": separator,
        "query_encoder": {
            "kind": "clap-htsat-roberta",
            "audio_graph": AUDIO_GRAPH,
            "text_graph": TEXT_GRAPH,
            "tokenizer": TOKENIZER_FILE,
            "max_tokens": cfg.text.max_length,
            "audio_fit": "repeat-pad then zero-pad, or centre-crop, to query_samples",
            "condition": "normalize(concat(positive or zeros, negative or zeros))",
        },
        **({"noise": _noise_entry(source.noise)} if source.noise is not None else {}),
        "opset": graphs.OPSET,
        "exporter": f"torch.onnx dynamo (torch {torch.__version__})",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licence": licence,
        "provenance": {"tool": f"clapsep-studio {tool}", **source.provenance},
        "digest": package_digest(files),
        "files": files,
    }


def _window_inputs(condition_dim: int) -> dict[str, Any]:
    """The inputs of a graph `graphs._export_windowed` wrote (the runtime reads the batch axis
    here)."""
    return {
        "inputs": {MIXTURE_INPUT: ["batch", "samples"], CONDITION_INPUT: ["batch", condition_dim]},
        "batch": "dynamic: a batch of windows per run",
    }


def _separator_entry(folder: Path, model: CLAPSep, fp16: bool) -> dict[str, Any]:
    """The encoder and decoder graphs with their tensors; the feature grids' shapes are read
    from the encoder graph as written."""
    features = graphs.graph_shapes(folder / ENCODER_GRAPH, graphs.feature_names(model))
    window = {MIXTURE_INPUT: ["batch", "samples"]}
    condition = {CONDITION_INPUT: ["batch", model.config.condition_dim]}
    encoder = {"graph": ENCODER_GRAPH, "inputs": window, "outputs": features}
    decoder = {
        "graph": DECODER_GRAPH,
        "inputs": {**window, **condition, **features},
        "outputs": {SEPARATED_OUTPUT: ["batch", "samples"]},
    }
    if fp16:
        encoder["fp16_graph"] = ENCODER_FP16_GRAPH
        decoder["fp16_graph"] = DECODER_FP16_GRAPH
    return {
        "encoder": encoder,
        "decoder": decoder,
        "batch": "dynamic: a batch of windows per run",
        "rule": "encode each window once (query-independent), decode it once per condition",
        "floor": "linear-blend",
        "floor_rule": "target' = f*x + (1-f)*target, f = 10^(-dB/20); residual = x - target'",
    }


def _noise_entry(noise: OffQueryNoise) -> dict[str, Any]:
    return {
        "graph": NOISE_GRAPH,
        **_window_inputs(noise.model.config.condition_dim),
        "outputs": [NOISE_OUTPUT],
        "heads": len(noise.heads.proj),
        "rule": "off-query noise: the mixture under min(1, sum of the noise heads' masks), "
        "the heads conditioned on the mixture and the query's condition; "
        "not part of target + residual",
    }


def check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse to replace a non-empty folder unless asked (checked before the slow export)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise UserError(f"{out} exists and is not empty (use --overwrite)")


_FP16_WEIGHTS = "float16 weights, float32 arithmetic"
COMPACT_STORAGE = {
    ENCODER_GRAPH: _FP16_WEIGHTS,
    DECODER_GRAPH: _FP16_WEIGHTS,
    AUDIO_GRAPH: _FP16_WEIGHTS,
    TEXT_GRAPH: "int8 token table, float16 weights, float32 arithmetic",
}


def compact_graphs(out: Path) -> dict[str, str]:
    """Shrink the package's graphs on disk (about 40 % of float32) for shipping in the repo."""
    graphs.quantize_lookup_tables_int8(out / TEXT_GRAPH)
    storage = dict(COMPACT_STORAGE)
    if (out / NOISE_GRAPH).is_file():
        storage[NOISE_GRAPH] = _FP16_WEIGHTS
    for name in storage:
        graphs.compact_graph(out / name)
    return storage


def write_package(
    source: ExportSource,
    out: Path,
    name: str | None = None,
    package_version: str = "0.1.0",
    fp16: bool = True,
    overwrite: bool = False,
    compact: bool = False,
) -> Path:
    """Export every graph of `source` into the folder `out` and seal it with the manifest.

    The package is built in a hidden folder beside `out` and renamed into place when
    complete, so an existing package stays whole until its replacement is ready.
    `compact` stores weights in float16 (and the text token table in int8) while keeping
    float32 arithmetic: the bundled model ships this way to stay small.
    """
    out = Path(out)
    check_out_dir(out, overwrite)
    with replacing(out) as folder:
        folder.mkdir()
        _export_graphs(source, folder, fp16)
        storage = compact_graphs(folder) if compact else None
        (folder / TOKENIZER_FILE).write_text(source.tokenizer.to_str(), encoding="utf-8")
        files = {
            p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(folder.iterdir())
            if p.is_file()
        }
        manifest = _manifest(
            source,
            name or f"clapsep-{source.model.config.name}",
            package_version,
            _separator_entry(folder, source.model, fp16),
            files,
        )
        if storage:
            manifest["storage"] = storage
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)  # empty, or `overwrite`: check_out_dir said so
    return out


def _export_graphs(source: ExportSource, folder: Path, fp16: bool) -> None:
    model = source.model
    graphs.export_encoder(model, folder / ENCODER_GRAPH)
    graphs.export_decoder(model, folder / DECODER_GRAPH)
    if fp16:
        graphs.convert_fp16(folder / ENCODER_GRAPH, folder / ENCODER_FP16_GRAPH)
        graphs.convert_fp16(folder / DECODER_GRAPH, folder / DECODER_FP16_GRAPH)
    graphs.export_audio_query(model, folder / AUDIO_GRAPH)
    graphs.export_text_query(model, folder / TEXT_GRAPH)
    if source.noise is not None:
        graphs.export_noise(source.noise, model.config.condition_dim, folder / NOISE_GRAPH)


def ensure_untrained_package(config: str, out: Path, source: ExportSource | None = None) -> Path:
    """An untrained package of `config` at `out`, exported only if not already there in the
    current format (tests, bench)."""
    try:
        manifest = load_package(out).manifest
        if (
            manifest["configuration"] == config
            and not manifest["trained"]
            and manifest["format_version"] == FORMAT_VERSION
        ):
            return Path(out)
    except UserError:
        pass
    return write_package(source or load_source(config), out, overwrite=True)
