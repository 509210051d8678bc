"""The partition of a split's targets: exact transforms, untouched where no bin is
over-claimed, and shares that never claim more than the mixture."""

import numpy as np
import pytest

from clapsep.host.partition import HOP, N_FFT, istft, partition, stft
from clapsep.host.windowing import OverlapAdd


@pytest.mark.parametrize("samples", [1, N_FFT - 1, N_FFT, 3 * HOP + 7, 32000])
def test_the_transform_reconstructs_any_length_exactly(samples: int) -> None:
    x = np.random.default_rng(samples).standard_normal(samples).astype(np.float32)
    assert np.abs(istft(stft(x), samples) - x).max() < 2e-6


def test_targets_that_claim_no_more_than_the_mixture_are_left_as_rendered() -> None:
    x = np.random.default_rng(0).standard_normal((2, 16000)).astype(np.float32)
    targets = np.stack([0.5 * x, 0.3 * x, 0.1 * x])
    assert np.array_equal(partition(x, targets), targets)


def test_over_claimed_bins_are_shared_so_the_stems_never_exceed_the_mixture() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 16000)).astype(np.float32)
    # two queries both claiming most of everything, a third claiming a quiet part
    targets = np.stack([0.9 * x, 0.8 * x, 0.05 * rng.standard_normal((1, 16000))]).astype(
        np.float32
    )
    stems = partition(x, targets)
    mixture = np.abs(stft(x[0])).sum()
    before = sum(np.abs(stft(t[0])) for t in targets).sum() / mixture
    after = sum(np.abs(stft(stem[0])) for stem in stems).sum() / mixture
    # re-analysed, a scaled spectrum is not exactly its own STFT: within 3 % of the mixture
    assert before > 1.7 and after < 1.03
    # the two competing stems keep their proportion, 0.9 : 0.8
    assert np.allclose(stems[0] * 0.8, stems[1] * 0.9, atol=1e-5)
    assert not np.allclose(stems, targets, atol=1e-3)


def test_overlap_add_returns_every_output_of_a_several_output_fn() -> None:
    x = np.random.default_rng(2).standard_normal((2, 5000)).astype(np.float32)
    ola = OverlapAdd(
        lambda b: np.stack([b, 2 * b, -b]), 5000, 2, window=1000, overlap=200, outputs=3
    )
    out = np.concatenate([ola.push(x[:, :1234]), ola.push(x[:, 1234:])], axis=1)
    assert out.shape == (6, 5000)
    assert np.allclose(out[0:2], x, atol=1e-6) and np.allclose(out[2:4], 2 * x, atol=1e-5)
    assert np.allclose(out[4:6], -x, atol=1e-6)
