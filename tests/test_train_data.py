"""Catalogues, mixing, deterministic items and batches, configs and caption phrases (no model)."""

import csv
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from clapsep.model.data.audio import ClipStore, load_audio
from clapsep.model.data.catalog import read_caption_csv, read_labelled, split_clips
from clapsep.model.data.datasets import NaturalMixtures, StepBatches, SupervisedMixtures
from clapsep.model.data.mixing import (
    NOISE_CAPTIONS,
    MixConfig,
    band_limit,
    colored_noise,
    mix,
    random_crop,
)
from clapsep.model.data.synthetic import write_synthetic_corpus
from clapsep.model.training.bimodal import extract_phrases
from clapsep.model.training.config import ConfigError, config_from_dict, load_config


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    write_synthetic_corpus(folder, per_family=3, seconds=1.0)
    return folder


def test_corpus_clips_csv_reads_captions_and_template(corpus):
    clips = read_labelled(corpus / "clips.csv", template="a {label} sound")
    assert len(clips) == 12 and all(c.path.is_file() for c in clips)
    with (corpus / "clips.csv").open() as f:
        rows = list(csv.DictReader(f))
    for row, clip in zip(rows, clips, strict=True):
        assert clip.captions == ((row["caption"] or f"a {row['label']} sound"),)
    train, val = split_clips(clips)
    assert len(val) == 4 and {c.label for c in val} == {"tone", "noise", "clicks", "chirp"}
    assert not {c.path for c in train} & {c.path for c in val}


def test_folder_tree_and_caption_csv(tmp_path):
    for label in ("dog", "rain"):
        (tmp_path / "tree" / label).mkdir(parents=True)
        sf.write(tmp_path / "tree" / label / "a.wav", np.zeros(800, np.float32), 16000)
    tree = read_labelled(tmp_path / "tree")
    assert [(c.label, c.captions) for c in tree] == [
        ("dog", ("the sound of dog",)),
        ("rain", ("the sound of rain",)),
    ]
    (tmp_path / "caps.csv").write_text(
        "file_name,caption,caption_2\nx.wav,A dog barks,\ny.wav,Rain falls,rain on a roof\n"
    )
    caps = read_caption_csv(tmp_path / "caps.csv")
    assert caps[0].captions == ("A dog barks",) and caps[1].captions == (
        "Rain falls",
        "rain on a roof",
    )
    assert caps[0].path == tmp_path / "x.wav"


def test_load_audio_resamples_to_32k(tmp_path):
    t = np.arange(48000) / 48000
    sf.write(
        tmp_path / "tone.wav",
        np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1).astype(np.float32),
        48000,
    )
    wave = load_audio(tmp_path / "tone.wav")
    assert wave.dtype == np.float32 and abs(len(wave) - 32000) <= 1
    store = ClipStore(budget_mb=1)
    assert store.get(tmp_path / "tone.wav") is store.get(tmp_path / "tone.wav")  # cached


def test_mix_snr_and_peak_protection():
    rng = np.random.default_rng(0)
    target, noise = (
        rng.standard_normal(32000).astype(np.float32),
        rng.standard_normal(32000).astype(np.float32),
    )
    mixture, t, n = mix(0.1 * target, 0.3 * noise, snr_db=5.0)
    assert 10 * np.log10(np.sum(t**2) / np.sum(n**2)) == pytest.approx(5.0, abs=1e-4)
    np.testing.assert_allclose(mixture, t + n, atol=1e-6)
    loud, t2, _ = mix(target, noise, 0.0)  # peaks well above 1: scaled to 0.9, target alike
    assert np.max(np.abs(loud)) == pytest.approx(0.9, abs=1e-6)
    assert np.max(np.abs(t2)) < np.max(np.abs(target))


def test_crop_pad_and_band_limit():
    rng = np.random.default_rng(0)
    assert len(random_crop(np.ones(100, np.float32), 160, rng)) == 160
    t = np.arange(32000) / 32000
    wave = (np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 8000 * t)).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(band_limit(wave, 4000.0)))
    assert spectrum[8000] < 1e-3 * spectrum[1000]


def test_items_are_functions_of_seed_epoch_index(corpus):
    clips = read_labelled(corpus / "clips.csv")
    config = MixConfig(crop_seconds=0.5, snr_range=(-5.0, 5.0), band_limit_prob=0.5)
    a = SupervisedMixtures(clips, ClipStore(), config, seed=3)
    b = SupervisedMixtures(clips, ClipStore(), config, seed=3)
    np.testing.assert_array_equal(a[(2, 5)]["mixture"], b[(2, 5)]["mixture"])
    assert not np.array_equal(a[(2, 5)]["mixture"], a[(3, 5)]["mixture"])
    val = SupervisedMixtures(clips, ClipStore(), config, seed=3, validation=True)
    first = val[4]
    assert first["positive"] != first["negative"] and np.array_equal(
        first["mixture"], val[4]["mixture"]
    )
    weak = NaturalMixtures(read_caption_csv(corpus / "mixtures.csv"), ClipStore(), config, seed=3)
    assert " and " in weak[(0, 1)]["caption"] and len(weak[(0, 1)]["mixture"]) == 16000


def test_label_temperature_zero_draws_labels_evenly_from_a_skewed_table(corpus):
    clips = read_labelled(corpus / "clips.csv")
    dominant = clips[0].family
    dominant_captions = {c.captions[0] for c in clips if c.family == dominant}
    skewed = clips + [c for c in clips if c.family == dominant] * 30  # one label: ~90 % of rows
    config = MixConfig(crop_seconds=0.1)
    counts = {}
    for temperature in (1.0, 0.0):
        items = SupervisedMixtures(
            skewed, ClipStore(), replace(config, label_temperature=temperature), seed=0
        )
        positives = [items[(0, i)]["positive"] for i in range(len(skewed))]
        counts[temperature] = sum(p in dominant_captions for p in positives) / len(positives)
        assert all(items[(0, i)]["positive"] != items[(0, i)]["negative"] for i in range(40))
    assert counts[1.0] > 0.8 and counts[0.0] < 0.45
    validation = SupervisedMixtures(
        skewed, ClipStore(), replace(config, label_temperature=0.0), seed=0, validation=True
    )
    assert not validation.tempered  # validation keeps the table's balance, comparable across a run


def test_generated_noise_interferers_are_captioned_by_their_colour(corpus):
    clips = read_labelled(corpus / "clips.csv")
    items = SupervisedMixtures(
        clips, ClipStore(), MixConfig(crop_seconds=0.5, noise_prob=1.0), seed=0
    )
    captions = {c for _, group in NOISE_CAPTIONS for c in group}
    for i in range(8):
        item = items[(0, i)]
        assert item["negative"] in captions and np.allclose(
            item["mixture"], item["target"] + item["noise"], atol=1e-6
        )
    rng = np.random.default_rng(1)
    low_share = []
    for _ in range(40):
        wave, caption = colored_noise(32000, rng)
        spectrum = np.abs(np.fft.rfft(wave)) ** 2
        low_share.append((spectrum[:500].sum() / spectrum.sum(), caption))
        assert abs(float(np.std(wave)) - 1.0) < 1e-3
    rumble = [share for share, c in low_share if c in NOISE_CAPTIONS[2][1]]
    hiss = [share for share, c in low_share if c in NOISE_CAPTIONS[0][1]]
    assert rumble and hiss and min(rumble) > max(hiss)  # the caption says where the energy is
    validation = SupervisedMixtures(
        clips, ClipStore(), MixConfig(crop_seconds=0.5, noise_prob=1.0), seed=0, validation=True
    )
    assert validation[0]["negative"] not in captions  # validation keeps the corpus' own pairs


def test_step_batches_shard_and_resume():
    full = iter(StepBatches(10, batch_size=2, seed=1))
    steps = [next(full) for _ in range(7)]
    resumed = iter(StepBatches(10, batch_size=2, seed=1, start=4))
    assert [next(resumed) for _ in range(3)] == steps[4:]
    epoch0 = [i for batch in steps[:5] for _, i in batch]
    assert sorted(epoch0) == list(range(10))
    ranks = [iter(StepBatches(10, batch_size=2, seed=1, rank=r, world=2)) for r in (0, 1)]
    both = [i for it in ranks for _ in range(2) for _, i in next(it)]
    assert len(both) == len(set(both)) == 8  # one epoch: the two ranks never share an item


def test_config_yaml_toml_and_errors(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "data:\n  supervised: corpus/clips.csv\n  mix: {crop_seconds: 2, snr_range: [-5, 5]}\n"
        "objective: {mode: nit}\nrun: {batch_size: 2}\n"
    )
    cfg = load_config(tmp_path / "x.yaml")
    assert cfg.data.supervised == "corpus/clips.csv"
    assert (
        cfg.data.mix.snr_range == (-5, 5) and cfg.objective.mode == "nit" and cfg.optim.lr == 1e-4
    )
    (tmp_path / "x.toml").write_text('[data]\nsupervised = "/c.csv"\n[run]\nmax_steps = 3\n')
    assert load_config(tmp_path / "x.toml").run.max_steps == 3
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_dict({"data": {"supervised": "a", "crop": 1}})
    with pytest.raises(ConfigError, match=r"needs data\.weak"):
        config_from_dict({"data": {"supervised": "a"}, "objective": {"mode": "semi"}})


def test_phrases_from_captions():
    assert extract_phrases("A dog barks while a man speaks") == ["A dog barks", "a man speaks"]
    assert extract_phrases("Rain falls on a roof followed by thunder") == [
        "Rain falls on a roof",
        "thunder",
    ]
    assert extract_phrases("Birds chirping") == ["Birds chirping", "Birds chirping"]
