"""Official-release conversion and safe checkpoint loading."""

import copy
import os
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from clapsep.model.checkpoints import (  # noqa: E402
    CheckpointError,
    load_checkpoint,
    load_model_dir,
    save_model_dir,
)
from clapsep.model.convert import Conversion, convert, map_clap, map_clapsep  # noqa: E402

_PEFT = re.compile(r"\.attn\.(qkv|proj)\.(base_layer\.(weight|bias)|lora_(A|B)\.default\.weight)$")


def authors_layout(model) -> tuple[dict, dict]:
    """(CLAP checkpoint, best_model.ckpt state) in the release's key layout, from our model.

    CLAP keys are `module.`-prefixed and still carry `text_branch.embeddings.position_ids`;
    the CLAPSep file holds the decoder, loralib `lora_A`/`lora_B` and the qkv/proj biases,
    plus the torchlibrosa STFT bases.
    """
    ours = model.state_dict()
    clap = {
        f"module.{k[len('clap.') :]}": v.clone() for k, v in ours.items() if k.startswith("clap.")
    }
    clap["module.text_branch.embeddings.position_ids"] = torch.arange(514)[None]
    sep = {k: v.clone() for k, v in ours.items() if k.startswith("decoder_model.")}
    for key, value in ours.items():
        if not key.startswith("audio_branch.htsat."):
            continue
        m = _PEFT.search(key)
        if m is None or m[2] == "base_layer.weight":
            continue
        authors = "audio_branch." + key[len("audio_branch.htsat.") : m.start()] + f".attn.{m[1]}."
        authors += f"lora_{m[4]}" if m[4] else m[3]
        sep[authors] = value.clone()
    sep["stft.conv_real.weight"] = torch.zeros(513, 1, 1024)
    sep["istft.conv_real.weight"] = torch.zeros(1024, 1, 1024)
    return clap, sep


def test_official_release_layout_maps_with_no_unexplained_keys(official_model):
    clap, sep = authors_layout(official_model)
    assert sep["decoder_model.film.feature_proj.weight"].shape == (1024, 1024)
    assert sep["decoder_model.skip.0.feature_proj.weight"].shape == (1024, 1024)
    assert sep["decoder_model.skip.3.feature_proj.weight"].shape == (128, 128)
    assert sep["decoder_model.layers.1.downsample.expand.weight"].shape == (2048, 1024)
    assert sep["decoder_model.inverse_patch_embed.proj.weight"].shape == (128, 1, 4, 4)
    assert sep["decoder_model.spec_norm.running_mean"].shape == (513,)
    assert sep["decoder_model.mask_net.0.weight"].shape == (640, 577)
    for i in range(3):
        assert sep[f"decoder_model.mask_net.2.layers.{i}.self_attn.in_proj_weight"].shape == (
            1920,
            640,
        )
    assert sep["decoder_model.mask_net.3.weight"].shape == (513, 640)
    assert sep["audio_branch.layers.2.blocks.11.attn.qkv.lora_A"].shape == (16, 512)
    assert sep["audio_branch.layers.2.blocks.11.attn.qkv.lora_B"].shape == (1536, 16)
    conv = Conversion()
    map_clap(clap, conv)
    map_clapsep(sep, conv)
    ours = official_model.state_dict()
    assert conv.unexplained == []
    assert set(conv.state) == set(ours)
    assert all(conv.state[k].shape == ours[k].shape for k in ours)
    assert set(conv.dropped) == {
        "module.text_branch.embeddings.position_ids",
        "stft.conv_real.weight",
        "istft.conv_real.weight",
    }


def test_release_files_convert_load_and_round_trip(tmp_path, mini_model):
    from clapsep.model.separator import build_model

    mini_model = copy.deepcopy(mini_model)  # the session fixture stays untouched
    with torch.no_grad():  # make the tuned tensors distinguishable from CLAP's
        for name, p in mini_model.audio_branch.named_parameters():
            if "lora_B" in name:
                p.normal_()
    clap, sep = authors_layout(mini_model)
    torch.save({"state_dict": clap, "epoch": 15}, tmp_path / "clap.pt")
    torch.save(
        {"state_dict": sep, "epoch": np.int64(41), "val_loss": np.float64(9.4)},
        tmp_path / "best_model.ckpt",
    )
    fresh = build_model("mini")
    conv = convert(fresh, tmp_path / "clap.pt", tmp_path / "best_model.ckpt")
    assert conv.unexplained == []
    for key, value in mini_model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    save_model_dir(
        tmp_path / "converted", fresh.config, fresh.state_dict(), mini_model.tokenizer.to_str(), {}
    )
    loaded = load_model_dir(tmp_path / "converted")
    mixture = torch.randn(1, 32_000) * 0.1
    condition = torch.nn.functional.normalize(torch.randn(1, 1024), dim=-1)
    with torch.no_grad():
        assert torch.allclose(loaded(mixture, condition), mini_model(mixture, condition), atol=1e-6)
    assert loaded.tokenizer is not None


def test_conversion_refuses_unexplained_and_missing_keys(tmp_path, mini_model):
    from clapsep.model.separator import build_model

    clap, sep = authors_layout(mini_model)
    sep["mystery.weight"] = torch.zeros(3)
    del sep["decoder_model.mask_net.3.weight"]
    torch.save(clap, tmp_path / "clap.pt")
    torch.save({"state_dict": sep}, tmp_path / "best_model.ckpt")
    with pytest.raises(CheckpointError) as err:
        convert(build_model("mini"), tmp_path / "clap.pt", tmp_path / "best_model.ckpt")
    assert "mystery.weight" in str(err.value)
    assert "decoder_model.mask_net.3.weight" in str(err.value)


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_carrying_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    torch.save(
        {"state_dict": {"w": torch.zeros(1)}, "hook": _Payload(str(marker))}, tmp_path / "evil.ckpt"
    )
    with pytest.raises(CheckpointError, match=r"refusing to load evil\.ckpt"):
        load_checkpoint(tmp_path / "evil.ckpt")
    assert not marker.exists()


def test_numpy_scalars_of_the_release_are_allowed(tmp_path):
    torch.save(
        {"state_dict": {"w": torch.ones(2)}, "score": np.float64(0.5), "step": np.int64(3)},
        tmp_path / "ok.ckpt",
    )
    loaded = load_checkpoint(tmp_path / "ok.ckpt")
    assert float(loaded["score"]) == 0.5
    assert torch.equal(loaded["state_dict"]["w"], torch.ones(2))
