"""Windowing and overlap-add: identity at awkward sizes, streaming == whole, cancel."""

import numpy as np
import pytest

from clapsep.host.windowing import (
    Cancelled,
    OverlapAdd,
    crossfade_weights,
    separate_windows,
    window_plan,
)

W = 1024


def identity(batch: np.ndarray) -> np.ndarray:
    return batch


def lowpass(batch: np.ndarray) -> np.ndarray:
    """A per-window FFT low-pass: a deterministic separator whose output depends on context."""
    spec = np.fft.rfft(batch, axis=-1)
    spec[:, spec.shape[-1] // 8 :] = 0
    return np.fft.irfft(spec, n=batch.shape[-1], axis=-1).astype(np.float32)


def noise(channels: int, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((channels, n)).astype(np.float32)


def stream(ola: OverlapAdd, x: np.ndarray, seed: int = 1, largest: int = 3000) -> np.ndarray:
    """Push `x` in random block sizes; concatenate whatever comes back."""
    rng, outs, i = np.random.default_rng(seed), [], 0
    while i < x.shape[1]:
        step = int(rng.integers(1, largest))
        outs.append(ola.push(x[:, i : i + step]))
        i += step
    return np.concatenate(outs, axis=1) if outs else np.zeros((x.shape[0], 0), np.float32)


@pytest.mark.parametrize("overlap", [0, 1, W // 4, W // 2])
@pytest.mark.parametrize("n", [1, 64, 65, W - 1, W, W + 1, 8193, 5 * W + 37])
def test_identity_reproduces_input_at_awkward_sizes(n: int, overlap: int) -> None:
    x = noise(2, n)
    y = separate_windows(x, identity, W, overlap, batch_size=3)
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=1e-6, rtol=0)


@pytest.mark.parametrize("n", [1, W + 1, 8193])
def test_streamed_blocks_give_the_whole_array_result(n: int) -> None:
    x = noise(3, n, seed=n)
    whole = separate_windows(x, lowpass, W, W // 4, batch_size=4)
    streamed = stream(OverlapAdd(lowpass, n, 3, W, W // 4, batch_size=4), x)
    np.testing.assert_allclose(streamed, whole, atol=1e-6, rtol=0)


def test_batch_size_does_not_change_the_result() -> None:
    x = noise(2, 7 * W + 5)
    results = [separate_windows(x, lowpass, W, 300, batch_size=b) for b in (1, 2, 5, 64)]
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], atol=1e-6, rtol=0)


def test_one_dimensional_signal_keeps_its_shape() -> None:
    x = noise(1, 3000)[0]
    y = separate_windows(x, lambda b: 0.5 * b, W, 256)
    assert y.shape == x.shape
    np.testing.assert_allclose(y, 0.5 * x, atol=1e-6)


def test_crossfade_is_complementary_and_never_zero() -> None:
    n, overlap = 5 * W + 37, 300
    weights = crossfade_weights(W, overlap)
    assert weights.min() > 0 and weights.max() == 1
    total = np.zeros(n + 2 * W)
    for start in window_plan(n, W, overlap):
        total[start + W : start + 2 * W] += weights  # shifted by W so negative starts fit
    np.testing.assert_allclose(total[W : W + n], 1.0, atol=1e-12)


def test_plan_starts_before_zero_and_stops_once_the_end_is_covered() -> None:
    overlap = 256
    starts = window_plan(3000, W, overlap)
    assert starts[0] == -overlap
    assert np.all(np.diff(starts) == W - overlap)
    assert starts[-1] + W - overlap >= 3000 > starts[-2] + W - overlap
    assert window_plan(0, W, overlap) == []


@pytest.mark.parametrize(("window", "overlap"), [(0, 0), (W, W // 2 + 1), (W, -1)])
def test_bad_window_settings_are_refused(window: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        window_plan(100, window, overlap)


def test_wrong_output_shape_is_an_error() -> None:
    with pytest.raises(ValueError, match="shape"):
        separate_windows(noise(1, 2000), lambda b: b[:, :-1], W, 256)


def test_cancel_stops_before_the_next_batch() -> None:
    calls = []

    def fn(batch: np.ndarray) -> np.ndarray:
        calls.append(batch.shape[0])
        return batch

    with pytest.raises(Cancelled):
        separate_windows(noise(1, 20 * W), fn, W, 256, batch_size=2, cancel=lambda: len(calls) >= 2)
    assert len(calls) == 2


def test_progress_rises_to_one() -> None:
    seen: list[float] = []
    separate_windows(noise(2, 9 * W), identity, W, 256, batch_size=3, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and seen[0] > 0


def test_memory_stays_bounded_on_a_long_stream() -> None:
    n, window, overlap = 400 * W, W, 256
    ola = OverlapAdd(identity, n, 1, window, overlap, batch_size=4)
    largest, emitted = 0, 0
    for i in range(0, n, 700):
        emitted += ola.push(noise(1, min(700, n - i), seed=i)).shape[1]
        largest = max(largest, ola.buffered_samples)
    assert emitted == n
    assert largest < 4 * (window - overlap) + window + 2 * 700
