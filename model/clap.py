"""The frozen CLAP query encoder: text and audio queries -> 512-d L2-normalised embeddings.

Attribute names mirror LAION-CLAP's `CLAP` module so a CLAP checkpoint loads strictly.
RoBERTa is built from a config (laion-clap calls `from_pretrained('roberta-base')`, a hub
download); its weights come from the CLAP checkpoint.
"""

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from torch import nn
from torchlibrosa.augmentation import SpecAugmentation
from transformers import RobertaConfig, RobertaModel

from clapsep.model._laion import MLPLayers
from clapsep.model.configs import QUERY_SAMPLES, HTSATConfig, TextConfig
from clapsep.model.encoder import build_htsat
from clapsep.model.minilm import build_minilm, mean_pool


def _projection(width: int, joint: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width, joint), nn.ReLU(), nn.Linear(joint, joint))


def _roberta(cfg: TextConfig) -> RobertaModel:
    config = RobertaConfig(
        vocab_size=cfg.vocab_size,
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_position_embeddings,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        attn_implementation="eager",
    )
    return RobertaModel(config, add_pooling_layer=True)


class ClapQueryEncoder(nn.Module):
    """CLAP (HTS-AT + RoBERTa), frozen; `text_embedding` and `audio_embedding` as in laion-clap."""

    def __init__(self, audio: HTSATConfig, text: TextConfig, joint_dim: int = 512) -> None:
        super().__init__()
        self.audio_branch = build_htsat(audio)
        self.text_kind = text.kind
        self.text_branch = _roberta(text) if text.kind == "roberta" else build_minilm(text)
        self.text_transform = MLPLayers(units=[joint_dim] * 3, dropout=0.1)
        self.text_projection = _projection(text.hidden_size, joint_dim)
        self.audio_transform = MLPLayers(units=[joint_dim] * 3, dropout=0.1)
        self.audio_projection = _projection(
            audio.embed_dim * 2 ** (len(audio.depths) - 1), joint_dim
        )
        self.logit_scale_a = nn.Parameter(torch.tensor(2.6592600))  # log(1/0.07)
        self.logit_scale_t = nn.Parameter(torch.tensor(2.6592600))
        self.max_length = text.max_length
        self._spec_augmenter = SpecAugmentation(
            time_drop_width=64, time_stripes_num=2, freq_drop_width=8, freq_stripes_num=2
        )
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "ClapQueryEncoder":
        super().train(False)  # frozen: BatchNorm and dropout stay in inference mode
        self._spec_augmenter.train(True)  # used only when asked for, and then always active
        return self

    def text_embedding(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.text_branch(input_ids=input_ids, attention_mask=attention_mask)
        if self.text_kind == "roberta":
            pooled = out.pooler_output
        else:
            pooled = mean_pool(out.last_hidden_state, attention_mask)
        return F.normalize(self.text_projection(pooled), dim=-1)

    def audio_embedding(self, wave48: torch.Tensor, spec_augment: bool = False) -> torch.Tensor:
        """`wave48`: [B, 480000] at 48 kHz (see `fit_query_audio`).

        `spec_augment` masks time (2x64 frames) and frequency (2x8 bins) stripes after
        `bn0`, as the published recipe does for audio queries during training.
        """
        if not spec_augment:
            latent = self.audio_branch({"waveform": wave48}, device=wave48.device)["embedding"]
            return F.normalize(self.audio_projection(latent), dim=-1)
        h = self.audio_branch
        x = h.logmel_extractor(h.spectrogram_extractor(wave48))
        x = h.bn0(x.transpose(1, 3)).transpose(1, 3)
        x = self._spec_augmenter(x)
        latent = h.forward_features(h.reshape_wav2img(x))["embedding"]
        return F.normalize(self.audio_projection(latent), dim=-1)

    def tokenize(self, tokenizer: Tokenizer, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in batch], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in batch], dtype=torch.long)
        return ids, mask


def fit_query_audio(wave48: torch.Tensor, samples: int = QUERY_SAMPLES) -> torch.Tensor:
    """CLAP's `repeatpad` for short queries (whole repeats, then zeros); long ones are
    centre-cropped."""
    length = wave48.shape[-1]
    if length == 0:
        raise ValueError("empty audio query")
    if length < samples:
        repeats = wave48.repeat(*([1] * (wave48.dim() - 1)), samples // length)
        return F.pad(repeats, (0, samples - repeats.shape[-1]))
    start = (length - samples) // 2
    return wave48[..., start : start + samples]
