"""Queries -> the 1024-d condition `normalize(concat(e_pos, e_neg))` that drives the decoder.

One side (positive: what to keep; negative: what to remove) is a text, one or more
audio shots, or both; a missing side is zeros. Mixed queries interpolate
`a * e_audio + (1 - a) * e_text` (the paper uses a = 0.5 at test time); several shots
are averaged. The host's runtime implements the same rule in numpy for the ONNX graphs.
"""

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

DEFAULT_AUDIO_WEIGHT = 0.5


@dataclass
class Query:
    """One side of a query: text, audio shots (48 kHz, [samples] each), or both."""

    text: str | None = None
    audio: list[torch.Tensor] = field(default_factory=list)
    audio_weight: float = DEFAULT_AUDIO_WEIGHT

    def __post_init__(self) -> None:
        if not self.text and not self.audio:
            raise ValueError("a query needs a text, an audio example, or both")
        if not 0.0 <= self.audio_weight <= 1.0:
            raise ValueError(f"audio_weight must be in [0, 1], got {self.audio_weight}")


def mix_modalities(
    text: torch.Tensor | None, audio: torch.Tensor | None, audio_weight: float
) -> torch.Tensor:
    """`a * e_audio + (1 - a) * e_text`; either input alone is returned as is."""
    if text is None and audio is None:
        raise ValueError("nothing to mix")
    if audio is None:
        return text
    if text is None:
        return audio
    return audio_weight * audio + (1.0 - audio_weight) * text


def condition_embedding(
    positive: torch.Tensor | None, negative: torch.Tensor | None
) -> torch.Tensor:
    """Concatenate [..., D] side embeddings (zeros for a missing side) and L2-normalise."""
    if positive is None and negative is None:
        raise ValueError("a condition needs a positive or a negative query")
    reference = positive if positive is not None else negative
    zeros = torch.zeros_like(reference)
    pos = positive if positive is not None else zeros
    neg = negative if negative is not None else zeros
    return F.normalize(torch.cat([pos, neg], dim=-1), dim=-1)
