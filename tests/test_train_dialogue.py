"""Dialogue weighting and how voices arrive in post: rooms, phone lines, level rides (no model)."""

from dataclasses import replace

import numpy as np
import pytest

from clapsep.model.data import acoustics
from clapsep.model.data.audio import ClipStore
from clapsep.model.data.catalog import read_labelled, split_clips
from clapsep.model.data.datasets import SPEECH, SupervisedMixtures
from clapsep.model.data.mixing import MixConfig
from clapsep.model.data.synthetic import write_synthetic_corpus

RATE = 32000


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dialogue")
    table = write_synthetic_corpus(folder, per_family=3, seconds=1.0)
    # "tone" plays the voice: the only family of the speech category
    return [
        replace(c, category=SPEECH if c.label == "tone" else "other") for c in read_labelled(table)
    ]


def _band_energy(wave: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(wave)) ** 2
    freqs = np.fft.rfftfreq(len(wave), 1 / RATE)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def test_a_room_adds_a_decaying_tail_and_keeps_length_and_energy():
    rir = acoustics.room_impulse(np.random.default_rng(0))
    assert 0.05 * RATE < len(rir) < 2.0 * RATE and np.max(np.abs(rir)) == pytest.approx(1.0)
    click = np.zeros(RATE, np.float32)
    click[100] = 1.0
    wet = acoustics.reverberate(click, rir)
    assert len(wet) == RATE and np.sum(wet**2) == pytest.approx(1.0, rel=1e-4)
    assert np.sum(wet[100 + RATE // 20 :] ** 2) > 0.01  # energy well after the direct sound: a tail


def test_a_phone_line_removes_low_and_high_frequencies():
    wave = np.random.default_rng(1).standard_normal(RATE).astype(np.float32)
    phone = acoustics.telephone(wave, np.random.default_rng(2))
    for low, high in ((20, 120), (6000, 16000)):
        assert _band_energy(phone, low, high) < 0.01 * _band_energy(wave, low, high)
    assert _band_energy(phone, 800, 2500) > 0.2 * _band_energy(wave, 800, 2500)


def test_a_level_ride_stays_within_its_depth():
    wave = np.ones(4 * RATE, np.float32)
    ridden = acoustics.level_ride(wave, np.random.default_rng(3), depth_db=6.0)
    gains_db = 20 * np.log10(ridden)
    assert gains_db.max() <= 6.0 + 1e-4 and gains_db.min() >= -6.0 - 1e-4 and gains_db.std() > 0.5


def test_dialogue_items_are_speech_against_non_speech(clips):
    train, _ = split_clips(clips)
    voice_captions = {c.captions[0] for c in train if c.category == SPEECH}
    config = MixConfig(
        crop_seconds=0.5, speech_share=1.0, speech_snr_range=(3.0, 3.0), speech_interferers=(2, 2)
    )
    items = SupervisedMixtures(train, ClipStore(), config, seed=0)
    for i in range(10):
        item = items[(0, i)]
        assert item["positive"] in voice_captions
        assert " and " in item["negative"] and not any(
            v in item["negative"] for v in voice_captions
        )
        snr = 10 * np.log10(np.sum(item["target"] ** 2) / np.sum(item["noise"] ** 2))
        assert snr == pytest.approx(3.0, abs=1e-3)
        np.testing.assert_allclose(item["mixture"], item["target"] + item["noise"], atol=1e-6)


def test_dialogue_share_and_conditions_leave_validation_and_the_old_recipe_untouched(clips):
    train, val = split_clips(clips)
    plain = MixConfig(crop_seconds=0.5, snr_range=(-5.0, 5.0))
    weighted = replace(
        plain,
        speech_share=0.7,
        dialogue=acoustics.Conditions(reverb_prob=1.0, telephone_prob=1.0, level_ride_prob=1.0),
    )
    for validation, pool in ((True, val), (False, train)):
        a = SupervisedMixtures(pool, ClipStore(), plain, seed=5, validation=validation)
        b = SupervisedMixtures(
            pool, ClipStore(), replace(plain, speech_share=0.0), seed=5, validation=validation
        )
        np.testing.assert_array_equal(
            a[(1, 2)]["mixture"], b[(1, 2)]["mixture"]
        )  # share 0: as before
    val_a = SupervisedMixtures(val, ClipStore(), plain, seed=5, validation=True)
    val_b = SupervisedMixtures(val, ClipStore(), weighted, seed=5, validation=True)
    for i in range(len(val)):
        np.testing.assert_array_equal(
            val_a[i]["mixture"], val_b[i]["mixture"]
        )  # fixed validation mixtures
    trained = SupervisedMixtures(train, ClipStore(), weighted, seed=5)
    voices = {c.captions[0] for c in train if c.category == SPEECH}
    share = np.mean(
        [trained[(e, i)]["positive"] in voices for e in range(8) for i in range(len(train))]
    )
    assert 0.5 < share < 0.95


def test_held_out_sources_are_in_neither_training_nor_validation(clips):
    held = [replace(c, split="test") for c in clips[:3]]
    train, val = split_clips(held + clips[3:])
    assert not {c.path for c in held} & {c.path for c in train + val}
