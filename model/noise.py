"""The noise heads: conditions for the sound a query does not name, and the stem they decode.

A model trained with noise invariant training (`model.training.nit`) carries heads that
propose, from the mixture and the query, conditions for off-query sound. Training uses
them to explain what neither caption mentions; at inference `OffQueryNoise` decodes them
into "what the model heard as noise", which export ships as `noise.onnx`. They live
beside the network, not in training, because export loads and runs them.
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from clapsep.model.checkpoints import load_checkpoint
from clapsep.model.separator import CLAPSep

# Beside `model.safetensors` in the model directories a `nit` run writes.
NOISE_HEADS_FILE = "noise_heads.safetensors"


class NoiseHeads(nn.Module):
    """Two (or more) conditions for off-query sound from the mixture and the query.

    noise_k = normalize(Linear_k(concat(mean over tokens of the deepest encoder features,
                                        query condition)))
    """

    def __init__(self, feature_dim: int, condition_dim: int, heads: int = 2) -> None:
        super().__init__()
        self.proj = nn.ModuleList(
            nn.Linear(feature_dim + condition_dim, condition_dim) for _ in range(heads)
        )

    def forward(self, deepest: torch.Tensor, condition: torch.Tensor) -> list[torch.Tensor]:
        x = torch.cat([deepest.mean(dim=1), condition.to(deepest.dtype)], dim=-1)
        return [F.normalize(p(x), dim=-1) for p in self.proj]

    @classmethod
    def for_model(cls, model: CLAPSep, heads: int = 2) -> "NoiseHeads":
        return cls(model.config.audio.stage_dims[-1], model.config.condition_dim, heads)

    @classmethod
    def from_model_dir(cls, model_dir: Path, model: CLAPSep) -> "NoiseHeads | None":
        """The heads a `nit` run saved beside `model` (safetensors), or None if it saved none."""
        path = Path(model_dir) / NOISE_HEADS_FILE
        if not path.is_file():
            return None
        state = load_checkpoint(path)
        count = len({k.split(".")[1] for k in state if k.startswith("proj.")})
        if not count:
            raise ValueError(f"{path} holds no noise heads")
        heads = cls.for_model(model, count)
        heads.load_state_dict(state, strict=True)
        return heads


class OffQueryNoise(nn.Module):
    """`(mixture, condition) -> waveform` of the noise heads' combined mask, for export.

    The mask is the heads' masks summed and capped at 1: the sound the model heard as
    neither the query's side nor the other side.
    """

    def __init__(self, model: CLAPSep, heads: NoiseHeads) -> None:
        super().__init__()
        self.model, self.heads = model, heads

    def forward(self, mixture: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        encoded = self.model.encode(mixture)
        masks = [
            self.model.decode_mask(encoded, c) for c in self.heads(encoded.features[-1], condition)
        ]
        return self.model.synthesize(encoded, torch.clamp(torch.stack(masks).sum(dim=0), max=1.0))
