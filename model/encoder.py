"""The separation encoder: a LoRA-tuned copy of CLAP's HTS-AT returning multi-level features.

The published model collects features with forward hooks into a list; that cannot be
exported, so `SeparationEncoder.forward` walks HTS-AT's stages itself and returns the
five token grids the decoder needs. LoRA comes from peft (rank 16, alpha 1: the
loralib scaling 1/16 of the published code) on every WindowAttention `qkv` and `proj`.
"""

import re

import torch
import torch.nn.functional as F
from peft import LoraConfig as PeftLoraConfig
from peft import inject_adapter_in_model
from torch import nn

from clapsep.model._laion import CLAPAudioCfp, HTSAT_Swin_Transformer
from clapsep.model.configs import MEL_FRAMES, QUERY_RATE, HTSATConfig, LoraConfig

LORA_TARGETS = r".*\.attn\.(qkv|proj)"
_TRAINABLE_BIAS = re.compile(r"\.attn\.(qkv|proj)(\.base_layer)?\.bias$")
_PLAIN_LINEAR = re.compile(r"\.attn\.(qkv|proj)\.(weight|bias)$")
_LORALIB = re.compile(r"\.attn\.(qkv|proj)\.lora_(A|B)$")


def peft_key(key: str) -> str:
    """An HTS-AT key (plain, or loralib's `lora_A`/`lora_B`) -> its name after peft injection."""
    key = _PLAIN_LINEAR.sub(lambda m: f".attn.{m[1]}.base_layer.{m[2]}", key)
    return _LORALIB.sub(lambda m: f".attn.{m[1]}.lora_{m[2]}.default.weight", key)


def build_htsat(cfg: HTSATConfig) -> HTSAT_Swin_Transformer:
    """LAION-CLAP's HTS-AT audio tower with CLAP's 48 kHz log-mel front end."""
    audio_cfg = CLAPAudioCfp(
        model_type="HTSAT",
        model_name="base",
        sample_rate=QUERY_RATE,
        audio_length=1024,
        window_size=1024,
        hop_size=480,
        fmin=cfg.fmin,
        fmax=cfg.fmax,
        class_num=cfg.class_num,
        mel_bins=cfg.mel_bins,
        clip_samples=10 * QUERY_RATE,
    )
    return HTSAT_Swin_Transformer(
        spec_size=cfg.spec_size,
        patch_size=cfg.patch_size,
        patch_stride=(cfg.patch_size, cfg.patch_size),
        num_classes=cfg.class_num,
        embed_dim=cfg.embed_dim,
        depths=list(cfg.depths),
        num_heads=list(cfg.num_heads),
        window_size=cfg.window_size,
        config=audio_cfg,
    )


def add_lora(htsat: nn.Module, cfg: LoraConfig) -> nn.Module:
    """Inject peft LoRA into every WindowAttention projection; B starts at zero (a no-op)."""
    peft_cfg = PeftLoraConfig(
        r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, target_modules=LORA_TARGETS, bias="none"
    )
    return inject_adapter_in_model(peft_cfg, htsat)


def mark_trainable(encoder: nn.Module) -> None:
    """Only LoRA matrices and the attention qkv/proj biases learn, as published."""
    for name, param in encoder.named_parameters():
        param.requires_grad = "lora_" in name or bool(_TRAINABLE_BIAS.search(name))


class SeparationEncoder(nn.Module):
    """HTS-AT copy whose forward returns (patch_embed, stage0, stage1, stage2, stage3) tokens.

    The mel time axis is zero-padded (in the power domain, so -100 dB after the log) to
    1024 frames instead of CLAP's bicubic stretch, so frame k of every feature map is
    frame k of the 32 kHz STFT. The copy always runs in eval mode: BatchNorm statistics,
    SpecAugment and drop-path stay off while the decoder trains.
    """

    def __init__(self, audio: HTSATConfig, lora: LoraConfig | None) -> None:
        super().__init__()
        self.htsat = build_htsat(audio)
        if lora is not None:
            add_lora(self.htsat, lora)
        mark_trainable(self)

    def copy_tower(self, htsat: nn.Module) -> None:
        """Start from CLAP's audio tower: copy its weights under the peft names (LoRA untouched)."""
        state = {peft_key(k): v for k, v in htsat.state_dict().items()}
        missing, unexpected = self.htsat.load_state_dict(state, strict=False)
        if unexpected or any("lora_" not in k for k in missing):
            raise RuntimeError(f"audio towers differ: missing {missing}, unexpected {unexpected}")

    def train(self, mode: bool = True) -> "SeparationEncoder":
        return super().train(False)

    def forward(self, wave48: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h = self.htsat
        x = h.spectrogram_extractor(wave48)  # [B, 1, frames, bins]
        x = F.pad(x, (0, 0, 0, MEL_FRAMES - x.shape[2]))
        x = h.logmel_extractor(x)  # [B, 1, 1024, mels]
        x = h.bn0(x.transpose(1, 3)).transpose(1, 3)
        x = h.reshape_wav2img(x)
        x = h.patch_embed(x)
        features = [x]
        for layer in h.layers:
            for block in layer.blocks:
                x, _ = block(x)
            if layer.downsample is not None:
                x = layer.downsample(x)
            features.append(x)
        return tuple(features)
