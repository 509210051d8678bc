"""The official configuration matches the published CLAPSep, level by level."""

import pytest

torch = pytest.importorskip("torch")

from clapsep.model.configs import MAX_WINDOW_SAMPLES  # noqa: E402


def _count(module, predicate=lambda name: True) -> int:
    return sum(p.numel() for name, p in module.named_parameters() if predicate(name))


def test_official_parameter_counts_match_the_paper_config(official_model):
    assert _count(official_model.decoder_model) == 43_463_616
    assert _count(official_model.audio_branch, lambda n: "lora_" in n) == 860_160
    trainable_bias = _count(
        official_model.audio_branch,
        lambda n: n.endswith("bias") and ".attn." in n and "lora_" not in n,
    )
    assert trainable_bias == 35_840


def test_only_decoder_lora_and_attention_biases_are_trainable(official_model):
    trainable = {n for n, p in official_model.named_parameters() if p.requires_grad}
    assert not any(n.startswith("clap.") for n in trainable)
    encoder = {n for n in trainable if n.startswith("audio_branch.")}
    assert all(
        "lora_" in n or n.endswith(("qkv.base_layer.bias", "proj.base_layer.bias")) for n in encoder
    )
    assert _count(official_model, lambda n: n in trainable) == 43_463_616 + 860_160 + 35_840


def test_shapes_at_every_level_for_ten_seconds(official_model):
    captured: dict[str, tuple[int, ...]] = {}
    dec = official_model.decoder_model
    hooks = [
        dec.film.register_forward_hook(lambda m, i, o: captured.__setitem__("film", tuple(o.shape)))
    ]
    for k, skip in enumerate(dec.skip):
        hooks.append(
            skip.register_forward_hook(
                lambda m, i, o, k=k: captured.__setitem__(f"stage{k}", tuple(o.shape))
            )
        )
    hooks.append(
        dec.inverse_patch_embed.register_forward_hook(
            lambda m, i, o: captured.__setitem__("image", tuple(o.shape))
        )
    )
    mixture = torch.randn(1, 320_000) * 0.1
    condition = torch.nn.functional.normalize(torch.randn(1, 1024), dim=-1)
    with torch.no_grad():
        encoded = official_model.encode(mixture)
        features, real = encoded.features, encoded.real
        mask = official_model.decode_mask(encoded, condition)
        out = official_model(mixture, condition)
    for h in hooks:
        h.remove()
    assert [tuple(f.shape) for f in features] == [
        (1, 4096, 128),
        (1, 1024, 256),
        (1, 256, 512),
        (1, 64, 1024),
        (1, 64, 1024),
    ]
    assert captured == {
        "film": (1, 64, 1024),
        "stage0": (1, 64, 1024),
        "stage1": (1, 256, 512),
        "stage2": (1, 1024, 256),
        "stage3": (1, 4096, 128),
        "image": (1, 1, 256, 256),
    }
    assert tuple(real.shape) == (1, 513, 1001)
    assert tuple(mask.shape) == (1, 1001, 513)
    assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0
    assert tuple(out.shape) == (1, 320_000)


@pytest.mark.parametrize("samples", [16_000, 16_001, 99_999, 160_007, 320_000, MAX_WINDOW_SAMPLES])
def test_output_length_equals_input_length(mini_model, samples):
    mixture = torch.randn(2, samples) * 0.1
    condition = torch.nn.functional.normalize(torch.randn(2, 1024), dim=-1)
    with torch.no_grad():
        assert tuple(mini_model(mixture, condition).shape) == (2, samples)


def test_window_limits_are_enforced_with_a_clear_message():
    from clapsep.model.separator import check_window

    check_window(MAX_WINDOW_SAMPLES)
    with pytest.raises(ValueError, match="327679"):
        check_window(MAX_WINDOW_SAMPLES + 1)


def test_lora_starts_as_an_exact_no_op(mini_model):
    from clapsep.model.configs import get_config
    from clapsep.model.encoder import SeparationEncoder

    lora_b = [p for n, p in mini_model.audio_branch.named_parameters() if "lora_B" in n]
    assert lora_b and all(torch.count_nonzero(p) == 0 for p in lora_b)
    plain = SeparationEncoder(get_config("mini").audio, lora=None).eval()
    plain.htsat.load_state_dict(mini_model.clap.audio_branch.state_dict())
    wave = torch.randn(1, 48_000 * 3) * 0.1
    with torch.no_grad():
        tuned = mini_model.audio_branch(wave)
        reference = plain(wave)
    for a, b in zip(tuned, reference, strict=True):
        assert torch.equal(a, b)


def test_patch_expand_inverts_patch_merging_order():
    from clapsep.model.decoder import PatchExpand

    expand = PatchExpand((2, 3), dim=16)
    expand.expand = torch.nn.Identity()  # test the regrouping alone
    expand.norm = torch.nn.Identity()
    image = torch.randn(1, 4, 6, 4)  # [B, H, W, C]
    # HTS-AT's PatchMerging order: (0,0), (1,0), (0,1), (1,1) sub-grids.
    merged = torch.cat(
        [image[:, 0::2, 0::2], image[:, 1::2, 0::2], image[:, 0::2, 1::2], image[:, 1::2, 1::2]], -1
    )
    restored = expand(merged.reshape(1, 6, 16)).reshape(1, 4, 6, 4)
    assert torch.equal(restored, image)
