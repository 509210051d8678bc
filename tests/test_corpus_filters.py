"""Clip rules on generated audio: clipping, silence, splitting, level (no packages needed)."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.model.corpus.clips import process
from clapsep.model.corpus.filters import (
    ClipRules,
    Segmenter,
    active_rms,
    db,
    near_silent,
    normalise,
)
from clapsep.model.corpus.sources import SourceItem

SR = 32000
RULES = ClipRules()


def noise(seconds: float, level: float = 0.3, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(-1, 1, round(seconds * SR)) * level).astype(
        np.float32
    )


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SR), np.float32)


def segment(
    signal: np.ndarray, block: int | None = None, threshold: float = -40.0
) -> list[np.ndarray]:
    seg = Segmenter(threshold, RULES)
    block = block or len(signal)
    clips = [c for i in range(0, len(signal), block) for c in seg.push(signal[i : i + block])]
    return clips + seg.finish()


def wav_item(tmp_path: Path, name: str, audio: np.ndarray, sr: int = 44100) -> SourceItem:
    path = tmp_path / f"{name}.wav"
    with AudioFile(str(path), "w", samplerate=sr, num_channels=1, bit_depth=16) as f:
        f.write(audio.reshape(1, -1))
    return SourceItem("test-package", path.name, str(path), partial(open, path, "rb"))


def test_leading_and_trailing_silence_is_trimmed_to_the_pad() -> None:
    clips = segment(np.concatenate([silence(1.0), noise(2.0), silence(1.5)]))
    assert len(clips) == 1
    assert abs(len(clips[0]) / SR - (2.0 + 2 * RULES.pad_s)) < 2 * RULES.frame_s


def test_long_gaps_split_short_gaps_do_not() -> None:
    two = segment(np.concatenate([noise(1.0), silence(1.5), noise(1.0, seed=1)]))
    one = segment(np.concatenate([noise(1.0), silence(0.5), noise(1.0, seed=1)]))
    assert len(two) == 2 and len(one) == 1
    assert abs(len(one[0]) / SR - 2.5) < 0.05


def test_long_sound_is_cut_into_pieces_of_at_most_ten_seconds() -> None:
    clips = segment(noise(25.0))
    lengths = [len(c) / SR for c in clips]
    assert max(lengths) <= RULES.max_clip_s
    assert min(lengths) >= 5.0  # no sliver at the end
    assert abs(sum(lengths) - 25.0) < 0.05


@pytest.mark.parametrize("block", [1, 64, 65, 640, 8193])
def test_clips_do_not_depend_on_the_block_size(block: int) -> None:
    signal = np.concatenate(
        [silence(0.3), noise(0.8), silence(1.2), noise(0.4, seed=2), silence(0.1)]
    )
    reference = segment(signal)
    clips = segment(signal, block)
    assert len(clips) == len(reference) == 2
    for a, b in zip(clips, reference, strict=True):
        np.testing.assert_array_equal(a, b)


def test_normalise_reaches_the_target_without_passing_the_ceiling() -> None:
    quiet = noise(2.0, level=0.01)
    out = normalise(quiet, -60.0, RULES)
    assert abs(db(active_rms(out, -80.0, RULES)) - RULES.target_rms_dbfs) < 0.5
    spike = silence(2.0)
    spike[SR] = 0.01
    spike[: SR // 2] = noise(0.5, level=0.0005)
    assert (
        db(float(np.max(np.abs(normalise(spike, -80.0, RULES))))) <= RULES.peak_ceiling_dbfs + 1e-3
    )


def test_near_silent_clip_is_recognised() -> None:
    assert near_silent(noise(1.0, level=0.001), RULES)
    assert not near_silent(noise(1.0, level=0.1), RULES)


def test_clipping_file_is_dropped(tmp_path: Path) -> None:
    audio = np.sin(np.linspace(0, 2000, 44100)).astype(np.float32) * 0.5
    audio[::500] = 1.0  # 0.2 % of the samples at full scale
    record = process(wav_item(tmp_path, "clipped", audio), "CC0", tmp_path / "out", RULES)
    assert (record.status, record.reason) == ("skipped", "clipping")


def test_a_few_full_scale_samples_are_tolerated(tmp_path: Path) -> None:
    audio = np.sin(np.linspace(0, 2000, 44100)).astype(np.float32) * 0.5
    audio[::5000] = 1.0  # 0.02 %
    record = process(wav_item(tmp_path, "peaky", audio), "CC0", tmp_path / "out", RULES)
    assert record.status == "ok"


def test_silent_and_too_short_files_are_dropped(tmp_path: Path) -> None:
    silent = process(
        wav_item(tmp_path, "hiss", noise(1.0, level=0.002)), "CC0", tmp_path / "out", RULES
    )
    short = process(wav_item(tmp_path, "click", noise(0.04)), "CC0", tmp_path / "out", RULES)
    assert (silent.status, silent.reason) == ("skipped", "silent")
    assert (short.status, short.reason) == ("skipped", "no_usable_audio")


def test_written_clip_is_32k_mono_float_at_the_target_level(tmp_path: Path) -> None:
    audio = np.concatenate([silence(0.5), noise(1.0, level=0.05), silence(0.5)])
    record = process(wav_item(tmp_path, "burst", audio, sr=22050), "CC0", tmp_path / "out", RULES)
    assert record.status == "ok" and record.native_sr == 22050 and len(record.clips) == 1
    with AudioFile(str(tmp_path / "out" / record.clips[0].path)) as f:
        assert (f.samplerate, f.num_channels, f.file_dtype) == (SR, 1, "float32")
        clip = f.read(f.frames)[0]
    assert abs(db(active_rms(clip, -60.0, RULES)) - RULES.target_rms_dbfs) < 1.0


def test_stereo_sources_are_mixed_to_mono(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    with AudioFile(str(path), "w", samplerate=48000, num_channels=2, bit_depth=16) as f:
        f.write(np.stack([noise(2.25, seed=3), np.zeros(72000, np.float32)]))  # 1.5 s at 48 kHz
    item = SourceItem("test-package", path.name, str(path), partial(open, path, "rb"))
    record = process(item, "CC0", tmp_path / "out", RULES)
    assert record.status == "ok" and record.native_sr == 48000
