"""Metric functions against hand-computed values, and the silent-signal rule."""

import math

import numpy as np
import pytest

from clapsep.model.evaluation.metrics import CAP_DB, item_scores, scores, sdr, sdr_bss, si_sdr
from clapsep.model.evaluation.report import aggregate

RATE = 32000


@pytest.fixture
def speech_like():
    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    return np.sin(2 * np.pi * 220 * t) * (
        1 + 0.5 * np.sin(2 * np.pi * 3 * t)
    ) + 0.1 * rng.standard_normal(RATE)


def test_scaled_target(speech_like):
    s = speech_like
    # plain SDR of 0.5 s: |s|² / |0.5 s|² = 4 -> 6.0206 dB; scale-invariant and BSS metrics see a
    # perfect estimate
    assert sdr(0.5 * s, s) == pytest.approx(10 * math.log10(4), abs=1e-9)
    assert si_sdr(0.5 * s, s) == CAP_DB
    assert sdr_bss(0.5 * s, s) > 60


def test_additive_error(speech_like):
    s = speech_like
    e = np.random.default_rng(1).standard_normal(len(s))
    e *= np.sqrt(np.sum(s**2) / np.sum(e**2)) / 10  # error energy = |s|² / 100 -> 20 dB
    assert sdr(s + e, s) == pytest.approx(20.0, abs=1e-9)
    alpha = np.dot(s + e, s) / np.dot(s, s)
    expected = 10 * math.log10(np.sum((alpha * s) ** 2) / np.sum((s + e - alpha * s) ** 2))
    assert si_sdr(s + e, s) == pytest.approx(expected, abs=1e-9)


def test_filtered_target_is_forgiven_by_bss_only(speech_like):
    s = speech_like
    filtered = np.convolve(s, [0.2, -0.6, 0.3, 0.5], mode="full")[: len(s)]  # a 4-tap filter
    assert sdr(filtered, s) < 10
    assert si_sdr(filtered, s) < 10
    assert sdr_bss(filtered, s) > 40


def test_matches_torchmetrics_bss(speech_like):
    torch = pytest.importorskip("torch")
    from torchmetrics.functional.audio import signal_distortion_ratio

    s = speech_like
    est = np.convolve(s, [0.9, 0.2], mode="same") + 0.05 * np.random.default_rng(2).standard_normal(
        len(s)
    )
    reference = float(signal_distortion_ratio(torch.from_numpy(est), torch.from_numpy(s)))
    assert sdr_bss(est, s) == pytest.approx(reference, abs=1e-3)


def test_silent_reference_is_undefined_and_excluded(speech_like):
    s = speech_like
    assert scores(s, np.zeros_like(s)) is None
    silent = item_scores(s, s, np.zeros_like(s))
    assert all(v is None for v in silent.values())
    good = item_scores(s, s + 0.1, s)
    records = [{"class": "a", **good}, {"class": "b", **silent}]
    summary = aggregate(records)
    assert summary["SDRi"]["n"] == 1 and summary["SDRi"]["silent"] == 1
    assert math.isfinite(summary["SDRi-bss"]["mean"])


def test_silent_estimate_scores_zero_db(speech_like):
    s = speech_like
    zero = np.zeros_like(s)
    assert sdr(zero, s) == pytest.approx(0.0)
    assert si_sdr(zero, s) == pytest.approx(0.0)
    assert sdr_bss(zero, s) == pytest.approx(0.0)


def test_improvement_and_aggregates(speech_like):
    s = speech_like
    noise = np.random.default_rng(3).standard_normal(len(s)) * np.sqrt(np.mean(s**2))
    mixture = s + noise  # 0 dB: plain SDR of the mixture is 0 dB
    r = item_scores(s + 0.1 * noise, mixture, s)  # 20 dB estimate
    assert r["SDRi"] == pytest.approx(20.0, abs=1e-6)
    records = [
        {"class": "x", "SDRi": 1.0},
        {"class": "x", "SDRi": 3.0},
        {"class": "y", "SDRi": 8.0},
    ]
    for rec in records:
        rec.update({k: 0.0 for k in ("SDRi-bss", "SI-SDRi", "SDR", "SDR-bss", "SI-SDR")})
    summary = aggregate(records)["SDRi"]
    assert summary["mean"] == pytest.approx(4.0)
    assert summary["median"] == pytest.approx(3.0)
    assert summary["macro"] == pytest.approx((2.0 + 8.0) / 2)
    assert summary["std"] == pytest.approx(np.std([1, 3, 8], ddof=1))
