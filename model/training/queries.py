"""Training conditions as published: valence draw, modality interpolation, perturbed audio queries.

Per batch: positive-only / negative-only / both with probabilities (0.25, 0.25, 0.5); one
a ~ U(0, 1) mixes e = a * e_audio + (1 - a) * e_text on each side. Audio queries are the
clean target and interferer themselves, speed-perturbed (0.9 or 1.1) and seen through
the frozen CLAP with SpecAugment. Captions are fixed, so their CLAP text embeddings are
computed once and cached.
"""

import torch
import torch.nn.functional as F

from clapsep.model.condition import condition_embedding
from clapsep.model.configs import QUERY_SAMPLES
from clapsep.model.separator import CLAPSep


def speed_perturb(wave: torch.Tensor, speed: float) -> torch.Tensor:
    """Play [S] `speed` times faster (pitch moves with it), by linear interpolation."""
    length = max(2, round(wave.shape[-1] / speed))
    return F.interpolate(wave[None, None], size=length, mode="linear", align_corners=True)[0, 0]


def pad_or_trim(wave: torch.Tensor, samples: int = QUERY_SAMPLES) -> torch.Tensor:
    """Zero-pad or cut [S] to `samples` and keep the peak at or under 1 (as published)."""
    wave = (
        F.pad(wave, (0, samples - wave.shape[-1])) if wave.shape[-1] < samples else wave[:samples]
    )
    peak = wave.abs().max()
    return wave * (0.9 / peak) if peak > 1 else wave


class QueryBuilder:
    """Turns a batch's captions and clean sources into [B, condition_dim] conditions."""

    def __init__(
        self,
        model: CLAPSep,
        valence: tuple[float, float, float] = (0.25, 0.25, 0.5),
        audio_queries: bool = True,
        speeds: tuple[float, ...] = (0.9, 1.1),
    ) -> None:
        if model.tokenizer is None:
            raise ValueError("training needs a model with a tokenizer attached")
        if abs(sum(valence) - 1.0) > 1e-6:
            raise ValueError(f"valence probabilities must sum to 1, got {valence}")
        self.model, self.valence, self.audio_queries, self.speeds = (
            model,
            valence,
            audio_queries,
            speeds,
        )
        self._text: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def text(self, captions: list[str]) -> torch.Tensor:
        """Cached CLAP text embeddings [B, D].

        Each caption is encoded on its own: batched results can differ in the last bit with
        the batch's makeup, and a resumed run must see exactly the embeddings it saw before.
        """
        clap = self.model.clap
        for caption in dict.fromkeys(c for c in captions if c not in self._text):
            ids, mask = clap.tokenize(self.model.tokenizer, [caption])
            device = clap.logit_scale_a.device
            self._text[caption] = clap.text_embedding(ids.to(device), mask.to(device))[0]
        return torch.stack([self._text[c] for c in captions])

    @torch.no_grad()
    def audio(self, waves32: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """CLAP audio embeddings [B, D] of speed-perturbed, SpecAugmented 32 kHz sources."""
        waves48 = self.model.resample(waves32.float())
        picks = torch.randint(len(self.speeds), (waves48.shape[0],), generator=generator).tolist()
        shots = torch.stack(
            [
                pad_or_trim(speed_perturb(w, self.speeds[k]))
                for w, k in zip(waves48, picks, strict=True)
            ]
        )
        return self.model.clap.audio_embedding(shots, spec_augment=True)

    def texts_only(self, positive: list[str], negative: list[str]) -> torch.Tensor:
        """Validation and evaluation conditions: both sides, text only."""
        return condition_embedding(self.text(positive), self.text(negative))

    def condition(self, batch: dict, generator: torch.Generator) -> torch.Tensor:
        draw = torch.rand(2, generator=generator).tolist()
        a, u = draw[0], draw[1]
        pos, neg = self.text(batch["positive"]), self.text(batch["negative"])
        if self.audio_queries:
            audio_pos, audio_neg = self.audio(
                torch.cat([batch["target"], batch["noise"]]), generator
            ).chunk(2)
            pos, neg = a * audio_pos + (1 - a) * pos, a * audio_neg + (1 - a) * neg
        if u < self.valence[0]:
            return condition_embedding(pos, None)
        if u < self.valence[0] + self.valence[1]:
            return condition_embedding(None, neg)
        return condition_embedding(pos, neg)
