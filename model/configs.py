"""Named model configurations: one dataclass tree, built into modules in `builders.py`.

`official` reproduces the published CLAPSep (HTS-AT base from LAION-CLAP
`music_audioset_epoch_15_esc_90.14.pt`, decoder from `experiments/CLAPSep_base`);
`mini` keeps every structural rule (10.23 s window, 1024 mel frames, 256x256 Swin
image, same feature grids) with narrow widths for tests and CPU training.
"""

from dataclasses import asdict, dataclass, field, replace
from typing import Any

SEPARATION_RATE = 32000
QUERY_RATE = 48000
N_FFT = 1024
HOP = 320
MEL_FRAMES = 1024  # HTS-AT's time axis: 256 x 4 (freq_ratio)
# Longest window the encoder accepts: (MEL_FRAMES - 1) STFT hops at 32 kHz.
MAX_WINDOW_SAMPLES = (MEL_FRAMES - 1) * HOP + HOP - 1
QUERY_SAMPLES = 10 * QUERY_RATE


@dataclass(frozen=True)
class HTSATConfig:
    """HTS-AT audio tower (CLAP's audio branch and the separation encoder copy)."""

    embed_dim: int = 128
    depths: tuple[int, ...] = (2, 2, 12, 2)
    num_heads: tuple[int, ...] = (4, 8, 16, 32)
    window_size: int = 8
    spec_size: int = 256
    patch_size: int = 4
    mel_bins: int = 64
    class_num: int = 527
    fmin: int = 50
    fmax: int = 14000

    @property
    def stage_dims(self) -> tuple[int, ...]:
        return tuple(self.embed_dim * 2**i for i in range(len(self.depths)))


@dataclass(frozen=True)
class TextConfig:
    """Text tower: CLAP's RoBERTa (`roberta`) or the frozen MiniLM sentence encoder (`minilm`).

    Both are built from this config, never downloaded.
    """

    kind: str = "roberta"
    vocab_size: int = 50265
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 514
    max_length: int = 77


@dataclass(frozen=True)
class DecoderConfig:
    embed_dim: int = 128
    depths: tuple[int, ...] = (1, 1, 1, 1)
    num_heads: tuple[int, ...] = (4, 8, 16, 32)
    window_size: int = 8
    d_attn: int = 640
    n_masker_layer: int = 3
    masker_heads: int = 8
    mlp_ratio: float = 4.0
    drop_path_rate: float = 0.1


@dataclass(frozen=True)
class LoraConfig:
    rank: int = 16
    alpha: int = 1  # scaling alpha/rank = 1/16, as loralib in the published code


@dataclass(frozen=True)
class ModelConfig:
    name: str
    audio: HTSATConfig = field(default_factory=HTSATConfig)
    text: TextConfig = field(default_factory=TextConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    embedding_dim: int = 512  # one CLAP embedding; the condition is 2x this

    @property
    def condition_dim(self) -> int:
        return 2 * self.embedding_dim

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


CONFIGS: dict[str, ModelConfig] = {
    "official": ModelConfig(name="official"),
    "mini": ModelConfig(
        name="mini",
        audio=HTSATConfig(embed_dim=32, depths=(1, 1, 2, 1), num_heads=(2, 4, 8, 16), class_num=32),
        text=TextConfig(
            vocab_size=1024,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
        ),
        decoder=DecoderConfig(
            embed_dim=32, num_heads=(2, 4, 8, 16), d_attn=128, n_masker_layer=2, masker_heads=4
        ),
    ),
}
# The model trained here and shipped with the project: `mini` audio and decoder sizes with
# the frozen all-MiniLM-L6-v2 sentence encoder as text tower (CLAP's RoBERTa weights are
# not available offline).
CONFIGS["bundled"] = replace(
    CONFIGS["mini"],
    name="bundled",
    text=TextConfig(
        kind="minilm",
        vocab_size=30522,
        hidden_size=384,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=1536,
        max_position_embeddings=512,
        max_length=32,
    ),
)


def config_from_dict(values: dict[str, Any]) -> ModelConfig:
    """Inverse of `ModelConfig.to_dict` (lists back to tuples), for configurations saved with a
    model."""

    def section(cls: type, data: dict[str, Any]) -> Any:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    return ModelConfig(
        name=values["name"],
        audio=section(HTSATConfig, values["audio"]),
        text=section(TextConfig, values["text"]),
        decoder=section(DecoderConfig, values["decoder"]),
        lora=section(LoraConfig, values["lora"]),
        embedding_dim=values["embedding_dim"],
    )


def get_config(name: str) -> ModelConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(
            f"unknown model configuration {name!r}; known: {', '.join(CONFIGS)}"
        ) from None
