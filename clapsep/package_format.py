"""The names a model package is made of and how it is sealed: what export writes, the host reads.

One leaf both sides import, so the writer (`clapsep.export`) and the reader
(`clapsep.host.runtime`) cannot drift apart, and neither has to import the other
to agree on a file or tensor name or on the checksums the manifest carries.
"""

import hashlib
from pathlib import Path
from typing import Any

FORMAT = "clapsep-model-package"
# Version 2 splits the separator into an encoder and a decoder graph; version 1 packages
# (one `separator.onnx`, such as the bundled model) are still read.
FORMAT_VERSION = 2
READABLE_FORMAT_VERSIONS = (1, 2)
MANIFEST_FILE = "manifest.json"
TOKENIZER_FILE = "tokenizer.json"

# Format 2: the query-independent encoder (mixture -> feature grids) runs once per window,
# the decoder (feature grids, mixture, condition -> separated) once per query.
ENCODER_GRAPH = "encoder.onnx"
ENCODER_FP16_GRAPH = "encoder.fp16.onnx"
DECODER_GRAPH = "decoder.onnx"
DECODER_FP16_GRAPH = "decoder.fp16.onnx"
# Format 1: the whole separator in one graph.
SEPARATOR_GRAPH = "separator.onnx"
SEPARATOR_FP16_GRAPH = "separator.fp16.onnx"
TEXT_GRAPH = "query_text.onnx"
AUDIO_GRAPH = "query_audio.onnx"
# Optional: the off-query noise of a model trained with noise heads (objective mode `nit`).
NOISE_GRAPH = "noise.onnx"

# Graph inputs: the separator and the noise graph take a batch of windows and their conditions.
MIXTURE_INPUT = "mixture"
CONDITION_INPUT = "condition"
AUDIO_INPUT = "audio"
TOKEN_IDS_INPUT = "input_ids"
ATTENTION_MASK_INPUT = "attention_mask"
# Graph outputs (plain "embedding" collides with the exporter's name for aten.embedding).
SEPARATED_OUTPUT = "separated"
# The encoder's outputs, the decoder's further inputs: `features_0` (patch grid) .. deepest.
FEATURES_OUTPUT_PREFIX = "features_"
NOISE_OUTPUT = "noise"
TEXT_OUTPUT = "text_embedding"
AUDIO_OUTPUT = "audio_embedding"

# What every package of a format version has: its files, and the manifest keys the runtime reads.
REQUIRED_FILES = {
    1: (SEPARATOR_GRAPH, TEXT_GRAPH, AUDIO_GRAPH, TOKENIZER_FILE),
    2: (ENCODER_GRAPH, DECODER_GRAPH, TEXT_GRAPH, AUDIO_GRAPH, TOKENIZER_FILE),
}
# The rates and sizes the host divides and allocates by: whole numbers above zero.
POSITIVE_INT_KEYS = (
    "sample_rate",
    "query_sample_rate",
    "window_samples",
    "min_window_samples",
    "query_samples",
    "embedding_dim",
    "condition_dim",
)
REQUIRED_KEYS = (
    "name",
    "version",
    *POSITIVE_INT_KEYS,
    "separator",
    "query_encoder",
    "files",
)


def sha256_file(path: Path) -> str:
    """The checksum the manifest lists for each file (read in 1 MiB blocks, any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def package_digest(files: dict[str, dict[str, Any]]) -> str:
    """sha256 over the sorted `name:sha256` lines of the manifest's file table."""
    lines = "".join(f"{name}:{entry['sha256']}\n" for name, entry in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()
