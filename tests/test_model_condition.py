"""The condition API: positive/negative, text/audio/both -> normalize(concat(e_pos, e_neg))."""

import pytest

torch = pytest.importorskip("torch")

from clapsep.model.condition import Query, condition_embedding, mix_modalities  # noqa: E402


def _tone(seconds: float, freq: float) -> "torch.Tensor":
    t = torch.arange(int(48_000 * seconds)) / 48_000
    return 0.3 * torch.sin(2 * torch.pi * freq * t)


def test_positive_text_only_leaves_the_negative_half_zero(mini_model):
    c = mini_model.condition(positive=Query(text="a dog barks"))
    assert c.shape == (1, 1024)
    assert torch.count_nonzero(c[0, 512:]) == 0
    assert torch.isclose(c.norm(), torch.tensor(1.0))


def test_negative_only_leaves_the_positive_half_zero(mini_model):
    c = mini_model.condition(negative=Query(text="traffic noise in a city"))
    assert torch.count_nonzero(c[0, :512]) == 0
    assert torch.isclose(c.norm(), torch.tensor(1.0))


def test_both_sides_are_equal_halves_after_normalisation(mini_model):
    pos = mini_model.side_embedding(Query(text="a man speaks"))
    neg = mini_model.side_embedding(Query(text="wind blowing"))
    c = mini_model.condition(Query(text="a man speaks"), Query(text="wind blowing"))[0]
    expected = torch.cat([pos, neg]) / torch.cat([pos, neg]).norm()
    assert torch.allclose(c, expected, atol=1e-6)


def test_text_and_audio_interpolate_with_the_audio_weight(mini_model):
    shot = _tone(2.0, 440.0)
    text = mini_model.side_embedding(Query(text="a piano melody"))
    audio = mini_model.side_embedding(Query(audio=[shot]))
    mixed = mini_model.side_embedding(Query(text="a piano melody", audio=[shot], audio_weight=0.25))
    assert torch.allclose(mixed, 0.25 * audio + 0.75 * text, atol=1e-6)


def test_several_audio_shots_are_averaged(mini_model):
    a, b = _tone(1.0, 220.0), _tone(12.0, 880.0)
    ea = mini_model.side_embedding(Query(audio=[a]))
    eb = mini_model.side_embedding(Query(audio=[b]))
    both = mini_model.side_embedding(Query(audio=[a, b]))
    assert torch.allclose(both, (ea + eb) / 2, atol=1e-6)


def test_an_empty_query_or_condition_is_refused():
    with pytest.raises(ValueError, match="needs a text"):
        Query()
    with pytest.raises(ValueError, match="audio_weight"):
        Query(text="x", audio_weight=1.5)
    with pytest.raises(ValueError, match="positive or a negative"):
        condition_embedding(None, None)
    with pytest.raises(ValueError):
        mix_modalities(None, None, 0.5)


def test_fit_query_audio_repeat_pads_like_clap_and_crops_long_queries():
    from clapsep.model.clap import fit_query_audio

    short = torch.arange(1, 200_001, dtype=torch.float32)
    fitted = fit_query_audio(short)
    assert fitted.shape == (480_000,)
    assert torch.equal(fitted[:400_000], short.repeat(2))
    assert torch.count_nonzero(fitted[400_000:]) == 0
    long = torch.arange(600_000, dtype=torch.float32)
    assert torch.equal(fit_query_audio(long), long[60_000:540_000])
