"""The ONNX graphs of a model package, exported with torch's dynamo exporter.

CLAPSep's forward is two graphs (the STFT, ISTFT and 32->48 kHz resampler are
convolutions, so each runs whole in onnxruntime): `encoder.onnx` takes the mixture to
the LoRA encoder's feature grids, which do not depend on the query, so a window is
encoded once for any number of queries; `decoder.onnx` takes those grids, the mixture
(its STFT is recomputed there: cheap, and the mixture fixes the output length) and the
condition to the separated window. Batch and window length are dynamic. `separator.onnx`,
the forward in one graph, is what format-1 packages hold (weight recovery re-exports
it to read them). The query encoders wrap CLAP's frozen towers: `query_audio.onnx` takes 10 s at
48 kHz (the runtime fits queries first), `query_text.onnx` takes token ids and the
attention mask. Graphs are single files (no external data, all are < 2 GB), opset 18,
and pass `onnx.checker`. The fp16 separator keeps float32 inputs/outputs and keeps the
numerically fragile ops (log-mel, normalisations, the STFT magnitude) in float32; so do
the fp16 encoder and decoder, whose feature grids therefore pass between them as float32.
A model trained with noise heads (NIT) adds `noise.onnx`: the separator's inputs -> the
heads' off-query noise estimate.
"""

import logging
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from clapsep.files import replacing
from clapsep.model.configs import MAX_WINDOW_SAMPLES, QUERY_SAMPLES
from clapsep.model.separator import MIN_WINDOW_SAMPLES, CLAPSep
from clapsep.package_format import (
    ATTENTION_MASK_INPUT,
    AUDIO_INPUT,
    AUDIO_OUTPUT,
    CONDITION_INPUT,
    FEATURES_OUTPUT_PREFIX,
    MIXTURE_INPUT,
    NOISE_OUTPUT,
    SEPARATED_OUTPUT,
    TEXT_OUTPUT,
    TOKEN_IDS_INPUT,
)

OPSET = 18
MAX_BATCH = 64  # windows per separator run (the runtime sends at most its batch size)
# Ops whose float16 range or precision would change the result audibly.
_FP32_OPS = [
    "Log",
    "Pow",
    "Sqrt",
    "ReduceMean",
    "LayerNormalization",
    "BatchNormalization",
    "Div",
    "Softmax",
    "Sigmoid",
    "Reciprocal",
    "Resize",
]


class AudioQueryGraph(nn.Module):
    """48 kHz audio [B, 480000] -> CLAP audio embedding [B, 512] (L2-normalised)."""

    def __init__(self, model: CLAPSep) -> None:
        super().__init__()
        self.clap = model.clap

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.clap.audio_embedding(audio)


class TextQueryGraph(nn.Module):
    """Token ids and attention mask [B, 77] -> CLAP text embedding [B, 512] (L2-normalised)."""

    def __init__(self, model: CLAPSep) -> None:
        super().__init__()
        self.clap = model.clap

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.clap.text_embedding(input_ids, attention_mask)


class EncoderGraph(nn.Module):
    """Mixture [B, samples] @ 32 kHz -> the encoder's feature grids, each [B, tokens, channels]."""

    def __init__(self, model: CLAPSep) -> None:
        super().__init__()
        self.model = model

    def forward(self, mixture: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.model.features(mixture)


class DecoderGraph(nn.Module):
    """(mixture [B, samples], condition [B, C], feature grids...) -> separated [B, samples].

    The rest of `CLAPSep.forward` after `CLAPSep.features`, the same operations in the same
    order, so encoder then decoder computes what the single graph does.
    """

    def __init__(self, model: CLAPSep) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, mixture: torch.Tensor, condition: torch.Tensor, *features: torch.Tensor
    ) -> torch.Tensor:
        encoded = self.model.with_spectrum(mixture, features)
        return self.model.synthesize(encoded, self.model.decode_mask(encoded, condition))


def feature_names(model: CLAPSep) -> list[str]:
    """The encoder graph's output names: one per feature grid (patch embedding, then stages)."""
    levels = len(model.config.audio.depths) + 1
    return [f"{FEATURES_OUTPUT_PREFIX}{level}" for level in range(levels)]


def _export(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    path: Path,
    inputs: list[str],
    outputs: list[str],
    dynamic_shapes: tuple[dict, ...],
) -> None:
    """Dynamo export to one self-contained file, then the ONNX checker.

    `inputs` and `outputs` name the graph's tensors (the package format's names);
    `dynamic_shapes` gives each positional argument's dynamic axes, in the same order.
    """
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(
            module.eval(),
            args,
            str(path),
            dynamo=True,
            external_data=False,
            opset_version=OPSET,
            input_names=inputs,
            output_names=outputs,
            dynamic_shapes=dynamic_shapes,
            verbose=False,
        )
    onnx.checker.check_model(str(path), full_check=True)


def _window_axes() -> tuple[torch.export.Dim, torch.export.Dim]:
    """The dynamic axes of a batch of windows: (batch, samples)."""
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    samples = torch.export.Dim("samples", min=MIN_WINDOW_SAMPLES, max=MAX_WINDOW_SAMPLES)
    return batch, samples


def _example_windows(condition_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two full windows and their conditions to trace with."""
    mixture = 0.1 * torch.randn(2, MAX_WINDOW_SAMPLES)
    return mixture, nn.functional.normalize(torch.randn(2, condition_dim), dim=-1)


def _export_windowed(module: nn.Module, condition_dim: int, path: Path, output: str) -> None:
    """`(mixture [B, samples], condition [B, condition_dim]) -> [B, samples]`, batch and length
    dynamic."""
    batch, samples = _window_axes()
    _export(
        module,
        _example_windows(condition_dim),
        path,
        [MIXTURE_INPUT, CONDITION_INPUT],
        [output],
        ({0: batch, 1: samples}, {0: batch}),
    )


def export_encoder(model: CLAPSep, path: Path) -> None:
    """`mixture [B, samples] -> feature grids`; the grids' shapes do not depend on the length
    (the mel axis is padded to 1024 frames)."""
    batch, samples = _window_axes()
    mixture, _ = _example_windows(model.config.condition_dim)
    _export(
        EncoderGraph(model),
        (mixture,),
        path,
        [MIXTURE_INPUT],
        feature_names(model),
        ({0: batch, 1: samples},),
    )


def export_decoder(model: CLAPSep, path: Path) -> None:
    """`(mixture, condition, feature grids...) -> separated [B, samples]`, batch and length
    dynamic; the grids to trace with are the example windows' own."""
    batch, samples = _window_axes()
    mixture, condition = _example_windows(model.config.condition_dim)
    with torch.no_grad():
        features = model.features(mixture)
    names = feature_names(model)
    _export(
        DecoderGraph(model),
        (mixture, condition, *features),
        path,
        [MIXTURE_INPUT, CONDITION_INPUT, *names],
        [SEPARATED_OUTPUT],
        # torch.export sees `*features` as one argument: a tuple of grids.
        ({0: batch, 1: samples}, {0: batch}, tuple({0: batch} for _ in names)),
    )


def graph_shapes(path: Path, names: list[str]) -> dict[str, list[int | str]]:
    """The shapes of a graph's inputs or outputs `names` as written, a dynamic axis by name."""
    graph = onnx.load(str(path), load_external_data=False).graph
    values = {value.name: value for value in [*graph.input, *graph.output]}
    return {
        name: [d.dim_param or d.dim_value for d in values[name].type.tensor_type.shape.dim]
        for name in names
    }


def export_separator(model: CLAPSep, path: Path) -> None:
    """The format-1 single graph: any batch of windows, any length from the minimum to the
    full window.

    (The batch axis used to cost parity, 51-56 dB for `official`: laion's window_reverse
    burnt the example batch into a reshape; `model._laion` replaces it, and a batch of
    windows now matches torch as closely as one window does.)
    """
    _export_windowed(model, model.config.condition_dim, path, SEPARATED_OUTPUT)


def export_noise(noise: nn.Module, condition_dim: int, path: Path) -> None:
    """The off-query noise (`model.noise.OffQueryNoise`): the separator's inputs and windows."""
    _export_windowed(noise, condition_dim, path, NOISE_OUTPUT)


def export_audio_query(model: CLAPSep, path: Path) -> None:
    batch = torch.export.Dim("batch", min=1, max=64)
    _export(
        AudioQueryGraph(model),
        (0.1 * torch.randn(2, QUERY_SAMPLES),),
        path,
        [AUDIO_INPUT],
        [AUDIO_OUTPUT],
        ({0: batch},),
    )


def export_text_query(model: CLAPSep, path: Path) -> None:
    batch = torch.export.Dim("batch", min=1, max=64)
    length = model.config.text.max_length
    ids = torch.randint(4, 200, (2, length))
    mask = torch.ones(2, length, dtype=torch.long)
    mask[1, length // 2 :] = 0
    _export(
        TextQueryGraph(model),
        (ids, mask),
        path,
        [TOKEN_IDS_INPUT, ATTENTION_MASK_INPUT],
        [TEXT_OUTPUT],
        ({0: batch}, {0: batch}),
    )


def convert_fp16(source: Path, target: Path) -> None:
    """A float16 copy of a graph for GPUs, float32 at its inputs/outputs and fragile ops."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(source))
    half = convert_float_to_float16(model, keep_io_types=True, op_block_list=_FP32_OPS)
    _repair(half.graph)
    del half.graph.value_info[:]  # stale dtype hints; the checker re-infers every type
    onnx.save_model(half, str(target))
    onnx.checker.check_model(str(target), full_check=True)


def _repair(graph: onnx.GraphProto) -> None:
    """Undo two slips of onnxruntime's fp16 converter on dynamo graphs.

    A value feeding two blocked ops gets two identical Casts with one output name, and
    the Casts are appended after their users; keep one of each and sort the nodes
    (Kahn's algorithm) so each runs after the producers of its inputs.
    """
    seen: set[str] = set()
    nodes = []
    for node in graph.node:
        if node.op_type == "Cast" and node.output[0] in seen:
            continue
        seen.update(node.output)
        nodes.append(node)
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}
    waiting = [0] * len(nodes)
    users: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        for name in set(node.input):
            if name in producer:
                waiting[i] += 1
                users.setdefault(producer[name], []).append(i)
    queue = [i for i, count in enumerate(waiting) if count == 0]
    for i in queue:  # the queue grows while we walk it
        for user in users.get(i, []):
            waiting[user] -= 1
            if waiting[user] == 0:
                queue.append(user)
    if len(queue) != len(nodes):
        raise ValueError("graph has a cycle")
    del graph.node[:]
    graph.node.extend(nodes[i] for i in queue)


def compact_graph(path: Path) -> None:
    """Shrink a graph on disk in place: float16-stored weights, no exporter annotations."""
    model = onnx.load(str(path))
    _store_weights_fp16(model.graph)
    _strip_annotations(model.graph)
    onnx.save_model(model, str(path))
    onnx.checker.check_model(str(path), full_check=True)


def _store_weights_fp16(graph: onnx.GraphProto, min_elements: int = 16) -> None:
    """Large float32 weights stored as float16, each cast back by a node at the graph's start.

    Arithmetic stays float32 (onnxruntime folds the Casts into float32 constants when
    the session starts), so only the weights' rounding to float16 changes the result.
    """
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or _elements(init) < min_elements:
            continue
        name = init.name
        half = onnx.numpy_helper.from_array(
            onnx.numpy_helper.to_array(init).astype("float16"), f"{name}__fp16"
        )
        init.CopyFrom(half)
        casts.append(
            onnx.helper.make_node(
                "Cast", [half.name], [name], to=onnx.TensorProto.FLOAT, name=f"{name}__to_fp32"
            )
        )
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def _strip_annotations(graph: onnx.GraphProto) -> None:
    """Drop what the exporter annotates nodes with (source locations, stack traces) and the
    shape hints: about 7 % of a graph's bytes, none of which onnxruntime reads."""
    for node in graph.node:
        node.doc_string = ""
        del node.metadata_props[:]
    del graph.value_info[:]


def quantize_lookup_tables_int8(path: Path) -> None:
    """Store a graph's lookup tables (Gather data) as int8, in place.

    For the text tower, whose 30k-token embedding table is half its size. Only tables:
    int8 matrix products moved text embeddings to cosine 0.97 of float32, int8 tables
    alone keep them at >= 0.9995 (measured on the corpus captions).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(path))
    del model.graph.value_info[:]  # the exporter's shape hints trip the quantiser's re-inference
    onnx.save_model(model, str(path))
    with replacing(path) as quantized:
        quantize_dynamic(
            str(path), str(quantized), weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"]
        )
    onnx.checker.check_model(str(path), full_check=True)


def _elements(init: onnx.TensorProto) -> int:
    count = 1
    for dim in init.dims:
        count *= dim
    return count
