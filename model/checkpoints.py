"""Reading and writing weights without unrestricted unpickling.

`torch.load(weights_only=True)` only rebuilds tensors and plain containers; the
released CLAPSep checkpoint also pickles numpy scalars (Lightning's logged metrics), so
exactly those numpy reconstructors are allow-listed and nothing else. A file naming any
other global is refused with that global's name.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from clapsep.model.configs import ModelConfig, config_from_dict, get_config

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read safely or does not fit the model."""


def _numpy_allow_list() -> list[Any]:
    allowed: list[Any] = [
        np.dtype,
        np.ndarray,
        np.core.multiarray.scalar,
        np.core.multiarray._reconstruct,
    ]
    allowed += [
        type(np.dtype(t))
        for t in ("float16", "float32", "float64", "int32", "int64", "uint32", "bool")
    ]
    return allowed


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a torch checkpoint (`.pt`/`.ckpt`) or a safetensors file as a flat dict."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        return dict(load_file(str(path)))
    try:
        with torch.serialization.safe_globals(_numpy_allow_list()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError/RuntimeError with the offending global
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"refusing to load {path.name}: {first_line}") from None


def state_dict_of(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint, whether it is a bare state dict or wraps one."""
    for key in ("state_dict", "model", "module"):
        inner = checkpoint.get(key)
        if (
            isinstance(inner, dict)
            and inner
            and all(isinstance(v, torch.Tensor) for v in inner.values())
        ):
            return inner
    tensors = {k: v for k, v in checkpoint.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError("no tensors found in checkpoint")
    return tensors


def save_model_dir(
    out: Path,
    config: ModelConfig,
    state: dict[str, torch.Tensor],
    tokenizer_json: str | None,
    provenance: dict[str, Any],
) -> None:
    """The project's model directory: safetensors weights, config and tokenizer."""
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / WEIGHTS_FILE))
    meta = {"config": config.name, "model_config": config.to_dict(), "provenance": provenance}
    (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2))
    if tokenizer_json is not None:
        (out / TOKENIZER_FILE).write_text(tokenizer_json)


def read_model_config(model_dir: Path) -> ModelConfig:
    meta_path = Path(model_dir) / CONFIG_FILE
    if not meta_path.is_file():
        raise CheckpointError(f"{model_dir} is not a model directory (no {CONFIG_FILE})")
    meta = json.loads(meta_path.read_text())
    return (
        config_from_dict(meta["model_config"])
        if "model_config" in meta
        else get_config(meta["config"])
    )


def load_model_dir(model_dir: Path) -> "torch.nn.Module":
    """A `CLAPSep` with the weights and tokenizer of a model directory (strict)."""
    from tokenizers import Tokenizer

    from clapsep.model.separator import CLAPSep

    model_dir = Path(model_dir)
    model = CLAPSep(read_model_config(model_dir))
    state = load_checkpoint(model_dir / WEIGHTS_FILE)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{model_dir}: weights do not fit the configuration: {str(exc).splitlines()[0]}"
        ) from None
    tokenizer_path = model_dir / TOKENIZER_FILE
    if tokenizer_path.is_file():
        model.tokenizer = Tokenizer.from_file(str(tokenizer_path))
    return model.eval()
