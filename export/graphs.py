"""The ONNX graphs of a model package, exported with torch's dynamo exporter.

`separator.onnx` is CLAPSep's forward as is (the STFT, ISTFT and 32->48 kHz resampler
are convolutions, so the whole window runs in one graph); batch and window length are
dynamic. The query encoders wrap CLAP's frozen towers: `query_audio.onnx` takes 10 s at
48 kHz (the runtime fits queries first), `query_text.onnx` takes token ids and the
attention mask. Graphs are single files (no external data, all are < 2 GB), opset 18,
and pass `onnx.checker`. The fp16 separator keeps float32 inputs/outputs and keeps the
numerically fragile ops (log-mel, normalisations, the STFT magnitude) in float32. A model
trained with noise heads (NIT) adds `noise.onnx`: the separator's inputs -> the heads'
off-query noise estimate.
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


def _export(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    path: Path,
    inputs: list[str],
    output: str,
    dynamic_shapes: tuple[dict, ...],
) -> None:
    """Dynamo export to one self-contained file, then the ONNX checker.

    `inputs` name the graph's inputs (the package format's names); `dynamic_shapes`
    gives each positional argument's dynamic axes, in the same order.
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
            output_names=[output],
            dynamic_shapes=dynamic_shapes,
            verbose=False,
        )
    onnx.checker.check_model(str(path), full_check=True)


def _export_windowed(module: nn.Module, condition_dim: int, path: Path, output: str) -> None:
    """`(mixture [B, samples], condition [B, condition_dim]) -> [B, samples]`, batch and length
    dynamic."""
    samples = torch.export.Dim("samples", min=MIN_WINDOW_SAMPLES, max=MAX_WINDOW_SAMPLES)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    mixture = 0.1 * torch.randn(2, MAX_WINDOW_SAMPLES)
    condition = nn.functional.normalize(torch.randn(2, condition_dim), dim=-1)
    _export(
        module,
        (mixture, condition),
        path,
        [MIXTURE_INPUT, CONDITION_INPUT],
        output,
        ({0: batch, 1: samples}, {0: batch}),
    )


def export_separator(model: CLAPSep, path: Path) -> None:
    """Any batch of windows, any length from the minimum to the full window.

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
        AUDIO_OUTPUT,
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
        TEXT_OUTPUT,
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
