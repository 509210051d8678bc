"""Bi-modal weak supervision (Microsoft's BiModalAudioSeparation) on captioned natural mixtures.

Natural mixtures M_n come with captions T_n but no clean sources. Item n is mixed with
its neighbour in the batch (a mixture of mixtures, MoM) and the model is asked for:
- URL: f(MoM, T_n) ≈ M_n                      (unsupervised reconstruction)
- CRL: sum_k f(MoM, T_n^k) ≈ M_n               (phrases T_n^k of the caption, consistency)
- CNT: CLAP audio embedding of f(MoM, T_n^k) picks out T_n^k's text embedding among the
  batch's phrases (cross-entropy at CLAP's own, frozen, logit scale).
Reconstruction is L1 between STFT magnitudes, as in the released code; the loss is
`contrastive * CNT + reconstruction * (URL + CRL)` (0.5 and 5 there). Conditions are
text-only, positive side.
"""

import re

import torch
import torch.nn.functional as F
from torch import nn

from clapsep.model.clap import fit_query_audio
from clapsep.model.condition import condition_embedding
from clapsep.model.separator import CLAPSep
from clapsep.model.training.queries import QueryBuilder

_CONNECTIVES = re.compile(
    r",|;|\band then\b|\bfollowed by\b|\bwhile\b|\bas well as\b|\balong with\b|\bwith\b"
    r"|\band\b|\bthen\b|\bas\b|\bbefore\b|\bafter\b|\bover\b",
    flags=re.IGNORECASE,
)
_STOP = {
    "a",
    "an",
    "the",
    "then",
    "and",
    "is",
    "are",
    "in",
    "of",
    "by",
    "to",
    "someone",
    "background",
}


def extract_phrases(caption: str, limit: int = 2) -> list[str]:
    """Single-source phrases of a caption, split at connectives ("a dog barks while a man
    speaks" -> ["a dog barks", "a man speaks"]); the caption itself if nothing splits.
    Always `limit` phrases: the last one repeats when there are fewer."""
    parts = [p.strip(" .") for p in _CONNECTIVES.split(caption)]
    parts = [p for p in parts if p and not set(p.lower().split()) <= _STOP]
    phrases = (parts or [caption.strip(" .")])[:limit]
    return phrases + [phrases[-1]] * (limit - len(phrases))


def magnitude_l1(model: CLAPSep, estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean |(|STFT(est)| - |STFT(ref)|)|: the reconstruction distance of the released code."""
    er, ei = model.stft(estimate.float())
    rr, ri = model.stft(reference.float())
    return (torch.sqrt(er**2 + ei**2 + 1e-10) - torch.sqrt(rr**2 + ri**2 + 1e-10)).abs().mean()


class BiModalObjective(nn.Module):
    def __init__(
        self,
        model: CLAPSep,
        queries: QueryBuilder,
        phrases: int = 2,
        contrastive: float = 0.5,
        reconstruction: float = 5.0,
    ) -> None:
        super().__init__()
        self.model, self.queries = model, queries
        self.phrases, self.contrastive, self.reconstruction = phrases, contrastive, reconstruction

    def forward(
        self, batch: dict, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, float]]:
        mixtures, captions = batch["mixture"], list(batch["caption"])
        size, k = mixtures.shape[0], self.phrases
        if size < 2:
            raise ValueError(
                "bi-modal training mixes items of one batch: the batch size must be >= 2"
            )
        mom = mixtures + mixtures.roll(1, dims=0)
        gain = torch.clamp(0.9 / mom.abs().amax(dim=-1, keepdim=True).clamp_min(1e-8), max=1.0)
        mom, mixtures = mom * gain, mixtures * gain  # the published peak protection, per item
        phrases = [p for c in captions for p in extract_phrases(c, k)]  # item-major: [n * k + j]
        text = self.queries.text(captions + phrases)
        conditions = condition_embedding(text, None)
        encoded = self.model.encode(mom)
        masks = self.model.decode_mask(encoded.repeat(1 + k), conditions)
        estimates = self.model.synthesize(encoded.repeat(1 + k), masks)
        whole, parts = estimates[:size], estimates[size:].reshape(size, k, -1)
        url = magnitude_l1(self.model, whole, mixtures)
        crl = magnitude_l1(self.model, parts.sum(dim=1), mixtures)
        cnt = self._contrastive(parts.reshape(size * k, -1), phrases, text[size:])
        loss = self.contrastive * cnt + self.reconstruction * (url + crl)
        return loss, {"loss_url": url.item(), "loss_crl": crl.item(), "loss_cnt": cnt.item()}

    def _contrastive(
        self, estimates: torch.Tensor, phrases: list[str], phrase_text: torch.Tensor
    ) -> torch.Tensor:
        """Cross-entropy of each estimate's CLAP audio embedding against the batch's distinct
        phrases."""
        unique = sorted(set(phrases))
        index = {p: i for i, p in enumerate(unique)}
        text = torch.stack([phrase_text[phrases.index(p)] for p in unique])
        clap = self.model.clap
        audio = clap.audio_embedding(fit_query_audio(self.model.resample(estimates.float())))
        logits = clap.logit_scale_a.exp() * audio @ text.float().T
        labels = torch.tensor([index[p] for p in phrases], device=logits.device)
        return F.cross_entropy(logits, labels)
