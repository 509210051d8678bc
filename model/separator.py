"""CLAPSep: `module(mixture [B, samples] @ 32 kHz, condition [B, 1024]) -> separated [B, samples]`.

Steps, each a module: STFT of the mixture; the mixture resampled to 48 kHz through the
LoRA-tuned HTS-AT copy (multi-level features); the FiLM-conditioned decoder predicts a
sigmoid magnitude mask; the masked spectrum keeps the mixture phase and goes back
through the ISTFT to exactly the input length.
"""

from dataclasses import dataclass

import torch
from tokenizers import Tokenizer
from torch import nn

from clapsep.model.clap import ClapQueryEncoder, fit_query_audio
from clapsep.model.condition import Query, condition_embedding, mix_modalities
from clapsep.model.configs import HOP, MAX_WINDOW_SAMPLES, N_FFT, ModelConfig, get_config
from clapsep.model.decoder import MaskDecoder
from clapsep.model.encoder import SeparationEncoder
from clapsep.model.spectral import ISTFT, STFT, Resample32To48

MIN_WINDOW_SAMPLES = N_FFT // 2 + 1  # reflect padding needs more samples than half a frame


@dataclass
class Encoded:
    """A mixture after the query-independent half of the network: spectrum and encoder features.

    NIT and bi-modal training decode one mixture for several conditions; encoding once
    per mixture keeps that affordable.
    """

    real: torch.Tensor  # [B, bins, frames]
    imag: torch.Tensor
    magnitude: torch.Tensor
    features: tuple[torch.Tensor, ...]
    length: int

    def repeat(self, times: int) -> "Encoded":
        """The same mixtures `times` over along the batch, to decode several conditions at once."""

        def rep(t: torch.Tensor) -> torch.Tensor:
            return t.repeat(times, *([1] * (t.dim() - 1)))

        return Encoded(
            rep(self.real),
            rep(self.imag),
            rep(self.magnitude),
            tuple(rep(f) for f in self.features),
            self.length,
        )


class CLAPSep(nn.Module):
    def __init__(self, config: ModelConfig, lora: bool = True) -> None:
        super().__init__()
        self.config = config
        self.clap = ClapQueryEncoder(config.audio, config.text, config.embedding_dim)
        self.audio_branch = SeparationEncoder(config.audio, config.lora if lora else None)
        self.audio_branch.copy_tower(self.clap.audio_branch)  # a copy of CLAP's tower, as published
        self.decoder_model = MaskDecoder(
            config.decoder, config.audio, config.condition_dim, N_FFT // 2 + 1
        )
        self.stft = STFT(N_FFT, HOP)
        self.istft = ISTFT(N_FFT, HOP)
        self.resample = Resample32To48()
        self.tokenizer: Tokenizer | None = None

    def encode(self, mixture: torch.Tensor) -> Encoded:
        """STFT of the mixture and the LoRA encoder's features of it at 48 kHz.

        The STFT is traced first: weight recovery matches an exported graph's nodes by the
        names the exporter numbered in this order.
        """
        real, imag, magnitude = self.spectrum(mixture)
        return Encoded(real, imag, magnitude, self.features(mixture), mixture.shape[-1])

    def spectrum(self, mixture: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mixture's STFT (real, imaginary, magnitude), each [B, bins, frames]."""
        real, imag = self.stft(mixture)
        return real, imag, torch.sqrt(real**2 + imag**2)

    def features(self, mixture: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The LoRA encoder's feature grids of the mixture at 48 kHz: the costly,
        query-independent half (export's encoder graph)."""
        return self.audio_branch(self.resample(mixture))

    def with_spectrum(self, mixture: torch.Tensor, features: tuple[torch.Tensor, ...]) -> Encoded:
        """Encoder features beside the mixture's STFT, which is cheap enough for export's
        decoder graph to recompute rather than receive (and the mixture gives it the length)."""
        return Encoded(*self.spectrum(mixture), tuple(features), mixture.shape[-1])

    def decode_mask(self, encoded: Encoded, condition: torch.Tensor) -> torch.Tensor:
        """Magnitude mask [B, frames, bins] for one condition per row."""
        return self.decoder_model(encoded.features, encoded.magnitude, condition)

    def synthesize(self, encoded: Encoded, mask: torch.Tensor) -> torch.Tensor:
        """The mask scales the magnitude, the phase stays the mixture's; back to [B, samples]."""
        gain = mask.transpose(1, 2).to(encoded.real.dtype)
        return self.istft(encoded.real * gain, encoded.imag * gain, encoded.length)

    def forward(self, mixture: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        encoded = self.encode(mixture)
        return self.synthesize(encoded, self.decode_mask(encoded, condition))

    @torch.no_grad()
    def side_embedding(self, query: Query) -> torch.Tensor:
        """One query side -> [embedding_dim] (text and/or averaged audio shots)."""
        text = audio = None
        if query.text:
            if self.tokenizer is None:
                raise RuntimeError("this model has no tokenizer attached; text queries need one")
            ids, mask = self.clap.tokenize(self.tokenizer, [query.text])
            text = self.clap.text_embedding(ids, mask)[0]
        if query.audio:
            shots = torch.stack([fit_query_audio(shot) for shot in query.audio])
            audio = self.clap.audio_embedding(shots).mean(dim=0)
        return mix_modalities(text, audio, query.audio_weight)

    @torch.no_grad()
    def condition(
        self, positive: Query | None = None, negative: Query | None = None
    ) -> torch.Tensor:
        """The [1, condition_dim] condition for a positive and/or negative query."""
        pos = self.side_embedding(positive) if positive is not None else None
        neg = self.side_embedding(negative) if negative is not None else None
        return condition_embedding(pos, neg)[None]


def check_window(samples: int) -> None:
    if not MIN_WINDOW_SAMPLES <= samples <= MAX_WINDOW_SAMPLES:
        raise ValueError(
            f"a window must hold {MIN_WINDOW_SAMPLES}..{MAX_WINDOW_SAMPLES} samples at 32 kHz, "
            f"got {samples}"
        )


def build_model(name: str, lora: bool = True) -> CLAPSep:
    """The separator for a named configuration (`official`, `mini`), randomly initialised."""
    return CLAPSep(get_config(name), lora=lora)
