"""Resampling to and from the model rate: exact counts, no sub-sample shift, streaming."""

import numpy as np
import pytest

from clapsep.host.resample import Resampler, resampled_length

MODEL_RATE = 32000
RATES = [8000, 11025, 22050, 44056, 44100, 48000, 88200, 96000, 192000]  # 44056: NTSC pull-down


def tones(rate: int, frames: int, channels: int = 2) -> np.ndarray:
    """Band-limited test signal (tones up to 3.5 kHz, below 0.3 x rate) with 50 ms fades."""
    t = np.arange(frames) / rate
    x = np.stack(
        [
            0.3 * np.sin(2 * np.pi * f * t + c)
            + 0.2 * np.sin(2 * np.pi * min(3.5 * f, 0.3 * rate) * t)
            for c, f in zip(range(channels), (440.0, 997.0, 220.0), strict=False)
        ]
    )
    fade = np.minimum(1.0, np.minimum(np.arange(frames), np.arange(frames)[::-1]) / (0.05 * rate))
    return (x * np.sin(np.pi / 2 * fade) ** 2).astype(np.float32)


def run(resampler: Resampler, x: np.ndarray, seed: int = 0) -> np.ndarray:
    rng, outs, i = np.random.default_rng(seed), [], 0
    while i < x.shape[1]:
        step = int(rng.integers(1, 40000))
        outs.append(resampler.push(x[:, i : i + step]))
        i += step
    outs.append(resampler.finish())
    return np.concatenate(outs, axis=1)


@pytest.mark.parametrize("rate", RATES)
def test_round_trip_has_exact_counts_and_returns_band_limited_audio(rate: int) -> None:
    frames = rate + 12345 % rate + 1  # odd, not a multiple of anything nice
    x = tones(rate, frames)
    mid_frames = resampled_length(frames, rate, MODEL_RATE)
    mid = run(Resampler(rate, MODEL_RATE, 2, mid_frames), x)
    back = run(Resampler(MODEL_RATE, rate, 2, frames), mid, seed=1)
    assert mid.shape == (2, mid_frames) and back.shape == (2, frames)
    np.testing.assert_allclose(back, x, atol=2e-4, rtol=0)


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_output_frame_k_sits_at_source_time_k_over_target_rate(rate: int) -> None:
    """pedalboard's StreamResampler is off by up to a sample here; this one must not be."""
    f, frames = 440.0, 2 * rate
    x = np.sin(2 * np.pi * f * np.arange(frames) / rate).astype(np.float32)[None]
    y = run(Resampler(rate, MODEL_RATE, 1, resampled_length(frames, rate, MODEL_RATE)), x)[0]
    t = np.arange(y.size) / MODEL_RATE
    middle = slice(MODEL_RATE // 4, MODEL_RATE)
    np.testing.assert_allclose(y[middle], np.sin(2 * np.pi * f * t[middle]), atol=1e-4)


def test_block_boundaries_do_not_change_the_output() -> None:
    x = tones(44100, 30001)
    a = run(Resampler(44100, MODEL_RATE, 2, 21770), x, seed=3)
    b = run(Resampler(44100, MODEL_RATE, 2, 21770), x, seed=4)
    np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_equal_rates_pass_through_untouched() -> None:
    x = tones(MODEL_RATE, 5001)
    y = run(Resampler(MODEL_RATE, MODEL_RATE, 2, 5001), x)
    assert np.array_equal(x, y)


@pytest.mark.parametrize("frames", [0, 1])
def test_tiny_inputs(frames: int) -> None:
    x = np.ones((1, frames), np.float32)
    out = resampled_length(frames, 48000, MODEL_RATE)
    assert run(Resampler(48000, MODEL_RATE, 1, out), x).shape == (1, out)
