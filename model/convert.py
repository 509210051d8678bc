"""Convert the authors' release (CLAP checkpoint + CLAPSep `best_model.ckpt`) to this project.

Every key of both files must be explained: mapped to a parameter of ours, or dropped
for a stated reason. Every parameter of ours must be filled. Anything else is reported
by name and no model is written.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from clapsep.model.checkpoints import CheckpointError, load_checkpoint, state_dict_of
from clapsep.model.encoder import peft_key

# The release's fixed DFT bases (torchlibrosa STFT/ISTFT): ours are computed, not stored.
_RECOMPUTED = re.compile(r"^(stft|istft)\.")
# transformers >= 4.31 no longer stores this buffer.
_DROPPED_CLAP = {"text_branch.embeddings.position_ids"}


@dataclass
class Conversion:
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # key -> reason
    unexplained: list[str] = field(default_factory=list)


def _strip(key: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def map_clap(clap_state: dict[str, torch.Tensor], conv: Conversion) -> None:
    """CLAP weights fill the frozen query encoder and initialise the separation encoder copy."""
    for raw, tensor in clap_state.items():
        key = _strip(raw, ("module.",))
        if key in _DROPPED_CLAP:
            conv.dropped[raw] = "position ids are a buffer rebuilt by transformers"
            continue
        conv.state[f"clap.{key}"] = tensor
        if key.startswith("audio_branch."):
            conv.state[peft_key(f"audio_branch.htsat.{key[len('audio_branch.') :]}")] = tensor


def map_clapsep(sep_state: dict[str, torch.Tensor], conv: Conversion) -> None:
    """Tuned tensors of `best_model.ckpt` (decoder, LoRA, qkv/proj biases) override CLAP's."""
    for raw, tensor in sep_state.items():
        key = _strip(raw, ("model.", "module."))
        if _RECOMPUTED.match(key):
            conv.dropped[raw] = "fixed STFT/ISTFT basis, recomputed by model.spectral"
        elif key.startswith("decoder_model."):
            conv.state[key] = tensor
        elif key.startswith("audio_branch."):
            conv.state[peft_key(f"audio_branch.htsat.{key[len('audio_branch.') :]}")] = tensor
        elif key.startswith("clap_model.model."):
            inner = key[len("clap_model.model.") :]
            if inner in _DROPPED_CLAP:
                conv.dropped[raw] = "position ids are a buffer rebuilt by transformers"
            else:
                conv.state[f"clap.{inner}"] = tensor
        else:
            conv.unexplained.append(raw)


def convert(model: torch.nn.Module, clap_path: Path, clapsep_path: Path) -> Conversion:
    """Fill `model` from the two release files; raise `CheckpointError` on any gap."""
    conv = Conversion()
    map_clap(state_dict_of(load_checkpoint(clap_path)), conv)
    map_clapsep(state_dict_of(load_checkpoint(clapsep_path)), conv)
    ours = model.state_dict()
    unexpected = sorted(k for k in conv.state if k not in ours)
    missing = sorted(k for k in ours if k not in conv.state)
    mismatched = sorted(k for k in conv.state if k in ours and conv.state[k].shape != ours[k].shape)
    problems = []
    if conv.unexplained:
        problems.append(
            f"unexplained keys in {Path(clapsep_path).name}: {', '.join(sorted(conv.unexplained))}"
        )
    if unexpected:
        problems.append(f"keys with no place in the model: {', '.join(unexpected)}")
    if missing:
        problems.append(f"model parameters not provided: {', '.join(missing)}")
    if mismatched:
        problems.append(
            "shape mismatch: "
            + ", ".join(
                f"{k} {tuple(conv.state[k].shape)} vs {tuple(ours[k].shape)}" for k in mismatched
            )
        )
    if problems:
        raise CheckpointError("; ".join(problems))
    model.load_state_dict(conv.state, strict=True)
    return conv
